-- The per-frame memo, the rule index and the whole-stack memo of the
-- default grouping (periscope.grouping_stack, periscope.frame_engine) give
-- exactly what the plain implementation gave: the pre-optimization code is
-- kept as the oracle in spec/grouping_reference/, and seeded random events
-- built to hit every kind of frame rule (categories, neighbour-dependent
-- rules, ranged +app/-group rules) must group identically, on first sight
-- and from the caches.
local periscope = require("periscope")
local g = require("periscope.grouping")
local stack = require("periscope.grouping_stack")
local engine = require("periscope.frame_engine")
local rules = require("periscope.frame_rules")
local ref = require("grouping_reference.grouping")
local ref_frames = require("grouping_reference.grouping_frames")

local json = periscope.json

local function pick(t, rnd) return t[rnd(#t + 1)] end -- may be nil: index #t+1

local MODULES = { "java.lang.Thread", "java.util.concurrent.ThreadPoolExecutor",
  "java.util.concurrent.ThreadPoolExecutor$Worker", "java.lang.reflect.Method", "java.lang.Class",
  "java.lang.System", "java.lang.Runtime", "android.os.Handler", "android.os.Looper", "android.os.AsyncTask$2",
  "android.app.ActivityThread", "android.app.ActivityThread$H", "android.view.View", "android.view.Choreographer",
  "android.widget.TextView", "android.app.Dialog", "androidx.appcompat.widget.Toolbar", "androidx.work.impl.utils.ForceStopRunnable",
  "com.android.internal.os.ZygoteInit", "dalvik.system.VMStack", "com.google.android.material.Button",
  "io.sentry.SentryClient", "org.springframework.web.Servlet", "kotlin.coroutines.Continuation",
  "sun.reflect.GeneratedMethodAccessor12", "com.acme.Svc$$EnhancerBySpringCGLIB$$1a2b", "com.acme.orders.Service",
  "com.acme.B$$Lambda$12/0x1", "app.views", "__main__", "@babel/runtime/helpers", "tslib/tslib", "core-js/modules",
  "newrelic", "unpkg/react", "express.lib:router", "routes:orders", "task_queues", "main", "net/http",
  "Acme.Orders", "com.lenovo.lsf.Core", "cn.gundam.sdk.A", "lib/packages/flutter/src/x", "multiprocessing.spawn" }
local FUNCS = { "run", "call", "handleMessage", "main", "layout", "loop", "dispatchMessage", "handleCallback",
  "getMethod", "loadLibrary", "loadLibraryX", "runWorker", "<module>", "spawn_main", "reportError", "_callSuper",
  "runMicrotasks", "nextTick", "processTicksAndRejections", "Object.foo", "Layer.handle [as handle_request]",
  "?", "<anonymous>", "eval", "charge", "lambda$run$0", "block in save", "[Anonymous function]",
  "class@anonymous/x.php::foo", "Foo.bar", "_app_views_a_html_erb__1234567_89012345", "<redacted>", "" }
local PATHS = { "/usr/lib/python3/dist-packages/x.py", "/usr/local/lib/python3.12/site-packages/django/core.py",
  "/srv/app/node_modules/express/lib/router.js", "/srv/app/app.js", "/lib/x.so", "/usr/local/Cellar/foo/x",
  "/home/u/.local/share/y.py", "https://unpkg.com/react@18/umd/react.js", "https://cdn.jsdelivr.net/x.js",
  "http://example.com/app.js", "file:///x/app.js", "blob:abc", "[native code]", "<anonymous>",
  "package:sentry/src/x.dart", "package:sentry_isar/x.dart", "package:myapp/x.dart",
  "org-dartlang-sdk:///sdk/lib/x.dart", "/root/go/pkg/mod/github.com/x/y.go", "C:\\Users\\X\\Vendor\\y.php",
  "/var/www/vendor/laravel/x.php", "/opt/newrelic-agent/lib/x.js", "/srv/LogRocket/x.js",
  "app/views/a.html.erb", "B.java", "Foo.java", "node:internal/process/task_queues", "/SRV/Site-Packages/A.py" }
local PACKAGES = { "/apex/com.android.art/lib64/libart.so", "/data/app/libBugly.so", "/usr/lib/libc.so",
  "/lib/x86_64/libc.so", "/system/lib/libfoo.so" }
local PLATFORMS = { "python", "node", "javascript", "java", "php", "ruby", "csharp", "go", "cocoa", "native", "other" }
local LINES = { "x = 1", "   return a  /  b  ", ("y"):rep(130), "", "\t", "throw new Error('x');", "é" .. ("é"):rep(118) }

-- A frame from the pools; `theme` biases toward one ecosystem so runs of
-- categorized frames (where the neighbour rules fire) are common.
local function frame(rnd, theme)
  local f = {}
  if theme == "android" and rnd(10) <= 8 then
    f.module = MODULES[rnd(22)]
  elseif theme == "js" and rnd(10) <= 6 then
    f.module = MODULES[31 + rnd(10)]
  else
    f.module = pick(MODULES, rnd)
  end
  f["function"] = pick(FUNCS, rnd)
  if rnd(3) > 1 then f.abs_path = pick(PATHS, rnd) end
  if rnd(3) > 1 then f.filename = rnd(2) == 1 and f.abs_path or pick(PATHS, rnd) end
  if rnd(6) == 1 then f.package = pick(PACKAGES, rnd) end
  if rnd(2) == 1 then f.context_line = pick(LINES, rnd) end
  if rnd(8) == 1 then f.raw_function = "Place(Order o)" end
  if rnd(8) == 1 then f.platform = pick(PLATFORMS, rnd) end
  if rnd(10) == 1 then f.data = { sourcemap = "app.js.map" } end
  local r = rnd(3)
  f.in_app = r == 1 or (r == 2 and false or nil)
  f.lineno = rnd(3)
  return f
end

local function frames(rnd, theme)
  local out = {}
  for i = 1, rnd(14) do
    out[i] = (i > 1 and rnd(8) == 1) and out[i - 1] or frame(rnd, theme) -- recursion
  end
  return out
end

local THEMES = { "android", "js", "mixed" }
local function event(rnd)
  local theme = pick(THEMES, rnd) or "mixed"
  local ev = { platform = pick(PLATFORMS, rnd) }
  local kind = rnd(5)
  if kind <= 3 then
    local values = {}
    for i = 1, rnd(3) do
      values[i] = { type = rnd(5) > 1 and ("E" .. rnd(3)) or nil, value = rnd(3) > 1 and ("bad 42 at " .. i) or nil,
        mechanism = rnd(6) == 1 and { synthetic = true } or nil,
        stacktrace = rnd(5) > 1 and { frames = frames(rnd, theme) } or nil }
    end
    ev.exception = { values = values }
  elseif kind == 4 then
    ev.threads = { values = { { crashed = true, stacktrace = { frames = frames(rnd, theme) } } } }
  else
    ev.stacktrace = { frames = frames(rnd, theme) }
    if rnd(2) == 1 then ev.message = "Timeout after 30ms" end
  end
  return json.decode(json.encode(ev))
end

-- Components and variant: title and culprit are periscope.metadata's (no
-- grouping cache is involved; spec/metadata_spec.lua covers them).
local function same_result(a, b)
  return a.variant == b.variant
    and periscope.hash(a.components) == periscope.hash(b.components)
    and json.encode(a.components) == json.encode(b.components)
end

local function random(seed)
  local state = seed
  return function(n)
    state = (state * 1103515245 + 12345) % 2147483648
    return state % n + 1
  end
end

local function rule_states_ref(raw_frames, ev)
  local views = {}
  for _, raw in ipairs(raw_frames) do
    if type(raw) == "table" then views[#views + 1] = ref_frames.view(raw, ev) end
  end
  local out = {}
  for i, st in ipairs(ref_frames.run_rules(views, rules)) do out[i] = { in_app = st.in_app, group = st.group } end
  return out
end

describe("default grouping caches", function()
  it("group random events exactly as the plain implementation, first time and cached", function()
    local rnd = random(20260120)
    local stats0 = stack.cache_stats(rules)
    for i = 1, 1200 do
      local ev = event(rnd)
      local want = ref.group(ev)
      local first, again = g.group(ev), g.group(ev)
      if not same_result(want, first) or not same_result(want, again) then
        error(("event %d differs:\n%s\nwant %s\ngot  %s"):format(i, json.encode(ev),
          json.encode(want.components), json.encode(first.components)))
      end
    end
    local stats = stack.cache_stats(rules)
    -- the run covered memo hits, misses and whole-stack rule runs
    assert.is_true(stats.hits - stats0.hits > 5000)
    assert.is_true(stats.misses - stats0.misses > 1000)
    assert.is_true(stats.stack_runs - stats0.stack_runs > 100)
  end)

  it("give every frame the in-app and group decision the plain rule engine gives", function()
    local rnd = random(7)
    for i = 1, 1200 do
      local theme = pick(THEMES, rnd) or "mixed"
      local ev = { platform = pick(PLATFORMS, rnd) }
      local fs = frames(rnd, theme)
      local want, got = rule_states_ref(fs, ev), stack.rule_states(fs, ev, rules)
      assert.are.same(want, got, "stack " .. i .. ": " .. json.encode(fs))
    end
  end)

  it("keep exactness when the memo is tiny and keeps being dropped", function()
    local old_entries, old_bytes = stack.cache_limits(7, 6000)
    local ok, err = pcall(function()
      local rnd = random(99)
      for i = 1, 400 do
        local ev = event(rnd)
        assert.is_true(same_result(ref.group(ev), g.group(ev)), "event " .. i .. ": " .. json.encode(ev))
      end
      assert.is_true(stack.cache_stats(rules).entries <= 7)
      assert.is_true(stack.cache_stats(rules).bytes <= 6000)
    end)
    stack.cache_limits(old_entries, old_bytes)
    assert(ok, err)
  end)
end)

describe("the per-frame memo", function()
  local ev = { platform = "node" }

  it("returns for a cached frame what computing it afresh returns", function()
    local rnd = random(3)
    for _ = 1, 500 do
      local f = frame(rnd, "mixed")
      local fresh = stack.frame_info(f, ev, rules, true)
      stack.frame_info(f, ev, rules)
      local cached = stack.frame_info(json.decode(json.encode(f)), ev, rules)
      assert.are.same(fresh.values, cached.values)
      assert.are.equal(fresh.in_app, cached.in_app)
      assert.are.equal(fresh.group, cached.group)
      assert.are.same(fresh.iso, cached.iso)
    end
  end)

  it("keeps platforms apart: the same fields on another platform are another frame", function()
    local f = { ["function"] = "Router.handle", module = "app", context_line = "x()", in_app = true }
    local py = stack.frame_info(f, { platform = "python" }, rules)
    local js = stack.frame_info(f, { platform = "javascript" }, rules)
    assert.are.same({ "app", "Router.handle", "x()" }, py.values)
    assert.are.same({ "app", "handle", "x()" }, js.values)
    assert.are.same({ "app", "Router.handle", "x()" }, stack.frame_info(f, { platform = "python" }, rules).values)
    local own = stack.frame_info({ ["function"] = "Router.handle", module = "app", context_line = "x()",
      in_app = true, platform = "node" }, { platform = "python" }, rules)
    assert.are.same(js.values, own.values)
  end)

  it("keeps the in-app flag, absent fields and non-string fields apart correctly", function()
    local base = { ["function"] = "f", module = "m", filename = "a.py" }
    local a = stack.frame_info({ ["function"] = "f", module = "m", filename = "a.py", in_app = true }, { platform = "python" }, rules)
    local b = stack.frame_info(base, { platform = "python" }, rules)
    assert.is_true(a.in_app)
    assert.is_false(b.in_app)
    -- a number where a string belongs counts as absent, as it does uncached
    local c = stack.frame_info({ ["function"] = "f", module = 5, filename = "a.py" }, { platform = "python" }, rules)
    assert.are.same({ "a.py", "f" }, c.values)
    local d = stack.frame_info({ ["function"] = "f", filename = "a.py" }, { platform = "python" }, rules)
    assert.are.same(c.values, d.values)
  end)

  it("stays within its entry and byte bounds whatever it is fed", function()
    local old_entries, old_bytes = stack.cache_limits(1000, 64 * 1024 * 1024)
    local ok, err = pcall(function()
      for i = 1, 5000 do
        stack.frame_info({ ["function"] = "f" .. i, module = "m", context_line = "line " .. i }, ev, rules)
        assert.is_true(stack.cache_stats(rules).entries <= 1000)
      end
      stack.cache_limits(50000, 200 * 1024)
      for i = 1, 5000 do
        stack.frame_info({ ["function"] = "g" .. i, module = ("m"):rep(200), context_line = ("x"):rep(100) .. i }, ev, rules)
        assert.is_true(stack.cache_stats(rules).bytes <= 200 * 1024)
      end
    end)
    stack.cache_limits(old_entries, old_bytes)
    assert(ok, err)
  end)

  it("keeps a Lua state's memory flat under a stream of never-seen frames", function()
    local old_entries, old_bytes = stack.cache_limits(50000, 512 * 1024)
    local peaks = { 0, 0 }
    local ok, err = pcall(function()
      for i = 1, 16000 do
        stack.frame_info({ ["function"] = "h" .. i, module = "mod.x", abs_path = "/srv/app/x.py",
          context_line = "    value = compute(" .. i .. ")", in_app = true }, { platform = "python" }, rules)
        if i % 1000 == 0 then
          collectgarbage("collect")
          local half = i <= 8000 and 1 or 2
          peaks[half] = math.max(peaks[half], collectgarbage("count"))
        end
      end
    end)
    stack.cache_limits(old_entries, old_bytes)
    assert(ok, err)
    assert.is_true(peaks[2] < peaks[1] * 1.1, ("memory grew from %.0f KB to %.0f KB"):format(peaks[1], peaks[2]))
  end)
end)

describe("the rule index", function()
  it("offers every rule whose field matchers hold for a frame (so skipping the rest is safe)", function()
    local eng = engine.compile(rules)
    local rnd = random(11)
    for _ = 1, 2000 do
      local raw = frame(rnd, pick(THEMES, rnd) or "mixed")
      local v = ref_frames.view(raw, { platform = pick(PLATFORMS, rnd) })
      v.in_app_flag = raw.in_app == true
      local cand = {}
      for _, r in ipairs(eng:candidates(v)) do cand[r] = true end
      for r, rule in ipairs(eng.rules) do
        local m, g = rule.m, rule.match
        -- the globs as the Lua patterns they stand for (the reference semantics)
        local function holds(value, field, is_path)
          return value ~= nil and value:find(engine.glob_pattern(g[field], is_path)) ~= nil
        end
        local fields = not m.has_fields or (
          (not m.family or m.family == v.family)
          and (not m.module or holds(v.module, "module", false))
          and (not m.func or holds(v.func, "func", false))
          and (not m.package or holds(v.package_l, "package", true))
          and (not m.abs_path or holds(v.abs_path_l, "abs_path", true))
          and (not m.path or holds(v.abs_path_l, "path", true) or holds(v.filename_l, "path", true)))
        if fields and not m.category then
          assert.is_true(cand[r] == true, ("rule %d missing for %s"):format(r, json.encode(raw)))
        end
      end
    end
  end)

  it("refuses a matcher it does not know instead of ignoring it", function()
    assert.has_error(function()
      engine.compile_uncached({ { match = { colour = "red" }, set = { group = false } } })
    end)
  end)
end)
