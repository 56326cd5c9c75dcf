-- Default grouping (newstyle:2026-01-20). Expected components follow
-- Sentry's rules as read from src/sentry/grouping/strategies/newstyle.py and
-- the all-platforms@2026-01-20 frame rules; fixtures are real SDK payloads.
local periscope = require("periscope")
local g = require("periscope.grouping")

local function fixture(name)
  local f = assert(io.open("spec/fixtures/" .. name .. ".json"))
  local ev = periscope.json.decode(f:read("a"))
  f:close()
  return ev
end

local function ex(platform, type_, value, frames, extra)
  local ev = { platform = platform, exception = { values = { { type = type_, value = value,
    stacktrace = frames and { frames = frames } or nil } } } }
  for k, v in pairs(extra or {}) do ev[k] = v end
  return ev
end

describe("default grouping", function()
  it("python: type, then module, function and context line of in-app frames", function()
    local r = g.group(fixture("python-sdk-1.9.10-1"))
    assert.are.same({ "ZeroDivisionError",
      "__main__", "<module>", "try: checkout(1001)",
      "__main__", "checkout", "return charge(order_id, 10)",
      "__main__", "charge", "return amount / 0" }, r.components)
    assert.are.equal("exception", r.variant)
    assert.are.equal("ZeroDivisionError: division by zero", r.title)
    assert.are.equal("__main__ in charge", r.culprit)
  end)

  it("python: a log message groups by its parameterized text", function()
    local r = g.group(fixture("python-sdk-1.9.10-3"))
    assert.are.same({ "Timeout after <duration> for user <int> at <ip>" }, r.components)
    assert.are.equal("message", r.variant)
  end)

  it("python: a logentry groups by its template, titled by the formatted text", function()
    local ev = fixture("python-sdk-1.9.10-4")
    ev.logentry.formatted = "invoice INV-77 failed" -- as normalize (C) fills it from the params
    local r = g.group(ev)
    assert.are.same({ "invoice %s failed" }, r.components)
    assert.are.equal("invoice INV-77 failed", r.title)
  end)

  it("node: in-app frames only, JS function names trimmed, unknown names and long lines dropped", function()
    local r = g.group(fixture("node-sdk-11.12.0-3"))
    assert.are.same({ "SyntaxError",
      "app", "try { handle('{bad json'); } catch (e) { Sentry.captureException(e); }",
      "app", "handle", "function handle(s) { return parseOrder(s).id; }",
      "app", "parseOrder", "function parseOrder(s) { return JSON.parse(s); }" }, r.components)
    assert.are.equal("parseOrder(app)", r.culprit)
  end)

  it("node: a client fingerprint with {{ default }} appends to the default values", function()
    local r = g.group(fixture("node-sdk-11.12.0-2"))
    assert.are.equal("fingerprint", r.variant)
    assert.are.equal("orders", r.components[#r.components])
    assert.are.equal("SyntaxError", r.components[1])
  end)

  it("node: a synthetic exception (captureMessage) contributes its stack, not its type or value", function()
    local r = g.group(fixture("node-sdk-11.12.0-4"))
    assert.are.same({ "app", "Sentry.captureMessage('Cache miss for key user:42:profile', 'warning');" }, r.components)
    -- Sentry titles a synthetic exception by its crash frame's function
    -- and gives it no culprit
    assert.are.equal("Object.?", r.title)
    assert.are.equal("", r.culprit)
  end)

  it("uses the value, parameterized, when no stack trace contributes", function()
    local r = g.group(ex("python", "KeyError", "missing key 42\nsecond\nthird"))
    assert.are.same({ "KeyError", "missing key <int>\nsecond..." }, r.components)
  end)

  it("with no in-app frame, groups by all frames the built-in rules keep", function()
    local r = g.group(ex("java", "IllegalStateException", "boom", {
      { module = "java.lang.Thread", ["function"] = "run", in_app = false },
      { module = "java.util.concurrent.ThreadPoolExecutor", ["function"] = "runWorker", in_app = false },
      { module = "org.springframework.web.Servlet", ["function"] = "service", in_app = false },
      { module = "io.sentry.SentryClient", ["function"] = "capture", in_app = false },
      { module = "com.acme.Svc$$EnhancerBySpringCGLIB$$1a2b3c", ["function"] = "handle", in_app = false },
      { module = "sun.reflect.GeneratedMethodAccessor123", ["function"] = "invoke", in_app = false },
    }))
    assert.are.same({ "IllegalStateException",
      "org.springframework.web.Servlet", "service",
      "com.acme.Svc$$EnhancerBySpringCGLIB$$<auto>", "handle",
      "sun.reflect.GeneratedMethodAccessor", "invoke" }, r.components)
  end)

  it("java: proxy ids after CGLIB, EnhancerBy and FastClassBy markers become <auto>", function()
    local long = "com.acme.Config" .. ("7"):rep(80) .. "x"
    local r = g.group(ex("java", "E", "v", {
      { module = long .. "$$EnhancerBySpringCGLIB$$1ebdddb0$$FastClassBySpringCGLIB$$6c0b35d1_12",
        ["function"] = "a", in_app = true },
      { module = "com.acme.B$EnhancerByGuice$ff00", ["function"] = "b", in_app = true },
      { module = "com.acme.C$$xCGLIB$$zz", ["function"] = "c", in_app = true },
    }))
    assert.are.same({ "E",
      long .. "$$EnhancerBySpringCGLIB$$<auto>$$FastClassBySpringCGLIB$$<auto>", "a",
      "com.acme.B$EnhancerByGuice$<auto>", "b",
      "com.acme.C$$xCGLIB$$zz", "c" }, r.components)
  end)

  it("java: lambdas and lambda classes do not count", function()
    local r = g.group(ex("java", "E", "v", {
      { module = "com.acme.A", ["function"] = "lambda$run$0", in_app = true },
      { module = "com.acme.B$$Lambda$12/0x1", filename = "B.java", ["function"] = "apply", in_app = true },
    }))
    -- the lambda class drops the module, so the file name counts instead
    assert.are.same({ "E", "com.acme.A", "b.java", "apply" }, r.components)
  end)

  it("node: internals, node_modules polyfills and microtask plumbing never count", function()
    local r = g.group(ex("node", "TypeError", "x", {
      { filename = "node:internal/process/task_queues", module = "task_queues", ["function"] = "processTicksAndRejections", in_app = false },
      { filename = "/app/node_modules/tslib/tslib.js", module = "tslib/tslib", ["function"] = "step", in_app = false },
      { filename = "/app/node_modules/express/lib/router.js", module = "express.lib:router", ["function"] = "Layer.handle", in_app = false },
      { filename = "[native code]", abs_path = "[native code]", ["function"] = "forEach" },
    }))
    assert.are.same({ "TypeError", "express.lib:router", "handle" }, r.components)
  end)

  it("go: module and function, no context line", function()
    local r = g.group(ex("go", "*errors.errorString", "boom", {
      { module = "main", ["function"] = "handler.func1", filename = "main.go", context_line = "x()", in_app = true },
      { module = "net/http", ["function"] = "HandlerFunc.ServeHTTP", filename = "server.go", in_app = false },
    }))
    assert.are.same({ "*errors.errorString", "main", "handler.func1" }, r.components)
  end)

  it("php: fully qualified functions kept, anonymous ones dropped, context lines used", function()
    local r = g.group(ex("php", "Exception", "x", {
      { filename = "/var/www/src/Controller.php", ["function"] = "App\\Controller::index", context_line = "  throw new Exception('x');", in_app = true },
      { filename = "/var/www/src/Kernel.php", ["function"] = "[Anonymous function]", in_app = true },
    }))
    assert.are.same({ "Exception", "controller.php", "App\\Controller::index", "throw new Exception('x');",
      "kernel.php" }, r.components)
  end)

  it("ruby: block names and erb suffixes normalized", function()
    local r = g.group(ex("ruby", "NoMethodError", "x", {
      { filename = "app/views/a.html.erb", ["function"] = "_app_views_a_html_erb__1234567_89012345", in_app = true },
      { filename = "app/models/user.rb", ["function"] = "block in save", in_app = true },
    }))
    assert.are.same({ "NoMethodError", "a.html.erb", "_app_views_a_html_erb", "user.rb", "block" }, r.components)
  end)

  it("csharp: the raw function name is preferred", function()
    local r = g.group(ex("csharp", "System.Exception", "x", {
      { module = "Acme.Orders", ["function"] = "Place", raw_function = "Place(Order o)", in_app = true },
    }))
    assert.are.same({ "System.Exception", "Acme.Orders", "Place(Order o)" }, r.components)
  end)

  it("collapses a recursive frame and never uses line numbers", function()
    local f = { module = "m", ["function"] = "f", lineno = 3, in_app = true }
    local a = g.group(ex("python", "E", "v", { f, f, { module = "m", ["function"] = "g", lineno = 9, in_app = true } }))
    local b = g.group(ex("python", "E", "v", { f, { module = "m", ["function"] = "g", lineno = 99, in_app = true } }))
    assert.are.same(b.components, a.components)
  end)

  it("chains exceptions in order, each with its own stack", function()
    local r = g.group({ platform = "python", exception = { values = {
      { type = "KeyError", value = "k", stacktrace = { frames = { { module = "a", ["function"] = "x", in_app = true } } } },
      { type = "ValueError", value = "v 1" },
    } } })
    assert.are.same({ "KeyError", "a", "x", "ValueError", "v <int>" }, r.components)
    assert.are.equal("ValueError: v 1", r.title)
  end)

  it("uses the crashed thread's stack when there is no exception", function()
    local r = g.group({ platform = "python", threads = { values = {
      { id = 1, stacktrace = { frames = { { module = "idle", ["function"] = "wait", in_app = true } } } },
      { id = 2, crashed = true, stacktrace = { frames = { { module = "w", ["function"] = "run", in_app = true } } } },
    } } })
    assert.are.same({ "w", "run" }, r.components)
    assert.are.equal("threads", r.variant)
  end)

  -- Sentry's main_exception_id: the exception an issue is titled by when
  -- it is not the last one (grouping/strategies/newstyle.py).
  it("names the one distinct exception of an exception group its main exception", function()
    local function inner(value, id)
      return { type = "MyApp.Exception", value = value,
        mechanism = { type = "chained", source = "InnerExceptions[" .. (id - 1) .. "]", exception_id = id, parent_id = 0 } }
    end
    local group = { type = "System.AggregateException", value = "One or more errors occurred.",
      mechanism = { type = "AppDomain.UnhandledException", is_exception_group = true, exception_id = 0 } }
    -- Sentry's exception-groups-one-type-with-similar-values input: both
    -- inner exceptions group alike, so the group is the first of them in
    -- the tree, which Sentry builds from the end of the list
    local r = g.group({ exception = { values = { inner("Test 2", 2), inner("Test 1", 1), group } } })
    assert.are.same({ "MyApp.Exception", "Test <int>" }, r.components)
    assert.are.equal(1, r.main_exception_id)
    -- two distinct ones: the group stays the main exception
    r = g.group({ exception = { values = { inner("Test 2", 2),
      { type = "Other", value = "x", mechanism = { type = "chained", exception_id = 1, parent_id = 0 } }, group } } })
    assert.is_nil(r.main_exception_id)
    -- no exception group: none
    r = g.group({ exception = { values = { { type = "KeyError", value = "k" }, { type = "ValueError", value = "v" } } } })
    assert.is_nil(r.main_exception_id)
  end)

  it("names the cause of React's recovered-rendering error its main exception", function()
    local recovered = "There was an error during concurrent rendering but React was able to recover by instead "
      .. "synchronously rendering the entire root."
    local function event(first_value, source)
      return { platform = "javascript", exception = { values = {
        { type = "Error", value = first_value, mechanism = { type = "generic", exception_id = 0 } },
        { type = "TypeError", value = "x is undefined", mechanism = { type = "chained", source = source, exception_id = 1, parent_id = 0 } },
      } } }
    end
    assert.are.equal(1, g.group(event(recovered, "cause")).main_exception_id)
    -- otherwise the tree's one top-level exception, its root, as for any
    -- chain whose exceptions carry ids
    assert.are.equal(0, g.group(event(recovered, "errors[0]")).main_exception_id)
    assert.are.equal(0, g.group(event("Something else", "cause")).main_exception_id)
    local plain = event(recovered, "cause")
    for _, e in ipairs(plain.exception.values) do e.mechanism.exception_id, e.mechanism.parent_id = nil, nil end
    assert.is_nil(g.group(plain).main_exception_id)
  end)

  it("falls back to nothing (the MD5 of the empty string) when nothing contributes", function()
    local r = g.group({ platform = "python" })
    assert.are.same({}, r.components)
    assert.are.equal("fallback", r.variant)
    assert.are.equal("d41d8cd98f00b204e9800998ecf8427e", periscope.hash(r.components))
  end)
end)
