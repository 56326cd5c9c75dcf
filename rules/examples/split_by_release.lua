-- A new issue per release: the same error in 2.0 after 1.9 is a new issue,
-- so every release's errors can be triaged on their own.
return {
  fingerprint = function(event, default)
    local release = type(event.release) == "string" and event.release ~= "" and event.release
    if not release then return default end
    local out = { "release:" .. release }
    for i, c in ipairs(default) do out[i + 1] = c end
    return out
  end,
}
