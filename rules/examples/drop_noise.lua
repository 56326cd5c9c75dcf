-- Drop well-known noise by message pattern (Lua patterns, matched against
-- the message and every exception value).
local NOISE = {
  "^ResizeObserver loop",
  "^Script error%.?$",
  "Non%-Error promise rejection captured",
  "^Network request failed$",
  "chrome%-extension://",
}

local function noisy(text)
  if type(text) ~= "string" then return false end
  for _, pattern in ipairs(NOISE) do
    if text:find(pattern) then return true end
  end
  return false
end

local function message_of(event)
  if type(event.logentry) == "table" then
    return event.logentry.formatted or event.logentry.message
  end
  if type(event.message) == "table" then return event.message.formatted or event.message.message end
  return event.message
end

return {
  filter = function(event)
    if noisy(message_of(event)) then return false end
    local values = type(event.exception) == "table" and event.exception.values
    if type(values) == "table" then
      for _, ex in ipairs(values) do
        if type(ex) == "table" and noisy(ex.value) then return false end
      end
    end
    return true
  end,
}
