--[[ periscope.sentry_glob — Sentry's glob patterns (sentry.utils.glob), in
time linear in the text for each pattern token: operators write these
patterns, so no backtracking matcher may see them.

  `*`      any text; with `path`, any text within one path segment
  `**`     any text (also across `/`)
  `?`      one character (with `path`, not `/`)
  `[abc]`  one of the characters (`[!abc]`: none of them), ranges `a-z`
  `\c`     the character c itself

API:
  G.compile(pattern, opts) -> glob; opts.ignorecase (compare lower-cased),
                              opts.path (segments, `\` read as `/`)
  G.match(glob, text)      -> boolean (the whole text must match)
]]

local M = {}

-- Tokens: { kind = "lit", s = "..." } | { kind = "any" } (`**`, or `*`
-- without path) | { kind = "seg" } (`*` with path) | { kind = "one" } |
-- { kind = "set", neg = bool, chars = {[byte] = true}, ranges = {{lo, hi}} }
local function parse_set(pattern, i)
  local set = { kind = "set", neg = false, chars = {}, ranges = {} }
  local j = i + 1
  if pattern:sub(j, j) == "!" then set.neg, j = true, j + 1 end
  local first = true
  while j <= #pattern do
    local c = pattern:sub(j, j)
    if c == "]" and not first then return set, j + 1 end
    if c == "\\" and j < #pattern then j = j + 1; c = pattern:sub(j, j) end
    if pattern:sub(j + 1, j + 1) == "-" and j + 2 <= #pattern and pattern:sub(j + 2, j + 2) ~= "]" then
      set.ranges[#set.ranges + 1] = { c:byte(), pattern:byte(j + 2) }
      j = j + 3
    else
      set.chars[c:byte()] = true
      j = j + 1
    end
    first = false
  end
  return nil -- no closing bracket: the `[` is a literal
end

function M.compile(pattern, opts)
  opts = opts or {}
  if opts.ignorecase then pattern = pattern:lower() end
  if opts.path then pattern = pattern:gsub("\\\\", "/") end
  local tokens, lit = {}, {}
  local function flush()
    if #lit > 0 then tokens[#tokens + 1] = { kind = "lit", s = table.concat(lit) }; lit = {} end
  end
  local i = 1
  while i <= #pattern do
    local c = pattern:sub(i, i)
    if c == "*" then
      flush()
      local double = pattern:sub(i + 1, i + 1) == "*"
      tokens[#tokens + 1] = { kind = (double or not opts.path) and "any" or "seg" }
      i = i + (double and 2 or 1)
      while pattern:sub(i, i) == "*" do i = i + 1 end
    elseif c == "?" then
      flush()
      tokens[#tokens + 1] = { kind = "one" }
      i = i + 1
    elseif c == "[" then
      local set, after = parse_set(pattern, i)
      if set then
        flush()
        tokens[#tokens + 1] = set
        i = after
      else
        lit[#lit + 1] = c
        i = i + 1
      end
    elseif c == "\\" and i < #pattern and not opts.path then
      lit[#lit + 1] = pattern:sub(i + 1, i + 1)
      i = i + 2
    else
      lit[#lit + 1] = c
      i = i + 1
    end
  end
  flush()
  return { tokens = tokens, ignorecase = opts.ignorecase, path = opts.path }
end

local SLASH = 47

local function in_set(t, b)
  local hit = t.chars[b] == true
  if not hit then
    for _, r in ipairs(t.ranges) do
      if b >= r[1] and b <= r[2] then hit = true break end
    end
  end
  if t.neg then return not hit end
  return hit
end

-- The set of positions reachable after each token, as a sorted list: one
-- pass per token over at most #text + 1 positions.
function M.match(glob, text)
  if type(text) ~= "string" then return false end
  if glob.ignorecase then text = text:lower() end
  if glob.path then text = text:gsub("\\", "/") end
  local n = #text
  local pos = { 1 }
  for _, t in ipairs(glob.tokens) do
    local nxt, seen = {}, {}
    local function add(p)
      if p <= n + 1 and not seen[p] then seen[p] = true; nxt[#nxt + 1] = p end
    end
    if t.kind == "lit" then
      local len = #t.s
      for _, p in ipairs(pos) do
        if text:sub(p, p + len - 1) == t.s then add(p + len) end
      end
    elseif t.kind == "any" then
      -- everything from the smallest position on
      if #pos > 0 then
        local lo = pos[1]
        for _, p in ipairs(pos) do if p < lo then lo = p end end
        for p = lo, n + 1 do add(p) end
      end
    elseif t.kind == "seg" then
      table.sort(pos)
      local reach = 0
      for _, p in ipairs(pos) do
        local q = math.max(p, reach)
        if q == p then add(p) end
        while q <= n and text:byte(q) ~= SLASH do q = q + 1; add(q) end
        if q > reach then reach = q end
      end
    else
      for _, p in ipairs(pos) do
        local b = text:byte(p)
        if b and not (glob.path and b == SLASH) and (t.kind == "one" or in_set(t, b)) then add(p + 1) end
      end
    end
    pos = nxt
    if #pos == 0 then return false end
  end
  for _, p in ipairs(pos) do
    if p == n + 1 then return true end
  end
  return false
end

return M
