--[[ periscope.grouping — the default grouping, Sentry's newstyle:2026-01-20.

For the same event this yields the values Sentry hashes, in the same order,
so periscope.hash(result.components) is Sentry's primary group hash.

API (stable; the Lua runtime calls it):
  local g = require("periscope.grouping")
  g.group(event)    -> { components = {...}, title = "...", culprit = "...",
                         variant = "fingerprint"|"exception"|"threads"|"message"|"fallback",
                         main_exception_id = number or nil }
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
 3. Per exception, in the order of Sentry's exception component: the
    type (not for synthetic exceptions), the parameterized value only when
    its stack trace does not contribute, then the frames.
    Per frame: module (else the lower-cased file base name), function,
    and for python/node/javascript/php/ruby the context line of at most 120
    characters. Line numbers never count. Sentry's built-in frame
    rules (periscope.frame_rules) decide in-app and which frames never
    count; a frame repeating its predecessor exactly (recursion) is skipped.
]]

local periscope = rawget(_G, "periscope") or require("periscope")
local frame_rules = require("periscope.frame_rules")
local fingerprint_rules = require("periscope.fingerprint_rules")
local frames_mod = require("periscope.grouping_frames")
local metadata = require("periscope.metadata")
local stack = require("periscope.grouping_stack")

local M = {}

local function list_of(x)
  if type(x) ~= "table" then return {} end
  if type(x.values) == "table" then return x.values end
  return x
end

local function nonempty(s)
  return type(s) == "string" and s ~= "" and s or nil
end

-- Sentry's normalize_message_for_grouping: the first two non-blank lines
-- ("..." appended when anything was cut), then parameterized.
-- Lines end at any of \n\r\v\f\28\29\30, a \r before another counting
-- once (what gmatch("([^…]*)\r?[…]") gave, without its backtracking).
local LINE_END = "[\n\r\v\f\28\29\30]"
local ENDS_LINE = { [10] = true, [13] = true, [11] = true, [12] = true, [28] = true, [29] = true, [30] = true }
local function normalize_message(s)
  local lines, n, pos, t = {}, 0, 1, s .. "\n"
  while pos <= #t do
    local stop = t:find(LINE_END, pos)
    local line = t:sub(pos, stop - 1)
    pos = (t:byte(stop) == 13 and ENDS_LINE[t:byte(stop + 1)]) and stop + 2 or stop + 1
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

-- The same messages and exception values recur: memoized, dropped whole
-- when MESSAGES_MAX_BYTES of messages and results are held.
local MESSAGES_MAX_BYTES = 256 * 1024
local messages, message_bytes = {}, 0
local function normalize_message_memo(s)
  local r = messages[s]
  if r then return r end
  r = normalize_message(s)
  local bytes = 100 + #s + #r
  if message_bytes + bytes > MESSAGES_MAX_BYTES then messages, message_bytes = {}, 0 end
  messages[s], message_bytes = r, message_bytes + bytes
  return r
end
M.normalize_message = normalize_message_memo

-- Appends one exception's values for a variant ("app" or "system") to
-- list[k+1...] in the order of Sentry's exception component (2026-01-20):
-- its type (not for synthetic exceptions), then its parameterized value
-- only when no frame of its stack trace contributes in this variant, then
-- the frames' values. Returns the new length and whether frames
-- contributed.
local function append_exception(list, k, exc, event, variant, rules)
  local mech = type(exc.mechanism) == "table" and exc.mechanism or nil
  local ty = not (mech and mech.synthetic) and nonempty(exc.type) or nil
  if ty then k = k + 1; list[k] = ty end
  local k0 = k
  local st = exc.stacktrace
  if type(st) == "table" then
    k = stack.append_values(list, k, list_of(st.frames), event, rules, variant)
  end
  if k > k0 then return k, true end
  local value = nonempty(exc.value) and normalize_message_memo(exc.value) or nil
  if value and value ~= "" then k = k + 1; list[k] = value end
  return k, false
end

-- One exception -> { app = {values, stack}, system = {values, stack} } (no
-- system variant without a stack trace).
local function exception_variants(exc, event, rules)
  local out = {}
  for _, name in ipairs({ "app", "system" }) do
    if name == "system" and type(exc.stacktrace) ~= "table" then break end
    local values = {}
    local _, frames = append_exception(values, 0, exc, event, name, rules)
    out[name] = { values = values, stack = frames }
  end
  return out
end

-- JSON null reaches Lua as a light userdata: only numbers are ids.
local function number_or_nil(x)
  return math.type(x) and x or nil
end

-- Sentry's exception-group filter (RFC 79): with a complete tree of
-- mechanism.exception_id/parent_id, keep the distinct top-level exceptions.
-- Returns the list to group by and, when the group holds one distinct
-- top-level exception, its exception_id: Sentry's main_exception_id, the
-- exception the issue is titled by instead of the group.
local function filter_exception_groups(excs, event, variants_of)
  if #excs <= 1 then return excs end
  local sdk = type(event.sdk) == "table" and event.sdk.version or ""
  if event.platform == "python" and tostring(sdk):sub(1, 1) == "3" then return excs end
  local nodes, seen = {}, {}
  local function node(id) nodes[id] = nodes[id] or { children = {} }; return nodes[id] end
  for i = #excs, 1, -1 do
    local m = type(excs[i].mechanism) == "table" and excs[i].mechanism or {}
    local id, parent = number_or_nil(m.exception_id), number_or_nil(m.parent_id)
    if id == nil or id == parent or seen[id] then return excs end
    seen[id] = true
    node(id).exc = excs[i]
    if parent ~= nil then table.insert(node(parent).children, excs[i]) end
  end
  local root = nodes[0]
  if not root or not root.exc then return excs end
  local function children(e) return (nodes[e.mechanism.exception_id] or { children = {} }).children end
  -- A cycle makes Sentry's recursive walk fail, and it then keeps the
  -- list as it came.
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
  if cyclic then return excs end
  -- no top-level exception (every one marked a group, or a cycle under the
  -- root): the list as it came
  if #top == 0 then return excs end
  -- Python's sorted(reverse=True) is stable: equal types keep tree order
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
    local main_id = distinct[1].mechanism.exception_id
    local path, e = {}, distinct[1]
    while e do
      if #path == #excs then return excs, main_id end -- a cycle
      path[#path + 1] = e
      e = children(e)[1]
    end
    return path, main_id
  end
  distinct[#distinct + 1] = root.exc
  return distinct
end

-- The strategies combine their items' variants as Sentry does: the app
-- variant (in-app frames only) wins when any of its items has contributing
-- frames; else the system variant (all frames) when any of its items has,
-- and otherwise the app variant (types and values). An item without a
-- stack trace has no system variant; with `mandatory` (exceptions, bare
-- stack trace), nothing in the app variant means nothing at all. The system
-- variant is only built when the app variant has no frames.
-- React 19 reports an error it recovered from with the error that caused
-- it last: Sentry titles the issue by that cause (its main_exception_id).
local REACT_ERRORS_WITH_CAUSE = {
  ["There was an error during concurrent rendering but React was able to recover by instead "
    .. "synchronously rendering the entire root."] = true,
  ["There was an error while hydrating but React was able to recover by instead client rendering "
    .. "from the nearest Suspense boundary."] = true,
}
local function react_error_with_cause(excs)
  local first, last = excs[1], excs[#excs]
  if first.type ~= "Error" or not REACT_ERRORS_WITH_CAUSE[first.value] then return nil end
  local mech = type(last.mechanism) == "table" and last.mechanism or nil
  if mech and mech.source == "cause" then return number_or_nil(mech.exception_id) end
  return nil
end

-- The exceptions' values, and Sentry's main_exception_id when it sets one.
local function from_exceptions(event, rules)
  local excs = {}
  for _, e in ipairs(list_of(event.exception)) do
    if type(e) == "table" then excs[#excs + 1] = e end
  end
  if #excs == 0 then return nil end
  local main_id
  if #excs > 1 then
    local cache = {}
    excs, main_id = filter_exception_groups(excs, event, function(e)
      cache[e] = cache[e] or exception_variants(e, event, rules)
      return cache[e]
    end)
  end
  main_id = react_error_with_cause(excs) or main_id
  local app, k, app_frames = {}, 0, false
  for _, e in ipairs(excs) do
    local frames
    k, frames = append_exception(app, k, e, event, "app", rules)
    app_frames = app_frames or frames
  end
  if app_frames or k == 0 then return app, main_id end
  local system, ks, sys_frames = {}, 0, false
  for _, e in ipairs(excs) do
    if type(e.stacktrace) == "table" then
      local frames
      ks, frames = append_exception(system, ks, e, event, "system", rules)
      sys_frames = sys_frames or frames
    end
  end
  return sys_frames and system or app, main_id
end

-- A bare stack trace (or a thread's): the app variant when in-app frames
-- contribute, else the system variant.
local function stack_variants(frames, event, rules)
  local app = {}
  if stack.append_values(app, 0, frames, event, rules, "app") > 0 then return app end
  local system = {}
  stack.append_values(system, 0, frames, event, rules, "system")
  return system
end

local function from_threads(event, rules)
  local threads = list_of(event.threads)
  if #threads == 0 then return nil end
  local function pick(pred)
    local found = {}
    for _, t in ipairs(threads) do if type(t) == "table" and pred(t) then found[#found + 1] = t end end
    return #found == 1 and found[1] or nil
  end
  local t = pick(function(t) return t.crashed == true end) or pick(function(t) return t.current == true end)
    or (#threads == 1 and threads[1] or nil)
  if not t or type(t.stacktrace) ~= "table" then return nil end
  return stack_variants(list_of(t.stacktrace.frames), event, rules)
end

local function from_stacktrace(event, rules)
  if type(event.stacktrace) ~= "table" then return nil end
  return stack_variants(list_of(event.stacktrace.frames), event, rules)
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
  return raw and { normalize_message_memo(raw) } or nil
end

local STRATEGIES = {
  { "exception", from_exceptions }, { "threads", from_threads },
  { "exception", from_stacktrace }, { "message", from_message },
}

-- The values, the variant, and the main_exception_id the exceptions give
-- (whichever strategy wins, as Sentry sets it while grouping them).
local function default_components(event, rules)
  local main_id
  for _, s in ipairs(STRATEGIES) do
    local values, id = s[2](event, rules)
    main_id = main_id or id
    if values and #values > 0 then return values, s[1], main_id end
  end
  return {}, "fallback", main_id
end

-- `rules`: a project's rules (periscope.sentry_rules), or nil for Sentry's
-- built-in ones alone. `main_exception_id` (or nil): the
-- mechanism.exception_id of the exception Sentry titles the issue by
-- instead of the last one (see filter_exception_groups, react_error_with_cause).
M.default = function(event, rules)
  local frames = rules and rules.frames or frame_rules
  local components, variant, main_id = default_components(event, frames)
  local title, culprit = metadata.title_and_culprit(event, frames, main_id)
  local result = { components = components, title = title, culprit = culprit, variant = variant }
  if main_id then result.main_exception_id = main_id end
  return result
end

M.expand_fingerprint = function(event, fingerprint, default_result)
  return frames_mod.expand_fingerprint(event, fingerprint, default_result.components)
end

-- A rule's title="...": its {{ variables }} resolved as fingerprint ones.
local function expand_title(event, template)
  return (template:gsub("{{%s*(%S-)%s*}}", function(var) return frames_mod.resolve_variable(var, event) end))
end

-- The fingerprint Sentry hashes: a matching server-side rule (the
-- project's, then the built-in ones) replaces the client's; "{{ default }}"
-- alone (or none) is the default grouping.
M.group = function(event, rules)
  local result = M.default(event, rules)
  local fp = event.fingerprint
  local match = fingerprint_rules.match(event, rules and rules.fingerprint)
  if match then
    fp = match.fingerprint
    if match.title then result.title = expand_title(event, match.title) end
  end
  if type(fp) == "table" and #fp > 0 and not frames_mod.is_default_only(fp) then
    result.components = M.expand_fingerprint(event, fp, result)
    result.variant = #result.components > 0 and "fingerprint" or "fallback"
  end
  return result
end

M.GROUPING_CONFIG = "newstyle:2026-01-20"

return M
