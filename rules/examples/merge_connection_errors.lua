-- One issue for every "cannot reach a dependency" error, whatever the
-- language or the stack it was raised from.
local CONNECTION_TYPES = {
  ConnectionError = true, ConnectionRefusedError = true, ConnectionResetError = true,
  ["requests.exceptions.ConnectionError"] = true, ["java.net.ConnectException"] = true,
  ["System.Net.Sockets.SocketException"] = true, ["Errno::ECONNREFUSED"] = true,
}
local CONNECTION_VALUES = { "ECONNREFUSED", "ECONNRESET", "connection refused", "connection reset" }

local function is_connection_error(ex)
  if type(ex) ~= "table" then return false end
  if CONNECTION_TYPES[ex.type] then return true end
  local value = type(ex.value) == "string" and ex.value:lower() or ""
  for _, needle in ipairs(CONNECTION_VALUES) do
    if value:find(needle:lower(), 1, true) then return true end
  end
  return false
end

return {
  fingerprint = function(event, default)
    local values = type(event.exception) == "table" and event.exception.values
    if type(values) == "table" then
      for _, ex in ipairs(values) do
        if is_connection_error(ex) then return { "connection-error" } end
      end
    end
    return default
  end,
}
