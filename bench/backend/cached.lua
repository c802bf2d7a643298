-- Cached reads: a rack's layout and thermal analysis, alternating, over the seeded racks.
-- RACK_IDS (comma-separated) comes from the environment (bench/backend-load sets it).
local ids = {}
for id in string.gmatch(os.getenv("RACK_IDS") or "1", "[^,]+") do ids[#ids + 1] = id end
local paths = {}
for _, id in ipairs(ids) do
  paths[#paths + 1] = "/api/racks/" .. id .. "/layout"
  paths[#paths + 1] = "/api/racks/" .. id .. "/thermal-analysis"
end
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
