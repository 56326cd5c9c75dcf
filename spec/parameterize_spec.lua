-- Sentry's parameterization (src/sentry/grouping/parameterization.py): one
-- placeholder per kind, leftmost match, first alternative wins. The C
-- scanner was checked against Python's re with Sentry's regex on 50,000
-- generated messages; these are the documented kinds and the surprises.
local periscope = require("periscope")
local p = periscope.parameterize

describe("periscope.parameterize", function()
  local cases = {
    { "mail foo.bar+x@example.co.uk now", "mail <email> now" },
    { "GET https://api.example.com/v1?q=1 failed", "GET <url> failed" },
    { "cannot reach db.internal.example.com", "cannot reach <hostname>" },
    { "from 10.0.0.1 to 192.168.1.254", "from <ip> to <ip>" },
    { "v6 2001:db8:0:0:0:ff00:42:8329 and ::1", "v6 <ip> and <ip>" },
    { "id 123e4567-e89b-12d3-a456-426614174000", "id <uuid>" },
    { "commit da39a3ee5e6b4b0d3255bfef95601890afd80709", "commit <sha1>" },
    { "etag d41d8cd98f00b204e9800998ecf8427e", "etag <md5>" },
    { "at 2024-01-02T10:00:00.123+01:00", "at <date>" },
    { "on Mon, 02 Jan 2006 15:04:05 -0700", "on <date>" },
    { "since 2024-01-02", "since <date>" },
    { "at 9:05pm", "at <date>" },
    { "took 1500ms", "took <duration>" },
    { "took 1.5s", "took <duration>" },
    { "address 0xDEADbeef", "address <hex>" },
    { "ratio -2.5 of 3.14", "ratio <float> of <float>" },
    { "user 42 has -7 credits", "user <int> has <int> credits" },
    { "name='bob smith' x=\"y\"", "name=<quoted_str> x=<quoted_str>" },
    { "enabled=true debug=False", "enabled=<bool> debug=<bool>" },
    { "a 'quoted' value stays", "a 'quoted' value stays" },
    { "true outside pairs stays", "true outside pairs stays" },
    { "Timeout after 3000ms for user 42 at 10.0.0.1", "Timeout after <duration> for user <int> at <ip>" },
    { "datetime.datetime(2020, 1, 1, 0, 0)", "<date>" },
    -- Sentry's ip alternation takes any "::", so PHP/Ruby scopes are mangled too.
    { "Foo::bar", "Foo<ip>r" },
    { "", "" },
    { "naïve 12 café", "naïve <int> café" },
  }
  for _, c in ipairs(cases) do
    it(("turns %q into %q"):format(c[1], c[2]), function()
      assert.are.equal(c[2], p(c[1]))
    end)
  end
  it("handles long input without quadratic blowup", function()
    local s = string.rep("a", 200000) .. " 42"
    local t = os.clock()
    assert.are.equal(string.rep("a", 200000) .. " <int>", p(s))
    assert.is_true(os.clock() - t < 0.5)
  end)
  -- Each of these made one alternative rescan a run from every start
  -- inside it (30 s and more for 200 KB); the bound is generous, the
  -- quadratic scanner is hundreds of times over it.
  local hostile = {
    { "labels without a TLD", string.rep("a.", 100000) .. "@", string.rep("a.", 100000) .. "@" },
    { "digits that never end a duration", string.rep("1", 200000) .. "x", string.rep("1", 200000) .. "x" },
    { "a fraction that never ends one", "1." .. string.rep("1", 200000) .. "x", "<int>." .. string.rep("1", 200000) .. "x" },
    { "reprs that never close", string.rep("datetime.datetime(", 20000), string.rep("datetime.datetime(", 20000) },
    { "hyphenated labels", string.rep("a-", 100000) .. ".x", string.rep("a-", 100000) .. ".x" },
  }
  for _, c in ipairs(hostile) do
    it("stays linear on " .. c[1], function()
      local t = os.clock()
      assert.are.equal(c[3], p(c[2]))
      assert.is_true(os.clock() - t < 2, ("took %.2f s"):format(os.clock() - t))
    end)
  end
  it("finds a hostname after a label too long to be one, as Python's re does", function()
    -- the word boundary before "-" starts the label "-bb"
    assert.are.equal(string.rep("a", 70) .. "<hostname> x", p(string.rep("a", 70) .. "-bb.com x"))
    assert.are.equal(string.rep("a", 5) .. "-" .. string.rep("b", 70) .. ".com",
      p(string.rep("a", 5) .. "-" .. string.rep("b", 70) .. ".com"))
  end)
  it("still closes a repr after an unclosed one on the line before", function()
    assert.are.equal("datetime.datetime(\n<date> x", p("datetime.datetime(\ndatetime.datetime(1) x"))
    assert.are.equal("<date>", p("datetime.datetime( datetime.datetime(1)"))
  end)
  it("keeps embedded NUL bytes", function()
    assert.are.equal("a\0 <int>", p("a\0 7"))
  end)
end)
