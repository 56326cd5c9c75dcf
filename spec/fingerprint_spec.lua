-- Fingerprint variables as Sentry resolves them (grouping/fingerprinting/utils.py).
local g = require("periscope.grouping")

local event = {
  platform = "python", level = "error", logger = "app.orders", transaction = "/orders/{id}",
  tags = { { "region", "eu" }, { "tier", "gold" } },
  logentry = { formatted = "Order 42 failed" },
  exception = { values = {
    { type = "KeyError", value = "'sku'", stacktrace = { frames = {
      { module = "app.orders", ["function"] = "load", filename = "orders.py", abs_path = "/srv/orders.py", in_app = true },
      { module = "app.db", ["function"] = "fetch", filename = "db.py", abs_path = "/srv/db.py", package = "/srv/lib/db.so", in_app = true },
      { module = "sqlite3", ["function"] = "execute", filename = "sqlite3.py", in_app = false },
    } } },
  } },
}

local function expand(fp, ev) return g.expand_fingerprint(ev or event, fp, g.default(ev or event)) end

describe("fingerprint variables", function()
  local cases = {
    { "{{ transaction }}", "/orders/{id}" },
    { "{{ type }}", "KeyError" }, { "{{ error.type }}", "KeyError" },
    { "{{ value }}", "'sku'" }, { "{{ error.value }}", "'sku'" },
    { "{{ function }}", "fetch" }, { "{{ stack.function }}", "fetch" },
    { "{{ module }}", "app.db" }, { "{{ stack.module }}", "app.db" },
    { "{{ path }}", "/srv/db.py" }, { "{{ stack.filename }}", "db.py" },
    { "{{ package }}", "db.so" },
    { "{{ level }}", "error" }, { "{{ logger }}", "app.orders" },
    { "{{ tags.region }}", "eu" }, { "{{tags.tier}}", "gold" },
    { "{{ tags.missing }}", "<no-value-for-tag-missing>" },
    { "{{ message }}", "Order 42 failed" },
    { "{{ nonsense }}", "<unrecognized-variable-nonsense>" },
    { "plain text", "plain text" },
    { "{{ type }} tail", "{{ type }} tail" },
  }
  for _, c in ipairs(cases) do
    it(("expands %q to %q"):format(c[1], c[2]), function()
      assert.are.same({ c[2] }, expand({ c[1] }))
    end)
  end

  it("uses placeholders when the event lacks the field", function()
    local bare = { platform = "python" }
    assert.are.same({ "<no-transaction>", "<no-type>", "<no-value>", "<no-function>", "<no-module>",
      "<no-level>", "<no-logger>", "<no-message>" },
      expand({ "{{ transaction }}", "{{ type }}", "{{ value }}", "{{ function }}", "{{ module }}",
        "{{ level }}", "{{ logger }}", "{{ message }}" }, bare))
  end)

  it("reads tags given as a map too", function()
    local ev = { tags = { region = "us" } }
    assert.are.same({ "us" }, expand({ "{{ tags.region }}" }, ev))
  end)

  it("splices the default components for {{ default }}", function()
    local default = g.default(event).components
    local got = expand({ "{{ default }}", "orders" })
    assert.are.same(#default + 1, #got)
    assert.are.equal("orders", got[#got])
    assert.are.same(default[1], got[1])
  end)

  it("hashes a custom fingerprint alone", function()
    local ev = setmetatable({ fingerprint = { "system-down", "{{ level }}" } }, { __index = event })
    local r = g.group(ev)
    assert.are.same({ "system-down", "error" }, r.components)
    assert.are.equal("fingerprint", r.variant)
  end)

  it("treats [\"{{ default }}\"] as no fingerprint", function()
    local ev = setmetatable({ fingerprint = { "{{default}}" } }, { __index = event })
    assert.are.same(g.default(event).components, g.group(ev).components)
  end)

  it("falls back when {{ default }} has nothing to splice, as Sentry's salted variant does", function()
    local ev = { fingerprint = { "{{ default }}", "x" } }
    assert.are.same({}, g.group(ev).components)
  end)

  it("group() ignores nothing, default() ignores the client fingerprint", function()
    local ev = setmetatable({ fingerprint = { "a" } }, { __index = event })
    assert.are.same({ "a" }, g.group(ev).components)
    assert.are_not.same({ "a" }, g.default(ev).components)
  end)
end)
