-- rules/default.lua and rules/examples/*.lua against sample events, with
-- the real C bindings (require("periscope") is build/lua/periscope.so) and
-- the real default grouping (lua/periscope/grouping.lua).
local periscope = require("periscope")
local grouping = require("periscope.grouping")
local json = periscope.json

local source_dir = os.getenv("PERISCOPE_SOURCE_DIR") or "."

-- The operator sandbox's globals (src/lua/sandbox.c), so an example that
-- reaches for anything else fails here as it would in the server.
local function sandbox()
  local env = {}
  for _, name in ipairs({ "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall",
                          "rawequal", "rawget", "rawlen", "rawset", "select", "setmetatable",
                          "tonumber", "tostring", "type", "xpcall", "_VERSION" }) do
    env[name] = _G[name]
  end
  env.string, env.table, env.math, env.utf8 = string, table, math, utf8
  env.periscope = periscope
  env._G = env
  return env
end

local function load_rules(path)
  local chunk = assert(loadfile(source_dir .. "/rules/" .. path, "t", sandbox()))
  return chunk()
end

local function event(text) return json.decode(text) end

-- What the runtime does (src/lua/script.c): filter, default grouping, the
-- project's fingerprint expanded, then the hash over the components.
local function run(rules, ev)
  if rules.filter and rules.filter(ev) == false then return { filtered = true } end
  local g = grouping.group(ev)
  local components = g.components
  if rules.fingerprint then
    local list = rules.fingerprint(ev, components)
    components = grouping.expand_fingerprint(ev, list, g)
  end
  return { filtered = false, components = components, hash = periscope.hash(components), title = g.title }
end

local function exception_event(ty, value, extra)
  local ev = {
    platform = "python", level = "error", environment = "production", release = "app@1.0.0",
    exception = { values = { {
      type = ty, value = value,
      stacktrace = { frames = { { module = "app.views", ["function"] = "checkout", filename = "app/views.py",
                                  lineno = 10, in_app = true, context_line = "pay(order)" } } },
    } } },
  }
  for k, v in pairs(extra or {}) do ev[k] = v end
  return event(json.encode(ev))
end

describe("rules/default.lua", function()
  it("has no hooks, so events are kept and grouped by the default", function()
    local rules = load_rules("default.lua")
    assert.are.same({}, rules)
    local ev = exception_event("ValueError", "bad input")
    local got = run(rules, ev)
    assert.is_false(got.filtered)
    assert.are.same(grouping.group(ev).components, got.components)
  end)
end)

describe("rules/examples/merge_connection_errors.lua", function()
  local rules = load_rules("examples/merge_connection_errors.lua")
  it("puts connection errors of any shape in one issue", function()
    local a = run(rules, exception_event("ConnectionError", "connection refused"))
    local b = run(rules, exception_event("java.net.ConnectException", "Connection refused (Connection refused)"))
    local c = run(rules, exception_event("Error", "connect ECONNREFUSED 127.0.0.1:5432"))
    assert.are.same({ "connection-error" }, a.components)
    assert.are.equal(a.hash, b.hash)
    assert.are.equal(a.hash, c.hash)
  end)
  it("leaves other errors on the default grouping", function()
    local ev = exception_event("ValueError", "bad input")
    assert.are.same(grouping.group(ev).components, run(rules, ev).components)
  end)
end)

describe("rules/examples/group_by_tag.lua", function()
  local rules = load_rules("examples/group_by_tag.lua")
  it("splits the same error by tenant, tags as an object or as pairs", function()
    local a = run(rules, exception_event("ValueError", "bad", { tags = { tenant = "acme" } }))
    local b = run(rules, exception_event("ValueError", "bad", { tags = { { "tenant", "globex" } } }))
    local a2 = run(rules, exception_event("ValueError", "bad", { tags = { { "tenant", "acme" } } }))
    assert.are_not.equal(a.hash, b.hash)
    assert.are.equal(a.hash, a2.hash)
    assert.are.equal("acme", a.components[#a.components])
  end)
  it("keeps the default without the tag", function()
    local ev = exception_event("ValueError", "bad")
    assert.are.same(grouping.group(ev).components, run(rules, ev).components)
  end)
end)

describe("rules/examples/drop_environment.lua", function()
  local rules = load_rules("examples/drop_environment.lua")
  it("drops development and CI, keeps production and events without one", function()
    assert.is_true(run(rules, exception_event("E", "x", { environment = "development" })).filtered)
    assert.is_true(run(rules, exception_event("E", "x", { environment = "CI" })).filtered)
    assert.is_false(run(rules, exception_event("E", "x", { environment = "production" })).filtered)
    local ev = exception_event("E", "x")
    ev.environment = nil
    assert.is_false(run(rules, ev).filtered)
  end)
end)

describe("rules/examples/drop_noise.lua", function()
  local rules = load_rules("examples/drop_noise.lua")
  it("drops known browser noise by message and by exception value", function()
    assert.is_true(run(rules, event('{"message": "ResizeObserver loop limit exceeded"}')).filtered)
    assert.is_true(run(rules, event('{"logentry": {"message": "Script error."}}')).filtered)
    assert.is_true(run(rules, exception_event("Error", "Non-Error promise rejection captured with keys: x")).filtered)
  end)
  it("keeps everything else", function()
    assert.is_false(run(rules, event('{"message": "payment failed for order 12"}')).filtered)
    assert.is_false(run(rules, exception_event("TypeError", "x is undefined")).filtered)
  end)
end)

describe("rules/examples/split_by_release.lua", function()
  local rules = load_rules("examples/split_by_release.lua")
  it("gives the same error a new issue per release", function()
    local a = run(rules, exception_event("ValueError", "bad", { release = "app@1.0.0" }))
    local b = run(rules, exception_event("ValueError", "bad", { release = "app@2.0.0" }))
    local a2 = run(rules, exception_event("ValueError", "bad", { release = "app@1.0.0" }))
    assert.are_not.equal(a.hash, b.hash)
    assert.are.equal(a.hash, a2.hash)
    assert.are.equal("release:app@1.0.0", a.components[1])
  end)
end)
