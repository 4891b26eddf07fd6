-- POST /api/v1/vendors with a fresh contact email each time.
local run = os.getenv("BENCH_RUN") or "0"
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"name":"Bench vendor %s-%d-%d","contact_email":"c%s-%d-%d@bench.example.com","category":"bench"}',
    run, thread_id or 0, n, run, thread_id or 0, n)
  return wrk.format("POST", "/api/v1/vendors", nil, body)
end
