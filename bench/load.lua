-- wrk load script for `make bench`: realistic Sentry SDK requests, each with
-- a unique event_id and an issue number that spreads events over a chosen
-- number of distinct issues. Bodies come from a template written by
-- bench/gen_events.py (literal parts + holes), so building one costs a
-- table.concat per request.
--
-- Environment:
--   BENCH_TEMPLATE     template file (default $BENCH_TEMPLATE_DIR/<format>-<size>.lua)
--   BENCH_TEMPLATE_DIR where templates are (default bench/results/templates)
--   BENCH_FORMAT       store | gzip | envelope       (default store)
--   BENCH_EVENT_SIZE   4k | 50k                      (default 4k)
--   BENCH_PROJECT      project id (default 1), BENCH_KEY public key
--   BENCH_ISSUES       distinct issues (default 100, max 1,000,000)
--   BENCH_RATE         total requests/s to aim at (0: as fast as possible)
--   BENCH_THREADS      wrk -t (default 2), to split BENCH_RATE between threads
--   BENCH_SEED         mixed into the per-thread event-id prefix
--   BENCH_ISSUES_SEQUENTIAL=1  issue numbers in order (thread t sends t-1,
--                      t-1+T, …, then wraps), so that the first BENCH_ISSUES
--                      requests create every issue: the growth cases' warm-up
-- At the end it prints one line "BENCH_RESULT {json}" with the figures that
-- bench/bench.py reads, and every non-2xx status seen with a sample body.

local env = os.getenv
local format = env("BENCH_FORMAT") or "store"
local size = env("BENCH_EVENT_SIZE") or "4k"
local tpl_path = env("BENCH_TEMPLATE")
    or ((env("BENCH_TEMPLATE_DIR") or "bench/results/templates") .. "/" .. format .. "-" .. size .. ".lua")
local project = env("BENCH_PROJECT") or "1"
local key = env("BENCH_KEY") or "0123456789abcdef0123456789abcdef"
local issues = tonumber(env("BENCH_ISSUES") or "100")
local rate = tonumber(env("BENCH_RATE") or "0")
local seed = tonumber(env("BENCH_SEED") or "0")
local wrk_threads = tonumber(env("BENCH_THREADS") or "2") -- wrk -t, to split BENCH_RATE
local sequential = env("BENCH_ISSUES_SEQUENTIAL") == "1"

-- main state ---------------------------------------------------------------

local threads = {}
local next_id = 0

function setup(thread)
    next_id = next_id + 1
    thread:set("thread_id", next_id)
    threads[#threads + 1] = thread
    -- Only this thread: wrk starts thread 1 before it calls setup() for
    -- thread 2, so touching another thread's state here would race with it.
end

-- per-thread state -----------------------------------------------------------

local bit = require("bit")
local tpl, pieces, holes, path, headers
local prefix, counter = nil, 0
local crc_prefix
non2xx = {}      -- status -> count (read by done through thread:get)
samples = {}     -- status -> first body seen
sent = 0

local function le32(x)
    return string.char(bit.band(x, 255), bit.band(bit.rshift(x, 8), 255),
        bit.band(bit.rshift(x, 16), 255), bit.band(bit.rshift(x, 24), 255))
end

function init(args)
    tpl = dofile(tpl_path)
    if tpl.format ~= format then
        error("template " .. tpl_path .. " is " .. tpl.format .. ", BENCH_FORMAT is " .. format)
    end
    math.randomseed(seed + (thread_id or 1) * 7919 + math.floor(os.clock() * 1e6))
    local p = {}
    for i = 1, 3 do p[i] = string.format("%08x", math.random(0, 0x7fffffff) * 2 + math.random(0, 1)) end
    prefix = table.concat(p)

    pieces, holes = {}, {}
    for i, part in ipairs(tpl.parts) do
        if type(part) == "table" then
            holes[#holes + 1] = { i, part.hole }
            pieces[i] = ""
        else
            pieces[i] = part
        end
    end
    if format == "gzip" then
        -- gzip member header: deflate, no flags, no mtime, OS unix
        table.insert(pieces, 1, "\031\139\008\000\000\000\000\000\000\003")
        for _, h in ipairs(holes) do h[1] = h[1] + 1 end
        pieces[#pieces + 1] = ""  -- CRC-32
        pieces[#pieces + 1] = le32(tpl.isize)
        crc_prefix = tpl.crc_base
        local d = tpl.crc_delta.eid
        for pos = 1, #prefix do
            crc_prefix = bit.bxor(crc_prefix, d[pos][prefix:byte(pos)])
        end
    end

    if format == "envelope" then
        path = "/api/" .. project .. "/envelope/?sentry_version=7&sentry_key=" .. key
            .. "&sentry_client=sentry.javascript.node%2F11.12.0"
        headers = { ["User-Agent"] = "sentry.javascript.node/11.12.0" }
    else
        path = "/api/" .. project .. "/store/"
        headers = {
            ["Content-Type"] = "application/json",
            ["User-Agent"] = "sentry.python/1.9.10",
            ["X-Sentry-Auth"] = "Sentry sentry_key=" .. key
                .. ", sentry_version=7, sentry_client=sentry.python/1.9.10",
        }
        if format == "gzip" then headers["Content-Encoding"] = "gzip" end
    end
end

function request()
    counter = counter + 1
    sent = sent + 1
    local tail = string.format("%08x", counter)
    local eid = prefix .. tail
    local n
    if sequential then
        n = ((thread_id or 1) - 1 + wrk_threads * (counter - 1)) % issues
    else
        n = math.random(0, issues - 1)
    end
    local iss = string.format("%06d", n)
    for _, h in ipairs(holes) do
        pieces[h[1]] = (h[2] == "eid") and eid or iss
    end
    if format == "gzip" then
        local crc = crc_prefix
        local d = tpl.crc_delta.eid
        for pos = 1, 8 do crc = bit.bxor(crc, d[24 + pos][tail:byte(pos)]) end
        d = tpl.crc_delta.iss
        for pos = 1, 6 do crc = bit.bxor(crc, d[pos][iss:byte(pos)]) end
        pieces[#pieces - 1] = le32(crc)
    end
    return wrk.format("POST", path, headers, table.concat(pieces))
end

function response(status, hdrs, body)
    if status < 200 or status > 299 then
        non2xx[status] = (non2xx[status] or 0) + 1
        if samples[status] == nil then samples[status] = string.sub(body or "", 1, 200) end
    end
end

if rate > 0 then
    -- Pacing: each wrk thread sends its share of BENCH_RATE on a fixed
    -- schedule. delay() runs after each response and claims the thread's
    -- next send slot, so the rate holds whatever the latency is (as long as
    -- enough connections are free); after a stall the schedule restarts
    -- from now instead of bursting to catch up.
    local ffi = require("ffi")
    ffi.cdef [[
        typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
        int clock_gettime(int clk, bench_timespec *ts);
    ]]
    local ts = ffi.new("bench_timespec")
    local function now_ms()
        ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
        return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
    end
    local interval_ms, next_slot = nil, nil
    function delay()
        if interval_ms == nil then
            interval_ms = 1000 / (rate / wrk_threads)
            next_slot = now_ms()
        end
        local now = now_ms()
        if next_slot < now - 10 * interval_ms then next_slot = now end
        next_slot = next_slot + interval_ms
        return math.max(0, next_slot - now)
    end
end

-- report ---------------------------------------------------------------------

local function json_str(s)
    return '"' .. string.gsub(s, '[%c"\\]', function(c)
        return string.format("\\u%04x", c:byte())
    end) .. '"'
end

function done(summary, latency, requests)
    local codes, sample = {}, {}
    local total_non2xx, total_sent = 0, 0
    for _, t in ipairs(threads) do
        local n = t:get("non2xx") or {}
        local s = t:get("samples") or {}
        total_sent = total_sent + (t:get("sent") or 0)
        for st, c in pairs(n) do
            codes[st] = (codes[st] or 0) + c
            total_non2xx = total_non2xx + c
            if sample[st] == nil then sample[st] = s[st] end
        end
    end
    local cj, sj = {}, {}
    for st, c in pairs(codes) do
        cj[#cj + 1] = string.format('"%d":%d', st, c)
        sj[#sj + 1] = string.format('"%d":%s', st, json_str(sample[st] or ""))
        io.write(string.format("non-2xx: %d x %d, e.g. %s\n", c, st, sample[st] or ""))
    end
    local e = summary.errors
    io.write("BENCH_RESULT ", string.format(
        '{"requests":%d,"duration_us":%d,"bytes":%d,"sent":%d,"non2xx":%d,"status":{%s},'
        .. '"samples":{%s},"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},'
        .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
        summary.requests, summary.duration, summary.bytes, total_sent, total_non2xx,
        table.concat(cj, ","), table.concat(sj, ","), e.connect, e.read, e.write, e.timeout,
        e.status, latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.mean, latency.max))
end
