--[[ periscope.grouping_frames — the crash frame and the fingerprint
variables of the default grouping (periscope.grouping); the stack trace half
is periscope.grouping_stack, title and culprit are periscope.metadata. ]]

local text = require("periscope.text")

local M = {}

local function str(s) return type(s) == "string" and s or nil end

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
