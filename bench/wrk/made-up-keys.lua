-- POST /v1/connect/create-link as create-link.lua does, but with a different made-up API key on
-- each request (a pool of 1,000 per thread, made before the run so the loop only picks one).
local body = '{"end_user_email":"admin@acme.example","end_user_organization_name":"Acme, Inc.","end_user_origin_id":"36123","integration_category":"HRIS","language":"en","enable_filtering":false,"enable_field_mapping":false,"link_type":"EMBEDDED"}'
local alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
local requests = {}
local n = 0
function init(args)
  math.randomseed(os.time() + tonumber(tostring(requests):match("0x(%x+)") or "0", 16))
  for i = 1, 1000 do
    local key = {}
    for j = 1, 43 do
      local c = math.random(#alphabet)
      key[j] = alphabet:sub(c, c)
    end
    requests[i] = wrk.format("POST", "/v1/connect/create-link", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer pb_dev_" .. table.concat(key),
    }, body)
  end
end
function request()
  n = n % #requests + 1
  return requests[n]
end
