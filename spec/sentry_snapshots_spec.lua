-- The default grouping against Sentry's own outputs for its current
-- config, newstyle:2026-01-20. spec/fixtures/sentry/snapshots.txt lists
-- every snapshot of Sentry's test_variants/newstyle@2026_01_20 directory;
-- each is a fixture here (one of Sentry's grouping inputs with the hash of
-- the variant Sentry groups by) or pending below with its reason. See
-- spec/fixtures/sentry/README.md for how they were made.
local periscope = require("periscope")
local g = require("periscope.grouping")
local sentry_rules = require("periscope.sentry_rules")

local DIR = "spec/fixtures/sentry/"

local read = require("fixture_files").read

local function manifest()
  local names = {}
  for line in read(DIR .. "snapshots.txt"):gmatch("[^\n]+") do
    if not line:match("^#") then names[#names + 1] = line end
  end
  return names
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- The shapes the grouping expects are the ones src/model/normalize.c produces
-- (the Lua specs cannot call it): a bare exception object, as raven-go
-- sends, becomes {values = {exception}}; a bare list becomes {values =
-- list}. Sentry's test harness gives an event without a fingerprint
-- ["{{ default }}"]. Everything else the grouping reads it takes as sent.
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

-- The project settings an input carries, as Sentry's harness applies them:
-- _fingerprinting_rules (Sentry's stored form) and _grouping.enhancements
-- (stack trace rules text).
local function project_rules(event)
  local fp = event._fingerprinting_rules
  local enh = type(event._grouping) == "table" and event._grouping.enhancements or nil
  if type(fp) ~= "table" and type(enh) ~= "string" then return nil end
  return assert(sentry_rules.compile({
    fingerprint_json = type(fp) == "table" and fp or nil,
    stacktrace = type(enh) == "string" and enh or nil,
  }))
end

-- Snapshots whose input needs what Periscope does not do:
-- { name, platform, reason }. Every other snapshot is a fixture.
local NATIVE = "native frame rules (family:native, symbolicated frames) are left out of periscope.frame_rules"
local SECURITY = "security reports (CSP, Expect-CT, HPKP) are not events Periscope ingests"
local PENDING = {
  { "actix", "native", NATIVE },
  { "block_invoke", "cocoa", NATIVE },
  { "callee_guaranteed", "cocoa", NATIVE },
  { "cocoa_dispatch_client_callout", "cocoa", NATIVE },
  { "exception_cocoa_nserror", "cocoa", NATIVE .. "; NSError domain/code components" },
  { "fallback_prefix_level_1", "cocoa", NATIVE },
  { "macos_amd_driver", "native", NATIVE },
  { "macos_intel_driver", "native", NATIVE },
  { "malloc_sentinel", "native", NATIVE },
  { "native_driver_crash1", "native", NATIVE },
  { "native_driver_crash2", "native", NATIVE },
  { "native_driver_crash3", "native", NATIVE },
  { "native_limit_frames", "native", NATIVE },
  { "native_malloc_chain", "native", NATIVE },
  { "native_no_filenames", "native", NATIVE },
  { "native_unlimited_frames", "native", NATIVE },
  { "native_windows_anon_namespace", "native", NATIVE },
  { "stacktrace_rust", "native", NATIVE },
  { "stacktrace_rust2", "native", NATIVE },
  { "unity_il2cpp_android", "native", NATIVE },
  { "unity_il2cpp_edge_cases", "native", NATIVE },
  { "unity_il2cpp_ios", "native", NATIVE },
  { "unity_il2cpp_macos", "native", NATIVE },
  { "unreal_assert_mac", "native", NATIVE },
  { "unreal_assertion_check_fail_android", "native", NATIVE },
  { "unreal_assertion_check_fail_on_windows", "native", NATIVE },
  { "unreal_ensure_check_fail_on_mac", "native", NATIVE },
  { "unreal_ensure_check_fail_on_windows", "native", NATIVE },
  { "csp", "csp", SECURITY },
  { "csp_script_data_uri", "csp", SECURITY },
  { "csp_script_src_unsafe_eval", "csp", SECURITY },
  { "csp_script_src_unsafe_inline", "csp", SECURITY },
  { "group_125_event_126", "native", NATIVE },
  { "group_200_event_200", "native", NATIVE },
  { "group_275_event_275", "native", NATIVE },
  { "group_289_event_312", "native", NATIVE },
  { "group_294_event_294", "native", NATIVE },
  { "group_294_event_329", "native", NATIVE },
  { "group_307_event_307", "native", NATIVE },
  { "group_307_event_657", "native", NATIVE },
  { "group_313_event_313", "native", NATIVE },
  { "group_313_event_333", "native", NATIVE },
  { "group_319_event_321", "native", NATIVE },
  { "group_389_event_389", "native", NATIVE },
  { "group_432_event_432", "native", NATIVE },
  { "group_432_event_453", "native", NATIVE },
  { "group_445_event_445", "native", NATIVE },
  { "in_app_in_ui", "cocoa", NATIVE },
}

describe("Sentry's newstyle:2026-01-20 snapshots", function()
  local names = manifest()
  local pending_reason = {}
  for _, p in ipairs(PENDING) do pending_reason[p[1]] = p end

  it("lists the whole snapshot directory, each a fixture or pending, not both", function()
    assert.are.equal(110, #names)
    local listed = {}
    for _, name in ipairs(names) do
      listed[name] = true
      local fixture = exists(DIR .. name .. ".json")
      assert.is_true(fixture ~= (pending_reason[name] ~= nil), name .. ": exactly one of fixture or pending")
    end
    for name in pairs(pending_reason) do assert.is_true(listed[name], name .. " is not a snapshot") end
  end)

  for _, name in ipairs(names) do
    local p = pending_reason[name]
    if p then
      pending(name .. " (" .. p[2] .. "): " .. p[3])
    elseif exists(DIR .. name .. ".json") then
      local doc = periscope.json.decode(read(DIR .. name .. ".json"))
      it(name .. ": Periscope's hash is Sentry's (" .. doc.variant .. " variant)", function()
        local event = normalize(doc.event)
        local r = g.group(event, project_rules(event))
        if doc.values then assert.are.same(doc.values, r.components) end
        assert.are.equal(doc.hash, periscope.hash(r.components),
          "components: " .. periscope.json.encode(r.components))
      end)
    end
  end
end)
