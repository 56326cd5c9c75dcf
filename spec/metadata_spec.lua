-- Titles and culprits as Sentry stores them: the event type's title
-- (src/sentry/eventtypes/error.py, base.py) and get_culprit, on events as
-- Relay normalizes them.
local md = require("periscope.metadata")
local fname = require("periscope.function_name")

local function ex(exc, extra)
  local ev = { platform = "python", exception = { values = { exc } } }
  for k, v in pairs(extra or {}) do ev[k] = v end
  return ev
end

local function frames(list) return { frames = list } end

describe("titles", function()
  it("an error: type and the first line of the value, 100 characters at most", function()
    assert.are.equal("KeyError: 'missing'", md.title(ex({ type = "KeyError", value = "'missing'\nmore" })))
    assert.are.equal("KeyError", md.title(ex({ type = "KeyError" })))
    assert.are.equal("Error: boom", md.title(ex({ value = "boom" })))
    local long = ("é"):rep(150)
    assert.are.equal("E: " .. ("é"):rep(97) .. "...", md.title(ex({ type = "E", value = long })))
    local long_type = ("T"):rep(200)
    assert.are.equal(("T"):rep(125) .. "...", md.title(ex({ type = long_type })))
    -- Python's splitlines: \u2028 and \r end a line too
    assert.are.equal("E: a", md.title(ex({ type = "E", value = "a\u{2028}b" })))
    assert.are.equal("E: a", md.title(ex({ type = "E", value = "a\rb" })))
  end)

  it("the last exception of a chain names the event", function()
    local ev = { exception = { values = { { type = "KeyError", value = "k" }, { type = "RuntimeError", value = "wrapped" } } } }
    assert.are.equal("RuntimeError: wrapped", md.title(ev))
  end)

  it("the exception the grouping names (Sentry's main_exception_id) titles the event", function()
    local function inner(value, id)
      return { type = "MyApp.Exception", value = value,
        mechanism = { type = "chained", exception_id = id, parent_id = 0 } }
    end
    local group = { type = "System.AggregateException", value = "One or more errors occurred.",
      mechanism = { type = "AppDomain.UnhandledException", is_exception_group = true, exception_id = 0 } }
    local ev = { exception = { values = { inner("Test 2", 2), inner("Test 1", 1), group } } }
    assert.are.equal("MyApp.Exception: Test 1", md.title(ev, nil, 1))
    assert.are.equal("MyApp.Exception: Test 1", require("periscope.grouping").group(ev).title)
    assert.are.equal("System.AggregateException: One or more errors occurred.", md.title(ev))
    assert.are.equal("System.AggregateException: One or more errors occurred.", md.title(ev, nil, 7))
  end)

  it("a value 'Type: text' without a type is split as Relay splits it", function()
    assert.are.equal("ValueError: bad input", md.title(ex({ value = "ValueError: bad input" })))
    assert.are.equal("Error: not a type: here", md.title(ex({ value = "not a type: here" })))
    assert.are.equal("Error: X: a", md.title(ex({ value = "X: a\nb" }))) -- one line only
    assert.are.equal(": kept", md.title(ex({ type = "", value = "kept" })))
  end)

  it("an exception without type and value is dropped: <unknown>", function()
    assert.are.equal("<unknown>", md.title(ex({ stacktrace = frames({ { ["function"] = "f" } }) })))
    assert.are.equal("<unknown>", md.title({ exception = { values = { require("periscope").json.null } } }))
  end)

  it("a synthetic exception: the crash frame's function, else <unknown>", function()
    local synthetic = { mechanism = { synthetic = true }, value = "Cache miss",
      stacktrace = frames({
        { ["function"] = "main", in_app = true },
        { ["function"] = "handler", in_app = true },
        { ["function"] = "<unknown>", in_app = true },
        { ["function"] = "lib_call", in_app = false },
      }) }
    assert.are.equal("handler", md.title(ex(synthetic, { platform = "node" })))
    synthetic.stacktrace.frames[2].in_app = false
    synthetic.stacktrace.frames[1].in_app = false
    assert.are.equal("lib_call", md.title(ex(synthetic, { platform = "node" })))
    assert.are.equal("<unknown>", md.title(ex({ mechanism = { synthetic = true }, value = "x" })))
  end)

  it("a synthetic exception on native platforms: the trimmed function name", function()
    local ev = ex({ mechanism = { synthetic = true }, value = "x", stacktrace = frames({
      { ["function"] = "std::vector<int> acme::Cart::total(int, char const*) const", in_app = true } }) },
      { platform = "native" })
    assert.are.equal("acme::Cart::total", md.title(ev))
    ev.platform = "csharp"
    ev.exception.values[1].stacktrace.frames[1]["function"] = "Acme.Cart.Total (System.Int32 n)"
    assert.are.equal("Acme.Cart.Total", md.title(ev))
  end)

  it("a message: its first line, stripped, 100 characters at most", function()
    assert.are.equal("invoice INV-77 failed", md.title({ logentry = { formatted = "invoice INV-77 failed", message = "invoice %s failed" } }))
    assert.are.equal("first", md.title({ logentry = { formatted = "\n\t first\nsecond" } }))
    assert.are.equal(("a"):rep(97) .. "...", md.title({ logentry = { formatted = ("a"):rep(101) } }))
    assert.are.equal("template %s", md.title({ logentry = { message = "template %s" } }))
    assert.are.equal("<unlabeled event>", md.title({ logentry = { formatted = " \u{3000}\n" } }))
    assert.are.equal("<unlabeled event>", md.title({}))
    -- a table that never went through normalize
    assert.are.equal("plain", md.title({ message = "plain" }))
  end)
end)

describe("culprits", function()
  it("python: 'module in function' of the innermost in-app frame", function()
    local ev = ex({ type = "E", stacktrace = frames({
      { module = "app.views", ["function"] = "index", in_app = true },
      { module = "app.orders", ["function"] = "charge", in_app = true },
      { module = "requests.api", ["function"] = "post", in_app = false },
    }) })
    assert.are.equal("app.orders in charge", md.culprit(ev))
  end)

  it("follows the built-in frame rules' in_app: site-packages is never in-app", function()
    local ev = ex({ type = "E", stacktrace = frames({
      { module = "app.views", ["function"] = "index", in_app = true },
      { module = "django.db", ["function"] = "execute", in_app = true,
        abs_path = "/srv/venv/lib/python3.12/site-packages/django/db.py" },
    }) })
    assert.are.equal("app.views in index", md.culprit(ev))
  end)

  it("a project's stack trace rules decide in-app too (+app included)", function()
    local rules = assert(require("periscope.sentry_rules").compile({
      stacktrace = "module:acme.vendored.* -app\nmodule:libthing +app" }))
    local ev = ex({ type = "E", stacktrace = frames({
      { module = "app.views", ["function"] = "index", in_app = true },
      { module = "libthing", ["function"] = "call" },
      { module = "acme.vendored.x", ["function"] = "inner", in_app = true },
    }) })
    assert.are.equal("libthing in call", md.culprit(ev, rules.frames))
    assert.are.equal("libthing in call", require("periscope.grouping").group(ev, rules).culprit)
    assert.are.equal("acme.vendored.x in inner", md.culprit(ev))
  end)

  it("without an in-app frame: the innermost frame", function()
    local ev = ex({ type = "E", stacktrace = frames({
      { module = "a", ["function"] = "outer" }, { filename = "b.py", ["function"] = "inner" } }) })
    assert.are.equal("b.py in inner", md.culprit(ev))
  end)

  it("javascript: function(URL path) for a frame from a URL", function()
    local function js(frame)
      frame.in_app = true
      return md.culprit(ex({ type = "TypeError", stacktrace = frames({ frame }) }, { platform = "javascript" }))
    end
    assert.are.equal("handler(/static/js/app.js)", js({ ["function"] = "handler", filename = "http://localhost:5000/static/js/app.js" }))
    assert.are.equal("handler(/static/js/app.js)", js({ ["function"] = "handler", abs_path = "http://localhost:5000/static/js/app.js" }))
    assert.are.equal("handler(/js/app.min.js)", js({ ["function"] = "handler", abs_path = "https://CDN.example.com:8443/js/./lib/../app.min.js?v=3#L1" }))
    -- Relay's URL test is case-sensitive
    assert.are.equal("handler(HTTP://x/a.js)", js({ ["function"] = "handler", abs_path = "HTTP://x/a.js" }))
    assert.are.equal("handler(/my%20app.js)", js({ ["function"] = "handler", abs_path = "http://x/my app.js" }))
    assert.are.equal("?(/index.js)", js({ filename = "file:///index.js" }))
    -- a filename of its own is kept; a URL without a path stays whole
    assert.are.equal("handler(app.js)", js({ ["function"] = "handler", filename = "app.js", abs_path = "http://x/static/app.js" }))
    assert.are.equal("handler(http://foo.com/)", js({ ["function"] = "handler", abs_path = "http://foo.com/" }))
    assert.are.equal("handler(webpack:///./src/app.js)", js({ ["function"] = "handler", abs_path = "webpack:///./src/app.js" }))
    -- the module wins over the file
    assert.are.equal("handler(app)", js({ ["function"] = "handler", module = "app", filename = "http://x/app.js" }))
  end)

  it("node: function(module)", function()
    local ev = ex({ type = "SyntaxError", stacktrace = frames({
      { module = "app", ["function"] = "parseOrder", filename = "/srv/shop/app.js", in_app = true } }) }, { platform = "node" })
    assert.are.equal("parseOrder(app)", md.culprit(ev))
  end)

  it("native and cocoa: the function alone; a frame's own platform wins", function()
    local ev = ex({ type = "SIGSEGV", stacktrace = frames({ { ["function"] = "crash_here", in_app = true, filename = "x.c" } }) },
      { platform = "native" })
    assert.are.equal("crash_here", md.culprit(ev))
    ev.exception.values[1].stacktrace.frames[1]["function"] = nil
    assert.are.equal("?", md.culprit(ev))
    ev.platform = "python"
    ev.exception.values[1].stacktrace.frames[1].platform = "cocoa"
    assert.are.equal("?", md.culprit(ev))
  end)

  it("the event's culprit, then its transaction, win; 200 characters at most", function()
    local ev = ex({ type = "E", stacktrace = frames({ { module = "m", ["function"] = "f", in_app = true } }) })
    ev.transaction = "/api/orders"
    assert.are.equal("/api/orders", md.culprit(ev))
    ev.culprit = ("c"):rep(250)
    assert.are.equal(("c"):rep(197) .. "...", md.culprit(ev))
  end)

  it("a synthetic exception has none", function()
    local ev = ex({ mechanism = { synthetic = true }, value = "x",
      stacktrace = frames({ { module = "m", ["function"] = "f", in_app = true } }) })
    assert.are.equal("", md.culprit(ev))
  end)

  it("one exception takes the top-level stacktrace, as Relay moves it", function()
    local ev = ex({ type = "E", stacktrace = frames({ { module = "own", ["function"] = "f", in_app = true } }) })
    ev.stacktrace = frames({ { module = "top", ["function"] = "g", in_app = true } })
    assert.are.equal("top in g", md.culprit(ev))
  end)

  it("without frames: the request URL without query string and fragment", function()
    local ev = { logentry = { formatted = "m" }, request = { url = "HTTP://Shop.Example.com:80/api/orders?id=1#top" } }
    assert.are.equal("http://shop.example.com/api/orders", md.culprit(ev))
    ev.request.url = "/relative/path?x=1"
    assert.are.equal("/relative/path", md.culprit(ev))
    ev.request.url = "http://example.com/path\u{2026}"
    assert.are.equal("http://example.com/path...", md.culprit(ev))
    ev.request = nil
    assert.are.equal("", md.culprit(ev))
  end)
end)

describe("function names", function()
  it("native names are trimmed as Sentry trims them", function()
    local cases = {
      { "foo::bar(int) const", "foo::bar" },
      { "void foo::bar<std::string>(char*)", "foo::bar<T>" },
      { "std::basic_string<char> const& acme::name() const &", "acme::name" },
      { "foo::bar() [clone .cold.12]", "foo::bar" },
      { "main::{lambda(int)#1}::operator()(int) const", "main::lambda::operator()" },
      { "core::ptr::drop_in_place::h3c7dca56ed9bd4e5", "core::ptr::drop_in_place" },
      { "memcpy@GLIBC_2.14", "memcpy" },
      { "_Func@12", "_Func" },
      { "-[NSObject description]", "-[NSObject description]" },
      { "<redacted>", "<redacted>" },
    }
    for _, c in ipairs(cases) do
      assert.are.equal(c[2], fname.trim(c[1], "native"), c[1])
    end
    assert.are.equal("closure in Foo.bar", fname.trim("closure #1 () -> () in Foo.bar() -> ()", "swift"))
  end)

  it("other platforms keep the name; a raw_function keeps the function as sent", function()
    assert.are.equal("foo::bar(int) const", fname.trim("foo::bar(int) const", "python"))
    assert.are.equal("Foo (x)", fname.for_frame({ ["function"] = "Foo (x)", raw_function = "Foo (x) raw" }, "csharp"))
    assert.are.equal("Foo", fname.for_frame({ ["function"] = "Foo (x)" }, "csharp"))
    assert.is_nil(fname.for_frame({ ["function"] = "" }, "native"))
  end)
end)
