-- GET /v1/connect/integration-by-token/{token}, each activation token redeemed once. Tokens are
-- read from TOKENS_FILE, split into ROUNDS parts (one per wrk run) and each part into one slice
-- per wrk thread, so no token is used twice in the whole benchmark.
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
local threads = 0
function setup(thread)
  thread:set("slice", threads)
  threads = threads + 1
end
function init(args)
  slice = tonumber(wrk.thread:get("slice"))
  local threads = tonumber(os.getenv("WRK_THREADS"))
  per_thread = math.floor(#tokens / (threads * tonumber(os.getenv("ROUNDS"))))
  first = (tonumber(os.getenv("ROUND")) * threads + slice) * per_thread
  i = 0
  auth = "Bearer " .. os.getenv("API_KEY")
end
function request()
  i = i + 1
  local token = tokens[first + ((i - 1) % per_thread) + 1]
  return wrk.format("GET", "/v1/connect/integration-by-token/" .. token, { ["Authorization"] = auth })
end
-- Once this thread's slice is used up, stop: further requests would measure rejections of
-- already-redeemed tokens, which are cheaper than redemptions. wrk still divides by the whole
-- duration, so the benchmark keeps runs short enough that tokens last (and says when not).
responses = 0
function response(status, headers, body)
  responses = responses + 1
  if responses >= per_thread then wrk.thread:stop() end
end
