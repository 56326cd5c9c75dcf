-- Sentry's fingerprint rules against Sentry's own fingerprinting tests:
-- each fixture in spec/fixtures/sentry/fingerprinting/ is one of Sentry's
-- tests/sentry/grouping/fingerprint_inputs/*.json (the rules in
-- _fingerprinting_rules, Sentry's stored form) with the fingerprint values
-- its snapshot records (test_fingerprinting/test_event_hash_variant). The
-- same rules also go through the text syntax: each stored rule printed as
-- its Sentry text and parsed back must give the same fingerprint.
local periscope = require("periscope")
local g = require("periscope.grouping")
local sentry_rules = require("periscope.sentry_rules")

local DIR = "spec/fixtures/sentry/fingerprinting/"

local files = require("fixture_files")
local read, fixtures = files.read, function() return files.json_names(DIR) end

local function quote(s)
  return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

-- Sentry's stored form as rule text: key:"pattern" ... -> "part", "part"
local function as_text(rules)
  local lines = {}
  for _, r in ipairs(rules) do
    local m = {}
    for _, pair in ipairs(r.matchers) do m[#m + 1] = pair[1] .. ":" .. quote(pair[2]) end
    local fp = {}
    for _, part in ipairs(r.fingerprint) do fp[#fp + 1] = quote(part) end
    lines[#lines + 1] = table.concat(m, " ") .. " -> " .. table.concat(fp, ", ")
  end
  return table.concat(lines, "\n")
end

describe("Sentry's fingerprinting tests", function()
  local names = fixtures()
  it("has fixtures", function() assert.is_true(#names >= 10) end)
  for _, file in ipairs(names) do
    local doc = periscope.json.decode(read(DIR .. file))
    local function run(rules)
      local event = periscope.json.decode(periscope.json.encode(doc.event))
      if type(event.fingerprint) ~= "table" then event.fingerprint = { "{{ default }}" } end
      return g.group(event, rules).components
    end
    it(doc.input .. ": the stored rules give Sentry's fingerprint", function()
      local rules = assert(sentry_rules.compile({ fingerprint_json = doc.event._fingerprinting_rules }))
      assert.are.same(doc.values, run(rules))
    end)
    it(doc.input .. ": the same rules as text give it too", function()
      local rules = assert(sentry_rules.parse(as_text(doc.event._fingerprinting_rules)))
      assert.are.same(doc.values, run(rules))
    end)
  end
end)
