-- Drop everything sent from developer machines and CI.
local DROPPED = { development = true, dev = true, ["local"] = true, ci = true }

return {
  filter = function(event)
    local env = type(event.environment) == "string" and event.environment:lower() or nil
    return not (env and DROPPED[env])
  end,
}
