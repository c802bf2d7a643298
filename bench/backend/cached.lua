-- Cached reads: a rack's layout and thermal analysis, alternating, over the seeded racks.
dofile(os.getenv("BENCH_DIR") .. "/mix.lua")
local paths = {}
for _, id in ipairs(rack_ids()) do
  paths[#paths + 1] = "/api/racks/" .. id .. "/layout"
  paths[#paths + 1] = "/api/racks/" .. id .. "/thermal-analysis"
end
request = cycle_gets(paths)
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
