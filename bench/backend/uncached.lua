-- Uncached reads: plain records and lists straight from the database.
local ids = {}
for id in string.gmatch(os.getenv("RACK_IDS") or "1", "[^,]+") do ids[#ids + 1] = id end
local paths = {}
for _, id in ipairs(ids) do
  paths[#paths + 1] = "/api/racks/" .. id
  paths[#paths + 1] = "/api/connections?rack_id=" .. id
end
paths[#paths + 1] = "/api/devices?limit=50"
paths[#paths + 1] = "/api/racks"
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
