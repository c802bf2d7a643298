-- Uncached reads: plain records and lists straight from the database.
dofile(os.getenv("BENCH_DIR") .. "/mix.lua")
local paths = {}
for _, id in ipairs(rack_ids()) do
  paths[#paths + 1] = "/api/racks/" .. id
  paths[#paths + 1] = "/api/connections?rack_id=" .. id
end
paths[#paths + 1] = "/api/devices?limit=50"
paths[#paths + 1] = "/api/racks"
request = cycle_gets(paths)
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
