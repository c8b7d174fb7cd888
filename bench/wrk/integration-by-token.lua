-- GET /v1/connect/integration-by-token/{token}, each activation token redeemed once. Tokens are
-- read from TOKENS_FILE; each wrk thread walks its own slice so no token is used twice.
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
local threads = 0
function setup(thread)
  thread:set("slice", threads)
  threads = threads + 1
end
function init(args)
  slice = tonumber(wrk.thread:get("slice"))
  per_thread = math.floor(#tokens / tonumber(os.getenv("WRK_THREADS")))
  first = slice * per_thread
  i = 0
  auth = "Bearer " .. os.getenv("API_KEY")
end
function request()
  i = i + 1
  local token = tokens[first + ((i - 1) % per_thread) + 1]
  return wrk.format("GET", "/v1/connect/integration-by-token/" .. token, { ["Authorization"] = auth })
end
