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

local syntax = require("periscope.rule_syntax")
local argument, matcher, bracketed = syntax.quoted, syntax.matcher, syntax.bracketed

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
      if not value then value, next_i = line:match("^(%S+)()", value_at) end
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
  return syntax.parse_lines(text, parse_line, { max_line = M.MAX_LINE, max_rules = M.MAX_RULES })
end

return M
