-- Writes: create a rack, then update it (each update invalidates that rack's cached results).
local token = os.getenv("HOMERACK_TOKEN")
local headers = { ["Content-Type"] = "application/json" }
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
dofile(os.getenv("BENCH_DIR") .. "/mix.lua")
local ids = rack_ids()
local counter = 0
request = function()
  counter = counter + 1
  if counter % 2 == 0 then
    local id = ids[(counter / 2 % #ids) + 1]
    return wrk.format("PUT", "/api/racks/" .. id, headers, '{"location":"row ' .. counter .. '"}')
  end
  return wrk.format("POST", "/api/racks", headers, '{"name":"load ' .. counter .. '","total_height_u":24}')
end
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
