-- The default grouping is linear in its input: every backtracking pattern
-- it ran on event data was replaced by linear code (periscope.text, the C
-- glob matcher), which must answer exactly what the pattern answered —
-- checked here on seeded random strings against the old patterns — and
-- hostile events that held a worker for 10–70 s group in a moment.
local periscope = require("periscope")
local g = require("periscope.grouping")
local frames = require("periscope.grouping_frames")
local engine = require("periscope.frame_engine")
local rules = require("periscope.frame_rules")
local text = require("periscope.text")
-- the pre-optimization modules, still on the patterns this file replaced: the oracle
local ref = require("grouping_reference.grouping")
local ref_frames = require("grouping_reference.grouping_frames")

-- A seeded source of 1..n (Lua 5.4's generator is the same on every machine).
local function random(seed)
  math.randomseed(seed)
  return function(n) return math.random(n) end
end

-- A string of up to `len` pieces drawn from `alphabet`.
local function random_string(rnd, alphabet, len)
  local out = {}
  for i = 1, rnd(len + 1) - 1 do out[i] = alphabet[rnd(#alphabet)] end
  return table.concat(out)
end

local PATH_BITS = { "/", "/", "a", "b", ".", "-", ":", "\\", "newrelic", "node_modules", "x.js", "lib",
  "*", "?", " ", "usr", "site-packages", "$", "_" }
local SPACE_BITS = { " ", "\t", "\n", "\r", "\v", "\f", "a", "b c", "é", "{{", "}}", "%", "s", "0", "-", ".", "5" }

describe("periscope.glob_match", function()
  it("answers what the glob's Lua pattern answers", function()
    local globs = {}
    for _, rule in ipairs(rules) do
      for _, m in ipairs({ rule.match, rule.caller or {}, rule.callee or {} }) do
        for _, field in ipairs({ "module", "func", "package", "abs_path", "path" }) do
          if m[field] then globs[#globs + 1] = m[field] end
        end
      end
    end
    local rnd = random(7)
    for i = 1, 300 do globs[#globs + 1] = random_string(rnd, { "*", "**", "?", "a", "/", ".", "b" }, 6) end
    for _, glob in ipairs(globs) do
      for _, is_path in ipairs({ true, false }) do
        local pattern = engine.glob_pattern(glob, is_path)
        local lowered = is_path and glob:lower() or glob
        for _ = 1, 60 do
          local s = random_string(rnd, PATH_BITS, 8)
          local want = s:find(pattern) ~= nil
          if periscope.glob_match(lowered, s, is_path) ~= want then
            error(("glob %q (path %s) on %q: want %s"):format(glob, tostring(is_path), s, tostring(want)))
          end
        end
      end
    end
  end)
end)

describe("periscope.text", function()
  it("trims, and splits at the last or first separator, as the patterns did", function()
    local rnd = random(3)
    for _ = 1, 5000 do
      local s = random_string(rnd, rnd(2) == 1 and SPACE_BITS or PATH_BITS, 10)
      assert.are.equal(s:match("^%s*(.-)%s*$"), text.trim(s))
      assert.are.equal(s:match("([^/\\]*)$"), text.after_last(s, "[/\\]"))
      assert.are.equal(s:match("([^.]*)$"), text.after_last(s, "%."))
      assert.are.equal(s:match("^(.-)[./:$\\]"), text.before_first(s, "[./:$\\]"))
    end
  end)
end)

describe("the default grouping's text handling", function()
  -- (logentries are formatted in C now: normalize_format, its own tests)
  it("splits lines and reads {{ variables }} as the patterns did", function()
    local rnd = random(5)
    local line_bits = { "\n", "\r", "\r\n", "\v", "\28", " ", "a", "b", "\t", "42" }
    for _ = 1, 3000 do
      local msg = random_string(rnd, line_bits, 12)
      assert.are.equal(ref.normalize_message(msg), g.normalize_message(msg), ("message %q"):format(msg))

      local entry = "{{" .. random_string(rnd, SPACE_BITS, 6)
      assert.are.same(ref_frames.expand_fingerprint({}, { entry }, {}), frames.expand_fingerprint({}, { entry }, {}),
        ("entry %q"):format(entry))
    end
  end)

  local function exception_event(value, path)
    return { platform = "python", exception = { values = { { type = "E", value = value,
      stacktrace = path and { frames = { { abs_path = path, filename = path, module = "m", ["function"] = "f",
        in_app = true } } } or nil } } } }
  end
  -- Untrimmed here (the server trims to 8192 / 256 before grouping): the
  -- code itself must be linear. The bound is generous; the old code took
  -- 10 s to minutes on each.
  local hostile = {
    { "a message of spaces between two words", { message = "x" .. (" "):rep(200000) .. "y" } },
    { "an abs_path of repeated newrelic", exception_event("v", "/" .. ("newrelic"):rep(16384)) },
    { "an abs_path ending in a slash", exception_event("v", ("a"):rep(131072) .. "/") },
    { "an exception value of labels", exception_event(("a."):rep(100000) .. "@") },
    { "a logentry template of flags", { logentry = { message = "%" .. ("0"):rep(100000) .. "z", params = { 1 } } } },
    { "a fingerprint variable of spaces", { message = "m", fingerprint = { "{{" .. (" "):rep(100000) .. "x" } } },
    { "a message of line breaks", { message = ("\r"):rep(100000) .. "x" } },
    -- what titles and culprits read (periscope.metadata, periscope.function_name)
    { "a message of Unicode spaces", { message = ("\u{3000}"):rep(100000) .. "x" .. ("\u{2003}"):rep(100000) } },
    { "a typeless value of a word, a colon and spaces",
      { exception = { values = { { value = ("a"):rep(100000) .. ":" .. (" "):rep(100000) .. "b" } } } } },
    { "a URL abs_path of one long segment", { platform = "javascript", exception = { values = { { type = "E",
      stacktrace = { frames = { { abs_path = "http://x/" .. ("a"):rep(200000), ["function"] = "f", in_app = true } } } } } } } },
    { "a URL abs_path of a long authority", { platform = "javascript", exception = { values = { { type = "E",
      stacktrace = { frames = { { abs_path = "http://" .. ("a@:"):rep(60000) .. "/x", ["function"] = "f", in_app = true } } } } } } } },
    { "a request URL of fragments and queries", { message = "m", request = { url = "http://x/" .. ("#?"):rep(100000) } } },
    { "a synthetic exception's native function of lambdas", { platform = "native", exception = { values = { {
      value = "v", mechanism = { synthetic = true },
      stacktrace = { frames = { { ["function"] = ("{lambda(" .. ("&"):rep(7)):rep(30000), in_app = true } } } } } } } },
  }
  for _, case in ipairs(hostile) do
    it("groups " .. case[1] .. " in bounded time", function()
      local t = os.clock()
      local r = g.group(case[2])
      assert.is_true(#r.components > 0)
      assert.is_true(os.clock() - t < 3, ("took %.2f s"):format(os.clock() - t))
    end)
  end
end)
