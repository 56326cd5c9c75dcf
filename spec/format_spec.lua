-- Default notification formats (lua/periscope/format.lua), checked through
-- their JSON encoding as the notifier sends them.
local format = require("periscope.format")
local cjson = require("cjson")

local function sample(over)
  local a = {
    id = 12, kind = "new", created_at = "2026-11-25T18:00:00.000Z", message_id = "dlv_5",
    title = "ZeroDivisionError: division by zero", culprit = "app.views in divide",
    level = "error", link = "https://periscope.example/projects/42/issues/7",
    issue = { id = 7, project_id = 42, title = "ZeroDivisionError: division by zero",
              culprit = "app.views in divide", level = "error", status = "unresolved",
              first_seen = "2026-11-25T18:00:00.000Z", last_seen = "2026-11-25T18:00:00.000Z",
              count = 1, hash = "0123456789abcdef0123456789abcdef",
              link = "https://periscope.example/projects/42/issues/7" },
    project = { id = 42, name = "shop" },
    event = { event_id = "fc6d8c0c43fc4630ad850ee518f1b9d0", environment = "production",
              release = "shop@1.2.3", level = "error" },
  }
  for k, v in pairs(over or {}) do a[k] = v end
  return a
end

local function roundtrip(t) return cjson.decode(cjson.encode(t)) end

describe("periscope.format", function()
  it("builds the generic webhook envelope with alert, issue, project and event", function()
    local body = roundtrip(format.default(sample(), { id = 1, type = "generic_webhook", name = "hook" }))
    assert.are.equal("dlv_5", body.id)
    assert.are.equal("alert", body.event)
    assert.are.equal("1.0", body.version)
    assert.are.equal("2026-11-25T18:00:00.000Z", body.timestamp)
    assert.are.same({ id = 12, kind = "new", created_at = "2026-11-25T18:00:00.000Z" }, body.data.alert)
    assert.are.equal(7, body.data.issue.id)
    assert.are.equal("https://periscope.example/projects/42/issues/7", body.data.issue.link)
    assert.are.equal("0123456789abcdef0123456789abcdef", body.data.issue.hash)
    assert.are.same({ id = 42, name = "shop" }, body.data.project)
    assert.are.equal("production", body.data.event.environment)
  end)

  it("gives Slack a header, the culprit, the facts and a link button", function()
    local body = roundtrip(format.default(sample(), { type = "slack_webhook" }))
    assert.are.equal("ZeroDivisionError: division by zero", body.text)
    assert.are.equal("header", body.blocks[1].type)
    assert.are.equal("ZeroDivisionError: division by zero", body.blocks[1].text.text)
    assert.truthy(body.blocks[2].text.text:find("app.views in divide", 1, true))
    local facts = {}
    for _, f in ipairs(body.blocks[3].fields) do facts[#facts + 1] = f.text end
    local all = table.concat(facts, "|")
    assert.truthy(all:find("*Level:*\nerror", 1, true))
    assert.truthy(all:find("*Environment:*\nproduction", 1, true))
    assert.truthy(all:find("*Events:*\n1", 1, true))
    assert.are.equal("https://periscope.example/projects/42/issues/7", body.blocks[4].elements[1].url)
  end)

  it("escapes Slack control characters coming from event data", function()
    local body = format.default(sample({ title = "<!channel> & <http://evil|x>" }), { type = "slack_webhook" })
    assert.are.equal("&lt;!channel&gt; &amp; &lt;http://evil|x&gt;", body.text)
  end)

  it("marks regressions in the headline", function()
    local body = format.default(sample({ kind = "regression" }), { type = "slack_webhook" })
    assert.are.equal("Regression: ZeroDivisionError: division by zero", body.text)
  end)

  it("gives Discord an embed with a level colour and inline fields", function()
    local body = roundtrip(format.default(sample(), { type = "discord_webhook" }))
    local e = body.embeds[1]
    assert.are.equal("ZeroDivisionError: division by zero", e.title)
    assert.are.equal("https://periscope.example/projects/42/issues/7", e.url)
    assert.are.equal(0xE03E2F, e.color)
    assert.are.equal("Level", e.fields[1].name)
    assert.is_true(e.fields[1].inline)
  end)

  it("gives Teams an Adaptive Card in a Workflows message", function()
    local body = roundtrip(format.default(sample(), { type = "teams_webhook" }))
    assert.are.equal("message", body.type)
    local a = body.attachments[1]
    assert.are.equal("application/vnd.microsoft.card.adaptive", a.contentType)
    assert.are.equal("AdaptiveCard", a.content.type)
    assert.are.equal("ZeroDivisionError: division by zero", a.content.body[1].text)
    assert.are.equal("FactSet", a.content.body[3].type)
    assert.are.equal("Action.OpenUrl", a.content.actions[1].type)
  end)

  it("writes an email subject, a text part and an escaped HTML part", function()
    local m = format.default(sample({ title = "Error <script>alert(1)</script>" }), { type = "email" })
    assert.are.equal("[shop] Error <script>alert(1)</script>", m.subject)
    assert.truthy(m.text:find("Environment: production", 1, true))
    assert.truthy(m.html:find("&lt;script&gt;", 1, true))
    assert.falsy(m.html:find("<script>", 1, true))
  end)

  it("truncates long titles on a UTF-8 character boundary", function()
    local long = string.rep("é", 200)
    local body = format.default(sample({ title = long }), { type = "slack_webhook" })
    local header = body.blocks[1].text.text
    assert.are.equal(150, utf8.len(header))
    assert.is_not_nil(utf8.len(header))
  end)

  it("folds held-back alerts into one digest per channel type", function()
    local alerts = {}
    for i = 1, 25 do alerts[i] = sample({ id = i, title = "Error " .. i }) end
    local slack = format.digest(alerts, { type = "slack_webhook" })
    assert.truthy(slack.text:find("25 alerts", 1, true))
    assert.truthy(slack.blocks[2].text.text:find("and 5 more", 1, true))
    local hook = roundtrip(format.digest(alerts, { type = "generic_webhook" }))
    assert.are.equal("alert.digest", hook.event)
    assert.are.equal(25, hook.data.count)
    assert.are.equal(25, #hook.data.alerts)
    local mail = format.digest(alerts, { type = "email" })
    assert.truthy(mail.subject:find("25 alerts", 1, true))
  end)

  it("knows only the destination types", function()
    assert.is_nil(format.default(sample(), { type = "truncate" }))
    assert.is_nil(format.default(sample(), { type = "digest" }))
  end)
end)

describe("periscope.format.encode", function()
  local function sample_alert()
    return { id = 1, kind = "new", title = "Boom", project = { name = "shop" },
             issue = { count = 3 }, event = {} }
  end

  it("encodes tables as JSON for the webhook types", function()
    local body, ctype = format.encode("slack_webhook", { text = "hi" }, cjson.encode)
    assert.are.equal("application/json", ctype)
    assert.are.same({ text = "hi" }, cjson.decode(body))
  end)

  it("turns a hook's string into the channel's text message", function()
    local body = format.encode("slack_webhook", "🔥 Boom", cjson.encode)
    assert.are.same({ text = "🔥 Boom" }, cjson.decode(body))
    local raw, ctype = format.encode("generic_webhook", "plain words", cjson.encode)
    assert.are.equal("plain words", raw)
    assert.are.equal("text/plain; charset=utf-8", ctype)
  end)

  it("completes a partial email from the default message", function()
    local default = format.email(sample_alert(), { type = "email" })
    local subject, text, html = format.encode("email", "just <text>", cjson.encode, default)
    assert.are.equal(default.subject, subject)
    assert.are.equal("just <text>", text)
    assert.truthy(html:find("just &lt;text&gt;", 1, true))
    subject = format.encode("email", { subject = "Custom" }, cjson.encode, default)
    assert.are.equal("Custom", subject)
  end)

  -- A broken format() result must raise here, never send something half
  -- made: the notifier and the dry run (notify_format_alert) catch the
  -- error and send format.default's message instead.
  it("raises on a hook result that cannot be sent, leaving the default to the caller", function()
    local cyclic = { text = "loop" }
    cyclic.self = cyclic
    for _, bad in ipairs({ { text = function() end }, cyclic, { [true] = "key" } }) do
      assert.has_error(function() format.encode("slack_webhook", bad, cjson.encode) end)
    end
    local body, ctype = format.encode("slack_webhook", format.default(sample_alert(), { type = "slack_webhook" }),
                                      cjson.encode)
    assert.are.equal("application/json", ctype)
    assert.are.equal("Boom", cjson.decode(body).text)
  end)

  it("renders the default for nil, a hook's message over it, and refuses a bad email field", function()
    local slack = { id = 1, type = "slack_webhook", name = "s" }
    local body, ctype = format.render(sample(), slack, nil, cjson.encode)
    assert.are.equal("application/json", ctype)
    assert.is_table(cjson.decode(body).blocks)
    body = format.render(sample(), slack, { text = "mine" }, cjson.encode)
    assert.are.equal("mine", cjson.decode(body).text)
    local mail = { id = 2, type = "email", name = "m" }
    local subject, text = format.render(sample(), mail, "short", cjson.encode)
    assert.are.equal("short", text)
    assert.truthy(subject:find("ZeroDivisionError", 1, true))
    assert.has_error(function() format.render(sample(), mail, { text = print }, cjson.encode) end,
                     "email field 'text' must be a string, not a function")
    assert.has_error(function() format.render(sample(), { type = "pager" }, nil, cjson.encode) end,
                     "no formatter for destination type 'pager'")
  end)
end)
