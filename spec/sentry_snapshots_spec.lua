-- The default grouping against Sentry's own outputs. Each fixture in
-- spec/fixtures/sentry/ is one of Sentry's grouping test inputs
-- (tests/sentry/grouping/grouping_inputs/*.json in getsentry/sentry) with
-- the hash Sentry's snapshot records for it (snapshots/test_variants/
-- test_event_hash_variant/<config>/<input>.pysnap) and the values that
-- contribute to that hash, read off the snapshot's component tree. See
-- spec/fixtures/sentry/README.md for how they were made.
local periscope = require("periscope")
local g = require("periscope.grouping")

local DIR = "spec/fixtures/sentry/"

local function load(path)
  local f = assert(io.open(path))
  local doc = periscope.json.decode(f:read("a"))
  f:close()
  return doc
end

local function fixtures()
  local names = {}
  local p = assert(io.popen("ls " .. DIR))
  for name in p:lines() do
    if name:match("%.json$") then names[#names + 1] = name end
  end
  p:close()
  table.sort(names)
  return names
end

-- The shapes the grouping expects are the ones src/normalize.c produces
-- (the Lua specs cannot call it): a bare exception object, as raven-go
-- sends, becomes {values = {exception}}; a bare list becomes {values =
-- list}. Sentry's test harness gives an event without a fingerprint
-- ["{{ default }}"]. Everything else the grouping reads (message as a
-- string or a logentry, exception.values) it takes as sent.
local function normalize(event)
  local ex = event.exception
  if type(ex) == "table" and ex.values == nil then
    if ex[1] ~= nil then
      event.exception = { values = ex }
    elseif ex.type ~= nil or ex.value ~= nil or ex.stacktrace ~= nil then
      event.exception = { values = { ex } }
    end
  end
  if type(event.fingerprint) ~= "table" then event.fingerprint = { "{{ default }}" } end
  return event
end

-- Inputs whose grouping needs what Periscope deliberately does not do:
-- { input, reason }.
local PENDING = {
  { "contributing_system_frames", "stack trace rules from the project's settings (_grouping.enhancements)" },
  { "fallback-prefix-level-1", "cocoa: native frame rules (category:threadbase/internals) are left out of frame_rules" },
  { "actix", "native (Rust): native frame rules are left out of frame_rules" },
  { "custom-fingerprint-server-rule", "server-side fingerprint rules (_fingerprinting_rules)" },
  { "built-in-fingerprint-chunkload-error", "Sentry's built-in server-side fingerprint rules (ChunkLoadError)" },
  { "checksum-regex-match", "legacy checksum events" },
  { "csp", "security reports (CSP, Expect-CT, HPKP) are not events Periscope ingests" },
  { "database_error", "the stored snapshot (2023) predates Sentry's current parameterizer (it still shows <quoted_identifier>)" },
  { "custom-fingerprint-message-parameterization",
    "the stored snapshot hashes the message unparameterized; newer Sentry reportedly parameterizes fingerprint entries equal to an exception message" },
}

describe("Sentry's grouping snapshots", function()
  local names = fixtures()

  it("has fixtures to compare against", function()
    assert.is_true(#names >= 40, "only " .. #names .. " fixtures")
  end)

  for _, file in ipairs(names) do
    local doc = load(DIR .. file)
    local label = doc.input .. " (" .. doc.variant .. " variant)"
    it(label .. ": the recorded values hash to Sentry's hash", function()
      -- guards the transcription of the snapshot's component tree
      assert.are.equal(doc.hash, periscope.hash(doc.values))
    end)
    it(label .. ": Periscope's components and hash are Sentry's", function()
      local r = g.group(normalize(doc.event))
      assert.are.same(doc.values, r.components)
      assert.are.equal(doc.hash, periscope.hash(r.components))
    end)
  end

  for _, p in ipairs(PENDING) do
    pending(p[1] .. ": " .. p[2])
  end
end)
