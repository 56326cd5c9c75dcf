--[[ periscope.fingerprint_rules — Sentry's server-side fingerprint rules:
the project's (Sentry's "Fingerprint Rules" setting) and the built-in ones
of the newstyle:2026-01-20 config (fingerprinting base javascript@2024-02-02,
e.g. ChunkLoadError -> chunkloaderror).

Syntax, one rule a line (`#` starts a comment line):
  [!]matcher:pattern ... -> fingerprint part, part ... [title="..."]
Matchers: error.type (type), error.value (value), message, logger, level,
tags.NAME, sdk, family, app, release, stack.module (module),
stack.abs_path (path), stack.package (package), stack.function (function);
`[ matcher:pattern ] |` before the frame matchers tests the next frame of
the event's list (Sentry's "caller"), `| [ matcher:pattern ]` after them
the previous one (its "callee"). Patterns are globs (periscope.sentry_glob);
quote them ("...", with \ escapes) when they hold spaces. All frame
matchers must hold for the same frame; every other kind for some value of
its kind (one of the exceptions, the message or an exception value, ...).
The first matching rule wins, the project's before the built-in ones.

API:
  F.parse(text)        -> rules, or nil and "line N: reason"
  F.from_json(list)    -> rules, or nil and a reason; list of Sentry's stored
                          form { matchers = {{key, pattern}}, fingerprint = {...},
                          attributes = { title = ... } }
  F.BUILTIN            -> the built-in rules
  F.match(event, rules) -> nil, or { fingerprint = {...}, title = string|nil,
                          builtin = bool, text = the rule } for the first rule
                          of `rules` (may be nil), then F.BUILTIN, that holds
]]

local glob = require("periscope.sentry_glob")
local linear = require("periscope.text")

local M = {}

local KEYS = {
  ["error.type"] = "type", ["error.value"] = "value", ["stack.module"] = "module",
  ["stack.abs_path"] = "path", ["stack.package"] = "package", ["stack.function"] = "function",
  message = "message", logger = "logger", level = "level", type = "type", value = "value",
  module = "module", path = "path", package = "package", ["function"] = "function",
  family = "family", app = "app", sdk = "sdk", release = "release",
}

local KIND = {
  message = "toplevel", logger = "log_info", level = "log_info", type = "exceptions",
  value = "exceptions", sdk = "sdk", family = "family", release = "release",
}

local function kind_of(key)
  if key:sub(1, 5) == "tags." then return "tags" end
  return KIND[key] or "frames"
end

local function bool_from_string(s)
  s = s:lower()
  if s == "1" or s == "yes" or s == "true" then return true end
  if s == "0" or s == "no" or s == "false" then return false end
  return nil
end

local function new_matcher(key, pattern, negated, position)
  local k = key:sub(1, 5) == "tags." and key or KEYS[key]
  if not k then return nil, "unknown matcher '" .. key .. "'" end
  local m = { key = k, pattern = pattern, negated = negated, kind = kind_of(k), position = position }
  if k == "path" or k == "package" or k == "release" then
    m.glob = glob.compile(pattern, { ignorecase = true, path = true })
  elseif k == "family" or k == "sdk" then
    m.flags = {}
    for flag in pattern:gmatch("[^,]+") do m.flags[flag] = true end
  elseif k == "app" then
    m.bool = bool_from_string(pattern)
  else
    local ic = k == "message" or k == "level" or k == "value"
    m.glob = glob.compile(pattern, { ignorecase = ic })
  end
  if position then m.kind = "frames" end
  return m
end

local function path_match(m, v)
  if type(v) ~= "string" then return false end
  if glob.match(m.glob, v) then return true end
  return v:sub(1, 1) ~= "/" and glob.match(m.glob, "/" .. v)
end

local function positive(m, values)
  local k = m.key
  if k == "path" then
    local a, f = values.abs_path, values.filename
    return path_match(m, a) or (f ~= a and path_match(m, f))
  elseif k == "message" then
    return glob.match(m.glob, values.message) or glob.match(m.glob, values.value)
  end
  local v = values[k]
  if v == nil then return false end
  if k == "package" or k == "release" then return path_match(m, v) end
  if k == "family" or k == "sdk" then return m.flags.all == true or m.flags[v] == true end
  if k == "app" then return v == m.bool end
  return glob.match(m.glob, v)
end

local function holds(m, values)
  return positive(m, values) ~= m.negated
end

-- What the matchers read of the event, gathered once per event and kind.
local function str(s) return type(s) == "string" and s or nil end
local function strip(s) return s and linear.trim(s) end -- ^%s*(.-)%s*$ is quadratic
local function list_of(x)
  if type(x) ~= "table" then return {} end
  return type(x.values) == "table" and x.values or x
end

local FAMILY = { javascript = "javascript", node = "javascript", objc = "native", cocoa = "native",
  swift = "native", native = "native", c = "native" }

local gather = {}

function gather.toplevel(ev, d)
  local out = {}
  for _, m in ipairs(d:values("messages")) do out[#out + 1] = m end
  for _, e in ipairs(d:values("exceptions")) do out[#out + 1] = e end
  return out
end

function gather.messages(ev)
  local le = type(ev.logentry) == "table" and ev.logentry or {}
  local msg = str(le.formatted) or str(le.message)
  if not msg then
    local m = ev.message
    msg = str(m) or (type(m) == "table" and (str(m.formatted) or str(m.message))) or nil
  end
  msg = strip(msg)
  return (msg and msg ~= "") and { { message = msg } } or {}
end

function gather.log_info(ev)
  local info = { logger = str(ev.logger), level = str(ev.level) }
  if info.logger == "" then info.logger = nil end
  if info.level == "" then info.level = nil end
  return (info.logger or info.level) and { info } or {}
end

function gather.exceptions(ev)
  local out = {}
  for _, e in ipairs(list_of(ev.exception)) do
    if type(e) == "table" then
      local v = str(e.value)
      out[#out + 1] = { type = str(e.type), value = (v and v ~= "") and strip(v) or nil }
    end
  end
  return out
end

function gather.frames(ev)
  local out = {}
  local function push(st)
    if type(st) ~= "table" then return end
    for _, f in ipairs(list_of(st.frames)) do
      if type(f) == "table" then
        local abs, file = str(f.abs_path), str(f.filename)
        out[#out + 1] = {
          ["function"] = str(f["function"]) or str(f.raw_function) or "<unknown>",
          abs_path = (abs and abs ~= "") and abs or file, filename = file,
          module = str(f.module), package = str(f.package),
          app = type(f.in_app) == "boolean" and f.in_app or nil,
        }
      end
    end
  end
  for _, e in ipairs(list_of(ev.exception)) do
    if type(e) == "table" then push(e.stacktrace) end
  end
  push(ev.stacktrace)
  for _, t in ipairs(list_of(ev.threads)) do
    if type(t) == "table" then push(t.stacktrace) end
  end
  return out
end

function gather.tags(ev)
  local tags, out = ev.tags, {}
  if type(tags) == "table" then
    if #tags > 0 then
      for _, pair in ipairs(tags) do
        if type(pair) == "table" and type(pair[1]) == "string" and pair[2] ~= nil then
          out["tags." .. pair[1]] = strip(tostring(pair[2]))
        end
      end
    else
      for k, v in pairs(tags) do
        if type(k) == "string" and (type(v) == "string" or type(v) == "number") then
          out["tags." .. k] = strip(tostring(v))
        end
      end
    end
  end
  return { out }
end

function gather.sdk(ev)
  local sdk = type(ev.sdk) == "table" and str(ev.sdk.name) or nil
  return { { sdk = sdk or "other" } }
end

function gather.family(ev)
  return { { family = FAMILY[str(ev.platform) or ""] or "other" } }
end

function gather.release(ev)
  return { { release = strip(str(ev.release)) } }
end

local Datastore = {}
Datastore.__index = Datastore
function Datastore:values(kind)
  local v = self.cache[kind]
  if not v then
    v = gather[kind](self.event, self)
    self.cache[kind] = v
  end
  return v
end

-- Frame matchers with a caller ([ ... ] |) or callee (| [ ... ]). As in
-- Sentry's fingerprinting (matchers.py), the "caller" is the next frame in
-- the event's list and the "callee" the previous one.
local function frames_hold(matchers, frames)
  for i, f in ipairs(frames) do
    local ok = true
    for _, m in ipairs(matchers) do
      local target = f
      if m.position == "caller" then target = frames[i + 1]
      elseif m.position == "callee" then target = frames[i - 1] end
      if not target or not holds(m, target) then ok = false break end
    end
    if ok then return true end
  end
  return false
end

local function rule_holds(rule, d)
  for _, group in ipairs(rule.groups) do
    local kind, matchers = group.kind, group.matchers
    local found = false
    if kind == "frames" and rule.sibling then
      found = frames_hold(matchers, d:values("frames"))
    else
      for _, values in ipairs(d:values(kind)) do
        local all = true
        for _, m in ipairs(matchers) do
          if not holds(m, values) then all = false break end
        end
        if all then found = true break end
      end
    end
    if not found then return false end
  end
  return true
end

-- Cheap kinds first (the outcome does not depend on the order).
local KIND_ORDER = { family = 1, sdk = 2, release = 3, log_info = 4, tags = 5, exceptions = 6,
  toplevel = 7, frames = 8 }

local function new_rule(matchers, fingerprint, title, text, builtin)
  local by_kind, groups, sibling = {}, {}, false
  for _, m in ipairs(matchers) do
    if m.position then sibling = true end
    local g = by_kind[m.kind]
    if not g then
      g = { kind = m.kind, matchers = {} }
      by_kind[m.kind] = g
      groups[#groups + 1] = g
    end
    g.matchers[#g.matchers + 1] = m
  end
  table.sort(groups, function(a, b) return KIND_ORDER[a.kind] < KIND_ORDER[b.kind] end)
  -- a positive family matcher, tested on the platform before anything else
  local families
  for _, m in ipairs(matchers) do
    if m.key == "family" and not m.negated and not m.flags.all then families = m.flags end
  end
  return { groups = groups, sibling = sibling, fingerprint = fingerprint, title = title,
    text = text, builtin = builtin == true, families = families }
end

local syntax = require("periscope.rule_syntax")
local quoted, frame_matcher, bracketed = syntax.quoted, syntax.matcher, syntax.bracketed
local function skip_spaces(line, i)
  return line:match("^ *()", i)
end

local function parse_line(line)
  local i = skip_spaces(line, 1)
  if i > #line or line:sub(i, i) == "#" then return nil end
  local raw = {}
  -- [ caller ] |
  local m, j = bracketed(line, i)
  if m then
    j = skip_spaces(line, j)
    if line:sub(j, j) ~= "|" then return nil, "expected '|' after the caller matcher" end
    m.position = "caller"
    raw[#raw + 1] = m
    i = j + 1
  end
  while true do
    local fm, after = frame_matcher(line, i)
    if not fm then break end
    raw[#raw + 1] = fm
    i = after
  end
  local k = skip_spaces(line, i)
  if line:sub(k, k) == "|" then
    local cm, after = bracketed(line, k + 1)
    if not cm then return nil, "expected '[ matcher ]' after '|'" end
    cm.position = "callee"
    raw[#raw + 1] = cm
    i = after
  end
  if #raw == 0 or (#raw == 1 and raw[1].position) then return nil, "expected a matcher (key:pattern)" end
  i = skip_spaces(line, i)
  if line:sub(i, i + 1) ~= "->" then return nil, "expected '->' after the matchers" end
  i = i + 2
  local fingerprint, title = {}, nil
  while true do
    i = skip_spaces(line, i)
    if i > #line then break end
    local key, after = line:match("^([%w_%.%-]+)=()", i)
    local value, next_i
    if key then
      value, next_i = quoted(line, after)
      if not value then return nil, "attribute '" .. key .. "' needs a quoted value" end
      if key ~= "title" then return nil, "unknown attribute '" .. key .. "'" end
      title = value
    else
      value, next_i = quoted(line, i)
      if not value then
        value, next_i = line:match("^({{%s*%S-%s*}})()", i)
        if not value then value, next_i = line:match("^([^%s{,]+)()", i) end
      end
      if not value then return nil, "unexpected '" .. line:sub(i, i + 15) .. "'" end
      if value:match("^{{%s*default%s*}}$") then value = "{{ default }}" end
      fingerprint[#fingerprint + 1] = value
    end
    i = skip_spaces(line, next_i)
    if line:sub(i, i) == "," then i = i + 1 end
  end
  if #fingerprint == 0 then return nil, "expected a fingerprint after '->'" end
  local matchers = {}
  for _, r in ipairs(raw) do
    local mm, err = new_matcher(r.key, r.pattern, r.negated, r.position)
    if not mm then return nil, err end
    matchers[#matchers + 1] = mm
  end
  return new_rule(matchers, fingerprint, title, linear.trim(line))
end

M.MAX_RULES = 1000
M.MAX_LINE = 4096

function M.parse(text, builtin)
  local rules, err = syntax.parse_lines(text, parse_line, { max_line = M.MAX_LINE, max_rules = M.MAX_RULES })
  if not rules then return nil, err end
  for _, rule in ipairs(rules) do rule.builtin = builtin == true end
  return rules
end

function M.from_json(list)
  if type(list) ~= "table" then return nil, "rules must be a list" end
  local rules = {}
  for n, r in ipairs(list) do
    if type(r) ~= "table" or type(r.matchers) ~= "table" or type(r.fingerprint) ~= "table" then
      return nil, ("rule %d: needs matchers and fingerprint"):format(n)
    end
    local matchers = {}
    for _, pair in ipairs(r.matchers) do
      local key, pattern = pair[1], pair[2]
      if type(key) ~= "string" or type(pattern) ~= "string" then return nil, ("rule %d: bad matcher"):format(n) end
      local negated = key:sub(1, 1) == "!"
      local m, err = new_matcher(key:gsub("^!+", ""), pattern, negated)
      if not m then return nil, ("rule %d: %s"):format(n, err) end
      matchers[#matchers + 1] = m
    end
    local attrs = type(r.attributes) == "table" and r.attributes or {}
    rules[#rules + 1] = new_rule(matchers, r.fingerprint, str(attrs.title), str(r.text), r.is_builtin == true)
  end
  return rules
end

M.BUILTIN = assert(M.parse([[
# javascript@2024-02-02/001_chunkload_errors.txt
family:javascript error.type:"ChunkLoadError" -> chunkloaderror
family:javascript error.value:"ChunkLoadError*" -> chunkloaderror
# javascript@2024-02-02/002_hydration_errors.txt
family:javascript tags.transaction:"*" message:"Hydration failed because the initial UI does not match what was rendered on the server." -> hydrationerror, {{tags.transaction}}
family:javascript tags.transaction:"*" message:"The server could not finish this Suspense boundary, likely due to an error during server rendering. Switched to client rendering." -> hydrationerror, {{tags.transaction}}
family:javascript tags.transaction:"*" message:"There was an error while hydrating this Suspense boundary. Switched to client rendering." -> hydrationerror, {{tags.transaction}}
family:javascript tags.transaction:"*" message:"There was an error while hydrating. Because the error happened outside of a Suspense boundary, the entire root will switch to client rendering." -> hydrationerror, {{tags.transaction}}
family:javascript tags.transaction:"*" message:"Text content does not match server-rendered HTML." -> hydrationerror, {{tags.transaction}}
]], true))

-- The datastore `d` is made on the first rule whose family gate passes
-- (Sentry's built-in rules are all JavaScript ones: other events never
-- build it).
local function first_match(rules, event, family, d)
  for i = 1, #rules do
    local rule = rules[i]
    if not rule.families or rule.families[family] then
      d = d or setmetatable({ event = event, cache = {} }, Datastore)
      if rule_holds(rule, d) then return rule, d end
    end
  end
  return nil, d
end

function M.match(event, rules)
  local p = event.platform
  local family = FAMILY[type(p) == "string" and p or ""] or "other"
  local rule, d
  if rules and #rules > 0 then rule, d = first_match(rules, event, family, nil) end
  if not rule then rule = first_match(M.BUILTIN, event, family, d) end
  if not rule then return nil end
  return { fingerprint = rule.fingerprint, title = rule.title, builtin = rule.builtin, text = rule.text }
end

return M
