-- POST /api/v1/auth/login with the seeded owner's credentials (argon2-bound).
local body = string.format('{"email":"%s","password":"%s"}',
  os.getenv("BENCH_EMAIL"), os.getenv("BENCH_PASSWORD"))
request = function()
  return wrk.format("POST", "/api/v1/auth/login", nil, body)
end
