--[[ periscope.rule_syntax — what Sentry's two rule grammars share (its
fingerprinting and enhancer parsers): quoted arguments with `\` escapes,
`[!]key:argument` matchers, `[ matcher ]` brackets, and the line loop with
its limits and "line N: reason" errors.

API (positions are byte offsets into `line`):
  S.quoted(line, i)    -> the unescaped text of a "..." at i and the position
                          after it, or nil
  S.matcher(line, i)   -> { key, pattern, negated } and the position after
                          it, or nil (leading spaces skipped)
  S.bracketed(line, i) -> the matcher inside a `[ ... ]` at i (spaces
                          allowed) and the position after it, or nil
  S.parse_lines(text, parse_line, limits) -> list of what parse_line
                          returned for each line (nil: a blank or comment
                          line), or nil and "line N: reason";
                          limits = { max_line = bytes, max_rules = count }
]]

local M = {}

local ESCAPES = { n = "\n", t = "\t", r = "\r" }

function M.quoted(line, i)
  if line:sub(i, i) ~= '"' then return nil end
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

function M.matcher(line, i)
  i = line:match("^ *()", i)
  local negated = line:sub(i, i) == "!"
  if negated then i = i + 1 end
  local key, after = line:match("^([%w_%.%-]+):()", i)
  if not key then key, after = line:match('^"([%w_%.:%-]+)":()', i) end
  if not key then return nil end
  local arg, next_i = M.quoted(line, after)
  if not arg then arg, next_i = line:match("^(%S+)()", after) end
  if not arg then return nil end
  return { key = key, pattern = arg, negated = negated }, next_i
end

function M.bracketed(line, i)
  i = line:match("^ *()", i)
  if line:sub(i, i) ~= "[" then return nil end
  local m, j = M.matcher(line, i + 1)
  if not m then return nil end
  j = line:match("^ *()", j)
  if line:sub(j, j) ~= "]" then return nil end
  return m, j + 1
end

function M.parse_lines(text, parse_line, limits)
  if type(text) ~= "string" then return nil, "rules must be a string" end
  local rules, n = {}, 0
  -- each line up to one \r or \n, as gmatch("([^\r\n]*)[\r\n]") splits,
  -- in one pass (that gmatch is estimated at every start by the guard)
  local t, pos = text .. "\n", 1
  while pos <= #t do
    local stop = t:find("[\r\n]", pos)
    local line = t:sub(pos, stop - 1)
    pos = stop + 1
    n = n + 1
    if #line > limits.max_line then return nil, ("line %d: longer than %d bytes"):format(n, limits.max_line) end
    local rule, err = parse_line(line)
    if err then return nil, ("line %d: %s"):format(n, err) end
    if rule then
      rules[#rules + 1] = rule
      if #rules > limits.max_rules then return nil, ("more than %d rules"):format(limits.max_rules) end
    end
  end
  return rules
end

return M
