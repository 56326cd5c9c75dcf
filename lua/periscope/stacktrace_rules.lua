--[[ periscope.stacktrace_rules — Sentry's stack trace rules (its
"Stack Trace Rules" project setting, the grouping enhancements), parsed
into the rule tables periscope.frame_engine runs after the built-in ones
(periscope.frame_rules), as Sentry runs a project's rules after its base.

Syntax, one rule a line (`#` starts a comment):
  [ caller-matcher ] | [!]matcher:pattern ... | [ callee-matcher ]  actions
Matchers: stack.module (module), stack.function (function),
stack.abs_path (path), stack.package (package), family (comma list, or
`all`), app (yes/no), category; each negatable with `!`. The caller
(`[ ... ] |`) is the frame before (the one that called it), the callee
(`| [ ... ]`) the one after. Actions: +app -app +group -group, with `^`
(every frame above, toward the crash) or `v` (every frame below), and
category=NAME.

Sentry's other matchers and actions (error.type, error.value,
error.mechanism; min-frames, max-frames, invert-stacktrace) are refused
with an error rather than silently ignored.

API: S.parse(text) -> rules (frame_engine form), or nil and "line N: reason"
]]

local M = {}

local FIELDS = {
  ["stack.module"] = "module", module = "module", ["stack.function"] = "func", ["function"] = "func",
  ["stack.abs_path"] = "path", path = "path", ["stack.package"] = "package", package = "package",
  family = "family", app = "app", category = "category",
}
local UNSUPPORTED = {
  ["error.type"] = true, ["error.value"] = true, ["error.mechanism"] = true, type = true, value = true,
  mechanism = true,
}
local VAR_ACTIONS = { ["min-frames"] = true, ["max-frames"] = true, ["invert-stacktrace"] = true }

local ESCAPES = { n = "\n", t = "\t", r = "\r" }

local function argument(line, i)
  if line:sub(i, i) == '"' then
    local j = i + 1
    while j <= #line do
      local c = line:sub(j, j)
      if c == "\\" then j = j + 2
      elseif c == '"' then
        return (line:sub(i + 1, j - 1):gsub("\\(.)", function(e) return ESCAPES[e] or e end)), j + 1
      else j = j + 1 end
    end
    return nil
  end
  return line:match("^(%S+)()", i)
end

local function matcher(line, i)
  i = line:match("^ *()", i)
  local negated = line:sub(i, i) == "!"
  if negated then i = i + 1 end
  local key, after = line:match("^([%w_%.%-]+):()", i)
  if not key then key, after = line:match('^"([%w_%.:%-]+)":()', i) end
  if not key then return nil end
  local arg, next_i = argument(line, after)
  if not arg then return nil end
  return { key = key, pattern = arg, negated = negated }, next_i
end

-- Matchers of one frame (frame_engine form): fields, `neg` for negated
-- fields, category/not_category, app.
local function to_match(list)
  local m = {}
  for _, r in ipairs(list) do
    if UNSUPPORTED[r.key] then
      return nil, "matcher '" .. r.key .. "' is not supported in stack trace rules"
    end
    local field = FIELDS[r.key]
    if not field then return nil, "unknown matcher '" .. r.key .. "'" end
    if field == "category" then
      if r.negated then m.not_category = r.pattern else m.category = r.pattern end
    elseif field == "app" then
      local v = r.pattern:lower()
      local b
      if v == "1" or v == "yes" or v == "true" then b = true elseif v == "0" or v == "no" or v == "false" then b = false end
      if b == nil then return nil, "app matcher needs yes or no" end
      if r.negated then b = not b end
      m.app = b
    elseif r.negated then
      m.neg = m.neg or {}
      if m.neg[field] then return nil, "two negated " .. r.key .. " matchers" end
      m.neg[field] = field == "family" and r.pattern or r.pattern
    else
      if m[field] then return nil, "two " .. r.key .. " matchers" end
      m[field] = r.pattern
    end
  end
  return m
end

local function bracketed(line, i)
  i = line:match("^ *()", i)
  if line:sub(i, i) ~= "[" then return nil end
  local m, j = matcher(line, i + 1)
  if not m then return nil end
  j = line:match("^ *()", j)
  if line:sub(j, j) ~= "]" then return nil end
  return m, j + 1
end

local function parse_line(line)
  local i = line:match("^ *()")
  if i > #line or line:sub(i, i) == "#" then return nil end
  local caller, callee, own = nil, nil, {}
  local m, j = bracketed(line, i)
  if m then
    j = line:match("^ *()", j)
    if line:sub(j, j) ~= "|" then return nil, "expected '|' after the caller matcher" end
    caller, i = m, j + 1
  end
  while true do
    local fm, after = matcher(line, i)
    if not fm then break end
    own[#own + 1] = fm
    i = after
  end
  local k = line:match("^ *()", i)
  if line:sub(k, k) == "|" then
    local cm, after = bracketed(line, k + 1)
    if not cm then return nil, "expected '[ matcher ]' after '|'" end
    callee, i = cm, after
  end
  if #own == 0 then return nil, "expected a matcher (key:pattern)" end
  local set, n = {}, 0
  while true do
    i = line:match("^ *()", i)
    if i > #line or line:sub(i, i) == "#" then break end
    local range, flag, name, after = line:match("^([%^v]?)([%+%-])(%a+)()", i)
    if flag and (name == "app" or name == "group") then
      local key = name .. (range == "^" and "_up" or range == "v" and "_down" or "")
      set[key] = flag == "+"
      i, n = after, n + 1
    else
      local var, value_at = line:match("^([%w%-]+) *= *()", i)
      if not var then return nil, "unexpected '" .. line:sub(i, i + 15) .. "'" end
      if VAR_ACTIONS[var] then return nil, "action '" .. var .. "' is not supported" end
      if var ~= "category" then return nil, "unknown action '" .. var .. "'" end
      local value, next_i = argument(line, value_at)
      if not value then return nil, "category needs a value" end
      set.category, i, n = value, next_i, n + 1
    end
  end
  if n == 0 then return nil, "expected an action (+app, -group, category=..., ...)" end
  local match, err = to_match(own)
  if not match then return nil, err end
  local rule = { match = match, set = set }
  if caller then
    rule.caller, err = to_match({ caller })
    if not rule.caller then return nil, err end
  end
  if callee then
    rule.callee, err = to_match({ callee })
    if not rule.callee then return nil, err end
  end
  return rule
end

M.MAX_RULES = 1000
M.MAX_LINE = 4096

function M.parse(text)
  if type(text) ~= "string" then return nil, "rules must be a string" end
  local rules, n = {}, 0
  for line in (text .. "\n"):gmatch("([^\r\n]*)[\r\n]") do
    n = n + 1
    if #line > M.MAX_LINE then return nil, ("line %d: longer than %d bytes"):format(n, M.MAX_LINE) end
    local rule, err = parse_line(line)
    if err then return nil, ("line %d: %s"):format(n, err) end
    if rule then
      rules[#rules + 1] = rule
      if #rules > M.MAX_RULES then return nil, ("more than %d rules"):format(M.MAX_RULES) end
    end
  end
  return rules
end

return M
