#!/usr/bin/env python3
"""Writes the request templates bench/load.lua fills in per request.

A template is a Lua file returning {format=, parts={...}, ...}: literal
strings and holes. Hole "eid" is the 32-hex event id (unique per request),
hole "iss" is the 6-digit issue number (it sits in the exception type, which
is part of the grouping hash, so N distinct numbers give N issues; it also
appears in the value, which does not count when a stack trace exists).

Formats:
  store     Python SDK-style event JSON for POST /api/<id>/store/
  envelope  Node SDK-style envelope (header with event_id, {"type":"event"},
            event JSON) for POST /api/<id>/envelope/?sentry_key=...
  gzip      the store body gzip-compressed, as sentry-python 1.x sends it.
            wrk's Lua has no zlib, so the body is pre-compressed here as
            independent raw-deflate segments (each ended with a sync flush,
            so byte-aligned) with the holes as stored blocks between them;
            load.lua splices the hole bytes in and computes the gzip CRC-32
            from per-position delta tables (CRC-32 is affine in the message
            bits), so every request is a distinct, valid gzip body.

  json      one plain store event with the holes filled (bench_stages input)

Usage: gen_events.py FORMAT SIZE OUT   (SIZE: 4k | 50k)
"""
import json
import random
import sys
import time
import zlib

EID_PH = "ffffffffffffffffffffffffffffffff"  # 32 chars, replaced by the eid hole
ISS_PH = "999999"                            # 6 chars, replaced by the iss hole
MARK_E = "@@EID@@"
MARK_I = "@@ISS@@"

PY_FRAMES = [  # (module, file, function, context line, in_app)
    ("django.core.handlers.exception", "django/core/handlers/exception.py", "inner",
     "response = get_response(request)", False),
    ("django.core.handlers.base", "django/core/handlers/base.py", "_get_response",
     "response = wrapped_callback(request, *callback_args, **callback_kwargs)", False),
    ("django.views.decorators.csrf", "django/views/decorators/csrf.py", "_view_wrapper",
     "return view_func(request, *args, **kwargs)", False),
    ("django.views.generic.base", "django/views/generic/base.py", "view",
     "return self.dispatch(request, *args, **kwargs)", False),
    ("rest_framework.views", "rest_framework/views.py", "dispatch",
     "response = handler(request, *args, **kwargs)", False),
    ("shop.api.views", "shop/api/views.py", "post",
     "order = self.service.place(request.user, serializer.validated_data)", True),
    ("shop.api.mixins", "shop/api/mixins.py", "wrapper",
     "return func(self, *args, **kwargs)", True),
    ("shop.services.orders", "shop/services/orders.py", "place",
     "invoice = self.billing.invoice(order, customer=customer)", True),
    ("contextlib", "contextlib.py", "inner",
     "return func(*args, **kwds)", False),
    ("django.db.transaction", "django/db/transaction.py", "__exit__",
     "connection.commit()", False),
    ("shop.services.billing", "shop/services/billing.py", "invoice",
     "lines = [self._line(item, currency) for item in order.items]", True),
    ("shop.services.billing", "shop/services/billing.py", "<listcomp>",
     "lines = [self._line(item, currency) for item in order.items]", True),
    ("shop.services.billing", "shop/services/billing.py", "_line",
     "price = self.pricing.price_for(item.sku, quantity=item.quantity)", True),
    ("shop.pricing.engine", "shop/pricing/engine.py", "price_for",
     "rule = self.rules.match(sku, self.region)", True),
    ("shop.pricing.rules", "shop/pricing/rules.py", "match",
     "return self._validate(candidate, sku)", True),
    ("shop.pricing.rules", "shop/pricing/rules.py", "_validate",
     "raise ValidationError(f'order {sku} failed validation: {reason}')", True),
]

NODE_FRAMES = [  # (module, file, function, context line, in_app)
    ("node:internal/process/task_queues", "node:internal/process/task_queues",
     "process.processTicksAndRejections", None, False),
    ("node:internal/timers", "node:internal/timers", "listOnTimeout", None, False),
    ("express.lib.router:layer", "/srv/shop/node_modules/express/lib/router/layer.js",
     "Layer.handle [as handle_request]", "    fn(req, res, next);", False),
    ("express.lib.router:route", "/srv/shop/node_modules/express/lib/router/route.js",
     "next", "      layer.handle_request(req, res, next);", False),
    ("express.lib.router:route", "/srv/shop/node_modules/express/lib/router/route.js",
     "Route.dispatch", "  next();", False),
    ("express.lib.router:index", "/srv/shop/node_modules/express/lib/router/index.js",
     "Function.process_params", "    return done();", False),
    ("express.lib.router:index", "/srv/shop/node_modules/express/lib/router/index.js",
     "next", "        trim_prefix(layer, layerError, layerPath, path);", False),
    ("body-parser.lib.types:json", "/srv/shop/node_modules/body-parser/lib/types/json.js",
     "jsonParser", "      next();", False),
    ("routes:orders", "/srv/shop/src/routes/orders.js", "Object.createOrder",
     "    const order = await orders.place(req.user, req.body);", True),
    ("services:orders", "/srv/shop/src/services/orders.js", "OrderService.place",
     "    const invoice = await this.billing.invoice(order, { customer });", True),
    ("services:billing", "/srv/shop/src/services/billing.js", "BillingService.invoice",
     "    const lines = order.items.map((item) => this.line(item, currency));", True),
    ("services:billing", "/srv/shop/src/services/billing.js", "Array.map", None, True),
    ("services:billing", "/srv/shop/src/services/billing.js", "BillingService.line",
     "    const price = this.pricing.priceFor(item.sku, item.quantity);", True),
    ("pricing:engine", "/srv/shop/src/pricing/engine.js", "PricingEngine.priceFor",
     "    const rule = this.rules.match(sku, this.region);", True),
    ("pricing:rules", "/srv/shop/src/pricing/rules.js", "Rules.match",
     "    return this.validate(candidate, sku);", True),
    ("pricing:rules", "/srv/shop/src/pricing/rules.js", "Rules.validate",
     "      throw new ValidationError(`order ${sku} failed validation: ${reason}`);", True),
]


def source_lines(rng, n):
    words = ["order", "item", "price", "currency", "customer", "region", "rule", "sku",
             "quantity", "total", "discount", "tax", "self", "request", "invoice"]
    return ["    " + " = ".join(rng.choice(words) + "_" + rng.choice(words) for _ in range(2))
            + "(" + ", ".join(rng.sample(words, 2)) + ")" for _ in range(n)]


def py_frame(rng, spec, lineno, big):
    module, path, func, line, in_app = spec
    root = "/srv/shop/" if in_app else "/usr/lib/python3/dist-packages/"
    f = {"filename": path, "abs_path": root + path, "function": func, "module": module,
         "lineno": lineno}
    if big:
        f["pre_context"] = source_lines(rng, 3)
    f["context_line"] = "    " + line
    if big:
        f["post_context"] = source_lines(rng, 3)
    f["in_app"] = in_app
    if big:
        f["vars"] = {f"v{i}_{rng.choice(['order', 'item', 'ctx', 'cfg'])}":
                     repr(rng.random()) * (2 if big else 1) for i in range(8 if big else 1)}
    return f


def python_event(rng, big):
    frames = []
    specs = PY_FRAMES * 2 if big else [s for s in PY_FRAMES if s[0] != "contextlib"]
    for i, spec in enumerate(specs):
        frames.append(py_frame(rng, spec, 20 + 7 * i, big))
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    ev = {
        "level": "error",
        "exception": {"values": [{
            "module": "shop.pricing.rules",
            "type": "ValidationError" + MARK_I,
            "value": "order SKU-" + MARK_I + " failed validation: amount must be positive",
            "mechanism": {"type": "django", "handled": False},
            "stacktrace": {"frames": frames},
        }]},
        "event_id": MARK_E,
        "timestamp": ts,
        "breadcrumbs": {"values": [
            {"type": "default", "category": "query", "level": "info", "timestamp": ts,
             "message": "SELECT id, sku, quantity FROM order_items WHERE order_id = %s"
             + " AND region = %s" * (i % 3)}
            for i in range(90 if big else 1)]},
        "contexts": {"runtime": {"name": "CPython", "version": "3.11.2",
                                 "build": "3.11.2 (main, Apr 28 2025, 14:11:48) [GCC 12.2.0]"}},
        "request": {"url": "https://shop.example.com/api/orders/", "method": "POST"},
        "modules": {f"package-{i}": f"{i % 7}.{i % 13}.{i % 5}" for i in range(100 if big else 3)},
        "extra": {"sys.argv": ["gunicorn", "shop.wsgi"]},
        "release": "shop@2.3.1",
        "environment": "production",
        "server_name": "web-1",
        "sdk": {"name": "sentry.python", "version": "1.9.10",
                "packages": [{"name": "pypi:sentry-sdk", "version": "1.9.10"}],
                "integrations": ["argv", "atexit", "dedupe", "django", "excepthook",
                                 "logging", "modules", "stdlib", "threading"]},
        "platform": "python",
    }
    return json.dumps(ev, separators=(",", ":"))


def node_envelope(rng, big):
    frames = []
    for i, (module, path, func, line, in_app) in enumerate(NODE_FRAMES * (2 if big else 1)):
        f = {"filename": path, "module": module, "function": func, "lineno": 10 + 9 * i,
             "colno": 5 + i, "in_app": in_app}
        if line is not None:
            if big:
                f["pre_context"] = source_lines(rng, 5)
            f["context_line"] = line
            if big:
                f["post_context"] = source_lines(rng, 5)
        frames.append(f)
    now = time.time()
    iso = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now))
    header = {"event_id": MARK_E, "sent_at": iso,
              "sdk": {"name": "sentry.javascript.node", "version": "11.12.0"},
              "trace": {"environment": "production", "release": "shop@2.3.1",
                        "public_key": "KEY", "trace_id": "22847070b7fd4fff96f06db5d90da5ce"}}
    ev = {
        "exception": {"values": [{
            "type": "ValidationError" + MARK_I,
            "value": "order SKU-" + MARK_I + " failed validation: amount must be positive",
            "stacktrace": {"frames": frames},
            "mechanism": {"type": "onunhandledrejection", "handled": False}}]},
        "level": "error", "platform": "node",
        "contexts": {"trace": {"trace_id": "22847070b7fd4fff96f06db5d90da5ce",
                               "span_id": "9a81ea35155d05e0"},
                     "runtime": {"name": "node", "version": "v20.20.2"},
                     "os": {"kernel_version": "6.1.0", "name": "Debian", "version": "12.11"},
                     "device": {"arch": "x64", "memory_size": 25276026880, "processor_count": 2}},
        "server_name": "web-1", "timestamp": round(now, 3),
        "environment": "production", "release": "shop@2.3.1",
        "sdk": {"name": "sentry.javascript.node", "version": "11.12.0",
                "integrations": ["EventFilters", "FunctionToString", "LinkedErrors", "Dedupe",
                                 "RequestData", "Console", "Http", "ContextLines", "Express"],
                "packages": [{"name": "npm:@sentry/node", "version": "11.12.0"}]},
        "tags": {"region": "eu"},
        "user": {"id": "u-7", "email": "a@example.com"},
        "breadcrumbs": [{"timestamp": round(now, 3), "category": "http", "type": "http",
                         "data": {"method": "GET", "url": f"http://inventory/api/sku/{i}",
                                  "status_code": 200}} for i in range(175 if big else 2)],
        "modules": {f"package-{i}": f"{i % 7}.{i % 13}.{i % 5}" for i in range(200 if big else 10)},
    }
    return (json.dumps(header, separators=(",", ":")) + "\n" + '{"type":"event"}\n'
            + json.dumps(ev, separators=(",", ":")) + "\n")


def split_holes(text):
    """Splits text at the markers: literal strings and {"hole": name} items."""
    parts, i = [], 0
    while True:
        e, s = text.find(MARK_E, i), text.find(MARK_I, i)
        cands = [(p, m) for p, m in ((e, MARK_E), (s, MARK_I)) if p >= 0]
        if not cands:
            parts.append(text[i:].encode())
            return parts
        p, m = min(cands)
        parts.append(text[i:p].encode())
        parts.append("eid" if m == MARK_E else "iss")
        i = p + len(m)


def lua_str(b):
    out = []
    for c in b:
        if 32 <= c < 127 and c not in (34, 92):
            out.append(chr(c))
        else:
            out.append("\\%03d" % c)
    return '"' + "".join(out) + '"'


HOLE_LEN = {"eid": 32, "iss": 6}
HOLE_BASE = {"eid": EID_PH.encode(), "iss": ISS_PH.encode()}
HOLE_CHARS = {"eid": b"0123456789abcdef", "iss": b"0123456789"}


def gzip_template(parts):
    """Raw-deflate segments with stored-block holes, plus CRC delta tables."""
    out = []
    for i, p in enumerate(parts):
        if isinstance(p, bytes):
            last = i == len(parts) - 1
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            out.append(c.compress(p) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH))
        else:
            n = HOLE_LEN[p]
            out.append(bytes([0, n, 0, (~n) & 0xFF, 0xFF]))  # stored block header, not final
            out.append(p)
    assert isinstance(parts[-1], bytes)
    base = b"".join(p if isinstance(p, bytes) else HOLE_BASE[p] for p in parts)
    base_crc = zlib.crc32(base)
    # deltas[hole][pos][char] for the flat message; a hole that occurs twice
    # gets one table whose deltas change both occurrences together.
    offsets = {"eid": [], "iss": []}
    off = 0
    for p in parts:
        if isinstance(p, bytes):
            off += len(p)
        else:
            offsets[p].append(off)
            off += HOLE_LEN[p]
    deltas = {}
    for h, offs in offsets.items():
        if not offs:
            continue
        tab = []
        for pos in range(HOLE_LEN[h]):
            row = {}
            for ch in HOLE_CHARS[h]:
                m = bytearray(base)
                for o in offs:
                    m[o + pos] = ch
                d = zlib.crc32(bytes(m)) ^ base_crc
                row[ch] = d - (1 << 32) if d >= 1 << 31 else d  # LuaJIT bit ops are int32
            tab.append(row)
        deltas[h] = tab
    s32 = base_crc - (1 << 32) if base_crc >= 1 << 31 else base_crc
    return out, s32, len(base), deltas


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("store", "envelope", "gzip", "json") \
            or sys.argv[2] not in ("4k", "50k"):
        sys.exit(__doc__)
    fmt, size, path = sys.argv[1:]
    rng = random.Random(7)
    big = size == "50k"
    text = node_envelope(rng, big) if fmt == "envelope" else python_event(rng, big)
    if fmt == "json":
        with open(path, "w") as f:
            f.write(text.replace(MARK_E, "%032x" % rng.getrandbits(128)).replace(MARK_I, "000042"))
        return
    parts = split_holes(text)
    plain_len = sum(len(p) if isinstance(p, bytes) else HOLE_LEN[p] for p in parts)
    lines = ["-- generated by bench/gen_events.py; do not edit", "return {",
             f'  format = "{fmt}",', f"  plain_bytes = {plain_len},"]
    if fmt == "gzip":
        segs, crc, isize, deltas = gzip_template(parts)
        lines.append(f"  crc_base = {crc},")
        lines.append(f"  isize = {isize},")
        lines.append("  crc_delta = {")
        for h, tab in deltas.items():
            rows = ", ".join("{" + ", ".join(f"[{c}]={d}" for c, d in sorted(r.items())) + "}"
                             for r in tab)
            lines.append(f"    {h} = {{{rows}}},")
        lines.append("  },")
        parts = segs
    lines.append("  parts = {")
    for p in parts:
        lines.append(f'    {{hole = "{p}"}},' if isinstance(p, str) else f"    {lua_str(p)},")
    lines.append("  },")
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{path}: {fmt} {size}, {plain_len} bytes of JSON", file=sys.stderr)


if __name__ == "__main__":
    main()
