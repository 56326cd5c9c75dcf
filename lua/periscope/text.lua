--[[ periscope.text — linear-time forms of string idioms the server's
modules use on event data. The backtracking forms (a quantifier followed by
`$`, `^%s*(.-)%s*$`) take time quadratic in the subject, and the pattern
guard (src/lua/pattern_guard.h) charges them as such, or refuses them.

API:
  T.trim(s)                 -> s without leading and trailing whitespace (%s);
                               what s:match("^%s*(.-)%s*$") gives
  T.after_last(s, class)    -> the text after the last byte of the one-byte Lua
                               class `class` (e.g. "[/\\]"), or all of s; what
                               s:match("([^/\\]*)$") gives
  T.before_first(s, class)  -> the text before the first such byte, or nil; what
                               s:match("^(.-)[/\\]") gives
  T.upto_first(s, class, from) -> s up to and including the first such byte at or
                               after `from`, or nil
  T.rtrim(s)                -> s without trailing whitespace (%s); what
                               s:match("^(.-)%s*$") gives
  T.truncate_chars(s, n)    -> s cut to n characters (UTF-8 lead bytes), the
                               last three "..." when cut: Sentry's truncatechars
                               and Relay's string trimming ]]

local M = {}

function M.trim(s)
  local first = s:find("%S")
  if not first then return "" end
  return s:sub(first, #s + 1 - s:reverse():find("%S"))
end

function M.rtrim(s)
  local last = s:reverse():find("%S")
  return last and s:sub(1, #s + 1 - last) or ""
end

function M.truncate_chars(s, n)
  if #s <= n then return s end -- a character is at least a byte
  local chars, cut = 0, nil
  for i = 1, #s do
    local b = s:byte(i)
    if b < 0x80 or b >= 0xC0 then
      if chars == n - 3 then cut = i end
      if chars == n then return s:sub(1, cut - 1) .. "..." end
      chars = chars + 1
    end
  end
  return s
end

function M.after_last(s, class)
  local p = s:reverse():find(class)
  return p and s:sub(#s - p + 2) or s
end

function M.before_first(s, class)
  local p = s:find(class)
  return p and s:sub(1, p - 1) or nil
end

function M.upto_first(s, class, from)
  local p = s:find(class, from)
  return p and s:sub(1, p) or nil
end

return M
