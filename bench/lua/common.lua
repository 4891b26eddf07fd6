-- Shared by every scenario: headers from the environment, a JSON summary at the end.
local token = os.getenv("BENCH_TOKEN")
local gzip = os.getenv("BENCH_GZIP")
wrk.headers["Content-Type"] = "application/json"
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
if gzip == "1" then wrk.headers["Accept-Encoding"] = "gzip" end

function load_lines(path)
  local lines = {}
  if path then for line in io.lines(path) do table.insert(lines, line) end end
  return lines
end

local counter = 0

function setup(thread)
  thread:set("thread_id", counter)
  counter = counter + 1
end

done = function(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_ms":%.3f,"p99_ms":%.3f,"mean_ms":%.3f}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000))
end
