-- POST /v1/passthrough/bamboohr/v1 reading the tool's employees; API_KEY and INTEGRATION_IDS
-- (comma-separated) come from the environment. Calls go round-robin over the integrations, as
-- traffic from many customers does; one integration alone would meet its limit of calls in
-- flight (PLUGBOARD_PASSTHROUGH_CONCURRENCY, 30) below 32 connections.
local body = '{"method":"GET","path":"/employees"}'
local requests = {}
local n = 0
function init(args)
  local auth = "Bearer " .. os.getenv("API_KEY")
  for id in os.getenv("INTEGRATION_IDS"):gmatch("[^,]+") do
    requests[#requests + 1] = wrk.format("POST", "/v1/passthrough/bamboohr/v1", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = auth,
      ["X-Integration-Id"] = id,
    }, body)
  end
end
function request()
  n = n % #requests + 1
  return requests[n]
end
