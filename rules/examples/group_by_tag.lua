-- Split every issue by the value of one tag (here "tenant"): the same error
-- for two tenants becomes two issues. Events without the tag keep the
-- default grouping.
local TAG = "tenant"

-- SDKs send tags as an object or as a list of [key, value] pairs.
local function tag(event, name)
  local tags = event.tags
  if type(tags) ~= "table" then return nil end
  if type(tags[name]) == "string" then return tags[name] end
  for _, pair in ipairs(tags) do
    if type(pair) == "table" and pair[1] == name and type(pair[2]) == "string" then return pair[2] end
  end
  return nil
end

return {
  fingerprint = function(event, default)
    if tag(event, TAG) then
      return { "{{ default }}", "{{ tags." .. TAG .. " }}" }
    end
    return default
  end,
}
