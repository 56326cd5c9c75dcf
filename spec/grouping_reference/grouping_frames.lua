-- The default grouping as it was before the per-frame caches and the rule
-- index (main at b9fbd4d, verbatim but for the require path and the
-- two exports at the end of grouping_frames.lua): the oracle
-- spec/grouping_cache_spec.lua compares the optimized code against.
--[[ periscope.grouping_frames — the per-frame half of the default grouping
(periscope.grouping): Sentry's frame rules engine, the values one frame
contributes, title and culprit, and fingerprint variables. ]]

local M = {}

local FAMILY = { javascript = "javascript", node = "javascript", objc = "native",
  cocoa = "native", swift = "native", native = "native", c = "native" }
local CONTEXT_LINE_PLATFORMS = { javascript = true, node = true, python = true, php = true, ruby = true }

local function str(s) return type(s) == "string" and s or nil end
local function family(platform) return FAMILY[platform or ""] or "other" end

-- Globs: `**` any text, `*` any text (within one segment for paths), `?`
-- one character. Compiled once into anchored Lua patterns.
local function glob_pattern(pattern, is_path)
  local star = is_path and "[^/]*" or ".*"
  if is_path then pattern = pattern:lower() end
  return "^" .. pattern:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*%*", "\1"):gsub("%*", star)
    :gsub("%?", is_path and "[^/]" or "."):gsub("\1", ".*") .. "$"
end

local GLOB_FIELDS = { module = false, func = false, package = true, abs_path = true, path = true }

local compiled = setmetatable({}, { __mode = "k" })
local function compile(m)
  if not m then return nil end
  local c = compiled[m]
  if not c then
    c = { category = m.category, not_category = m.not_category, family = m.family }
    for field, is_path in pairs(GLOB_FIELDS) do
      if m[field] then c[field] = glob_pattern(m[field], is_path) end
    end
    compiled[m] = c
  end
  return c
end

local function has(value, pattern)
  return value ~= nil and value:find(pattern) ~= nil
end

-- Path values (f.*_l) are lower-cased with forward slashes once per frame.
local function matches(m, f, st)
  if not m then return true end
  if m.category and st.category ~= m.category then return false end
  if m.not_category and st.category == m.not_category then return false end
  if m.family and m.family ~= f.family then return false end
  if m.module and not has(f.module, m.module) then return false end
  if m.func and not has(f.func, m.func) then return false end
  if m.package and not has(f.package_l, m.package) then return false end
  if m.abs_path and not has(f.abs_path_l, m.abs_path) then return false end
  if m.path and not (has(f.abs_path_l, m.path) or has(f.filename_l, m.path)) then return false end
  return true
end

-- Runs the rules over a stack (outermost frame first). Each rule first finds
-- every matching frame, then applies its actions. Returns per-frame state.
local function run_rules(frames, rules)
  local state = {}
  for i, f in ipairs(frames) do state[i] = { in_app = f.in_app == true, group = true } end
  local hits = {}
  for _, r in ipairs(rules) do
    local nhits = 0
    local match, caller, callee = compile(r.match), compile(r.caller), compile(r.callee)
    for i, f in ipairs(frames) do
      if matches(match, f, state[i])
        and (not caller or (i > 1 and matches(caller, frames[i - 1], state[i - 1])))
        and (not callee or (i < #frames and matches(callee, frames[i + 1], state[i + 1]))) then
        nhits = nhits + 1
        hits[nhits] = i
      end
    end
    local s = r.set
    for h = 1, nhits do
      local i = hits[h]
      if s.category then state[i].category = s.category end
      if s.app ~= nil then state[i].in_app = s.app end
      if s.group ~= nil then state[i].group = s.group end
      for j = i + 1, #frames do
        if s.app_up ~= nil then state[j].in_app = s.app_up end
        if s.group_up ~= nil then state[j].group = s.group_up end
      end
      for j = 1, i - 1 do
        if s.app_down ~= nil then state[j].in_app = s.app_down end
        if s.group_down ~= nil then state[j].group = s.group_down end
      end
    end
  end
  return state
end

-- The same stacks recur (that is what an issue is), so rule results are
-- memoized per stack shape; the cache is dropped whole when it fills.
local RULE_CACHE_MAX = 4096
local rule_cache, rule_cache_n = {}, 0
local function apply_rules(frames, rules)
  local parts = {}
  for i, f in ipairs(frames) do
    parts[i] = (f.platform or "") .. "\0" .. (f.module or "") .. "\0" .. (f.func or "") .. "\0"
      .. (f.abs_path_l or "") .. "\0" .. (f.filename_l or "") .. "\0" .. (f.package_l or "")
      .. "\0" .. tostring(f.in_app)
  end
  local key = table.concat(parts, "\1")
  local per_rules = rule_cache[rules]
  if not per_rules or rule_cache_n >= RULE_CACHE_MAX then
    rule_cache, rule_cache_n = { [rules] = {} }, 0
    per_rules = rule_cache[rules]
  end
  local state = per_rules[key]
  if not state then
    state = run_rules(frames, rules)
    per_rules[key] = state
    rule_cache_n = rule_cache_n + 1
  end
  return state
end

local function has_url_origin(path, files_count_as_urls)
  if not path then return false end
  if path:find("^https?:") or path:find("^blob:") or path:find("^applewebdata:") then return true end
  return files_count_as_urls and path:find("^file:") ~= nil
end

-- Java code generation markers Sentry strips from modules.
local JAVA_MODULE_SUBS = {
  { "(sun%.reflect%.GeneratedSerializationConstructorAccessor)%d+", "%1<auto>" },
  { "(sun%.reflect%.GeneratedConstructorAccessor)%d+", "%1<auto>" },
  { "(%$%$[%w_][%w_]-CGLIB%$%$)%x+_%d+", "%1<auto>" },
  { "(%$%$[%w_][%w_]-CGLIB%$%$)%x+", "%1<auto>" },
  { "(%$fn__)%d+", "%1<auto>" },
  { "(%$%$?EnhancerBy[%w_][%w_]-%$%$?)%x+_%d+", "%1<auto>" },
  { "(%$%$?EnhancerBy[%w_][%w_]-%$%$?)%x+", "%1<auto>" },
  { "(%$%$?FastClassBy[%w_][%w_]-%$%$?)%x+_%d+", "%1<auto>" },
  { "(%$%$?FastClassBy[%w_][%w_]-%$%$?)%x+", "%1<auto>" },
  { "(%$%$?HibernateProxy%$%$?)[%w_]+", "%1<auto>" },
}

-- (\$\$_javassist)(?:_seam)?(?:_[0-9]+)? -> \1<auto>: mark each match with a
-- sentinel first so a replacement is never matched again.
local function javassist(s)
  s = s:gsub("%$%$_javassist", "\0J")
  for _, p in ipairs({ "\0J_seam_%d+", "\0J_seam", "\0J_%d+", "\0J" }) do
    s = s:gsub(p, "$$$$_javassist<auto>")
  end
  return s
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
      m = javassist(m)
    end
    if lambda then return nil end
  end
  return m
end

local function filename_value(f)
  if not f.filename then return nil end
  local name = (f.filename:match("([^/\\]*)$") or f.filename):lower()
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
    if func:sub(1, 15) == "class@anonymous" then return func:match("::([^:]*)$") or func end
  elseif p == "java" then
    if func:sub(1, 7) == "lambda$" then return nil end
  elseif fam == "native" then
    if func == "<redacted>" or func == "<unknown>" then return nil end
  elseif fam == "javascript" then
    if f.sourcemap and context_line_contributes then return nil end
    return func:match("([^.]*)$")
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
  if raw and CONTEXT_LINE_PLATFORMS[f.platform] then
    local words = {}
    for w in raw:gmatch("%S+") do words[#words + 1] = w end
    line = table.concat(words, " ")
    if line == "" or utf8.len(raw) and utf8.len(raw) > 120 or #raw > 480
      or (f.family == "javascript" and not f.func and has_url_origin(f.abs_path, true)) then
      line = nil
    end
  end
  local func = function_value(f, line ~= nil)
  if f.family == "javascript" then
    local short = (f.raw_function or f.func or ""):match("([^.]*)$")
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

local RECURSION_FIELDS = { "abs_path", "package", "module", "filename", "function", "lineno", "colno" }

local function path_key(s)
  return s and (s:lower():gsub("\\", "/")) or nil
end

local function view(raw, event)
  local data = type(raw.data) == "table" and raw.data or {}
  local platform = str(raw.platform) or str(event.platform)
  local filename, line = str(raw.filename), str(raw.context_line)
  if platform == "javascript" and filename then
    local q = filename:match("%?([^#]*)")
    if q and q ~= "" then
      local at = filename:find("?" .. q, 1, true)
      filename = filename:sub(1, at - 1) .. filename:sub(at + 1 + #q)
    end
  end
  if platform == "python" and line and str(raw.module) == "__main__" and filename == "<string>"
    and str(raw["function"]) == "<module>"
    and (line:find("^from multiprocessing%.spawn import spawn_main; spawn_main%(tracker_fd=%d+, pipe_handle=%d+%)")
      or line:find("^from multiprocessing%.spawn import spawn_main; spawn_main%(parent_pid=%d+, pipe_handle=%d+%)")) then
    line = line:gsub("=%d+", "=<int>")
  end
  return {
    abs_path_l = path_key(str(raw.abs_path)), filename_l = path_key(filename),
    package_l = path_key(str(raw.package)),
    platform = platform, family = family(platform),
    module = str(raw.module), filename = filename, abs_path = str(raw.abs_path),
    package = str(raw.package), func = str(raw["function"]), raw_function = str(raw.raw_function),
    context_line = line, in_app = raw.in_app, sourcemap = data.sourcemap ~= nil,
  }
end

-- A stack trace's contributing values per variant: { app = {...}, system = {...} }.
function M.stacktrace_variants(raw_frames, event, rules)
  local frames = {}
  for _, raw in ipairs(raw_frames) do
    if type(raw) == "table" then frames[#frames + 1] = raw end
  end
  local views = {}
  for i, raw in ipairs(frames) do views[i] = view(raw, event) end
  local state = apply_rules(views, rules)
  local app, system = {}, {}
  local per_frame = {}
  for i, raw in ipairs(frames) do
    local vals = frame_values(views[i])
    if i > 1 then
      local same = true
      for _, k in ipairs(RECURSION_FIELDS) do
        if raw[k] ~= frames[i - 1][k] then same = false break end
      end
      if same then vals = {} end
    end
    per_frame[i] = vals
  end
  if #frames == 1 and #per_frame[1] > 0 and views[1].family == "javascript" and not views[1].func
    and not has_url_origin(views[1].abs_path, true) then
    per_frame[1] = {}
  end
  for i = 1, #frames do
    if state[i].group then
      for _, v in ipairs(per_frame[i]) do
        system[#system + 1] = v
        if state[i].in_app then app[#app + 1] = v end
      end
    end
  end
  return { app = app, system = system }
end

local function truncate(s, n)
  if utf8.len(s) and utf8.len(s) > n then
    return s:sub(1, utf8.offset(s, n - 2) - 1) .. "..."
  end
  return s
end

local function first_line(s)
  return s:match("^[^\n\r]*") or s
end

local function values_of(x)
  if type(x) ~= "table" then return {} end
  return type(x.values) == "table" and x.values or x
end

local function crash_frame(event)
  local excs = values_of(event.exception)
  local last = excs[#excs]
  local frames = type(last) == "table" and type(last.stacktrace) == "table" and values_of(last.stacktrace.frames)
  if not frames or #frames == 0 then
    frames = type(event.stacktrace) == "table" and values_of(event.stacktrace.frames) or {}
  end
  if #frames == 0 then
    local threads = values_of(event.threads)
    if #threads == 1 and type(threads[1].stacktrace) == "table" then frames = values_of(threads[1].stacktrace.frames) end
  end
  local default
  for i = #frames, 1, -1 do
    local f = frames[i]
    if type(f) == "table" then
      if f.in_app == true then return f end
      default = default or f
    end
  end
  return default
end
M.crash_frame = crash_frame

local function frame_culprit(f, platform)
  platform = str(f.platform) or platform
  if platform == "objc" or platform == "cocoa" or platform == "native" then return str(f["function"]) or "?" end
  local loc = str(f.module) or str(f.filename)
  if not loc or loc == "" then return "" end
  if platform == "javascript" or platform == "node" then
    return (str(f["function"]) or "?") .. "(" .. loc .. ")"
  end
  return loc .. " in " .. (str(f["function"]) or "?")
end

local function culprit(event)
  if str(event.culprit) and event.culprit ~= "" then return event.culprit end
  if str(event.transaction) and event.transaction ~= "" then return event.transaction end
  local excs = values_of(event.exception)
  local stack
  if #excs > 0 then
    local last = excs[#excs]
    if type(last) == "table" and type(last.mechanism) == "table" and last.mechanism.synthetic then return "" end
    for _, e in ipairs(excs) do
      if type(e) == "table" and type(e.stacktrace) == "table" and #values_of(e.stacktrace.frames) > 0 then
        stack = e.stacktrace
      end
    end
  elseif type(event.stacktrace) == "table" and #values_of(event.stacktrace.frames) > 0 then
    stack = event.stacktrace
  end
  local result
  if stack then
    local frames, default = values_of(stack.frames), nil
    for i = #frames, 1, -1 do
      local f = frames[i]
      if type(f) == "table" then
        if f.in_app == true then
          local c = frame_culprit(f, str(event.platform))
          if c ~= "" then result = c break end
        elseif default == nil then
          default = frame_culprit(f, str(event.platform))
        end
      end
    end
    result = result or default
  end
  if (not result or result == "") and type(event.request) == "table" then result = str(event.request.url) end
  return truncate(result or "", 200)
end

-- As Relay formats a logentry without `formatted`: %-style placeholders
-- take the params in order.
local function format_logentry(le)
  local template, params = str(le.message), le.params
  if not template or type(params) ~= "table" or #params == 0 then return nil end
  local i = 0
  return (template:gsub("%%[-#0 +]*%d*%.?%d*[sdifrx%%]", function(spec)
    if spec == "%%" then return "%" end
    i = i + 1
    return params[i] ~= nil and tostring(params[i]) or spec
  end))
end

function M.title_and_culprit(event, raw_message)
  local excs = values_of(event.exception)
  local main = excs[#excs]
  local title
  local le = type(event.logentry) == "table" and event.logentry or {}
  local message = str(le.formatted) or format_logentry(le) or raw_message(event)
  if type(main) == "table" and not (type(main.mechanism) == "table" and main.mechanism.synthetic) then
    title = (str(main.type) and main.type ~= "") and main.type or "Error"
    local value = str(main.value)
    if value and value ~= "" then title = title .. ": " .. truncate(first_line(value), 100) end
  elseif message and message:find("%S") then
    title = truncate(first_line(message:match("^%s*(.-)%s*$")), 100)
  else
    title = "<unlabeled event>"
  end
  return title, culprit(event)
end

-- {{ variable }} parsing as Sentry: the whole entry, \S+ inside.
local function variable(entry)
  if type(entry) ~= "string" then return nil end
  return entry:match("^{{%s*(%S+)%s*}}$")
end

function M.is_default_only(fp)
  return #fp == 1 and variable(fp[1]) == "default"
end

local function tag_value(event, name)
  local tags = event.tags
  if type(tags) ~= "table" then return nil end
  if #tags > 0 then
    for _, pair in ipairs(tags) do
      if type(pair) == "table" and pair[1] == name and pair[2] ~= nil then return tostring(pair[2]) end
    end
    return nil
  end
  local v = tags[name]
  return v ~= nil and tostring(v) or nil
end

local function resolve(var, event)
  local excs = values_of(event.exception)
  local last = type(excs[#excs]) == "table" and excs[#excs] or {}
  local le = type(event.logentry) == "table" and event.logentry or {}
  local function nz(v) return (type(v) == "string" and v ~= "") and v or nil end
  if var == "transaction" then return nz(event.transaction) or "<no-transaction>"
  elseif var == "message" then
    return nz(le.formatted) or nz(le.message) or nz(last.value) or "<no-message>"
  elseif var == "type" or var == "error.type" then return nz(last.type) or "<no-type>"
  elseif var == "value" or var == "error.value" then return nz(last.value) or "<no-value>"
  elseif var == "function" or var == "stack.function" then
    local f = crash_frame(event) or {}
    return nz(f["function"]) or "<no-function>"
  elseif var == "path" or var == "stack.abs_path" then
    local f = crash_frame(event) or {}
    return nz(f.abs_path) or nz(f.filename) or "<no-abs-path>"
  elseif var == "stack.filename" then
    local f = crash_frame(event) or {}
    return nz(f.filename) or nz(f.abs_path) or "<no-filename>"
  elseif var == "module" or var == "stack.module" then
    local f = crash_frame(event) or {}
    return nz(f.module) or "<no-module>"
  elseif var == "package" or var == "stack.package" then
    local f = crash_frame(event) or {}
    local pkg = nz(f.package)
    return pkg and pkg:match("([^/\\]*)$") ~= "" and pkg:match("([^/\\]*)$") or "<no-package>"
  elseif var == "level" then return nz(event.level) or "<no-level>"
  elseif var == "logger" then return nz(event.logger) or "<no-logger>"
  elseif var:sub(1, 5) == "tags." then
    return tag_value(event, var:sub(6)) or ("<no-value-for-tag-" .. var:sub(6) .. ">")
  end
  return "<unrecognized-variable-" .. var .. ">"
end

-- Sentry: a fingerprint without {{ default }} is hashed as resolved; with
-- it, the default values are spliced in -- and when the default grouping
-- contributes nothing the event falls back (empty list).
function M.expand_fingerprint(event, fp, default_components)
  local out, hybrid = {}, false
  for _, entry in ipairs(fp) do
    local var = variable(entry)
    if var == "default" then
      hybrid = true
      for _, v in ipairs(default_components) do out[#out + 1] = v end
    elseif var then
      out[#out + 1] = resolve(var, event)
    else
      out[#out + 1] = tostring(entry)
    end
  end
  if hybrid and #default_components == 0 then return {} end
  return out
end

-- For the oracle spec: the rule engine and frame view.
M.run_rules, M.view = run_rules, view

return M
