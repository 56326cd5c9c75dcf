"""Personal data scrubbing end to end: the real Python SDK (Debian's
python3-sentry-sdk, send_default_pii=True, a WSGI request with credentials
in its headers and query string, locals holding a password, breadcrumbs,
extras) sends an error; the stored event, read back through the admin API,
holds none of the secrets. The per-project settings (admin API, SQLite and
Postgres), the scrub(event) hook and its dry run, and a settings change on
one node reaching another within a second."""

import json
import subprocess
import time
import unittest
import uuid

from periscope_testlib import Server, pg_env
from ingest_util import create_project, python_with_sentry_sdk, wait_stored

FILTERED = "[Filtered]"

APP = r'''
import io, json, sys
import sentry_sdk
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware
sent = []
def before_send(event, hint):
    sent.append(event["event_id"])
    return event
sentry_sdk.init(sys.argv[1], send_default_pii=True, before_send=before_send,
                default_integrations=False)
sentry_sdk.set_user({"id": "7", "username": "ann"})
sentry_sdk.set_tag("session_id", "tag-session-secret")
sentry_sdk.set_extra("db_url", "postgres://app:extra-db-secret@db.internal:5432/shop")
sentry_sdk.set_extra("sentry_dsn", sys.argv[1])
sentry_sdk.set_extra("order", {"id": 1001, "card_number": "5555 5555 5555 4444"})

def charge(environ, start_response):
    password = "local-password-secret"
    card = "4111 1111 1111 1111"
    sentry_sdk.add_breadcrumb(category="http", message="POST /pay",
                              data={"api_key": "crumb-api-secret",
                                    "url": "https://pay.example/v1?token=crumb-token-secret&page=2"})
    raise ValueError("payment failed for card 4111111111111111")

environ = {
    "REQUEST_METHOD": "POST", "PATH_INFO": "/checkout", "QUERY_STRING": "access_token=qs-secret&page=2",
    "SERVER_NAME": "shop.example.com", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
    "HTTP_HOST": "shop.example.com", "HTTP_AUTHORIZATION": "Bearer header-bearer-secret",
    "HTTP_COOKIE": "sessionid=cookie-secret; theme=dark", "HTTP_X_API_KEY": "header-api-secret",
    "HTTP_ACCEPT": "text/html", "REMOTE_ADDR": "203.0.113.7", "wsgi.input": io.BytesIO(b""),
}
try:
    list(SentryWsgiMiddleware(charge)(environ, lambda *a, **k: None))
except ValueError:
    pass
sentry_sdk.flush(timeout=10)
print(json.dumps({"sent": sent}))
'''

SECRETS = ["tag-session-secret", "extra-db-secret", "5555 5555 5555 4444", "local-password-secret",
           "4111 1111 1111 1111", "4111111111111111", "crumb-api-secret", "crumb-token-secret",
           "qs-secret", "header-bearer-secret", "cookie-secret", "header-api-secret"]


def stored_event(srv, project_id, event_id):
    r = srv.admin("GET", "/api/admin/projects/%d/events/%s" % (project_id, event_id))
    assert r.status == 200, r
    return r.json()


def send(srv, project, event):
    r = srv.request("POST", "/api/%d/store/" % project["id"], json.dumps(event).encode(),
                    {"X-Sentry-Auth": "Sentry sentry_key=%s, sentry_version=7" % project["public_key"],
                     "Content-Type": "application/json"})
    assert r.status == 200, r
    assert wait_stored_api(srv, project["id"], event["event_id"]), srv.stderr()[-2000:]
    return stored_event(srv, project["id"], event["event_id"])


def wait_stored_api(srv, project_id, event_id, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = srv.admin("GET", "/api/admin/projects/%d/events/%s" % (project_id, event_id))
        if r.status == 200:
            return True
        time.sleep(0.05)
    return False


def plain_event(**extra):
    return {"event_id": uuid.uuid4().hex, "platform": "python", "message": "checkout failed",
            "user": {"id": "7", "ip_address": "198.51.100.9"}, "extra": extra}


class PythonSdkIsScrubbed(unittest.TestCase):
    def test_secrets_sent_by_the_sdk_are_not_stored(self):
        exe = python_with_sentry_sdk()
        if exe is None:
            self.fail("no python3 with sentry_sdk (apt-get install python3-sentry-sdk)")
        with Server() as srv:
            project_id, _, dsn = create_project(srv, "scrub-sdk")
            p = subprocess.run([exe, "-c", APP, dsn], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            sent = [s.replace("-", "") for s in json.loads(p.stdout.strip().splitlines()[-1])["sent"]]
            self.assertEqual(len(sent), 1)
            self.assertTrue(set(sent) <= wait_stored(srv, project_id, sent), srv.stderr()[-3000:])
            ev = stored_event(srv, project_id, sent[0])
            text = json.dumps(ev)
            for secret in SECRETS + [dsn.split("//")[1].split("@")[0]]:
                self.assertNotIn(secret, text)

            headers = ev["request"]["headers"]
            for name in ("Authorization", "Cookie", "X-Api-Key"):
                self.assertEqual(headers[name], FILTERED, headers)
            self.assertEqual(headers["Accept"], "text/html")
            self.assertEqual(ev["request"]["query_string"], "access_token=%s&page=2" % FILTERED)
            frame = ev["exception"]["values"][0]["stacktrace"]["frames"][-1]
            self.assertEqual(frame["function"], "charge")
            self.assertEqual(frame["vars"]["password"], FILTERED)
            self.assertEqual(frame["vars"]["card"], "'%s'" % FILTERED)
            crumb = ev["breadcrumbs"]["values"][-1]["data"]
            self.assertEqual(crumb["api_key"], FILTERED)
            self.assertEqual(crumb["url"], "https://pay.example/v1?token=%s&page=2" % FILTERED)
            self.assertEqual(ev["exception"]["values"][0]["value"], "payment failed for card " + FILTERED)
            self.assertEqual(ev["tags"]["session_id"], FILTERED)
            self.assertEqual(ev["extra"]["db_url"], "postgres://%s@db.internal:5432/shop" % FILTERED)
            self.assertEqual(ev["extra"]["sentry_dsn"], FILTERED)
            self.assertEqual(ev["extra"]["order"]["card_number"], FILTERED)
            self.assertEqual(ev["extra"]["order"]["id"], 1001)
            self.assertEqual(ev["user"]["ip_address"], "203.0.113.7")  # kept by default

            issues = srv.admin("GET", "/api/admin/projects/%d/issues" % project_id).json()["data"]
            self.assertEqual(issues[0]["title"], "ValueError: payment failed for card " + FILTERED)
            metrics = srv.request("GET", "/metrics").body.decode()
            self.assertIn('periscope_events_scrubbed_total{project="%d"} 1' % project_id, metrics)


class Settings:
    """The settings through the admin API on one backend (mixed into a TestCase)."""
    backend = "sqlite"

    def test_settings_through_the_admin_api(self):
        with Server(backend=self.backend) as srv:
            p = srv.admin("POST", "/api/admin/projects", {"name": "scrub-settings"}).json()
            path = "/api/admin/projects/%d" % p["id"]
            self.assertEqual(p["scrubbing"], {"enabled": True, "scrub_ip_addresses": False,
                                              "sensitive_fields": [], "safe_fields": []})
            ev = send(srv, p, plain_event(ssn="078-05-1120", author="ann", authority="x",
                                          password="hunter2"))
            self.assertEqual(ev["extra"], {"ssn": "078-05-1120", "author": FILTERED,
                                           "authority": FILTERED, "password": FILTERED})
            self.assertEqual(ev["user"]["ip_address"], "198.51.100.9")

            for bad in ({"sensitive_fields": ["a.b"]}, {"safe_fields": "author"}, {"enabled": "no"},
                        {"scrub_ip": True}, ["x"]):
                r = srv.admin("PATCH", path, {"scrubbing": bad})
                self.assertEqual(r.status, 400, (bad, r.body))
                self.assertEqual(r.json()["error"]["code"], "invalid_scrubbing")
            r = srv.admin("PATCH", path, {"scrubbing": {"scrub_ip_addresses": True,
                                                        "sensitive_fields": ["ssn"],
                                                        "safe_fields": ["author"]}})
            self.assertEqual(r.status, 200, r.body)
            want = {"enabled": True, "scrub_ip_addresses": True, "sensitive_fields": ["ssn"],
                    "safe_fields": ["author"]}
            self.assertEqual(r.json()["scrubbing"], want)
            self.assertEqual(srv.admin("GET", path).json()["scrubbing"], want)
            self.assertEqual(srv.admin("GET", "/api/admin/projects").json()["data"][-1]["scrubbing"], want)

            ev = send(srv, p, plain_event(ssn="078-05-1120", author="ann", authority="x"))
            self.assertEqual(ev["extra"], {"ssn": FILTERED, "author": "ann", "authority": FILTERED})
            self.assertNotIn("ip_address", ev["user"])

            # Off: the key and string rules stop; the IP setting stays.
            r = srv.admin("PATCH", path, {"scrubbing": {"enabled": False}, "name": "renamed"})
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["name"], "renamed")
            self.assertFalse(r.json()["scrubbing"]["enabled"])
            self.assertEqual(r.json()["scrubbing"]["sensitive_fields"], ["ssn"])
            ev = send(srv, p, plain_event(password="hunter2"))
            self.assertEqual(ev["extra"]["password"], "hunter2")
            self.assertNotIn("ip_address", ev["user"])
            self.assertEqual(srv.admin("PATCH", "/api/admin/projects/999999",
                                       {"scrubbing": {"enabled": True}}).status, 404)


class SettingsSqlite(Settings, unittest.TestCase):
    backend = "sqlite"


@unittest.skipIf(pg_env() is None, "no Postgres test cluster")
class SettingsPostgres(Settings, unittest.TestCase):
    backend = "postgres"

    def test_a_change_on_one_node_reaches_the_other_within_a_second(self):
        with Server(backend="postgres") as a:
            shared = {k: v for k, v in a.env.items() if k.startswith("POSTGRES_")}
            shared["API_SECRET_KEY_ADMIN"] = a.admin_key
            with Server(env=shared) as b:
                p = a.admin("POST", "/api/admin/projects", {"name": "nodes"}).json()
                test = "/api/admin/projects/%d/script/test" % p["id"]
                probe = {"event": plain_event(ssn="078-05-1120")}
                self.assertEqual(b.admin("POST", test, probe).json()["event"]["extra"]["ssn"], "078-05-1120")
                r = a.admin("PATCH", "/api/admin/projects/%d" % p["id"],
                            {"scrubbing": {"sensitive_fields": ["ssn"]}})
                self.assertEqual(r.status, 200, r.body)
                t0 = time.monotonic()
                while time.monotonic() - t0 < 1.0:
                    if b.admin("POST", test, probe).json()["event"]["extra"]["ssn"] == FILTERED:
                        break
                    time.sleep(0.02)
                self.assertEqual(b.admin("POST", test, probe).json()["event"]["extra"]["ssn"], FILTERED)
                self.assertLess(time.monotonic() - t0, 1.0)


HOOK = """return {
  scrub = function(event)
    if event.user then event.user.email = nil end
    event.tags = event.tags or {}
    event.tags.scrubbed_by = "hook"
    if event.extra and event.extra.boom then error("boom") end
  end,
}"""


class ScrubHook(unittest.TestCase):
    def test_the_hook_runs_after_the_rules_and_a_failure_falls_back(self):
        with Server() as srv:
            p = srv.admin("POST", "/api/admin/projects", {"name": "scrub-hook"}).json()
            base = "/api/admin/projects/%d/script" % p["id"]
            ev = plain_event(token="t")
            ev["user"]["email"] = "ann@example.com"
            dry = srv.admin("POST", base + "/test", {"event": ev, "source": HOOK}).json()
            self.assertEqual(dry["errors"], [])
            self.assertEqual(dry["scrubbed"], 1)
            self.assertEqual(dry["event"]["tags"]["scrubbed_by"], "hook")
            self.assertNotIn("email", dry["event"]["user"])
            self.assertEqual(dry["event"]["extra"]["token"], FILTERED)

            self.assertEqual(srv.admin("PUT", base, {"source": HOOK}).status, 200)
            stored = send(srv, p, ev)
            self.assertEqual(stored["tags"]["scrubbed_by"], "hook")
            self.assertNotIn("email", stored["user"])
            self.assertEqual(stored["extra"]["token"], FILTERED)

            failing = plain_event(boom=1, password="p")
            failing["user"]["email"] = "bob@example.com"
            stored = send(srv, p, failing)
            self.assertEqual(stored["extra"]["password"], FILTERED)  # built-in result stands
            self.assertEqual(stored["user"]["email"], "bob@example.com")
            stats = srv.admin("GET", base).json()["stats"]
            self.assertEqual(stats["hooks"]["scrub"], {"calls": 2, "errors": 1, "timeouts": 0})
            self.assertEqual(stats["last_error"]["hook"], "scrub")

            dry = srv.admin("POST", base + "/test", {"event": failing}).json()
            self.assertEqual([e["hook"] for e in dry["errors"]], ["scrub"])


if __name__ == "__main__":
    unittest.main()
