-- Layouts: GET /api/racks/{id}/layout over the seeded racks. Uncached when the backend runs
-- without a cache (bench/backend-load CACHE=off): each is then read from the database (one
-- statement since issue 17: the rack, its positions, their devices and specifications or models).
dofile(os.getenv("BENCH_DIR") .. "/mix.lua")
local paths = {}
for _, id in ipairs(rack_ids()) do
  paths[#paths + 1] = "/api/racks/" .. id .. "/layout"
end
request = cycle_gets(paths)
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
