-- GET one path (BENCH_PATH); with BENCH_IDS, "{id}" in the path is a random id from that file.
local path = os.getenv("BENCH_PATH") or "/health"
local ids = load_lines(os.getenv("BENCH_IDS"))
request = function()
  if #ids > 0 then
    return wrk.format("GET", (path:gsub("{id}", ids[math.random(#ids)])))
  end
  return wrk.format("GET", path)
end
