"""Notifications end to end through the real server, on SQLite and Postgres.

Destinations are made through the admin API; events come in through the
ingest endpoint (/api/<id>/store/ with X-Sentry-Auth); real local receivers
take the messages: an HTTP server in this process (one path per
destination) and aiosmtpd for email. Checked here, independently of the
server: the payload shape of each type (README, "Notifications"), the Standard
Webhooks HMAC, exactly one message per alert and destination, no alert for
a second event of an issue, a regression after resolving, the alerts API
with deliveries and attempts, "send a test", a project's format() hook (the
same body as the dry run; a broken one falls back and shows in the script
status), the SSRF guard without ALLOW_PRIVATE_DESTINATIONS, and a restart
in the middle of a retry (nothing lost, nothing sent twice)."""

import base64
import email
import email.policy
import hashlib
import hmac
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from periscope_testlib import Server, free_port, pg_env

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = "whsec_" + base64.b64encode(b"periscope-e2e-signing-key-0123456").decode()
WAIT_S = 12
NOTIFY_ENV = {
    "NOTIFY_POLL_MS": "200",
    "NOTIFY_RETRY_BASE_MS": "2000",  # first retry 1-2 s after a failure
    "NOTIFY_TIMEOUT_MS": "3000",
    "NOTIFY_CONNECT_TIMEOUT_MS": "1000",
}


class Receiver:
    """HTTP on 127.0.0.1: every POST is kept per path; a path answers its
    script's statuses in turn (the last repeats; default 204)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}  # path -> [{"headers", "body", "t"}]
        self.scripts = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    got = outer.requests.setdefault(self.path, [])
                    got.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body, "t": time.time()})
                    script = outer.scripts.get(self.path, [204])
                    code = script[min(len(got) - 1, len(script) - 1)]
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path, host="127.0.0.1"):
        return "http://%s:%d%s" % (host, self.port, path)

    def got(self, path):
        with self.lock:
            return list(self.requests.get(path, []))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Mailbox:
    """aiosmtpd on 127.0.0.1 in a child process (smtp_sink.py, run by a
    Python that has aiosmtpd); messages parsed here with the email package."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="periscope-mail-")
        port_file = os.path.join(self.dir, "port")
        python = sys.executable if importlib.util.find_spec("aiosmtpd") else "/usr/bin/python3"
        self.proc = subprocess.Popen([python, os.path.join(HERE, "smtp_sink.py"), "--port-file", port_file,
                                      "--dir", self.dir])
        self.port = int(wait_until("the SMTP server", lambda: os.path.exists(port_file) and open(port_file).read()))

    def to(self, address):
        """The messages whose envelope recipients include address, in order."""
        out = []
        names = sorted((n for n in os.listdir(self.dir) if n.endswith(".eml")), key=lambda n: int(n[:-4]))
        for name in names:
            with open(os.path.join(self.dir, name), "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            if address in msg["X-Rcpt-To"]:
                out.append(msg)
        return out

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_until(what, check, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def verify_signature(headers, body):
    """The Standard Webhooks check, done here without the server's code."""
    key = base64.b64decode(SECRET[len("whsec_"):])
    signed = b"%s.%s.%s" % (headers["webhook-id"].encode(), headers["webhook-timestamp"].encode(), body)
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split(" "))


def event(exc_type, message="bad input", env="production", release="shop@1.2.3"):
    return {
        "event_id": uuid.uuid4().hex, "platform": "python", "level": "error",
        "environment": env, "release": release,
        "exception": {"values": [{"type": exc_type, "value": message, "stacktrace": {"frames": [
            {"filename": "app/views.py", "module": "app.views", "function": "checkout", "in_app": True}]}}]},
    }


class NotificationsBase:
    backend = "sqlite"

    @classmethod
    def setUpClass(cls):
        cls.hooks = Receiver()
        cls.mail = Mailbox()
        cls.srv = Server(backend=cls.backend, env=NOTIFY_ENV).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        cls.hooks.close()
        cls.mail.close()

    # --- helpers -----------------------------------------------------------

    def project(self, srv=None):
        srv = srv or self.srv
        r = srv.admin("POST", "/api/admin/projects", {"name": "shop-" + uuid.uuid4().hex[:6]})
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    def destination(self, p, body, srv=None, status=201):
        r = (srv or self.srv).admin("POST", "/api/admin/projects/%d/alert_notification_destinations" % p["id"], body)
        self.assertEqual(r.status, status, r.body)
        return r.json()

    def ingest(self, p, ev, srv=None):
        r = (srv or self.srv).request(
            "POST", "/api/%d/store/" % p["id"], json.dumps(ev).encode(),
            {"X-Sentry-Auth": "Sentry sentry_key=%s, sentry_version=7, sentry_client=e2e/1.0" % p["public_key"],
             "Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.body)

    def alerts(self, p, srv=None):
        r = (srv or self.srv).admin("GET", "/api/admin/projects/%d/alerts" % p["id"])
        self.assertEqual(r.status, 200, r.body)
        return r.json()["data"]

    def deliveries(self, p, srv=None):
        return [d for a in self.alerts(p, srv) for d in a["deliveries"]]

    def issues(self, p):
        return self.srv.admin("GET", "/api/admin/projects/%d/issues" % p["id"]).json()["data"]

    def wait_deliveries(self, p, n, status="sent", srv=None):
        return wait_until("%d deliveries %s" % (n, status), lambda: (
            lambda ds: ds if len(ds) == n and all(d["status"] == status for d in ds) else None)(
            self.deliveries(p, srv)))

    def paths(self, p):
        base = "/p%d-%s" % (p["id"], self.backend)
        return {t: base + "/" + t for t in ("hook", "slack", "discord", "teams", "flaky", "steady", "down")}

    # --- tests -------------------------------------------------------------

    def test_new_issue_reaches_every_destination_once_then_a_regression(self):
        p = self.project()
        path = self.paths(p)
        inbox = "oncall-%d@example.com" % p["id"]
        hook = self.destination(p, {"type": "generic_webhook", "name": "hook", "webhook_url": self.hooks.url(path["hook"]),
                                    "secret": SECRET, "webhook_headers": {"X-Team": "payments"}})
        self.assertNotIn(SECRET, json.dumps(hook))  # the secret is never shown in full
        for t in ("slack", "discord", "teams"):
            self.destination(p, {"type": t + "_webhook", "name": t, "webhook_url": self.hooks.url(path[t])})
        self.destination(p, {"type": "email", "name": "mail", "smtp_url": "smtp://127.0.0.1:%d" % self.mail.port,
                             "from": "periscope@example.com", "to": [inbox]})
        self.destination(p, {"type": "internal_logger", "name": "log"})

        first = event("CartError", "empty cart")
        self.ingest(p, first)
        self.wait_deliveries(p, 6)
        for t in ("hook", "slack", "discord", "teams"):
            self.assertEqual(len(self.hooks.got(path[t])), 1, t)
        self.assertEqual(len(self.mail.to(inbox)), 1)
        issue = self.issues(p)[0]
        title = "CartError: empty cart"
        self.assertEqual(issue["title"], title)

        # Generic webhook: envelope, data shape, headers, signature.
        req = self.hooks.got(path["hook"])[0]
        h = req["headers"]
        self.assertTrue(verify_signature(h, req["body"]))
        self.assertLess(abs(int(h["webhook-timestamp"]) - time.time()), 60)
        self.assertEqual(h["x-team"], "payments")
        self.assertEqual(h["content-type"], "application/json")
        self.assertTrue(h["user-agent"].startswith("periscope/"))
        body = json.loads(req["body"])
        self.assertEqual((body["event"], body["version"], body["id"]), ("alert", "1.0", h["webhook-id"]))
        self.assertIn("T", body["timestamp"])
        data = body["data"]
        self.assertEqual(set(data), {"alert", "issue", "project", "event"})
        self.assertEqual(set(data["alert"]), {"id", "kind", "created_at"})
        self.assertEqual(data["alert"]["kind"], "new")
        self.assertTrue({"id", "project_id", "title", "culprit", "level", "status", "first_seen",
                         "last_seen", "count", "hash", "link"} <= set(data["issue"]))
        self.assertEqual((data["issue"]["id"], data["issue"]["title"], data["issue"]["hash"]),
                         (issue["id"], title, issue["hash"]))
        self.assertTrue(data["issue"]["link"].endswith("/projects/%d/issues/%d" % (p["id"], issue["id"])))
        self.assertEqual(data["project"], {"id": p["id"], "name": p["name"]})
        self.assertEqual(data["event"], {"event_id": first["event_id"], "environment": "production",
                                         "release": "shop@1.2.3", "level": "error"})

        slack = json.loads(self.hooks.got(path["slack"])[0]["body"])
        self.assertEqual(slack["text"], title)
        self.assertEqual([b["type"] for b in slack["blocks"]], ["header", "section", "section", "actions"])
        self.assertEqual(slack["blocks"][0]["text"]["text"], title)
        self.assertIn("app.views", slack["blocks"][1]["text"]["text"])
        self.assertIn("*Environment:*\nproduction", [f["text"] for f in slack["blocks"][2]["fields"]])
        self.assertEqual(slack["blocks"][3]["elements"][0]["url"], data["issue"]["link"])

        discord = json.loads(self.hooks.got(path["discord"])[0]["body"])
        embed = discord["embeds"][0]
        self.assertEqual((discord["content"], embed["title"], embed["url"]), (title, title, data["issue"]["link"]))
        self.assertIn({"name": "Release", "value": "shop@1.2.3", "inline": True}, embed["fields"])
        self.assertIsInstance(embed["color"], int)

        teams = json.loads(self.hooks.got(path["teams"])[0]["body"])
        self.assertEqual(teams["type"], "message")
        att = teams["attachments"][0]
        self.assertEqual(att["contentType"], "application/vnd.microsoft.card.adaptive")
        card = att["content"]
        self.assertEqual((card["type"], card["version"]), ("AdaptiveCard", "1.4"))
        self.assertEqual(card["body"][0]["text"], title)
        self.assertIn({"title": "Level", "value": "error"}, card["body"][-1]["facts"])
        self.assertEqual(card["actions"][0]["url"], data["issue"]["link"])

        mail = self.mail.to(inbox)[0]
        self.assertEqual(mail["Subject"], "[%s] %s" % (p["name"], title))
        self.assertEqual(mail["From"], "periscope@example.com")
        self.assertIn("multipart/alternative", [part.get_content_type() for part in mail.walk()])
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        self.assertIn(title, text)
        self.assertIn("Environment: production", text)
        self.assertIn("<h2>%s</h2>" % title, html)

        self.assertIn('"alert notification"', self.srv.stderr() + self.srv.stdout())  # internal_logger

        # The alerts API: one alert, six deliveries, one attempt each.
        alerts = self.alerts(p)
        self.assertEqual(len(alerts), 1)
        self.assertEqual((alerts[0]["kind"], alerts[0]["issue_id"]), ("new", issue["id"]))
        by_type = {d["destination_type"]: d for d in alerts[0]["deliveries"]}
        self.assertEqual(set(by_type), {"generic_webhook", "slack_webhook", "discord_webhook",
                                        "teams_webhook", "email", "internal_logger"})
        for d in by_type.values():
            self.assertEqual((d["status"], d["attempt_count"], len(d["attempts"])), ("sent", 1, 1), d)
            self.assertIsNone(d["attempts"][0]["error"])
        self.assertEqual(by_type["generic_webhook"]["attempts"][0]["status_code"], 204)
        self.assertEqual(by_type["generic_webhook"]["last_status"], 204)

        # A second event of the same issue raises nothing.
        self.ingest(p, event("CartError", "empty cart"))
        wait_until("the second event", lambda: self.issues(p)[0]["count"] == 2)
        # Resolved, then another event: a regression, delivered everywhere.
        r = self.srv.admin("PATCH", "/api/admin/projects/%d/issues/%d" % (p["id"], issue["id"]), {"status": "resolved"})
        self.assertEqual(r.status, 200, r.body)
        self.ingest(p, event("CartError", "empty cart"))
        self.wait_deliveries(p, 12)
        alerts = self.alerts(p)
        self.assertEqual(sorted(a["kind"] for a in alerts), ["new", "regression"])
        for t in ("hook", "slack", "discord", "teams"):
            self.assertEqual(len(self.hooks.got(path[t])), 2, t)
        self.assertEqual(len(self.mail.to(inbox)), 2)
        again = json.loads(self.hooks.got(path["hook"])[1]["body"])
        self.assertEqual(again["data"]["alert"]["kind"], "regression")
        self.assertEqual(again["data"]["issue"]["id"], issue["id"])
        self.assertTrue(json.loads(self.hooks.got(path["slack"])[1]["body"])["text"].startswith("Regression: "))
        self.assertEqual(self.issues(p)[0]["status"], "unresolved")

    def test_send_a_test_answers_the_outcome(self):
        p = self.project()
        path = self.paths(p)
        d = self.destination(p, {"type": "generic_webhook", "webhook_url": self.hooks.url(path["hook"]), "secret": SECRET})
        r = self.srv.admin("POST", "/api/admin/projects/%d/alert_notification_destinations/%d/test" % (p["id"], d["id"]))
        self.assertEqual(r.status, 200, r.body)
        out = r.json()
        self.assertEqual((out["ok"], out["status_code"], out["error"]), (True, 204, None))
        self.assertGreaterEqual(out["duration_ms"], 0)
        got = self.hooks.got(path["hook"])
        self.assertEqual(len(got), 1)
        self.assertTrue(verify_signature(got[0]["headers"], got[0]["body"]))
        self.assertEqual(json.loads(got[0]["body"])["data"]["alert"]["kind"], "test")

        self.hooks.scripts[path["down"]] = [503]
        d = self.destination(p, {"type": "slack_webhook", "webhook_url": self.hooks.url(path["down"])})
        out = self.srv.admin("POST", "/api/admin/projects/%d/alert_notification_destinations/%d/test" % (p["id"], d["id"])).json()
        self.assertEqual((out["ok"], out["status_code"]), (False, 503))
        self.assertEqual(self.alerts(p), [])  # a test writes nothing to the outbox

    def test_format_hook_changes_the_slack_text_and_a_broken_one_falls_back(self):
        p = self.project()
        path = self.paths(p)
        d = self.destination(p, {"type": "slack_webhook", "webhook_url": self.hooks.url(path["slack"])})
        hook = ("return { format = function(alert, dest)\n"
                "  if dest.type ~= 'slack_webhook' then return nil end\n"
                "  if alert.title:find('Broken', 1, true) then error('no template for ' .. alert.title) end\n"
                "  return { text = ':rotating_light: ' .. alert.project.name .. ' / ' .. alert.title\n"
                "                 .. ' (' .. alert.level .. ', ' .. alert.event.environment .. ')' }\n"
                "end }")
        r = self.srv.admin("PUT", "/api/admin/projects/%d/script" % p["id"], {"source": hook})
        self.assertEqual(r.status, 200, r.body)
        ev = event("PaymentError", "card declined")
        self.ingest(p, ev)
        self.wait_deliveries(p, 1)
        got = self.hooks.got(path["slack"])
        self.assertEqual(len(got), 1)
        body = json.loads(got[0]["body"])
        self.assertEqual(body, {"text": ":rotating_light: %s / PaymentError: card declined (error, production)" % p["name"]})
        # The dry run makes the same body for the same event (one code path).
        dry = self.srv.admin("POST", "/api/admin/projects/%d/script/test" % p["id"],
                             {"event_id": ev["event_id"], "format": "slack_webhook"}).json()
        self.assertEqual(dry["notifications"]["slack_webhook"], body)
        self.assertEqual(dry["errors"], [])

        self.ingest(p, event("BrokenTemplate", "oops"))
        self.wait_deliveries(p, 2)
        got = self.hooks.got(path["slack"])
        self.assertEqual(len(got), 2)
        fallback = json.loads(got[1]["body"])
        self.assertEqual(fallback["text"], "BrokenTemplate: oops")  # the default formatter's
        self.assertEqual(fallback["blocks"][0]["type"], "header")
        stats = self.srv.admin("GET", "/api/admin/projects/%d/script" % p["id"]).json()["stats"]
        self.assertEqual(stats["last_error"]["hook"], "format")
        self.assertIn("no template for BrokenTemplate", stats["last_error"]["message"])
        self.assertEqual(stats["last_error"]["line"], 3)
        self.assertGreaterEqual(stats["hooks"]["format"]["calls"], 2)
        self.assertGreaterEqual(stats["hooks"]["format"]["errors"], 1)

        # "Send a test" formats the way the notifier does: through the hook.
        out = self.srv.admin("POST", "/api/admin/projects/%d/alert_notification_destinations/%d/test" % (p["id"], d["id"])).json()
        self.assertTrue(out["ok"], out)
        got = self.hooks.got(path["slack"])
        self.assertEqual(len(got), 3)
        self.assertEqual(json.loads(got[2]["body"]),
                         {"text": ":rotating_light: %s / Test notification from Periscope (info, test)" % p["name"]})

    def test_restart_mid_retry_loses_nothing_and_sends_nothing_twice(self):
        p = self.project()
        path = self.paths(p)
        self.hooks.scripts[path["flaky"]] = [500, 204]
        flaky = self.destination(p, {"type": "generic_webhook", "webhook_url": self.hooks.url(path["flaky"]), "secret": SECRET})
        self.destination(p, {"type": "generic_webhook", "webhook_url": self.hooks.url(path["steady"])})
        self.ingest(p, event("RestartError"))

        def failed_once():
            ds = {d["destination_id"]: d for d in self.deliveries(p)}
            d = ds.get(flaky["id"])
            return d and d["attempt_count"] == 1 and d["status"] == "pending" and len(ds) == 2 and \
                all(x["status"] == "sent" for k, x in ds.items() if k != flaky["id"])
        wait_until("the first failed attempt", failed_once)
        self.assertEqual(self.srv.stop(), 0)
        self.srv.start()
        self.wait_deliveries(p, 2)
        got = self.hooks.got(path["flaky"])
        self.assertEqual(len(got), 2)
        self.assertEqual(got[0]["headers"]["webhook-id"], got[1]["headers"]["webhook-id"])
        self.assertEqual(json.loads(got[0]["body"]), json.loads(got[1]["body"]))
        self.assertTrue(verify_signature(got[1]["headers"], got[1]["body"]))
        self.assertEqual(len(self.hooks.got(path["steady"])), 1)
        d = {d["destination_id"]: d for d in self.deliveries(p)}[flaky["id"]]
        self.assertEqual((d["attempt_count"], [a["status_code"] for a in d["attempts"]]), (2, [500, 204]))
        time.sleep(0.6)  # a few more polls: still nothing more
        self.assertEqual(len(self.hooks.got(path["flaky"])), 2)
        self.assertEqual(len(self.hooks.got(path["steady"])), 1)

    def test_private_addresses_are_refused_without_the_override(self):
        with Server(backend=self.backend, env=dict(NOTIFY_ENV, ALLOW_PRIVATE_DESTINATIONS="false")) as srv:
            p = self.project(srv)
            path = self.paths(p)
            for url in (self.hooks.url(path["hook"]), "http://[::1]:%d/x" % self.hooks.port,
                        "http://169.254.169.254/latest/meta-data", "http://10.0.0.8/x"):
                r = self.destination(p, {"type": "generic_webhook", "webhook_url": url}, srv=srv, status=400)
                self.assertEqual(r["error"]["code"], "destination_not_allowed", url)
            r = self.destination(p, {"type": "email", "smtp_url": "smtp://127.0.0.1:%d" % self.mail.port,
                                     "from": "a@example.com", "to": "b@example.com"}, srv=srv, status=400)
            self.assertEqual(r["error"]["code"], "destination_not_allowed")
            # A name that resolves to loopback is refused where it connects.
            d = self.destination(p, {"type": "generic_webhook", "webhook_url": self.hooks.url(path["hook"], "localhost")}, srv=srv)
            out = srv.admin("POST", "/api/admin/projects/%d/alert_notification_destinations/%d/test" % (p["id"], d["id"])).json()
            self.assertFalse(out["ok"])
            self.assertIn("refused (loopback)", out["error"])
            self.ingest(p, event("SsrfError"), srv=srv)
            ds = self.wait_deliveries(p, 1, status="failed", srv=srv)
            self.assertEqual(ds[0]["attempt_count"], 1)  # refused is final, not retried
            self.assertIn("refused (loopback)", ds[0]["last_error"])
            self.assertIn("ALLOW_PRIVATE_DESTINATIONS", ds[0]["last_error"])
            self.assertEqual(self.hooks.got(path["hook"]), [])


class NotificationsSqlite(NotificationsBase, unittest.TestCase):
    backend = "sqlite"


@unittest.skipIf(pg_env() is None, "no test Postgres cluster")
class NotificationsPostgres(NotificationsBase, unittest.TestCase):
    backend = "postgres"


if __name__ == "__main__":
    unittest.main()
