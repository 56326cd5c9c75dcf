--[[ periscope.function_name — a frame's function name as Sentry shows it
(get_function_name_for_frame in src/sentry/stacktraces/functions.py): the
function as sent when the frame has a raw_function; else C# signatures cut
at " (", native (C, C++, Objective-C, Swift, Rust) names trimmed to the bare
function: arguments, return types, templates (as <T>), const/& trailers,
`[clone .x]` suffixes, Rust hashes, GLIBC versions and Windows @n
decorations removed, lambdas named "lambda", Swift closures "closure in f".
Every other platform's name is kept as sent.

API: F.for_frame(frame, platform) -> name or nil
     F.trim(name, platform) -> name

A name is first cut to 256 characters, as Relay cuts a frame's function
before Sentry reads it: every step below is then bounded. Python's Unicode
whitespace is read as ASCII whitespace here. ]]

local text = require("periscope.text")

local M = {}

local SYMBOL_CHARS = 256

local NATIVE = { objc = true, cocoa = true, swift = true, native = true, c = true }

local PAIRS = { ["("] = ")", ["{"] = "}", ["["] = "]", ["<"] = ">" }

-- Placeholders for text the bracket matching must not see (Sentry uses the
-- same characters).
local LT, CALL, ARROW, ANON = "\u{27E8}", "\u{25EF}", "\u{27FF}", "\u{3014}anonymousnamespace\u{3015}"

local function plain(s) return (s:gsub("[%p]", "%%%0")) end

local function replace_all(s, from, to)
  return (s:gsub(plain(from), (to:gsub("%%", "%%%%"))))
end

local strip, rstrip = text.trim, text.rtrim

-- Sentry's replace_enclosed_string: every outermost start..end pair is
-- replaced by replacement(inner, start_offset) (nil drops it), unbalanced
-- closers are dropped too.
local function replace_enclosed(s, open, close, replacement)
  if not s:find(open, 1, true) then return s end
  local depth, out, pair_start = 0, {}, nil
  for i = 1, #s do
    local c = s:sub(i, i)
    if c == open then
      if depth == 0 then pair_start = i end
      depth = depth + 1
    elseif c == close then
      depth = depth - 1
      if depth == 0 then
        out[#out + 1] = replacement(s:sub(pair_start + 1, i - 1), pair_start - 1) or ""
      end
    elseif depth == 0 then
      out[#out + 1] = c
    end
  end
  return table.concat(out)
end

-- Sentry's split_func_tokens: whitespace splits, but not inside brackets.
local function split_tokens(s)
  if s ~= "" and not s:find("[%s({<%[]") then return { s } end
  local buf, rv, stack, last = {}, {}, {}, 1
  for i = 1, #s do
    local c = s:sub(i, i)
    if PAIRS[c] then
      stack[#stack + 1] = PAIRS[c]
    elseif #stack > 0 and c == stack[#stack] then
      stack[#stack] = nil
      if #stack == 0 then
        buf[#buf + 1] = s:sub(last, i)
        last = i + 1
      end
    elseif #stack == 0 then
      if c:find("%s") then
        if #buf > 0 then rv[#rv + 1] = table.concat(buf) end
        buf = {}
      else
        buf[#buf + 1] = s:sub(last, i)
      end
      last = i + 1
    end
  end
  if #buf > 0 then rv[#rv + 1] = table.concat(buf) end
  return rv
end

local function is_word_at(s, i) return i >= 1 and i <= #s and s:find("^[%w_]", i) ~= nil end

-- The end of a gcc lambda "{lambda(...)#N}" starting at i, or nil: the
-- shortest "(...)" (within the line) followed by "#digits}", as the
-- regex's lazy .*? takes.
local function gcc_lambda_end(s, i)
  if s:sub(i, i + 7) ~= "{lambda(" then return nil end
  local from = i + 8
  local newline = s:find("\n", from, true) or #s + 1
  while true do
    local close = s:find(")#", from, true)
    if not close or close > newline then return nil end
    local digits_end = s:find("[^%d]", close + 2) or #s + 1
    if digits_end > close + 2 and s:sub(digits_end, digits_end) == "}" then return digits_end end
    from = close + 1
  end
end

-- The end of an msvc lambda "lambda_" and 32 hex digits between word
-- boundaries at i, or nil.
local function msvc_lambda_end(s, i)
  if s:sub(i, i + 6) ~= "lambda_" or is_word_at(s, i - 1) then return nil end
  local e = i + 38
  local other = s:find("[^a-f0-9]", i + 7)
  if e > #s or (other and other <= e) or is_word_at(s, e + 1) then return nil end
  return e
end

-- The end of a clang lambda "$_N" (N digits, then a word boundary) at i.
local function clang_lambda_end(s, i)
  if s:sub(i, i + 1) ~= "$_" then return nil end
  local digits_end = s:find("[^%d]", i + 2) or #s + 1
  if digits_end == i + 2 or is_word_at(s, digits_end) then return nil end
  return digits_end - 1
end

local function lambda_end(s, i)
  return gcc_lambda_end(s, i) or msvc_lambda_end(s, i) or clang_lambda_end(s, i)
end

-- Sentry's _lambda_re (gcc {lambda(...)#N}, msvc lambda_<32 hex>, clang
-- $_N), each match replaced by "lambda", leftmost first.
local function normalize_lambdas(s)
  local out, i = {}, 1
  while true do
    local j = s:find("[{$l]", i)
    if not j then break end
    local e = lambda_end(s, j)
    out[#out + 1] = s:sub(i, e and j - 1 or j)
    if e then out[#out + 1] = "lambda" end
    i = (e or j) + 1
  end
  out[#out + 1] = s:sub(i)
  return table.concat(out)
end

local function starts_with_lambda(s)
  return lambda_end(s, 1) ~= nil
end

-- Python list index (negative counts from the end); nil when out of range.
local function at(list, i)
  if i < 0 then i = #list + i end
  return list[i + 1]
end

local function last_index_of(list, value)
  for i = #list, 1, -1 do
    if list[i] == value then return i - 1 end
  end
  return nil
end

local function process_generics(value, start)
  if value == "lambda" or starts_with_lambda(value) then return "<" .. value .. ">" end
  if start > 0 then return "<T>" end
  value = value:gsub("^%u as ", "") -- Rust: prefer the trait of a blanket impl
  value = replace_enclosed(value, "<", ">", process_generics)
  local as = value:find(" as ", 1, true)
  return as and value:sub(1, as - 1) or value
end

local function trim_native(name, platform)
  if name == "<redacted>" or name == "<unknown>" then return name end
  local original = name
  local f = strip(name)
  if f:sub(1, 1) == "[" or f:sub(1, 2) == "+[" or f:sub(1, 2) == "-[" then return f end -- Objective-C

  f = rstrip(replace_enclosed(f, "[", "]", function(v)
    if v:sub(1, 7) == "clone ." then return "" end
    return "[" .. v .. "]"
  end))
  -- C++ trailers: const, &
  while true do
    if f:sub(-1) == "&" then
      f = rstrip(f:sub(1, -2))
    elseif f:find("%f[%w_]const$") then
      f = rstrip(f:sub(1, -6))
    else
      break
    end
  end
  f = replace_all(f, "operator<<", "operator" .. LT .. LT)
  f = replace_all(f, "operator<", "operator" .. LT)
  f = replace_all(f, "operator()", "operator" .. CALL)
  f = replace_all(f, "operator->", "operator" .. ARROW)
  f = replace_all(f, " -> ", " " .. ARROW .. " ")
  f = replace_all(f, "`anonymous namespace'", ANON)
  if f:find("lambda", 1, true) or f:find("$_", 1, true) then f = normalize_lambdas(f) end
  if f:find("?A0x", 1, true) then f = f:gsub("%?A0x" .. ("[a-f0-9]"):rep(8) .. "::", ANON .. "::") end

  f = replace_enclosed(f, "(", ")", function(v)
    v = strip(v)
    if v == "anonymous namespace" or v == "operator" then return "(" .. v .. ")" end
    return ""
  end)
  f = replace_enclosed(f, "<", ">", process_generics)

  local is_thunk = f:find("thunk for ", 1, true) ~= nil
  local tokens = split_tokens(f)
  if #tokens > 1 and tokens[#tokens] == "<T>" then
    tokens[#tokens] = nil
    tokens[#tokens] = tokens[#tokens] .. " <T>"
  end

  local func_token
  if f:find("initialization expression of", 1, true) then
    local of = last_index_of(tokens, "of")
    func_token = of and at(tokens, of + 1)
    if func_token == "static" then func_token = at(tokens, of + 2) end
    if func_token then
      if func_token:sub(1, 1) == ":" then func_token = func_token:sub(2) end
      func_token = "initializer expression of " .. func_token
    end
  elseif #tokens > 0 then
    local arrow = last_index_of(tokens, ARROW)
    if arrow then
      func_token = at(tokens, arrow - 1)
      if func_token == "throws" then func_token = at(tokens, arrow - 2) end
    else
      func_token = tokens[#tokens]
    end
  end

  if func_token and func_token ~= "" then
    if func_token:sub(1, 1) == "@" and (platform == "cocoa" or platform == "swift") then
      func_token = (is_thunk and "thunk for " or "") .. "closure" -- a Swift attribute: an anonymous function
    else
      for _, t in ipairs(tokens) do
        if t == "closure" and func_token ~= "closure" then
          func_token = "closure in " .. func_token
          break
        end
      end
    end
    f = replace_all(func_token, LT, "<")
    f = replace_all(f, CALL, "()")
    f = replace_all(f, ARROW, "->")
    f = replace_all(f, ANON, "`anonymous namespace'")
  else
    f = original
  end

  if f:find("::h", 1, true) then f = f:gsub("::h" .. ("[a-z0-9]"):rep(16) .. "$", "") end
  if f:find("@GLIBC_", 1, true) then f = f:gsub("@@?GLIBC_[0-9.]+$", "") end
  -- Windows decorations: ^@?(.*?)@[0-9]+$
  local at = f:reverse():find("@", 1, true)
  if at then
    local p = #f - at + 1
    if p < #f and not f:find("[^%d]", p + 1) then
      f = f:sub(1, p - 1)
      if f:sub(1, 1) == "@" then f = f:sub(2) end
    end
  end
  return f
end

function M.trim(name, platform)
  name = text.truncate_chars(name, SYMBOL_CHARS)
  if platform == "csharp" then
    local args = name:find(" (", 1, true)
    return args and name:sub(1, args - 1) or name
  end
  if NATIVE[platform] then return trim_native(name, platform) end
  return name
end

function M.for_frame(frame, platform)
  local raw = frame.raw_function
  if type(raw) == "string" and raw ~= "" then
    return type(frame["function"]) == "string" and frame["function"] or nil
  end
  local name = frame["function"]
  if type(name) ~= "string" or name == "" then return nil end
  local p = frame.platform
  if type(p) ~= "string" or p == "" then p = platform end
  return M.trim(name, p)
end

return M
