-- Sentry's rule syntax: the parsers' errors, the globs, and what stack
-- trace rules do to a stack (spec/sentry_snapshots_spec.lua and
-- spec/sentry_fingerprinting_spec.lua hold Sentry's own cases).
local periscope = require("periscope")
local g = require("periscope.grouping")
local glob = require("periscope.sentry_glob")
local sentry_rules = require("periscope.sentry_rules")

local function ev(frames, extra)
  local e = { platform = "python", exception = { values = { { type = "E", value = "v",
    stacktrace = { frames = frames } } } } }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

describe("Sentry's globs", function()
  it("match as Sentry's glob_match does", function()
    local function m(p, s, o) return glob.match(glob.compile(p, o), s) end
    assert.is_true(m("foo.*", "foo.bar.baz"))
    assert.is_false(m("foo.*", "xfoo.bar"))
    assert.is_true(m("**/node_modules/**", "/app/node_modules/a/b.js", { path = true }))
    assert.is_false(m("*/node_modules/**", "/app/node_modules/a/b.js", { path = true }))
    assert.is_false(m("/usr/*/x.py", "/usr/a/b/x.py", { path = true }))
    assert.is_true(m("/usr/**/x.py", "/usr/a/b/x.py", { path = true }))
    assert.is_true(m("C:/Windows/**", "c:\\windows\\system32\\x.dll", { path = true, ignorecase = true }))
    assert.is_true(m("?at", "cat"))
    assert.is_true(m("[bc]at", "bat"))
    assert.is_false(m("[!bc]at", "bat"))
    assert.is_true(m("\\*literal\\?", "*literal?"))
    assert.is_false(m("\\*literal", "xliteral"))
    assert.is_true(m("ERROR", "error", { ignorecase = true }))
    assert.is_false(m("ERROR", "error"))
  end)

  it("stay linear on patterns that make backtracking matchers explode", function()
    local pattern = glob.compile(("*a"):rep(40) .. "*b")
    local text = ("a"):rep(20000)
    assert.is_false(glob.match(pattern, text)) -- answers at all: a backtracking matcher would not
  end)
end)

describe("periscope.sentry_rules", function()
  it("refuses rules that do not parse, naming the line", function()
    local cases = {
      { "error.type:A -> a\nerror.colour:red -> b", "line 2: unknown matcher 'error.colour'" },
      { "error.type:A ->", "line 1: expected a fingerprint" },
      { "error.type:A a", "line 1: unexpected 'a'" }, -- no '->': a stack trace rule
      { "type:A -> x colour=\"red\"", "unknown attribute 'colour'" },
      { "\n\nstack.module:x -app max-frames=3", "line 3: action 'max-frames' is not supported" },
      { "error.type:Foo -app", "line 1: matcher 'error.type' is not supported in stack trace rules" },
      { "stack.module:x", "expected an action" },
      { "app:maybe -group", "app matcher needs yes or no" },
    }
    for _, c in ipairs(cases) do
      local rules, err = sentry_rules.parse(c[1])
      assert.is_nil(rules)
      assert.is_truthy(err:find(c[2], 1, true), err)
    end
    assert.has_error(function() sentry_rules.new("type:A ->") end)
    assert.is_nil(sentry_rules.parse(("x"):rep(sentry_rules.MAX_TEXT + 1)))
  end)

  it("gives a handle a script cannot read or change", function()
    local h = sentry_rules.new("type:A -> a")
    assert.are.equal("periscope.sentry_rules", getmetatable(h))
    assert.is_nil(next(h))
    assert.has_error(function() h.fingerprint = {} end)
    assert.is_table(sentry_rules.unwrap(h).fingerprint)
    assert.is_nil(sentry_rules.unwrap({}))
  end)

  it("applies fingerprint rules first, with title and variables", function()
    local rules = assert(sentry_rules.parse(
      'error.type:E stack.function:"pay*" -> payments, {{ error.value }} title="Payment {{ error.type }}"'))
    local r = g.group(ev({ { ["function"] = "pay_order", module = "app", in_app = true } }), rules)
    assert.are.same({ "payments", "v" }, r.components)
    assert.are.equal("Payment E", r.title)
    local other = g.group(ev({ { ["function"] = "ship", module = "app", in_app = true } }), rules)
    assert.are.same(g.group(ev({ { ["function"] = "ship", module = "app", in_app = true } })).components,
      other.components)
  end)

  it("matches the caller and callee of a frame as Sentry's fingerprinting does", function()
    local rules = assert(sentry_rules.parse("[ stack.function:outer ] | stack.function:inner -> nested"))
    local frames = { { ["function"] = "inner" }, { ["function"] = "outer" } }
    assert.are.same({ "nested" }, g.group(ev(frames), rules).components)
    frames = { { ["function"] = "outer" }, { ["function"] = "inner" } }
    assert.are_not.same({ "nested" }, g.group(ev(frames), rules).components)
  end)

  it("runs stack trace rules after the built-in ones: in-app, negation, ranges, app matcher", function()
    local frames = {
      { module = "lib.a", ["function"] = "a" },
      { module = "app.b", ["function"] = "b" },
      { module = "app.c", ["function"] = "c" },
    }
    local rules = assert(sentry_rules.parse("stack.module:app.* +app\n!stack.function:c app:yes -group"))
    assert.are.same({ "E", "app.c", "c" }, g.group(ev(frames), rules).components)
    rules = assert(sentry_rules.parse("stack.function:b ^-group"))
    assert.are.same({ "E", "lib.a", "a", "app.b", "b" }, g.group(ev(frames), rules).components)
    rules = assert(sentry_rules.parse("[ stack.function:a ] | stack.function:b -group"))
    assert.are.same({ "E", "lib.a", "a", "app.c", "c" }, g.group(ev(frames), rules).components)
  end)

  it("keeps working with more neighbour rules than the engine's fast path takes", function()
    local lines = {}
    for i = 1, 30 do lines[i] = ("[ stack.function:f%d ] | stack.function:g%d -group"):format(i, i) end
    local rules = assert(sentry_rules.parse(table.concat(lines, "\n")))
    local frames = { { module = "m", ["function"] = "f7" }, { module = "m", ["function"] = "g7" },
      { module = "m", ["function"] = "h" } }
    assert.are.same({ "E", "m", "f7", "m", "h" }, g.group(ev(frames), rules).components)
  end)
end)
