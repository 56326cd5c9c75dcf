-- The default grouping as it was before the per-frame caches and the rule
-- index (main at b9fbd4d, verbatim but for the require path): the oracle
-- spec/grouping_cache_spec.lua compares the optimized code against.
--[[ periscope.grouping — the default grouping, Sentry's newstyle:2026-01-20.

For the same event this yields the values Sentry hashes, in the same order,
so periscope.hash(result.components) is Sentry's primary group hash.

API (stable; the Lua runtime calls it):
  local g = require("periscope.grouping")
  g.group(event)    -> { components = {...}, title = "...", culprit = "...",
                         variant = "fingerprint"|"exception"|"threads"|"message"|"fallback" }
  g.default(event)  -> the same, ignoring the client's fingerprint
  g.expand_fingerprint(event, fingerprint, default_result) -> components for a
                       client or script fingerprint ({{ default }} splices
                       default_result.components; other {{ var }}s resolve as
                       Sentry resolves them)
`event` is the normalized event table (exception = {values = {...}},
logentry = {formatted, message, params}, threads = {values = {...}},
stacktrace, fingerprint, platform, level, logger, transaction, tags as a list
of pairs or a map). `components` are exactly the hashed values; an empty
list is Sentry's fallback (the MD5 of nothing).

How Sentry groups (and so this file):
 1. Strategies in priority order: chained exception, threads, stack trace,
    message. The first one that contributes wins.
 2. Each strategy builds two variants: "app" (only in-app frames count) and
    "system" (all frames count). A variant with no contributing stack trace
    is dropped when another variant has one. The primary hash is the app
    variant's when it contributes, else the system variant's.
 3. Per exception: type (not for synthetic exceptions), then the
    parameterized value only when its stack trace does not contribute, then
    the frames. Per frame: module (else the lower-cased file base name),
    function, and for python/node/javascript/php/ruby the context line of at
    most 120 characters. Line numbers never count. Sentry's built-in frame
    rules (periscope.frame_rules) decide in-app and which frames never
    count; a frame repeating its predecessor exactly (recursion) is skipped.
]]

local periscope = rawget(_G, "periscope") or require("periscope")
local frame_rules = require("periscope.frame_rules")
local frames_mod = require("grouping_reference.grouping_frames")

local M = {}

local function list(x)
  if type(x) ~= "table" then return {} end
  if type(x.values) == "table" then return x.values end
  return x
end

local function nonempty(s)
  return type(s) == "string" and s ~= "" and s or nil
end

-- Sentry's normalize_message_for_grouping: the first two non-blank lines
-- ("..." appended when anything was cut), then parameterized.
local function normalize_message(s)
  local lines, n = {}, 0
  for line in (s .. "\n"):gmatch("([^\n\r\v\f\28\29\30]*)\r?[\n\r\v\f\28\29\30]") do
    if line:find("%S") then
      n = n + 1
      lines[n] = line
      if n == 2 then break end
    end
  end
  local trimmed = table.concat(lines, "\n")
  if trimmed ~= s then trimmed = trimmed .. "..." end
  return periscope.parameterize(trimmed)
end
M.normalize_message = normalize_message

-- One exception -> { app = {values, stack}, system = {values, stack} }
local function exception_variants(exc, event)
  local mech = type(exc.mechanism) == "table" and exc.mechanism or {}
  local ty = (not mech.synthetic) and nonempty(exc.type) or nil
  local value = nonempty(exc.value) and normalize_message(exc.value) or nil
  if value == "" then value = nil end
  local st = type(exc.stacktrace) == "table" and exc.stacktrace or nil
  local stacks = st and frames_mod.stacktrace_variants(list(st.frames), event, frame_rules) or nil
  local out = {}
  for _, name in ipairs({ "app", "system" }) do
    local frames = stacks and stacks[name] or {}
    if name == "system" and not stacks then break end -- no stack trace: app variant only
    local values = {}
    if ty then values[#values + 1] = ty end
    if #frames == 0 and value then values[#values + 1] = value end
    for _, v in ipairs(frames) do values[#values + 1] = v end
    out[name] = { values = values, stack = #frames > 0 }
  end
  return out
end

-- Sentry's exception-group filter (RFC 79): with a complete tree of
-- mechanism.exception_id/parent_id, keep the distinct top-level exceptions.
local function filter_exception_groups(excs, event, variants_of)
  if #excs <= 1 then return excs end
  local sdk = type(event.sdk) == "table" and event.sdk.version or ""
  if event.platform == "python" and tostring(sdk):sub(1, 1) == "3" then return excs end
  local nodes, seen = {}, {}
  local function node(id) nodes[id] = nodes[id] or { children = {} }; return nodes[id] end
  for i = #excs, 1, -1 do
    local m = type(excs[i].mechanism) == "table" and excs[i].mechanism or {}
    local id = m.exception_id
    if math.type(m.parent_id) == nil then m = { exception_id = m.exception_id, is_exception_group = m.is_exception_group } end
    if math.type(id) == nil or id == m.parent_id or seen[id] then return excs end
    seen[id] = true
    node(id).exc = excs[i]
    if m.parent_id ~= nil then table.insert(node(m.parent_id).children, excs[i]) end
  end
  local root = nodes[0]
  if not root or not root.exc then return excs end
  local function children(e) return (nodes[e.mechanism.exception_id] or { children = {} }).children end
  local top, visiting, cyclic = {}, {}, false
  local function collect(e)
    if visiting[e] then cyclic = true return end
    visiting[e] = true
    if e.mechanism.is_exception_group == true then
      for _, c in ipairs(children(e)) do collect(c) end
    else
      top[#top + 1] = e
    end
    visiting[e] = nil
  end
  collect(root.exc)
  -- no top-level exception, or a cycle: the list as it came
  if #top == 0 or cyclic then return excs end
  local pos = {}
  for i, e in ipairs(top) do pos[e] = i end
  table.sort(top, function(a, b)
    local ta = type(a.type) == "string" and a.type or "None"
    local tb = type(b.type) == "string" and b.type or "None"
    if ta ~= tb then return ta > tb end
    return pos[a] < pos[b]
  end)
  local distinct, last = {}, nil
  for _, e in ipairs(top) do
    local v = variants_of(e)
    local key = periscope.hash(v.app.values) .. (v.system and periscope.hash(v.system.values) or "")
    if key ~= last then distinct[#distinct + 1] = e end
    last = key
  end
  if #distinct == 1 then
    local path, e = {}, distinct[1]
    while e do
      if #path == #excs then return excs end
      path[#path + 1] = e
      e = children(e)[1]
    end
    return path
  end
  distinct[#distinct + 1] = root.exc
  return distinct
end

-- Combines per-item variants into the strategy's result, as Sentry does:
-- the app variant is mandatory (with `mandatory`, a system variant never
-- contributes when the app variant does not), an item without a stack trace
-- has no system variant, and a variant without a contributing stack trace
-- is dropped when another variant has one. Returns the primary values.
local function combine(items, mandatory)
  local app, sys = { values = {}, stack = false }, nil
  local function append(into, part)
    for _, x in ipairs(part.values) do into.values[#into.values + 1] = x end
    into.stack = into.stack or part.stack
  end
  for _, v in ipairs(items) do
    append(app, v.app)
    if v.system then
      sys = sys or { values = {}, stack = false }
      append(sys, v.system)
    end
  end
  if mandatory and #app.values == 0 then sys = nil end
  if sys and (app.stack or sys.stack) then
    if not app.stack then app.values = {} end
    if not sys.stack then sys.values = {} end
  end
  if #app.values > 0 then return app.values end
  return sys and sys.values or {}
end

local function stack_item(stacks)
  return { app = { values = stacks.app, stack = #stacks.app > 0 },
    system = { values = stacks.system, stack = #stacks.system > 0 } }
end

local function from_exceptions(event)
  local excs = {}
  for _, e in ipairs(list(event.exception)) do
    if type(e) == "table" then excs[#excs + 1] = e end
  end
  if #excs == 0 then return nil end
  local cache = {}
  local function variants_of(e)
    cache[e] = cache[e] or exception_variants(e, event)
    return cache[e]
  end
  local chosen = filter_exception_groups(excs, event, variants_of)
  local items = {}
  for i, e in ipairs(chosen) do items[i] = variants_of(e) end
  return combine(items, true)
end

local function from_threads(event)
  local threads = list(event.threads)
  if #threads == 0 then return nil end
  local function pick(pred)
    local found = {}
    for _, t in ipairs(threads) do if type(t) == "table" and pred(t) then found[#found + 1] = t end end
    return #found == 1 and found[1] or nil
  end
  local t = pick(function(t) return t.crashed end) or pick(function(t) return t.current end)
    or (#threads == 1 and threads[1] or nil)
  if not t or type(t.stacktrace) ~= "table" then return nil end
  return combine({ stack_item(frames_mod.stacktrace_variants(list(t.stacktrace.frames), event, frame_rules)) }, false)
end

local function from_stacktrace(event)
  if type(event.stacktrace) ~= "table" then return nil end
  return combine({ stack_item(frames_mod.stacktrace_variants(list(event.stacktrace.frames), event, frame_rules)) }, false)
end

local function raw_message(event)
  local le = type(event.logentry) == "table" and event.logentry or nil
  local msg = type(event.message) == "table" and event.message or nil
  return (le and (nonempty(le.message) or nonempty(le.formatted)))
    or (msg and (nonempty(msg.message) or nonempty(msg.formatted)))
    or nonempty(event.message)
end

local function from_message(event)
  local raw = raw_message(event)
  return raw and { normalize_message(raw) } or nil
end

local function default_components(event)
  local strategies = {
    { "exception", from_exceptions }, { "threads", from_threads },
    { "exception", from_stacktrace }, { "message", from_message },
  }
  for _, s in ipairs(strategies) do
    local values = s[2](event)
    if values and #values > 0 then return values, s[1] end
  end
  return {}, "fallback"
end

M.default = function(event)
  local components, variant = default_components(event)
  local title, culprit = frames_mod.title_and_culprit(event, raw_message)
  return { components = components, title = title, culprit = culprit, variant = variant }
end

M.expand_fingerprint = function(event, fingerprint, default_result)
  return frames_mod.expand_fingerprint(event, fingerprint, default_result.components)
end

M.group = function(event)
  local result = M.default(event)
  local fp = event.fingerprint
  if type(fp) == "table" and #fp > 0 and not frames_mod.is_default_only(fp) then
    result.components = M.expand_fingerprint(event, fp, result)
    result.variant = #result.components > 0 and "fingerprint" or "fallback"
  end
  return result
end

return M
