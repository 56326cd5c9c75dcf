--[[ periscope.frame_engine — runs a frame rule list (periscope.frame_rules
format) fast, with exactly the semantics of applying every rule, in order,
to every frame of the stack (each rule first finds all its hits with the
state left by the rules before it, then applies them).

Two ideas make it cheap:
 * An index. A rule's matchers split into field tests (family, module,
   func, package, abs_path, path: fixed per frame) and state tests
   (category, not_category: change as rules run). Rules are indexed by the
   first segment of their module glob's literal prefix, by exact function,
   by a literal every match of a path glob contains, or by category; so a
   frame only tests the few rules that can match. `candidates` returns the
   (sorted) rules whose field tests hold for a frame; no other rule can
   ever hit it.
 * Isolation. Rules read a frame's category and write category, in-app and
   group; nothing reads in-app or group. So until the first rule that hits
   because of a neighbour (caller/callee matchers) or writes into other
   frames (app_up/app_down/group_up/group_down), every frame evolves as if
   it were alone. `isolated` runs the rules on one frame alone and records
   where it could start to depend on the stack: the context rules its own
   matcher holds for (ctx_own), and those for which it would satisfy the
   caller/callee matcher as a neighbour (as_caller/as_callee), each with the
   state at that rule's turn, and whether it hits a ranged rule. When no
   frame of a stack can trigger such a rule (`needs_stack` is false), the
   isolated results are exact; otherwise `run` runs the indexed rules over
   the whole stack.

API:
  local eng = require("periscope.frame_engine").compile(rules) -- memoized per rules table
  eng:candidates(view)             -> sorted rule indices (a shared empty table when none)
  eng:isolated(view, cand)         -> in_app, group, signature (an integer; 0: nothing stack-dependent)
  eng:facts(signature)             -> nil or { ranged, ctx_own, as_caller, as_callee }
  eng:needs_stack(facts, n)        -> true when frames with `facts[1..n]` need `run`
  eng:run(views, n)                -> in_app[], group[] for views[1..n] (each with .cand)
A view carries: in_app_flag (boolean), family, module, func, package_l,
abs_path_l, filename_l (paths lower-cased, '\' as '/').
]]

local periscope = rawget(_G, "periscope") or require("periscope")
local text = require("periscope.text")
local glob_match = periscope.glob_match

local M = {}

local EMPTY = setmetatable({}, { __newindex = function() error("frame_engine: shared empty table", 2) end })
M.EMPTY = EMPTY

local MATCH_KEYS = { family = true, module = true, func = true, package = true, abs_path = true, path = true,
  category = true, not_category = true, app = true, neg = true }
local GLOB_FIELDS = { module = false, func = false, package = true, abs_path = true, path = true }
local SEP = "[./:$\\]"
local function first_segment_of(s) return text.before_first(s, SEP) end
-- A path's anchor: its leading separators, then text, up to and including
-- the next separator ("/usr/", "package:"); nil when there is none.
local function path_anchor(s)
  local text_at = s:find("[^/:]")
  return text_at and text.upto_first(s, "[/:]", text_at) or nil
end

-- Globs: `**` any text, `*` any text (within one segment for paths), `?`
-- one character. Matched by periscope.glob_match (linear in the subject);
-- glob_pattern is the same glob as an anchored Lua pattern (for specs).
local function glob_pattern(pattern, is_path)
  local star = is_path and "[^/]*" or ".*"
  if is_path then pattern = pattern:lower() end
  return "^" .. pattern:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*%*", "\1"):gsub("%*", star)
    :gsub("%?", is_path and "[^/]" or "."):gsub("\1", ".*") .. "$"
end
M.glob_pattern = glob_pattern

-- A family matcher is a comma list of families, or "all".
local function family_set(pattern)
  local set = {}
  for f in pattern:gmatch("[^,]+") do set[f] = true end
  if set.all then return nil end
  return set
end

local function compile_fields(m, c)
  for field, is_path in pairs(GLOB_FIELDS) do
    if m[field] then c[field] = { is_path and m[field]:lower() or m[field], is_path } end
  end
  if m.family then c.family = family_set(m.family) or false end
end

local function compile_matcher(m)
  if not m then return nil end
  local c = { category = m.category, not_category = m.not_category, app = m.app }
  for key in pairs(m) do
    if not MATCH_KEYS[key] then error("frame_engine: unknown matcher " .. tostring(key), 3) end
  end
  compile_fields(m, c)
  if m.neg then
    c.neg = {}
    compile_fields(m.neg, c.neg)
  end
  c.has_fields = c.family or c.module or c.func or c.package or c.abs_path or c.path or c.neg
  return c
end

local function has(value, glob)
  return value ~= nil and glob_match(glob[1], value, glob[2])
end

local function positive_fields(m, f)
  if m.family and not m.family[f.family] then return false end
  if m.module and not has(f.module, m.module) then return false end
  if m.func and not has(f.func, m.func) then return false end
  if m.package and not has(f.package_l, m.package) then return false end
  if m.abs_path and not has(f.abs_path_l, m.abs_path) then return false end
  if m.path and not (has(f.abs_path_l, m.path) or has(f.filename_l, m.path)) then return false end
  return true
end

-- A negated matcher holds when its field does not match (each one alone).
local function negated_fields(n, f)
  if n.family and n.family[f.family] then return false end
  if n.module and has(f.module, n.module) then return false end
  if n.func and has(f.func, n.func) then return false end
  if n.package and has(f.package_l, n.package) then return false end
  if n.abs_path and has(f.abs_path_l, n.abs_path) then return false end
  if n.path and (has(f.abs_path_l, n.path) or has(f.filename_l, n.path)) then return false end
  return true
end

local function fields_hold(m, f)
  return positive_fields(m, f) and (not m.neg or negated_fields(m.neg, f))
end

local function state_holds(m, category, in_app)
  if m.category and category ~= m.category then return false end
  if m.not_category and category == m.not_category then return false end
  if m.app ~= nil and in_app ~= m.app then return false end
  return true
end

local function matches(m, f, category, in_app)
  return state_holds(m, category, in_app) and (not m.has_fields or fields_hold(m, f))
end

-- The literal text before a glob's first wildcard, and its first segment
-- when every match must share it (nil: the glob may match any segment).
local function first_segment(glob)
  local lit = glob:match("^[^*?]*")
  local seg = first_segment_of(lit)
  if seg then return seg end
  if lit == glob then return lit end
  return nil
end

-- The longest literal run a path glob's every match contains (lower-cased).
local function required_literal(glob)
  local best = ""
  for run in glob:lower():gmatch("[^*?]+") do
    if #run > #best then best = run end
  end
  return best ~= "" and best or nil
end

local Engine = {}
Engine.__index = Engine

local function add(index, key, r)
  local l = index[key]
  if not l then l = {}; index[key] = l end
  l[#l + 1] = r
end

-- Path rules: by the anchor of the glob's literal prefix when it has one
-- (every match then has the same anchor), else by a literal every match
-- contains (tested with a plain find first).
local function index_path(eng, r, m)
  local glob = m.package or m.abs_path or m.path
  local field = m.package and "package_l" or m.abs_path and "abs_path_l" or nil
  local anchor = path_anchor(glob:lower():match("^[^*?]*"))
  if anchor then
    add(eng.by_anchor, anchor, { r = r, field = field })
  else
    eng.by_literal[#eng.by_literal + 1] = { r = r, lit = required_literal(glob), field = field }
  end
end

local function build_index(eng)
  eng.by_module, eng.by_func, eng.by_anchor, eng.by_literal, eng.always = {}, {}, {}, {}, {}
  eng.by_category, eng.context = {}, {}
  for r, rule in ipairs(eng.rules) do
    local m, c = rule.match, rule.m
    local seg = m.module and first_segment(m.module)
    if seg then add(eng.by_module, seg, r)
    elseif not m.module and m.func and not m.func:find("[*?]") then add(eng.by_func, m.func, r)
    elseif not m.module and not m.func and (m.package or m.abs_path or m.path) then index_path(eng, r, m)
    elseif not c.has_fields and c.category then eng.by_category[#eng.by_category + 1] = r
    else eng.always[#eng.always + 1] = r end
    if rule.caller or rule.callee then eng.context[#eng.context + 1] = r end
  end
  -- three signature bits per context rule, and one, in a 64-bit integer;
  -- with more (a project's own rules), every stack runs whole
  if #eng.context > 20 then
    eng.always_stack, eng.context = true, {}
  end
  eng.facts_memo = {}
end

function M.compile_uncached(rules)
  local eng = setmetatable({ rules = {} }, Engine)
  for r, rule in ipairs(rules) do
    local s = rule.set
    eng.rules[r] = {
      match = rule.match, m = compile_matcher(rule.match), set = s,
      caller = compile_matcher(rule.caller), callee = compile_matcher(rule.callee),
      ranged = s.app_up ~= nil or s.app_down ~= nil or s.group_up ~= nil or s.group_down ~= nil,
    }
  end
  build_index(eng)
  return eng
end

local engines = setmetatable({}, { __mode = "k" })
function M.compile(rules)
  local eng = engines[rules]
  if not eng then
    eng = M.compile_uncached(rules)
    engines[rules] = eng
  end
  return eng
end

local function has_literal(f, e)
  local lit = e.lit
  if e.field then
    local v = f[e.field]
    return v ~= nil and (not lit or v:find(lit, 1, true) ~= nil)
  end
  if not lit then return f.abs_path_l ~= nil or f.filename_l ~= nil end
  local a, b = f.abs_path_l, f.filename_l
  return (a ~= nil and a:find(lit, 1, true) ~= nil) or (b ~= nil and b:find(lit, 1, true) ~= nil)
end

local function add_holding(rules, list, found, n, f)
  for i = 1, #list do
    local r = list[i]
    if fields_hold(rules[r].m, f) then n = n + 1; found[n] = r end
  end
  return n
end

local function add_anchored(rules, list, found, n, f)
  for i = 1, #list do
    local r = list[i].r
    if fields_hold(rules[r].m, f) then n = n + 1; found[n] = r end
  end
  return n
end

-- Every rule whose field tests hold for the frame and whose state tests can
-- ever hold (a frame no category-setting rule reaches keeps no category).
function Engine:candidates(f)
  local rules, found, n = self.rules, {}, 0
  local module = f.module
  if module then
    local l = self.by_module[first_segment_of(module) or module]
    if l then n = add_holding(rules, l, found, n, f) end
  end
  local l = f.func and self.by_func[f.func]
  if l then n = add_holding(rules, l, found, n, f) end
  -- each distinct anchor of the frame's paths once (a rule sits under one)
  local a, fl, p = f.abs_path_l, f.filename_l, f.package_l
  local aa, fa, pa = a and path_anchor(a), fl and path_anchor(fl), p and path_anchor(p)
  l = aa and self.by_anchor[aa]
  if l then n = add_anchored(rules, l, found, n, f) end
  l = fa and fa ~= aa and self.by_anchor[fa]
  if l then n = add_anchored(rules, l, found, n, f) end
  l = pa and pa ~= aa and pa ~= fa and self.by_anchor[pa]
  if l then n = add_anchored(rules, l, found, n, f) end
  for _, e in ipairs(self.by_literal) do
    if has_literal(f, e) and fields_hold(rules[e.r].m, f) then n = n + 1; found[n] = e.r end
  end
  n = add_holding(rules, self.always, found, n, f)
  local may_have_category = false
  for i = 1, n do
    local rule = rules[found[i]]
    if rule.set.category and not rule.m.category then may_have_category = true break end
  end
  local out, k = {}, 0
  for i = 1, n do
    if may_have_category or not rules[found[i]].m.category then k = k + 1; out[k] = found[i] end
  end
  if may_have_category then
    for _, r in ipairs(self.by_category) do k = k + 1; out[k] = r end
  end
  if k == 0 then return EMPTY end
  table.sort(out)
  return out
end

local function apply_own(s, st)
  if s.category then st.category = s.category end
  if s.app ~= nil then st.in_app = s.app end
  if s.group ~= nil then st.group = s.group end
end

-- The frame's rule results were it alone, and where the stack could
-- matter, as a signature: bit 0 set when it hits a ranged rule; for the
-- k-th context rule, bit 3k-2 when its own matcher holds at that rule's
-- turn, bits 3k-1 / 3k when it satisfies the rule's caller / callee matcher
-- then (as a neighbour). Returns in_app, group, signature (0: no facts).
function Engine:isolated(f, cand)
  local rules, ctx = self.rules, self.context
  local category, in_app, group, sig = nil, f.in_app_flag, true, 0
  local ci, ki, nc, nk = 1, 1, #cand, #ctx
  while ci <= nc or ki <= nk do
    local rc, rk = cand[ci], ctx[ki]
    local r, k
    if rk == nil or (rc ~= nil and rc < rk) then r, ci = rc, ci + 1
    elseif rc == rk then r, k, ci, ki = rc, ki, ci + 1, ki + 1
    else r, k, ki = rk, ki, ki + 1 end
    local rule = rules[r]
    local own = r == rc and state_holds(rule.m, category, in_app)
    if k then
      -- Alone, a context rule never hits; note where it might in a stack.
      if own then sig = sig | (1 << (3 * k - 2)) end
      if rule.caller and matches(rule.caller, f, category, in_app) then sig = sig | (1 << (3 * k - 1)) end
      if rule.callee and matches(rule.callee, f, category, in_app) then sig = sig | (1 << (3 * k)) end
    elseif own then
      local s = rule.set
      if s.category then category = s.category end
      if s.app ~= nil then in_app = s.app end
      if s.group ~= nil then group = s.group end
      if rule.ranged then sig = sig | 1 end
    end
  end
  return in_app, group, sig
end

-- The facts a signature stands for: { ranged, ctx_own = {rule...},
-- as_caller = {[rule] = true}, as_callee = {[rule] = true} }, or nil for 0.
-- Memoized per signature (there are few: they follow the rules' categories).
function Engine:facts(sig)
  if sig == 0 then return nil end
  local f = self.facts_memo[sig]
  if f then return f end
  f = { ranged = sig & 1 ~= 0 }
  for k, r in ipairs(self.context) do
    if sig & (1 << (3 * k - 2)) ~= 0 then f.ctx_own = f.ctx_own or {}; f.ctx_own[#f.ctx_own + 1] = r end
    if sig & (1 << (3 * k - 1)) ~= 0 then f.as_caller = f.as_caller or {}; f.as_caller[r] = true end
    if sig & (1 << (3 * k)) ~= 0 then f.as_callee = f.as_callee or {}; f.as_callee[r] = true end
  end
  self.facts_memo[sig] = f
  return f
end

-- Whether isolated results (items[i]: frame i's facts, or an empty table)
-- are not exact for this stack: a ranged rule hits, or a context rule finds the
-- neighbours it needs (the first such rule is then a real hit).
function Engine:needs_stack(items, n)
  if self.always_stack then return true end
  local rules = self.rules
  for i = 1, n do
    local it = items[i]
    if it.ranged then return true end
    local own = it.ctx_own
    if own then
      for j = 1, #own do
        local rule = rules[own[j]]
        local r = own[j]
        if (not rule.caller or (i > 1 and (items[i - 1].as_caller or EMPTY)[r]))
          and (not rule.callee or (i < n and (items[i + 1].as_callee or EMPTY)[r])) then
          return true
        end
      end
    end
  end
  return false
end

-- The rules over a whole stack, testing only candidate (rule, frame) pairs.
function Engine:run(views, n)
  local rules = self.rules
  local cat, in_app, group = {}, {}, {}
  local buckets, order = {}, {}
  for i = 1, n do
    in_app[i], group[i] = views[i].in_app_flag, true
    for _, r in ipairs(views[i].cand) do
      local b = buckets[r]
      if not b then b = {}; buckets[r] = b; order[#order + 1] = r end
      b[#b + 1] = i
    end
  end
  table.sort(order)
  local hits = {}
  for _, r in ipairs(order) do
    local rule, nhits = rules[r], 0
    local m, caller, callee = rule.m, rule.caller, rule.callee
    for _, i in ipairs(buckets[r]) do
      if state_holds(m, cat[i], in_app[i])
        and (not caller or (i > 1 and matches(caller, views[i - 1], cat[i - 1], in_app[i - 1])))
        and (not callee or (i < n and matches(callee, views[i + 1], cat[i + 1], in_app[i + 1]))) then
        nhits = nhits + 1
        hits[nhits] = i
      end
    end
    local s = rule.set
    for h = 1, nhits do
      local i = hits[h]
      if s.category then cat[i] = s.category end
      if s.app ~= nil then in_app[i] = s.app end
      if s.group ~= nil then group[i] = s.group end
      if rule.ranged then
        for j = i + 1, n do
          if s.app_up ~= nil then in_app[j] = s.app_up end
          if s.group_up ~= nil then group[j] = s.group_up end
        end
        for j = 1, i - 1 do
          if s.app_down ~= nil then in_app[j] = s.app_down end
          if s.group_down ~= nil then group[j] = s.group_down end
        end
      end
    end
  end
  return in_app, group
end

return M
