--[[ periscope.grouping_values — the values one frame contributes to the
default grouping (Sentry's newstyle:2026-01-20): module, else the lower-cased
file base name; the function, normalized per platform; and for
python/node/javascript/php/ruby the context line of at most 120 characters.
Pure functions of a frame view (see periscope.grouping_stack).

API: V.family(platform) -> "javascript"|"native"|"other"
     V.has_url_origin(path, files_count_as_urls) -> boolean
     V.frame_values(view) -> list of up to three strings ]]

local text = require("periscope.text")

local M = {}

local FAMILY = { javascript = "javascript", node = "javascript", objc = "native",
  cocoa = "native", swift = "native", native = "native", c = "native" }
local CONTEXT_LINE_PLATFORMS = { javascript = true, node = true, python = true, php = true, ruby = true }

local function family(platform) return FAMILY[platform or ""] or "other" end

local function has_url_origin(path, files_count_as_urls)
  if not path then return false end
  if path:find("^https?:") or path:find("^blob:") or path:find("^applewebdata:") then return true end
  return files_count_as_urls and path:find("^file:") ~= nil
end

-- Java code generation markers Sentry strips from modules.
local JAVA_MODULE_SUBS = {
  { "(sun%.reflect%.GeneratedSerializationConstructorAccessor)%d+", "%1<auto>" },
  { "(sun%.reflect%.GeneratedConstructorAccessor)%d+", "%1<auto>" },
  { "(%$fn__)%d+", "%1<auto>" },
}

-- The hex id (and its _N suffix) after a proxy class marker: Sentry's
--   (\$\$[\w_]+?CGLIB\$\$)[a-fA-F0-9]+(_[0-9]+)?
--   (\$\$?EnhancerBy[\w_]+?\$\$?)[a-fA-F0-9]+(_[0-9]+)?   (and FastClassBy)
-- -> \1<auto>, left to right without overlaps. Scanned for the marker with
-- plain finds and anchored matches: linear, where the two-quantifier Lua
-- patterns cost (word run) x (hex run) steps at each "$$" (a module with
-- a long run of digits made the pattern guard stop the grouping).
local function after_word_run(s, i)
  while i <= #s and s:find("^[%w_]", i) do i = i + 1 end
  return i
end

-- Where the hex id starts for the marker found at a..b, or nil.
local function cglib_id_at(s, a, b, pos)
  local w = a
  while w > 1 and s:find("^[%w_]", w - 1) do w = w - 1 end
  if w == a or w - 2 < pos or s:sub(w - 2, w - 1) ~= "$$" then return nil end
  return b + 1
end

local function enhancer_id_at(s, a, b, pos)
  if a - 1 < pos or s:sub(a - 1, a - 1) ~= "$" then return nil end
  local e = after_word_run(s, b + 1)
  if e == b + 1 or s:sub(e, e) ~= "$" then return nil end
  return s:sub(e + 1, e + 1) == "$" and e + 2 or e + 1
end

local function replace_ids(s, marker, id_at)
  if not s:find(marker, 1, true) then return s end
  local out, pos, search = {}, 1, 1
  while true do
    local a, b = s:find(marker, search, true)
    if not a then break end
    local at = id_at(s, a, b, pos)
    local hex = at and s:match("^%x+", at)
    if hex then
      local e = at + #hex
      local n = s:match("^_%d+", e)
      out[#out + 1] = s:sub(pos, at - 1) .. "<auto>"
      pos = e + (n and #n or 0)
      search = pos
    else
      search = a + 1
    end
  end
  out[#out + 1] = s:sub(pos)
  return table.concat(out)
end

-- Sentry's (\$\$_javassist)(?:_seam)?(?:_[0-9]+)? -> \1<auto>, in one pass.
local function javassist(s)
  if not s:find("$$_javassist", 1, true) then return s end
  local out, pos = {}, 1
  while true do
    local _, b = s:find("$$_javassist", pos, true)
    if not b then break end
    out[#out + 1] = s:sub(pos, b) .. "<auto>"
    pos = b + 1
    if s:sub(pos, pos + 4) == "_seam" then pos = pos + 5 end
    local digits = s:match("^_%d+", pos)
    if digits then pos = pos + #digits end
  end
  out[#out + 1] = s:sub(pos)
  return table.concat(out)
end

local function module_value(f)
  local m = f.module
  if not m then return nil end
  if f.platform == "javascript" and m:find("/", 1, true) and f.abs_path and f.abs_path:sub(-#m) == m then
    return nil
  end
  if f.platform == "java" then
    local lambda = m:find("$$Lambda$", 1, true)
    if m:find("^sun%.reflect%.GeneratedMethodAccessor") then m = "sun.reflect.GeneratedMethodAccessor"
    elseif m:find("^jdk%.internal%.reflect%.GeneratedMethodAccessor") then
      m = "jdk.internal.reflect.GeneratedMethodAccessor"
    else
      for _, sub in ipairs(JAVA_MODULE_SUBS) do m = m:gsub(sub[1], sub[2]) end
      m = replace_ids(m, "CGLIB$$", cglib_id_at)
      m = replace_ids(m, "EnhancerBy", enhancer_id_at)
      m = replace_ids(m, "FastClassBy", enhancer_id_at)
      m = m:gsub("(%$%$?HibernateProxy%$%$?)[%w_]+", "%1<auto>")
      m = javassist(m)
    end
    if lambda then return nil end
  end
  return m
end

local function filename_value(f)
  if not f.filename then return nil end
  local name = text.after_last(f.filename, "[/\\]"):lower()
  if has_url_origin(f.abs_path, false) or name == "<anonymous>" or name == "[native code]" then return nil end
  if f.platform == "java" then
    name = javassist(name)
  end
  return name
end

local function function_value(f, context_line_contributes)
  local func = f.raw_function or f.func
  if f.platform ~= "csharp" then func = f.func or f.raw_function end
  if not func or func == "" then return nil end
  local p, fam = f.platform, f.family
  if p == "ruby" then
    if func:sub(1, 6) == "block " then return "block" end
    return (func:gsub("__%d%d%d%d+_%d%d%d%d+$", ""))
  elseif p == "php" then
    if func:sub(1, 10) == "[Anonymous" or func:sub(1, 16) == "class@anonymous\0" then return nil end
    if func:sub(1, 15) == "class@anonymous" then
      local tail = text.after_last(func, ":") -- what "::([^:]*)$" captures, when "::" precedes it
      return func:sub(-#tail - 2, -#tail - 1) == "::" and tail or func
    end
  elseif p == "java" then
    if func:sub(1, 7) == "lambda$" then return nil end
  elseif fam == "native" then
    if func == "<redacted>" or func == "<unknown>" then return nil end
  elseif fam == "javascript" then
    if f.sourcemap and context_line_contributes then return nil end
    return text.after_last(func, "%.")
  end
  return func
end

-- The values one frame contributes (module|filename, function, context
-- line), and whether the whole frame is dropped as low-quality JavaScript.
local function frame_values(f)
  local values = {}
  local module = module_value(f)
  local filename = filename_value(f)
  values[#values + 1] = module or filename
  local line
  local raw = f.context_line
  if raw and CONTEXT_LINE_PLATFORMS[f.platform] and #raw <= 480 then
    -- the words, joined by single spaces
    line = raw:gsub("%s+", " ")
    if line:byte(1) == 32 then line = line:sub(2) end
    if line:byte(-1) == 32 then line = line:sub(1, -2) end
    local chars = #raw > 120 and utf8.len(raw)
    if line == "" or (chars and chars > 120)
      or (f.family == "javascript" and not f.func and has_url_origin(f.abs_path, true)) then
      line = nil
    end
  end
  local func = function_value(f, line ~= nil)
  if f.family == "javascript" then
    local short = text.after_last(f.raw_function or f.func or "", "%.")
    if short == "" or short == "?" or short == "<anonymous function>" or short == "<anonymous>"
      or short == "Anonymous function" or short:sub(-2) == "/<" then
      func = nil
    end
    if short == "eval" or f.abs_path == "[native code]" or f.abs_path == "native code"
      or f.abs_path == "eval code" or f.abs_path == "<anonymous>" then
      return {}
    end
  end
  values[#values + 1] = func
  values[#values + 1] = line
  local out = {}
  for i = 1, 3 do if values[i] then out[#out + 1] = values[i] end end
  return out
end

M.family, M.has_url_origin, M.frame_values = family, has_url_origin, frame_values

return M
