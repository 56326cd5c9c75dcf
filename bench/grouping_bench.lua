-- µs per event of the default grouping (g.group + hash) on real SDK events.
-- Run: LUA_PATH="lua/?.lua;;" LUA_CPATH="build/lua/?.so;;" lua5.4 bench/grouping_bench.lua
local periscope = require("periscope")
local g = require("periscope.grouping")

local function load(name)
  local f = assert(io.open("spec/fixtures/" .. name .. ".json"))
  local ev = periscope.json.decode(f:read("a"))
  f:close()
  return ev
end

local N = 20000
for _, name in ipairs({ "python-sdk-1.9.10-1", "node-sdk-11.12.0-3", "python-sdk-1.9.10-3" }) do
  local ev = load(name)
  for _ = 1, 1000 do periscope.hash(g.group(ev).components) end
  local t = os.clock()
  for _ = 1, N do periscope.hash(g.group(ev).components) end
  print(("%-22s %6.1f us/event"):format(name, (os.clock() - t) / N * 1e6))
end

local msg = "Timeout after 3000ms for user 42 at 10.0.0.1 (request 123e4567-e89b-12d3-a456-426614174000)"
local t = os.clock()
for _ = 1, 200000 do periscope.parameterize(msg) end
print(("%-22s %6.2f us/message"):format("parameterize", (os.clock() - t) / 200000 * 1e6))

-- Cold: every event has a stack never seen before (no rule-cache hits).
local ev = load("python-sdk-1.9.10-1")
local frames = ev.exception.values[1].stacktrace.frames
local t2 = os.clock()
for i = 1, 5000 do
  frames[1].module = "__main__" .. i
  periscope.hash(g.group(ev).components)
end
print(("%-22s %6.1f us/event"):format("python, unseen stacks", (os.clock() - t2) / 5000 * 1e6))
