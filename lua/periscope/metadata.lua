--[=[ periscope.metadata — an event's title and culprit as Sentry stores them:
the title of its event type (src/sentry/eventtypes/: ErrorEvent,
DefaultEvent) and get_culprit (src/sentry/event_manager.py), computed on the
event as Relay would have normalized it. README.md ("Titles, culprits and
log messages") says the same for users.

API: M.title_and_culprit(event [, frame_rules [, main_exception_id]])
       -> title, culprit
     M.title(event [, frame_rules [, main_exception_id]]),
     M.culprit(event [, frame_rules])
frame_rules: the stack trace rules the grouping ran (a project's follow the
built-in ones: periscope.sentry_rules), the built-in ones when omitted.
main_exception_id: the mechanism.exception_id of the exception the grouping
chose to name the event (Sentry's main_exception_id: an exception group's
one distinct exception), else the last exception names it.

`event` is the normalized event table (periscope.grouping's input). What
Relay does before Sentry reads the event, and so what is read here:
  - an exception without a type whose value is "Word: rest" (one line) has
    type "Word" and value "rest"; one with neither type nor value is gone;
  - with exactly one exception, a top-level stacktrace is that exception's;
  - a frame's filename is its abs_path when it has none (its path when the
    abs_path is an http(s), file or applewebdata URL);
  - request.url loses its query string and fragment;
  - an unknown event platform is "other".
Frames are in-app as the SDK says and the stack trace rules on the frame
itself leave them (Sentry applies its stack trace rules to the event before
it computes title and culprit). ]=]

local stack = require("periscope.grouping_stack")
local frame_rules = require("periscope.frame_rules")
local function_name = require("periscope.function_name")
local text = require("periscope.text")

local M = {}

local TITLE_CHARS = 100        -- a title's first line (DefaultEvent, ErrorEvent)
local TYPE_CHARS = 128         -- an exception type in the metadata
local CULPRIT_CHARS = 200      -- MAX_CULPRIT_LENGTH

-- Relay's VALID_PLATFORMS: any other event platform becomes "other".
local PLATFORMS = {}
for p in ("as3 c cfml cocoa csharp elixir haskell go groovy java javascript native node objc other perl php python ruby")
  :gmatch("%S+") do PLATFORMS[p] = true end

local function nonempty(s) return type(s) == "string" and s ~= "" and s or nil end

local function values_of(x)
  if type(x) ~= "table" then return {} end
  return type(x.values) == "table" and x.values or x
end

---------------------------------------------------------------- text helpers

local function is_char_start(b) return b < 0x80 or b >= 0xC0 end

-- Sentry's truncatechars: at most n characters (code points), the cut ones
-- replaced by "..." within the n.
local truncatechars = text.truncate_chars

-- The bytes of the line break at i (Python's str.splitlines), or nil.
local function line_break_at(s, i)
  local b = s:byte(i)
  if b == 13 then return s:byte(i + 1) == 10 and 2 or 1 end
  if b == 10 or b == 11 or b == 12 or b == 28 or b == 29 or b == 30 then return 1 end
  if b == 0xC2 and s:byte(i + 1) == 0x85 then return 2 end
  if b == 0xE2 and s:byte(i + 1) == 0x80 and (s:byte(i + 2) == 0xA8 or s:byte(i + 2) == 0xA9) then return 3 end
  return nil
end

-- A title keeps at most TITLE_CHARS characters of a first line: the
-- first TITLE_HEAD_BYTES bytes hold them (4 bytes a character at most) and
-- any line break that starts among them, so longer text need not be read.
local TITLE_HEAD_BYTES = 4 * (TITLE_CHARS + 1) + 3

-- s.splitlines()[0]. The pattern finds every byte a line break can start
-- with (and a few more: a short class is a fast one).
local function first_line(s)
  local i = s:find("[\0-\31\194\226]")
  while i do
    if line_break_at(s, i) then return s:sub(1, i - 1) end
    i = s:find("[\0-\31\194\226]", i + 1)
  end
  return s
end

-- Python's whitespace (str.strip): ASCII, U+0085, U+00A0 and the Unicode
-- spaces; the bytes of the one at i, or nil.
local function space_at(s, i)
  local b = s:byte(i)
  if b == 32 or (b >= 9 and b <= 13) or (b >= 28 and b <= 31) then return 1 end
  if b == 0xC2 then
    local c = s:byte(i + 1)
    return (c == 0x85 or c == 0xA0) and 2 or nil
  end
  if b == 0xE1 and s:byte(i + 1) == 0x9A and s:byte(i + 2) == 0x80 then return 3 end -- U+1680
  if b == 0xE2 then
    local c, d = s:byte(i + 1), s:byte(i + 2)
    if c == 0x80 and d and ((d >= 0x80 and d <= 0x8A) or d == 0xA8 or d == 0xA9 or d == 0xAF) then return 3 end
    if c == 0x81 and d == 0x9F then return 3 end -- U+205F
  end
  if b == 0xE3 and s:byte(i + 1) == 0x80 and s:byte(i + 2) == 0x80 then return 3 end -- U+3000
  return nil
end

local function strip(s)
  local i, j = 1, #s
  while i <= j do
    local n = space_at(s, i)
    if not n then break end
    i = i + n
  end
  while j >= i do
    -- step back to the start of the last character
    local k = j
    while k > i and not is_char_start(s:byte(k)) do k = k - 1 end
    local n = space_at(s, k)
    if not n or k + n - 1 ~= j then break end
    j = k - 1
  end
  return s:sub(i, j)
end

------------------------------------------------------------------------ URLs

local SPECIAL_PORTS = { http = "80", https = "443", ws = "80", wss = "443", ftp = "21", file = "" }

-- The path percent-encode set of the URL standard, for bytes.
local function encode_path(p)
  return (p:gsub("[%c \"<>`{}\127-\255]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function is_dot(seg) local l = seg:lower() return l == "." or l == "%2e" end
local function is_dotdot(seg)
  local l = seg:lower()
  return l == ".." or l == ".%2e" or l == "%2e." or l == "%2e%2e"
end

-- "." and ".." segments of a path ("/a/b") resolved, as the URL parser
-- does.
local function resolve_dots(path)
  local out, trailing, from = {}, false, 2
  while from <= #path + 1 do
    local slash = path:find("/", from, true) or #path + 1
    local seg = path:sub(from, slash - 1)
    trailing = false
    if is_dotdot(seg) then
      if #out > 0 then out[#out] = nil end
      trailing = true
    elseif is_dot(seg) then
      trailing = true
    else
      out[#out + 1] = seg
    end
    from = slash + 1
  end
  if trailing then out[#out + 1] = "" end
  return "/" .. table.concat(out, "/")
end

-- s without what follows the first `c` (a plain character), and that `c`.
local function cut_at(s, c)
  local i = s:find(c, 1, true)
  return i and s:sub(1, i - 1) or s
end

-- A URL as Rust's url crate parses it (scheme, host, port, path; query and
-- fragment dropped), or nil when that parser would refuse it. Covers what
-- frames and requests carry: hierarchical URLs with an authority, and
-- opaque ones (mailto:x). Linear in the URL: no backtracking pattern.
local function parse_url(u)
  u = u:gsub("[\t\n\r]", "")
  local first = u:find("[^%c ]")
  if not first then return nil end
  u = u:sub(first, #u + 1 - u:reverse():find("[^%c ]"))
  local colon = u:find(":", 1, true)
  if not colon or not u:find("^%a") or u:find("[^%w+.%-]", 2) ~= colon then return nil end
  local scheme, rest = u:sub(1, colon - 1):lower(), u:sub(colon + 1)
  rest = cut_at(cut_at(rest, "#"), "?")
  local special = SPECIAL_PORTS[scheme] ~= nil
  if special then rest = rest:gsub("\\", "/") end
  local from -- where the authority starts
  if special and scheme ~= "file" then
    from = rest:find("[^/]")
    if not from then return nil end
  elseif rest:sub(1, 2) == "//" then
    from = 3
  else
    if not special then return { scheme = scheme, opaque = rest, path = "" } end
    local s0 = rest:find("[^/]")
    return { scheme = scheme, host = "", port = "", path = resolve_dots(encode_path("/" .. (s0 and rest:sub(s0) or ""))) }
  end
  local slash = rest:find("/", from, true) or #rest + 1
  local authority, path = rest:sub(from, slash - 1), rest:sub(slash)
  if special and scheme ~= "file" and authority == "" then return nil end
  local userinfo
  local at = authority:reverse():find("@", 1, true)
  if at then
    userinfo, authority = authority:sub(1, #authority - at), authority:sub(#authority - at + 2)
  end
  local host, port
  if authority:sub(1, 1) == "[" then
    local close = authority:find("]", 1, true)
    if not close then return nil end
    host, port = authority:sub(1, close), authority:sub(close + 1)
  else
    local c = authority:find(":", 1, true) or #authority + 1
    host, port = authority:sub(1, c - 1), authority:sub(c)
  end
  if port ~= "" then
    if port:find("[^%d]", 2) then return nil end
    port = port:sub(2)
    local nz = port:find("[^0]")
    port = nz and port:sub(nz) or (port ~= "" and "0" or "")
    if #port > 5 or (port ~= "" and tonumber(port) > 65535) then return nil end
  end
  if special then
    host = host:lower()
    if scheme ~= "file" and host == "" then return nil end
    if port == SPECIAL_PORTS[scheme] then port = "" end
  end
  if path == "" then
    path = special and "/" or ""
  else
    path = resolve_dots(encode_path(path))
  end
  return { scheme = scheme, userinfo = userinfo, host = host, port = port, path = path }
end

local function serialize_url(p)
  if p.opaque then return p.scheme .. ":" .. p.opaque end
  return p.scheme .. "://" .. (p.userinfo and p.userinfo .. "@" or "") .. p.host
    .. (p.port ~= "" and ":" .. p.port or "") .. p.path
end

-- Relay's request.url: the URL without query string and fragment.
local function request_url(url)
  url = nonempty(url)
  if not url then return nil end
  if url:sub(-3) == "\u{2026}" then url = url:sub(1, -4) .. "..." end
  local parsed = parse_url(url)
  if parsed then return serialize_url(parsed) end
  return cut_at(cut_at(url, "#"), "?")
end

local URL_SCHEMES = { "file:", "http:", "https:", "applewebdata:" }

-- The filename Relay gives a frame: its own, else its abs_path (the URL's
-- path when abs_path is a URL with one).
local function frame_filename(f)
  local filename, abs_path = nonempty(f.filename), nonempty(f.abs_path)
  if not abs_path then abs_path, filename = filename, nil end
  if filename or not abs_path then return filename end
  for _, prefix in ipairs(URL_SCHEMES) do
    if abs_path:sub(1, #prefix) == prefix then
      local parsed = parse_url(abs_path)
      if parsed and parsed.path ~= "" and parsed.path ~= "/" then return parsed.path end
      break
    end
  end
  return abs_path
end

------------------------------------------------------------ the event's view

-- Relay's exception normalization, read-only: type and value as Relay keeps
-- them, or nil for an exception Relay drops.
local function exception_view(exc)
  if type(exc) ~= "table" then return nil end
  local ty = type(exc.type) == "string" and exc.type or nil -- "" is kept: Sentry titles it ": value"
  local value = exc.value
  if type(value) == "number" or type(value) == "boolean" then value = tostring(value) end
  value = nonempty(value)
  if not nonempty(ty) and value then
    -- Relay's ^(\w+):(.*)$ : a word, a colon, one line
    local colon = value:find("[^%w_\128-\255]")
    if colon and colon > 1 and value:byte(colon) == 58 and not value:find("\n", colon, true) then
      ty, value = value:sub(1, colon - 1), nonempty(strip(value:sub(colon + 1)))
    end
  end
  if not nonempty(ty) and not value then return nil end
  return { type = ty, value = value, raw = exc }
end

-- The exceptions (nil where Relay drops one, so positions stay) and the
-- top-level stacktrace Relay leaves.
local function view(event)
  local raw = values_of(event.exception)
  local excs = {}
  for i = 1, #raw do excs[i] = exception_view(raw[i]) or false end
  local top = type(event.stacktrace) == "table" and event.stacktrace or nil
  local moved
  if #raw == 1 and top and type(raw[1]) == "table" then moved, top = top, nil end
  local platform = nonempty(event.platform)
  return { excs = excs, count = #raw, top = top, moved = moved,
    platform = platform and PLATFORMS[platform] and platform or "other" }
end

local function stacktrace_of(v, i)
  local e = v.excs[i]
  if not e then return nil end
  if v.moved then return v.moved end
  return type(e.raw.stacktrace) == "table" and e.raw.stacktrace or nil
end

local function frames_of(st)
  if type(st) ~= "table" then return {} end
  return values_of(st.frames)
end

-- Whether a rule of the list can make a frame in-app (the built-in ones
-- only ever take it away; a project's +app can): then frames the SDK did
-- not mark need the rules too. Per rules list, remembered.
local adds_app_memo = setmetatable({}, { __mode = "k" })
local function adds_app(rules)
  local memo = adds_app_memo[rules]
  if memo ~= nil then return memo end
  memo = false
  for _, r in ipairs(rules) do
    local set = r.set or {}
    if set.app == true or set.app_up == true or set.app_down == true then memo = true end
  end
  adds_app_memo[rules] = memo
  return memo
end

-- Whether frame f is in-app once the stack trace rules ran: the SDK's
-- in_app as the rules on the frame itself leave it (the grouping's memo of
-- per-frame rule results answers). Rules that read a frame's neighbours
-- (Android system runs, Python's multiprocessing spawn, JavaScript
-- reportError, a project's caller/callee and ranged rules) are not applied:
-- running them means resolving the whole stack, several µs per event for a
-- culprit they almost never change.
local function in_app(f, event, rules)
  if f.in_app ~= true and not adds_app(rules) then return false end
  return stack.frame_info(f, event, rules).in_app
end

-------------------------------------------------------------------- culprit

local FUNCTION_ONLY = { objc = true, cocoa = true, native = true }
local URL_STYLE = { javascript = true, node = true }

local function frame_culprit(f, platform)
  platform = nonempty(f.platform) or platform
  local func = nonempty(f["function"])
  if FUNCTION_ONLY[platform] then return func or "?" end
  local loc = nonempty(f.module) or frame_filename(f)
  if not loc then return "" end
  if URL_STYLE[platform] then return (func or "?") .. "(" .. loc .. ")" end
  return loc .. " in " .. (func or "?")
end

local function stacktrace_culprit(frames, event, platform, rules)
  local default
  for i = #frames, 1, -1 do
    local f = frames[i]
    if type(f) == "table" and next(f) ~= nil then
      if in_app(f, event, rules) then
        local c = frame_culprit(f, platform)
        if c ~= "" then return c end
      elseif default == nil then
        default = frame_culprit(f, platform)
      end
    end
  end
  return default
end

local function generate_culprit(event, v, rules)
  local last -- the last exception Relay keeps
  for i = v.count, 1, -1 do
    if v.excs[i] then last = v.excs[i].raw break end
  end
  local frames
  if last then
    if type(last.mechanism) == "table" and last.mechanism.synthetic then return "" end
    for i = v.count, 1, -1 do
      local f = v.excs[i] and frames_of(stacktrace_of(v, i)) or {}
      if #f > 0 then frames = f break end
    end
  elseif #frames_of(v.top) > 0 then
    frames = frames_of(v.top)
  end
  local culprit = frames and stacktrace_culprit(frames, event, v.platform, rules)
  if (not culprit or culprit == "") and type(event.request) == "table" then
    culprit = request_url(event.request.url)
  end
  return culprit or ""
end

local function culprit(event, v, rules)
  local c = nonempty(event.culprit) or nonempty(event.transaction) or generate_culprit(event, v, rules)
  return truncatechars(c, CULPRIT_CHARS)
end

---------------------------------------------------------------------- title

local UNNAMED = { ["<redacted>"] = true, ["<unknown>"] = true }

-- get_crash_frame_from_event_data: the innermost in-app frame with a
-- function of the last exception's stack (else the top-level one, else a
-- lone thread's), else the innermost such frame.
local function crash_function(event, v, rules)
  local frames = frames_of(stacktrace_of(v, v.count))
  if #frames == 0 then frames = frames_of(v.top) end
  if #frames == 0 then
    local threads = values_of(event.threads)
    if #threads == 1 and type(threads[1]) == "table" then frames = frames_of(threads[1].stacktrace) end
  end
  local default
  for i = #frames, 1, -1 do
    local f = frames[i]
    if type(f) == "table" and type(f["function"]) == "string" and not UNNAMED[f["function"]] then
      if in_app(f, event, rules) then return function_name.for_frame(f, v.platform) end
      default = default or f
    end
  end
  return default and function_name.for_frame(default, v.platform)
end

-- The exception that names the event: the one with main_id as its
-- mechanism.exception_id, else the last (Sentry's _find_main_exception).
local function main_exception(v, main_id)
  if main_id ~= nil then
    for i = 1, v.count do
      local e = v.excs[i]
      if e and type(e.raw.mechanism) == "table" and e.raw.mechanism.exception_id == main_id then return e end
    end
  end
  return v.excs[v.count]
end

-- ErrorEvent: "Type: first line of the value", the crash frame's function
-- for a synthetic exception, "<unknown>" when Relay dropped the exception.
local function error_title(event, v, rules, main_id)
  local exc = main_exception(v, main_id)
  if not exc then return "<unknown>" end
  local mech = exc.raw.mechanism
  if not (type(mech) == "table" and mech.synthetic) then
    local title = truncatechars(exc.type or "Error", TYPE_CHARS)
    -- Sentry cuts the value to 1,024 characters first: no difference to
    -- the first 100 of its first line
    if exc.value then
      title = title .. ": " .. truncatechars(first_line(exc.value:sub(1, TITLE_HEAD_BYTES)), TITLE_CHARS)
    end
    return title
  end
  return crash_function(event, v, rules) or "<unknown>"
end

local function message_text(event)
  local le = event.logentry
  if type(le) == "table" then return nonempty(le.formatted) or nonempty(le.message) end
  -- an event table that never went through normalize (specs, tools)
  local m = event.message
  if type(m) == "table" then return nonempty(m.formatted) or nonempty(m.message) end
  return nonempty(m)
end

-- DefaultEvent: the first line of the message, "<unlabeled event>" without.
local function default_title(event)
  local message = message_text(event)
  message = message and strip(message)
  if not message or message == "" then return "<unlabeled event>" end
  return truncatechars(first_line(message:sub(1, TITLE_HEAD_BYTES)), TITLE_CHARS)
end

local function title(event, v, rules, main_id)
  if v.count > 0 then return error_title(event, v, rules, main_id) end
  return default_title(event)
end

function M.title(event, rules, main_id)
  return title(event, view(event), rules or frame_rules, main_id)
end

function M.culprit(event, rules)
  return culprit(event, view(event), rules or frame_rules)
end

function M.title_and_culprit(event, rules, main_id)
  local v = view(event)
  rules = rules or frame_rules
  return title(event, v, rules, main_id), culprit(event, v, rules)
end

-- For the specs: the URL and text helpers on their own.
M._request_url, M._frame_filename, M._truncatechars, M._first_line, M._strip =
  request_url, frame_filename, truncatechars, first_line, strip

return M
