-- Shared by the mixes: the seeded rack IDs (RACK_IDS, comma-separated, set by bench/backend-load)
-- and a request function that walks a list of GET paths round robin.
function rack_ids()
  local ids = {}
  for id in string.gmatch(os.getenv("RACK_IDS") or "1", "[^,]+") do ids[#ids + 1] = id end
  return ids
end

function cycle_gets(paths)
  local counter = 0
  return function()
    counter = counter + 1
    return wrk.format("GET", paths[(counter % #paths) + 1])
  end
end
