-- µs per event of the default grouping (g.group + hash).
-- Run: LUA_PATH="lua/?.lua;;" LUA_CPATH="build/lua/?.so;;" lua5.4 bench/grouping_bench.lua
-- BENCH_N scales the iteration counts (default 20000; use ~500 under
-- callgrind); BENCH_ONLY=<case name prefix> runs one case.
local periscope = require("periscope")
local g = require("periscope.grouping")

local N = tonumber(os.getenv("BENCH_N")) or 20000
local ONLY = os.getenv("BENCH_ONLY")

local function load(name)
  local f = assert(io.open("spec/fixtures/" .. name .. ".json"))
  local ev = periscope.json.decode(f:read("a"))
  f:close()
  return ev
end

-- A Django request failing in app code: 15 frames, 11 of them library.
local function python15()
  local frames = {}
  local function fr(abs, module, func, line, in_app)
    frames[#frames + 1] = { abs_path = abs, filename = abs:match("[^/]*$"), module = module,
      ["function"] = func, context_line = line, lineno = #frames * 7 + 3, in_app = in_app }
  end
  local sp = "/usr/local/lib/python3.12/site-packages/"
  fr(sp .. "gunicorn/workers/sync.py", "gunicorn.workers.sync", "handle_request", "            respiter = self.wsgi(environ, resp.start_response)", false)
  fr(sp .. "django/core/handlers/wsgi.py", "django.core.handlers.wsgi", "__call__", "        response = self.get_response(request)", false)
  fr(sp .. "django/core/handlers/base.py", "django.core.handlers.base", "get_response", "        response = self._middleware_chain(request)", false)
  fr(sp .. "django/core/handlers/exception.py", "django.core.handlers.exception", "inner", "            response = get_response(request)", false)
  fr(sp .. "django/utils/deprecation.py", "django.utils.deprecation", "__call__", "        response = response or self.get_response(request)", false)
  fr(sp .. "django/core/handlers/exception.py", "django.core.handlers.exception", "inner", "            response = get_response(request)", false)
  fr(sp .. "sentry_sdk/integrations/django/middleware.py", "sentry_sdk.integrations.django.middleware", "__call__", "            return f(*args, **kwargs)", false)
  fr(sp .. "django/core/handlers/base.py", "django.core.handlers.base", "_get_response", "                response = wrapped_callback(request, *callback_args, **callback_kwargs)", false)
  fr(sp .. "sentry_sdk/integrations/django/views.py", "sentry_sdk.integrations.django.views", "sentry_wrapped_callback", "            return callback(request, *args, **kwargs)", false)
  fr(sp .. "django/views/generic/base.py", "django.views.generic.base", "view", "            return self.dispatch(request, *args, **kwargs)", false)
  fr(sp .. "django/views/generic/base.py", "django.views.generic.base", "dispatch", "        return handler(request, *args, **kwargs)", false)
  fr("/srv/shop/orders/views.py", "orders.views", "post", "        order = services.place_order(request.user, form.cleaned_data)", true)
  fr("/srv/shop/orders/services.py", "orders.services", "place_order", "    total = pricing.total(cart, coupon)", true)
  fr("/srv/shop/orders/pricing.py", "orders.pricing", "total", "    return sum(line_price(l) for l in cart.lines) / cart.count", true)
  fr("/srv/shop/orders/pricing.py", "orders.pricing", "<genexpr>", "    return sum(line_price(l) for l in cart.lines) / cart.count", true)
  return { platform = "python", level = "error", exception = { values = { {
    type = "ZeroDivisionError", value = "division by zero", stacktrace = { frames = frames } } } } }
end

-- An Express handler failing: 15 frames, node internals and node_modules.
local function node15()
  local frames = {}
  local function fr(filename, module, func, line, in_app)
    frames[#frames + 1] = { filename = filename, abs_path = filename, module = module, ["function"] = func,
      context_line = line, lineno = #frames * 11 + 5, colno = 12, in_app = in_app }
  end
  local nm = "/srv/shop/node_modules/"
  fr("node:internal/process/task_queues", "task_queues", "process.processTicksAndRejections", nil, false)
  fr(nm .. "express/lib/router/index.js", "express.lib.router:index", "next", "    layer.handle_request(req, res, next);", false)
  fr(nm .. "express/lib/router/index.js", "express.lib.router:index", "Function.process_params", "  param(callbacks[paramIndex++]);", false)
  fr(nm .. "express/lib/router/index.js", "express.lib.router:index", "trim_prefix", "      layer.handle_request(req, res, next);", false)
  fr(nm .. "express/lib/router/layer.js", "express.lib.router:layer", "Layer.handle [as handle_request]", "    fn(req, res, next);", false)
  fr(nm .. "body-parser/lib/types/json.js", "body-parser.lib.types:json", "jsonParser", "      next()", false)
  fr(nm .. "express/lib/router/index.js", "express.lib.router:index", "next", "    layer.handle_request(req, res, next);", false)
  fr(nm .. "express/lib/router/route.js", "express.lib.router:route", "Route.dispatch", "  next();", false)
  fr(nm .. "express/lib/router/layer.js", "express.lib.router:layer", "Layer.handle [as handle_request]", "    fn(req, res, next);", false)
  fr(nm .. "express/lib/router/route.js", "express.lib.router:route", "next", "      layer.handle_request(req, res, next);", false)
  fr("/srv/shop/routes/orders.js", "routes:orders", "Object.<anonymous>", "router.post('/orders', async (req, res) => {", true)
  fr("/srv/shop/routes/orders.js", "routes:orders", "placeOrder", "  const order = await orders.place(req.user, req.body);", true)
  fr("/srv/shop/services/orders.js", "services:orders", "OrderService.place", "    const total = pricing.total(cart, coupon);", true)
  fr("/srv/shop/services/pricing.js", "services:pricing", "Pricing.total", "    return cart.lines.reduce((s, l) => s + l.price, 0) / cart.count;", true)
  fr("/srv/shop/services/pricing.js", "services:pricing", "Array.reduce", nil, false)
  return { platform = "node", level = "error", exception = { values = { {
    type = "TypeError", value = "Cannot read properties of undefined (reading 'price')",
    stacktrace = { frames = frames } } } } }
end

local function run(name, n, prepare, ev)
  if ONLY and name:sub(1, #ONLY) ~= ONLY then return end
  n = math.max(1, n)
  for i = 1, math.max(1, n // 20) do periscope.hash(g.group(prepare and prepare(i, ev) or ev).components) end
  local t = os.clock()
  for i = 1, n do periscope.hash(g.group(prepare and prepare(i + n, ev) or ev).components) end
  print(("%-36s %7.2f us/event"):format(name, (os.clock() - t) / n * 1e6))
end

run("python 3 frames, repeated stack", N, nil, load("python-sdk-1.9.10-1"))
run("node 10 frames, repeated stack", N, nil, load("node-sdk-11.12.0-3"))
run("python message only", N, nil, load("python-sdk-1.9.10-3"))
run("python 15 frames, repeated stack", N, nil, python15())
run("node 15 frames, repeated stack", N, nil, node15())

-- A never-seen stack: one frame differs from every stack seen before (a
-- new issue in a known code base).
run("python 3 frames, new stack", N // 4, function(i, ev)
  ev.exception.values[1].stacktrace.frames[1].module = "__main__" .. i
  return ev
end, load("python-sdk-1.9.10-1"))
run("python 15 frames, new stack", N // 4, function(i, ev)
  ev.exception.values[1].stacktrace.frames[14]["function"] = "total_" .. i
  return ev
end, python15())
-- Worst case: every frame never seen before.
run("python 15 frames, all frames new", N // 10, function(i, ev)
  for j, f in ipairs(ev.exception.values[1].stacktrace.frames) do f.context_line = "x = " .. i .. "+" .. j end
  return ev
end, python15())

if not ONLY or ONLY == "parameterize" then
  local msg = "Timeout after 3000ms for user 42 at 10.0.0.1 (request 123e4567-e89b-12d3-a456-426614174000)"
  local t = os.clock()
  for _ = 1, N * 10 do periscope.parameterize(msg) end
  print(("%-36s %7.2f us/message"):format("parameterize", (os.clock() - t) / (N * 10) * 1e6))
end
