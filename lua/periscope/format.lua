-- periscope.format — the default notification for each destination type.
--
-- Every formatter takes (alert, destination) and returns a table: the JSON
-- body for the webhook types and internal_logger, or {subject, text, html}
-- for email. Pure Lua with no requires: it runs in the project's own vm
-- (lua/script_format.c: beside its format() hook, under the same limits)
-- and under busted alike; M.render encodes with the function it is given
-- (periscope.json.encode).
--
-- alert = {
--   id, kind ("new" | "regression" | "escalating" | "frequency" | "test"),
--   created_at (RFC 3339),
--   message_id (stable across retries), title, culprit, level, link,
--   issue = {id, project_id, title, culprit, level, status, first_seen,
--            last_seen, count, hash, link},
--   project = {id, name},
--   event = {event_id, environment, release, level},
-- }
-- destination = {id, type, name}   (never the URL or secrets)

local M = {}

M.TYPES = { "internal_logger", "generic_webhook", "slack_webhook", "discord_webhook",
            "teams_webhook", "email" }
local IS_TYPE = {}
for _, t in ipairs(M.TYPES) do IS_TYPE[t] = true end

-- Cuts s to at most n characters (UTF-8 aware; bytes when s is not UTF-8).
local function truncate(s, n)
  s = tostring(s or "")
  local len = utf8.len(s)
  if len == nil then
    if #s <= n then return s end
    return s:sub(1, n - 1) .. "…"
  end
  if len <= n then return s end
  return s:sub(1, utf8.offset(s, n) - 1) .. "…"
end
M.truncate = truncate

local function text_or_dash(s)
  if s == nil or s == "" then return "—" end
  return tostring(s)
end

local function headline(alert)
  local prefix = ({ regression = "Regression: ", escalating = "Escalating: ",
                   frequency = "Frequent: ", test = "Test: " })[alert.kind] or ""
  return prefix .. tostring(alert.title or (alert.issue and alert.issue.title) or "Untitled issue")
end
M.headline = headline

local function field(alert, key)
  local v = alert[key]
  if v == nil and alert.issue then v = alert.issue[key] end
  return v
end

local function facts(alert)
  local ev = alert.event or {}
  return {
    { "Level", text_or_dash(field(alert, "level")) },
    { "Environment", text_or_dash(ev.environment) },
    { "Release", text_or_dash(ev.release) },
    { "Events", text_or_dash(alert.issue and alert.issue.count) },
    { "Project", text_or_dash(alert.project and alert.project.name) },
  }
end

-- Slack mrkdwn treats &, < and > as control characters.
local function slack_escape(s)
  return (tostring(s):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"))
end

local function html_escape(s)
  return (tostring(s):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;")
            :gsub('"', "&quot;"):gsub("'", "&#39;"))
end
M.html_escape = html_escape

local LEVEL_COLOURS = { fatal = 0x8B0000, error = 0xE03E2F, warning = 0xF2C744,
                        info = 0x2F80ED, debug = 0x9B9B9B }

-- The generic webhook body: {id, event, timestamp, version, data}.
function M.generic_webhook(alert, destination)
  local issue = {}
  for k, v in pairs(alert.issue or {}) do issue[k] = v end
  issue.link = issue.link or alert.link
  return {
    id = alert.message_id,
    event = "alert",
    timestamp = alert.created_at,
    version = "1.0",
    data = {
      alert = { id = alert.id, kind = alert.kind, created_at = alert.created_at },
      issue = issue,
      project = alert.project or {},
      event = alert.event or {},
    },
  }
end

function M.internal_logger(alert, destination)
  return M.generic_webhook(alert, destination)
end

function M.slack_webhook(alert, destination)
  local title = headline(alert)
  local fields = {}
  for _, f in ipairs(facts(alert)) do
    fields[#fields + 1] = { type = "mrkdwn", text = "*" .. f[1] .. ":*\n" .. slack_escape(truncate(f[2], 200)) }
  end
  local blocks = {
    { type = "header", text = { type = "plain_text", text = truncate(title, 150), emoji = true } },
  }
  local culprit = field(alert, "culprit")
  if culprit and culprit ~= "" then
    blocks[#blocks + 1] = { type = "section",
      text = { type = "mrkdwn", text = "`" .. slack_escape(truncate(culprit, 500)) .. "`" } }
  end
  blocks[#blocks + 1] = { type = "section", fields = fields }
  if alert.link then
    blocks[#blocks + 1] = { type = "actions", elements = {
      { type = "button", text = { type = "plain_text", text = "View issue" }, url = alert.link } } }
  end
  return { text = slack_escape(truncate(title, 300)), blocks = blocks }
end

function M.discord_webhook(alert, destination)
  local embed_fields = {}
  for _, f in ipairs(facts(alert)) do
    embed_fields[#embed_fields + 1] = { name = f[1], value = truncate(f[2], 1024), inline = true }
  end
  local culprit = field(alert, "culprit")
  return {
    content = truncate(headline(alert), 2000),
    embeds = { {
      title = truncate(headline(alert), 256),
      url = alert.link,
      description = (culprit and culprit ~= "") and truncate(culprit, 4096) or nil,
      color = LEVEL_COLOURS[field(alert, "level")] or LEVEL_COLOURS.error,
      fields = embed_fields,
      timestamp = alert.created_at,
      footer = { text = "Periscope" },
    } },
  }
end

-- An Adaptive Card wrapped as Teams "Workflows" webhooks expect it.
local function adaptive_card(body, link)
  local content = {
    ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
    type = "AdaptiveCard",
    version = "1.4",
    body = body,
  }
  if link then
    content.actions = { { type = "Action.OpenUrl", title = "View issue", url = link } }
  end
  return { type = "message",
           attachments = { { contentType = "application/vnd.microsoft.card.adaptive", content = content } } }
end

function M.teams_webhook(alert, destination)
  local fact_set = {}
  for _, f in ipairs(facts(alert)) do fact_set[#fact_set + 1] = { title = f[1], value = truncate(f[2], 200) } end
  local body = {
    { type = "TextBlock", text = truncate(headline(alert), 300), weight = "Bolder", size = "Medium", wrap = true },
  }
  local culprit = field(alert, "culprit")
  if culprit and culprit ~= "" then
    body[#body + 1] = { type = "TextBlock", text = truncate(culprit, 500), isSubtle = true, wrap = true }
  end
  body[#body + 1] = { type = "FactSet", facts = fact_set }
  return adaptive_card(body, alert.link)
end

function M.email(alert, destination)
  local title = headline(alert)
  local project = alert.project and alert.project.name or "project"
  local lines = { title, "" }
  local culprit = field(alert, "culprit")
  if culprit and culprit ~= "" then lines[#lines + 1] = "Culprit: " .. culprit end
  for _, f in ipairs(facts(alert)) do lines[#lines + 1] = f[1] .. ": " .. f[2] end
  if alert.link then lines[#lines + 1] = ""; lines[#lines + 1] = alert.link end
  local rows = {}
  for _, f in ipairs(facts(alert)) do
    rows[#rows + 1] = "<tr><th align=\"left\">" .. html_escape(f[1]) .. "</th><td>" .. html_escape(f[2]) .. "</td></tr>"
  end
  local html = "<html><body><h2>" .. html_escape(title) .. "</h2>"
    .. ((culprit and culprit ~= "") and ("<p><code>" .. html_escape(culprit) .. "</code></p>") or "")
    .. "<table>" .. table.concat(rows) .. "</table>"
    .. (alert.link and ("<p><a href=\"" .. html_escape(alert.link) .. "\">View issue</a></p>") or "")
    .. "</body></html>"
  return {
    subject = "[" .. project .. "] " .. truncate(title, 150),
    text = table.concat(lines, "\n") .. "\n",
    html = html,
  }
end

-- A string returned by a project's format() hook: the message text.
function M.from_text(dtype, s)
  if dtype == "slack_webhook" then return { text = s } end
  if dtype == "discord_webhook" then return { content = truncate(s, 2000) } end
  if dtype == "teams_webhook" then
    return adaptive_card({ { type = "TextBlock", text = s, wrap = true } }, nil)
  end
  if dtype == "email" then return { text = s } end
  return nil -- generic webhook and logger: sent as text/plain as it is
end

-- One message for the alerts a throttled destination held back.
local DIGEST_LISTED = 20

function M.digest(alerts, destination)
  local dtype = destination.type
  local n = #alerts
  local project = alerts[1] and alerts[1].project and alerts[1].project.name or "project"
  local summary = string.format("%d alerts in %s while notifications were throttled", n, project)
  local listed = {}
  for i = 1, math.min(n, DIGEST_LISTED) do listed[i] = alerts[i] end
  local more = n - #listed

  if dtype == "generic_webhook" or dtype == "internal_logger" then
    local items = {}
    for i, a in ipairs(alerts) do items[i] = M.generic_webhook(a, destination).data end
    return { id = alerts[1] and alerts[1].message_id, event = "alert.digest",
             timestamp = alerts[n] and alerts[n].created_at, version = "1.0",
             data = { count = n, alerts = items } }
  end
  if dtype == "email" then
    local text, html = { summary, "" }, { "<html><body><h2>" .. html_escape(summary) .. "</h2><ul>" }
    for _, a in ipairs(listed) do
      text[#text + 1] = "- " .. headline(a) .. (a.link and (" " .. a.link) or "")
      html[#html + 1] = "<li>" .. (a.link and ("<a href=\"" .. html_escape(a.link) .. "\">") or "")
        .. html_escape(headline(a)) .. (a.link and "</a>" or "") .. "</li>"
    end
    if more > 0 then text[#text + 1] = string.format("… and %d more", more) end
    html[#html + 1] = "</ul>" .. (more > 0 and string.format("<p>… and %d more</p>", more) or "") .. "</body></html>"
    return { subject = "[" .. project .. "] " .. summary, text = table.concat(text, "\n") .. "\n",
             html = table.concat(html) }
  end

  local lines = {}
  for _, a in ipairs(listed) do
    local t = headline(a)
    if dtype == "slack_webhook" then
      t = a.link and ("<" .. a.link .. "|" .. slack_escape(truncate(t, 150)) .. ">") or slack_escape(t)
    elseif a.link then
      t = "[" .. truncate(t, 150) .. "](" .. a.link .. ")"
    end
    lines[#lines + 1] = "• " .. t
  end
  if more > 0 then lines[#lines + 1] = string.format("… and %d more", more) end
  local body = table.concat(lines, "\n")
  if dtype == "slack_webhook" then
    return { text = summary, blocks = {
      { type = "header", text = { type = "plain_text", text = truncate(summary, 150) } },
      { type = "section", text = { type = "mrkdwn", text = truncate(body, 2900) } } } }
  end
  if dtype == "discord_webhook" then
    return { content = truncate(summary, 2000),
             embeds = { { title = truncate(summary, 256), description = truncate(body, 4096) } } }
  end
  return adaptive_card({ { type = "TextBlock", text = summary, weight = "Bolder", wrap = true },
                         { type = "TextBlock", text = body, wrap = true } }, nil)
end

-- What is sent for a message — a formatter's table, or a project hook's
-- table or string: for email subject, text, html (fields the hook left out
-- come from `fallback`, the default message); for the other types the body
-- and its content type (tables are encoded with `encode_json`).
function M.encode(dtype, message, encode_json, fallback)
  if dtype == "email" then
    local f = fallback or {}
    if type(message) == "string" then message = { text = message } end
    local html = message.html
    if html == nil and message.text ~= nil then
      html = "<html><body><pre>" .. html_escape(message.text) .. "</pre></body></html>"
    end
    return tostring(message.subject or f.subject or "Periscope alert"),
           tostring(message.text or f.text or ""), tostring(html or f.html or "")
  end
  if type(message) == "string" then
    local t = M.from_text(dtype, message)
    if t == nil then return message, "text/plain; charset=utf-8" end
    message = t
  end
  return encode_json(message), "application/json"
end

-- The default message for one alert, or nil for an unknown type.
function M.default(alert, destination)
  if not IS_TYPE[destination.type] then return nil end
  return M[destination.type](alert, destination)
end

-- What is sent for one alert (lua/script_format.c calls this in the
-- project's vm): `message` is what the project's format() hook returned (a
-- table or a string), or nil for the default message. Returns M.encode's
-- strings; raises for a type without a formatter.
function M.render(alert, destination, message, encode_json)
  local dtype = destination.type
  local default
  if message == nil or dtype == "email" then
    default = M.default(alert, destination)
    if default == nil then
      error("no formatter for destination type '" .. tostring(dtype) .. "'", 0)
    end
  end
  if message == nil then return M.encode(dtype, default, encode_json) end
  if dtype == "email" and type(message) == "table" then
    for _, k in ipairs({ "subject", "text", "html" }) do
      local t = type(message[k])
      if t ~= "nil" and t ~= "string" and t ~= "number" then
        error("email field '" .. k .. "' must be a string, not a " .. t, 0)
      end
    end
  end
  return M.encode(dtype, message, encode_json, default)
end

-- The digest message for the alerts a throttled destination held back.
function M.render_digest(alerts, destination, encode_json)
  return M.encode(destination.type, M.digest(alerts, destination), encode_json)
end

return M
