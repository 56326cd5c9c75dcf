--[[ periscope.metadata — an event's title and culprit, as the issue list,
notifications and the API show them (periscope.grouping returns them with
the components). ]]

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

return M
