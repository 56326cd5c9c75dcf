--[[ periscope.grouping_frames — title, culprit and fingerprint variables
of the default grouping (periscope.grouping); the stack trace half is
periscope.grouping_stack. ]]

local text = require("periscope.text")

local M = {}

local function str(s) return type(s) == "string" and s or nil end

local function truncate(s, n)
  if #s <= n then return s end -- never more characters than bytes
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
-- take the params in order. Each spec is %, then [-#0 +]*%d*%.?%d* and one
-- of sdifrx%: scanned once (the pattern backtracks over long flag runs).
local function spec_body_ok(body)
  local p = body:match("^[-#0 +]*()")
  p = body:match("^%d*()", p)
  if body:sub(p, p) == "." then p = body:match("^%d*()", p + 1) end
  return p == #body + 1
end

local function format_logentry(le)
  local template, params = str(le.message), le.params
  if not template or type(params) ~= "table" or #params == 0 then return nil end
  local out, i, pos = {}, 0, 1
  while true do
    local pct = template:find("%", pos, true)
    if not pct then break end
    local conv_at = template:find("[^-#0 +%d.]", pct + 1) or #template + 1
    local conv = template:sub(conv_at, conv_at)
    if conv ~= "" and ("sdifrx%"):find(conv, 1, true) and spec_body_ok(template:sub(pct + 1, conv_at - 1)) then
      local spec = template:sub(pct, conv_at)
      out[#out + 1] = template:sub(pos, pct - 1)
      if spec == "%%" then
        out[#out + 1] = "%"
      else
        i = i + 1
        out[#out + 1] = params[i] ~= nil and tostring(params[i]) or spec
      end
      pos = conv_at + 1
    else
      out[#out + 1] = template:sub(pos, pct)
      pos = pct + 1
    end
  end
  out[#out + 1] = template:sub(pos)
  return table.concat(out)
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
    title = truncate(first_line(text.trim(message)), 100)
  else
    title = "<unlabeled event>"
  end
  return title, culprit(event)
end

-- {{ variable }} parsing as Sentry: the whole entry, \S+ inside.
local function variable(entry)
  if type(entry) ~= "string" or entry:sub(1, 2) ~= "{{" or entry:sub(-2) ~= "}}" then return nil end
  local inner = text.trim(entry:sub(3, -3))
  if inner == "" or inner:find("%s") then return nil end
  return inner
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
    local base = pkg and text.after_last(pkg, "[/\\]")
    return base and base ~= "" and base or "<no-package>"
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

M.resolve_variable = resolve

return M
