--[[ periscope.grouping_stack — the stack trace half of the default grouping
(periscope.grouping): which frames count (Sentry's frame rules, run by
periscope.frame_engine) and the values each frame contributes.

The same frames recur (that is what an issue is), so everything about one
frame is computed once and memoized: its contributing values and its rule
results as if alone, in a per-rule-list trie keyed by every field those
depend on. A stack only runs the rules as a whole when one of its frames
can make a neighbour-dependent or ranged rule fire (see frame_engine); that
result is memoized per sequence of frames. Both memos are dropped whole
when full, so a Lua state's memory stays flat whatever it is fed.

API (internal to periscope.grouping):
  S.append_values(list, n, raw_frames, event, rules, variant) -> n'
      appends the contributing values of a stack trace's frames for
      variant "app" (in-app frames only) or "system" (all frames) to
      list[n+1...]; returns the new length
  S.stacktrace_variants(raw_frames, event, rules) -> { app = {...}, system = {...} }
  S.rule_states(raw_frames, event, rules) -> { {in_app=, group=}, ... } per frame
  S.frame_info(raw, event, rules [, uncached]) -> the memoized facts of one frame
  S.cache_stats(rules) / S.cache_limits(entries, bytes) -> counters / set bounds (specs)
]]

local engine = require("periscope.frame_engine")

local M = {}
local EMPTY = engine.EMPTY

local function str(s) return type(s) == "string" and s or nil end

local values_mod = require("periscope.grouping_values")
local family, has_url_origin, frame_values = values_mod.family, values_mod.has_url_origin, values_mod.frame_values

local function path_key(s)
  return s and (s:lower():gsub("\\", "/")) or nil
end

-- What the values read of a frame; rule_view adds what the rules read.
-- Sentry's normalize_stacktraces_for_grouping first: a JavaScript file
-- name loses its query string; the context line CPython's multiprocessing
-- generates (`spawn_main(tracker_fd=11, pipe_handle=21)`) has its numbers
-- parameterized.
local function js_filename(name)
  local query = name:match("%?([^#]*)")
  if not query or query == "" then return name end
  local at = name:find("?" .. query, 1, true)
  return name:sub(1, at - 1) .. name:sub(at + 1 + #query)
end

local SPAWN_MAIN = "from multiprocessing.spawn import spawn_main; spawn_main("
local function multiprocessing_line(line)
  if line:sub(1, #SPAWN_MAIN) ~= SPAWN_MAIN then return line end
  local rest = line:sub(#SPAWN_MAIN + 1)
  local key = rest:match("^(%a+_%a+)=%d+, pipe_handle=%d+%)")
  if key ~= "tracker_fd" and key ~= "parent_pid" then return line end
  return (line:gsub("=%d+", "=<int>"))
end

local function view(raw, platform)
  local data = raw.data
  local v = {
    platform = platform, family = family(platform),
    module = str(raw.module), filename = str(raw.filename), abs_path = str(raw.abs_path),
    package = str(raw.package), func = str(raw["function"]), raw_function = str(raw.raw_function),
    context_line = str(raw.context_line), in_app_flag = raw.in_app == true,
    sourcemap = type(data) == "table" and data.sourcemap ~= nil,
  }
  if platform == "javascript" and v.filename then v.filename = js_filename(v.filename) end
  if platform == "python" and v.context_line and v.module == "__main__" and v.filename == "<string>"
    and v.func == "<module>" then
    v.context_line = multiprocessing_line(v.context_line)
  end
  return v
end

local function rule_view(v)
  v.abs_path_l, v.filename_l, v.package_l = path_key(v.abs_path), path_key(v.filename), path_key(v.package)
  return v
end

-- Everything about one frame, computed once, packed (a state holds
-- thousands): [1..3] its values; `bits` its rule results alone (IN_APP,
-- GROUP), LONE_DROP (a lone JavaScript frame without function and not from a
-- URL never counts) and MAYBE_STACK (it could make the rules depend on the
-- stack); `rules`, shared by every frame the rules cannot tell apart:
-- { bits, cand = candidate rules (for a whole-stack run), iso = the
-- isolated facts frame_engine.needs_stack reads, or nil }; `id`, unique per
-- memo entry.
local IN_APP, GROUP, LONE_DROP, MAYBE_STACK = 1, 2, 4, 8

-- Candidate lists repeat across frames: one shared table per distinct list.
local shared = setmetatable({}, { __mode = "v" })
local function intern(key, value)
  local s = shared[key]
  if s then return s end
  shared[key] = value
  return value
end

-- The rule results of a frame (rule_view), computed once per distinct
-- combination of the fields the rules read (family, module, function,
-- paths, in-app flag): frames differing only in context line, platform
-- within a family, raw function or source map share them.
local function rule_key(v)
  return table.concat({ v.family, v.module or "\1", v.func or "\1", v.abs_path or "\1", v.filename or "\1",
    v.package or "\1", v.in_app_flag and "1" or "0" }, "\0")
end

local function compute_rules(eng, v)
  rule_view(v)
  local cand = eng:candidates(v)
  cand = #cand > 0 and intern("cand:" .. table.concat(cand, ","), cand) or EMPTY
  local in_app, group, sig = eng:isolated(v, cand)
  local iso = eng:facts(sig)
  local bits = (in_app and IN_APP or 0) | (group and GROUP or 0)
  if iso and (iso.ranged or iso.ctx_own) then bits = bits | MAYBE_STACK end
  return { bits = bits, cand = cand, iso = iso }
end

-- With a memo `c`, the rule results come from (and go to) c.rule_memo;
-- its keys count toward the memo's bytes.
local RULES_BYTES = 150
local function frame_info(eng, raw, platform, c)
  local v = view(raw, platform)
  local values = frame_values(v)
  local rules
  if c then
    local key = rule_key(v)
    rules = c.rule_memo[key]
    if not rules then
      rules = compute_rules(eng, v)
      c.rule_memo[key] = rules
      c.bytes = c.bytes + RULES_BYTES + #key
    end
  else
    rules = compute_rules(eng, v)
  end
  local bits = rules.bits
  if v.family == "javascript" and not v.func and not has_url_origin(v.abs_path, true) then bits = bits | LONE_DROP end
  return { values[1], values[2], values[3], bits = bits, rules = rules, id = 0 }
end

-- The memo: a trie on platform, function, module, filename, abs_path,
-- context_line, then in_app/sourcemap as a number (0..3); when package or
-- raw_function is present (rarely), a RARE subtrie on those two comes
-- before the number. Keys are
-- the frame's strings; any other value stands for "absent" (NIL), as it
-- does for the values. Bounded in entries and in bytes (key lengths plus a
-- measured overhead per node and per entry).
local NIL, RARE = {}, {}
local limits = { entries = 20000, bytes = 4 * 1024 * 1024 }
local NODE_BYTES, ENTRY_BYTES = 110, 300

local caches = setmetatable({}, { __mode = "k" })
local function cache_for(rules)
  local c = caches[rules]
  if not c then
    c = { eng = engine.compile(rules), root = {}, rule_memo = {}, entries = 0, bytes = 0, next_id = 0,
      stacks = {}, nstacks = 0, hits = 0, misses = 0, stack_runs = 0 }
    caches[rules] = c
  end
  return c
end

-- The child of `node` for a raw field value, created when missing.
local function child(c, node, v)
  if type(v) ~= "string" then v = NIL end
  local ch = node[v]
  if not ch then
    ch = {}
    node[v] = ch
    c.bytes = c.bytes + NODE_BYTES + (v ~= NIL and #v or 0)
  end
  return ch
end

-- The rare fields' subtrie: node[RARE][package][raw_function].
local function rare_node(c, node, package, raw_function)
  local r = node[RARE]
  if not r then
    r = {}
    node[RARE] = r
    c.bytes = c.bytes + NODE_BYTES
  end
  r = r[package] or child(c, r, package)
  return r[raw_function] or child(c, r, raw_function)
end

local function miss(c, node, flags, raw, platform)
  c.misses = c.misses + 1
  local info = frame_info(c.eng, raw, platform, c)
  c.next_id = c.next_id + 1
  info.id = c.next_id
  local bytes = ENTRY_BYTES
  for i = 1, #info do bytes = bytes + #info[i] end
  if c.entries >= limits.entries or c.bytes + bytes > limits.bytes then
    c.root, c.rule_memo, c.entries, c.bytes = {}, {}, 0, 0
    c.stacks, c.nstacks = {}, 0
  else
    node[flags] = info
    c.entries, c.bytes = c.entries + 1, c.bytes + bytes
  end
  return info
end

local function lookup(c, raw, platform)
  local node = c.root
  local v = platform or NIL
  node = node[v] or child(c, node, v)
  v = raw["function"]; if v == nil then v = NIL end
  node = node[v] or child(c, node, v)
  v = raw.module; if v == nil then v = NIL end
  node = node[v] or child(c, node, v)
  v = raw.filename; if v == nil then v = NIL end
  node = node[v] or child(c, node, v)
  v = raw.abs_path; if v == nil then v = NIL end
  node = node[v] or child(c, node, v)
  v = raw.context_line; if v == nil then v = NIL end
  node = node[v] or child(c, node, v)
  local package, raw_function = raw.package, raw.raw_function
  if package ~= nil or raw_function ~= nil then node = rare_node(c, node, package, raw_function) end
  local flags = raw.in_app == true and 1 or 0
  local data = raw.data
  if data ~= nil and type(data) == "table" and data.sourcemap ~= nil then flags = flags + 2 end
  local info = node[flags]
  if info then
    c.hits = c.hits + 1
    return info
  end
  return miss(c, node, flags, raw, platform)
end

-- Stacks whose rule results depend on the whole stack: memoized by the
-- frames' ids (never reused), one flag byte per frame (IN_APP | GROUP).
local STACKS_MAX = 2048
local function frame_platform(raw, ep)
  local p = raw.platform
  if type(p) ~= "string" then p = ep end
  return p
end

local function stack_flags(c, infos, raws, n, ep)
  local ids = {}
  for i = 1, n do ids[i] = infos[i].id end
  local key = table.concat(ids, ",")
  local flags = c.stacks[key]
  if flags then return flags end
  c.stack_runs = c.stack_runs + 1
  local views = {}
  for i = 1, n do
    local v = rule_view(view(raws[i], frame_platform(raws[i], ep)))
    v.cand = infos[i].rules.cand
    views[i] = v
  end
  local in_app, group = c.eng:run(views, n)
  local bytes = {}
  for i = 1, n do bytes[i] = string.char((in_app[i] and IN_APP or 0) | (group[i] and GROUP or 0)) end
  flags = table.concat(bytes)
  if c.nstacks >= STACKS_MAX then c.stacks, c.nstacks = {}, 0 end
  c.stacks[key] = flags
  c.nstacks = c.nstacks + 1
  return flags
end

local function same_frame(a, b)
  return a["function"] == b["function"] and a.module == b.module and a.filename == b.filename
    and a.abs_path == b.abs_path and a.lineno == b.lineno and a.colno == b.colno and a.package == b.package
end

-- Resolves a stack into the scratch lists infos[1..n], raws[1..n] (the
-- table frames, outermost first); returns n and the whole-stack flags
-- (nil when every frame's isolated results are exact). The scratch lists
-- are only valid until the next call; nothing here re-enters.
local infos, raws, isos = {}, {}, {}
local function resolve(raw_frames, event, rules)
  local c = cache_for(rules)
  local ep = event.platform
  if type(ep) ~= "string" then ep = nil end
  local n, maybe = 0, 0
  for _, raw in ipairs(raw_frames) do
    if type(raw) == "table" then
      n = n + 1
      local p = raw.platform
      if p == nil or type(p) ~= "string" then p = ep end
      local info = lookup(c, raw, p)
      infos[n], raws[n] = info, raw
      maybe = maybe | info.bits
    end
  end
  for i = n + 1, #infos do infos[i], raws[i] = nil, nil end
  if maybe & MAYBE_STACK == 0 and not c.eng.always_stack then return n, nil end
  for i = 1, n do isos[i] = infos[i].rules.iso or EMPTY end
  for i = n + 1, #isos do isos[i] = nil end
  if not c.eng:needs_stack(isos, n) then return n, nil end
  return n, stack_flags(c, infos, raws, n, ep)
end

local function release(n)
  for i = 1, n do infos[i], raws[i], isos[i] = nil, nil, nil end
end

-- in_app, group of frame i (after resolve).
local function decision(i, n, flags)
  local bits = flags and flags:byte(i) or infos[i].bits
  return bits & IN_APP ~= 0, bits & GROUP ~= 0
end

function M.append_values(list, k, raw_frames, event, rules, variant)
  local n, flags = resolve(raw_frames, event, rules)
  local app_only = variant == "app"
  for i = 1, n do
    local info = infos[i]
    local bits = flags and flags:byte(i) or info.bits
    if bits & GROUP ~= 0 and (not app_only or bits & IN_APP ~= 0)
      and not (n == 1 and info.bits & LONE_DROP ~= 0)
      and not (i > 1 and same_frame(raws[i], raws[i - 1])) then
      for j = 1, #info do k = k + 1; list[k] = info[j] end
    end
  end
  release(n)
  return k
end

function M.stacktrace_variants(raw_frames, event, rules)
  local app, system = {}, {}
  M.append_values(app, 0, raw_frames, event, rules, "app")
  M.append_values(system, 0, raw_frames, event, rules, "system")
  return { app = app, system = system }
end

function M.rule_states(raw_frames, event, rules)
  local n, flags = resolve(raw_frames, event, rules)
  local out = {}
  for i = 1, n do
    local in_app, group = decision(i, n, flags)
    out[i] = { in_app = in_app, group = group }
  end
  release(n)
  return out
end

-- The facts of one frame: { values = {...}, in_app =, group =, iso = }, from
-- the memo (or, with `uncached`, computed afresh).
function M.frame_info(raw, event, rules, uncached)
  local c = cache_for(rules)
  local p = frame_platform(raw, str(event.platform))
  local info = uncached and frame_info(c.eng, raw, p) or lookup(c, raw, p)
  return { values = { table.unpack(info, 1, #info) }, in_app = info.bits & IN_APP ~= 0,
    group = info.bits & GROUP ~= 0, iso = info.rules.iso }
end

function M.cache_stats(rules)
  local c = cache_for(rules)
  return { hits = c.hits, misses = c.misses, entries = c.entries, bytes = c.bytes,
    stack_runs = c.stack_runs, stacks = c.nstacks }
end

-- Sets the memo bounds (nil keeps one); returns the previous ones.
function M.cache_limits(entries, bytes)
  local old_entries, old_bytes = limits.entries, limits.bytes
  limits.entries, limits.bytes = entries or old_entries, bytes or old_bytes
  return old_entries, old_bytes
end

return M
