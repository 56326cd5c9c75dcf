-- Reading fixture files for the specs: a whole file, the *.json names of a
-- directory (sorted).
local M = {}

function M.read(path)
  local f = assert(io.open(path))
  local text = f:read("a")
  f:close()
  return text
end

function M.json_names(dir)
  local names = {}
  local p = assert(io.popen("ls " .. dir))
  for name in p:lines() do
    if name:match("%.json$") then names[#names + 1] = name end
  end
  p:close()
  table.sort(names)
  return names
end

return M
