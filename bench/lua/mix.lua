-- 80 % reads (list 50, read 30), 15 % writes (create 10, patch 5), 5 % invitations.
local run = os.getenv("BENCH_RUN") or "0"
local ids = load_lines(os.getenv("BENCH_IDS"))
local invite_ids = load_lines(os.getenv("BENCH_INVITE_IDS"))
local n = 0
local next_invite = 0
request = function()
  n = n + 1
  local roll = math.random(100)
  if roll <= 50 then
    return wrk.format("GET", "/api/v1/vendors?limit=50")
  elseif roll <= 80 then
    return wrk.format("GET", "/api/v1/vendors/" .. ids[math.random(#ids)])
  elseif roll <= 90 then
    local body = string.format(
      '{"name":"Mix vendor %s-%d-%d","contact_email":"m%s-%d-%d@bench.example.com"}',
      run, thread_id or 0, n, run, thread_id or 0, n)
    return wrk.format("POST", "/api/v1/vendors", nil, body)
  elseif roll <= 95 then
    local body = string.format('{"notes":"patched %d"}', n)
    return wrk.format("PATCH", "/api/v1/vendors/" .. ids[math.random(#ids)], nil, body)
  else
    -- Threads take disjoint vendors (the file lists vendors never invited before).
    next_invite = next_invite + 1
    local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
    local index = ((thread_id or 0) + (next_invite - 1) * threads) % #invite_ids + 1
    return wrk.format("POST", "/api/v1/vendors/" .. invite_ids[index] .. "/invitations", nil, "{}")
  end
end
