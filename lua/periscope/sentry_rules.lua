--[[ periscope.sentry_rules — a project's rules in Sentry's own syntax:
fingerprint rules (periscope.fingerprint_rules, lines with `->`) and stack
trace rules (periscope.stacktrace_rules, the other lines), so a team
brings its Sentry settings as they are. The grouping applies them where
Sentry does: stack trace rules after Sentry's built-in ones (in-app and
which frames count), fingerprint rules before Sentry's built-in
fingerprints (the first matching rule replaces the event's fingerprint).

API:
  R.parse(text)  -> rules, or nil and "line N: reason"
  R.compile{ fingerprint = text, stacktrace = text, fingerprint_json = list }
                 -> rules, or nil and a reason (Sentry's two settings apart;
                    fingerprint_json is Sentry's stored form of the former)
  R.new(text | parts) -> a handle for project scripts (periscope.sentry_rules
                 in the sandbox): raises with the reason when the rules do not
                 parse; the handle shows nothing and cannot be changed
  R.unwrap(handle) -> the rules a handle stands for, or nil
A rules object is reusable: pass it to periscope.grouping.group(event,
rules). Fields: fingerprint (list), frames (the built-in stack trace rules
followed by the project's), text.
]]

local fingerprint_rules = require("periscope.fingerprint_rules")
local stacktrace_rules = require("periscope.stacktrace_rules")
local frame_rules = require("periscope.frame_rules")

local M = {}

M.MAX_TEXT = 256 * 1024

local function with_frames(project)
  if #project == 0 then return frame_rules end
  local all = {}
  for i, r in ipairs(frame_rules) do all[i] = r end
  for _, r in ipairs(project) do all[#all + 1] = r end
  return all
end

function M.compile(parts)
  if type(parts) ~= "table" then return nil, "expected a table" end
  local fp, st, err = {}, {}, nil
  for _, key in ipairs({ "fingerprint", "stacktrace" }) do
    local text = parts[key]
    if text ~= nil and (type(text) ~= "string" or #text > M.MAX_TEXT) then
      return nil, key .. " rules must be a string of at most " .. M.MAX_TEXT .. " bytes"
    end
  end
  if parts.fingerprint then
    fp, err = fingerprint_rules.parse(parts.fingerprint)
    if not fp then return nil, "fingerprint rules: " .. err end
  elseif parts.fingerprint_json then
    fp, err = fingerprint_rules.from_json(parts.fingerprint_json)
    if not fp then return nil, "fingerprint rules: " .. err end
  end
  if parts.stacktrace then
    st, err = stacktrace_rules.parse(parts.stacktrace)
    if not st then return nil, "stack trace rules: " .. err end
  end
  return { fingerprint = fp, frames = with_frames(st), text = parts }
end

function M.parse(text)
  if type(text) ~= "string" or #text > M.MAX_TEXT then
    return nil, "rules must be a string of at most " .. M.MAX_TEXT .. " bytes"
  end
  local fp, st = {}, {}
  -- each line goes to one kind, a blank line to the other, so both
  -- parsers report the line numbers of `text`
  for line in (text .. "\n"):gmatch("([^\r\n]*)[\r\n]") do
    local first = line:match("^%s*(.)")
    local is_fp = first ~= nil and first ~= "#" and line:find("->", 1, true) ~= nil
    fp[#fp + 1] = is_fp and line or ""
    st[#st + 1] = is_fp and "" or line
  end
  return M.compile({ fingerprint = table.concat(fp, "\n"), stacktrace = table.concat(st, "\n") })
end

-- Handles: operator code holds only an empty, locked table; the rules it
-- stands for live here, out of its reach.
local handles = setmetatable({}, { __mode = "k" })
local HANDLE_MT = {
  __metatable = "periscope.sentry_rules",
  __newindex = function() error("periscope.sentry_rules: rules cannot be changed", 2) end,
  __tostring = function() return "periscope.sentry_rules" end,
}

function M.new(spec)
  local rules, err
  if type(spec) == "table" then rules, err = M.compile(spec) else rules, err = M.parse(spec) end
  if not rules then error("periscope.sentry_rules: " .. err, 2) end
  local handle = setmetatable({}, HANDLE_MT)
  handles[handle] = rules
  return handle
end

function M.unwrap(handle)
  return handles[handle]
end

return M
