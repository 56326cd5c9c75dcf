"""Triage end to end (issue 19), on SQLite and Postgres, with events from the
real Python SDK (sentry_sdk): snoozes by count, rate, users and time (one
"escalating" alert each), resolving in the next release or a version (older
releases only count, newer ones reopen), the release list and an issue's
first/last release, users affected (exact, then estimated within 2 % past
10,000), alert rules (level, environment, tag, frequency once per window,
also across two nodes on one Postgres), the alert() hook and a format()
that returns false."""

import json
import os
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from ingest_util import envelope, python_with_sentry_sdk
from periscope_testlib import Server, pg_env
from test_notifications import NOTIFY_ENV, Receiver, wait_until

# For each line {"dsn", "plan"} on stdin, sends the plan's events through
# sentry_sdk: each item is an exception of its own type name (one issue per
# name) with its release, environment, level, user and tags. Answers each
# line, once the SDK flushed, with the last event as the SDK built it. One
# process serves a test class (importing the SDK takes a second).
SDK_APP = r"""
import json, sys
import sentry_sdk
current, last = {}, {}
def before_send(event, hint):
    for k in ("release", "environment"):  # only the plan's (not the checkout's git sha)
        if current.get(k):
            event[k] = current[k]
        else:
            event.pop(k, None)
    last["event"] = event
    return event
def fail(name, message):
    raise type(name, (Exception,), {})(message)
for line in sys.stdin:
    req = json.loads(line)
    sentry_sdk.init(req["dsn"], before_send=before_send, transport_queue_size=1000,
                    default_integrations=False)
    for item in req["plan"]:
        current.clear()
        current.update(item)
        with sentry_sdk.push_scope() as scope:
            if item.get("user"):
                scope.set_user(item["user"])
            for k, v in item.get("tags", {}).items():
                scope.set_tag(k, v)
            scope.level = item.get("level", "error")
            try:
                fail(item["exc"], item.get("msg", "boom"))
            except Exception:
                sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=30)
    sentry_sdk.Hub.current.client.close()
    print(json.dumps(last.get("event"), default=str), flush=True)
"""


def plan_item(exc, **kw):
    return dict(kw, exc=exc)


class TriageBase:
    backend = "sqlite"

    @classmethod
    def setUpClass(cls):
        cls.hooks = Receiver()
        cls.srv = Server(backend=cls.backend, env=NOTIFY_ENV).start()
        cls.tmp = tempfile.mkdtemp(prefix="periscope-triage-")
        cls.app = os.path.join(cls.tmp, "app.py")
        with open(cls.app, "w") as f:
            f.write(SDK_APP)
        cls.python = python_with_sentry_sdk()
        cls.sdk_procs = {}  # thread id -> the SDK process serving it
        cls.sdk_lock = threading.Lock()

    @classmethod
    def tearDownClass(cls):
        for proc in cls.sdk_procs.values():
            proc.stdin.close()
            proc.wait(timeout=30)
        cls.srv.cleanup()
        cls.hooks.close()

    # --- helpers -----------------------------------------------------------

    def project(self, srv=None):
        r = (srv or self.srv).admin("POST", "/api/admin/projects", {"name": "t-" + uuid.uuid4().hex[:6]})
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    def dsn(self, p, srv=None):
        return "http://%s@127.0.0.1:%d/%d" % (p["public_key"], (srv or self.srv).port, p["id"])

    def sdk(self, p, plan, srv=None):
        """Sends the plan with the SDK and waits until every event is stored;
        returns the last event as the SDK built it."""
        if not self.python:
            self.fail("no python3 with sentry_sdk (apt-get install python3-sentry-sdk)")
        with self.sdk_lock:
            proc = self.sdk_procs.get(threading.get_ident())
            if proc is None:
                proc = subprocess.Popen([self.python, self.app], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
                self.sdk_procs[threading.get_ident()] = proc
        before = self.total(p, srv)
        proc.stdin.write(json.dumps({"dsn": self.dsn(p, srv), "plan": plan}) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        self.assertTrue(line, "the SDK process ended")
        wait_until("%d events stored" % len(plan), lambda: self.total(p, srv) >= before + len(plan))
        return json.loads(line)

    def total(self, p, srv=None):
        r = (srv or self.srv).admin("GET", "/api/admin/projects/%d/issues?status=all&limit=1000" % p["id"])
        self.assertEqual(r.status, 200, r.body)
        return sum(i["count"] for i in r.json()["data"])

    def issue(self, p, title_prefix, srv=None):
        r = (srv or self.srv).admin("GET", "/api/admin/projects/%d/issues?status=all&limit=1000" % p["id"])
        found = [i for i in r.json()["data"] if i["title"].startswith(title_prefix)]
        self.assertEqual(len(found), 1, [i["title"] for i in r.json()["data"]])
        return self.srv.admin("GET", "/api/admin/projects/%d/issues/%d" % (p["id"], found[0]["id"])).json()

    def patch(self, p, issue, body, status=200):
        r = self.srv.admin("PATCH", "/api/admin/projects/%d/issues/%d" % (p["id"], issue["id"]), body)
        self.assertEqual(r.status, status, r.body)
        return r.json()

    def alerts(self, p, srv=None):
        r = (srv or self.srv).admin("GET", "/api/admin/projects/%d/alerts" % p["id"])
        self.assertEqual(r.status, 200, r.body)
        return r.json()["data"]

    def kinds(self, p, issue):
        return sorted(a["kind"] for a in self.alerts(p) if a["issue_id"] == issue["id"])

    def webhook(self, p, name, srv=None):
        path = "/p%d-%s-%s" % (p["id"], self.backend, name)
        r = (srv or self.srv).admin("POST", "/api/admin/projects/%d/alert_notification_destinations" % p["id"],
                                    {"type": "generic_webhook", "name": name, "webhook_url": self.hooks.url(path)})
        self.assertEqual(r.status, 201, r.body)
        return r.json()["id"], path

    def got_kinds(self, path):
        return sorted(json.loads(r["body"])["data"]["alert"]["kind"] for r in self.hooks.got(path))

    def settle(self, p):
        """Waits until no delivery of the project is pending or sending."""
        wait_until("deliveries settled", lambda: all(
            d["status"] in ("sent", "suppressed", "failed")
            for a in self.alerts(p) for d in a["deliveries"]))

    # --- snoozes -------------------------------------------------------------

    def test_snooze_by_count_rate_users_and_time_escalates_once(self):
        p = self.project()
        _, path = self.webhook(p, "oncall")
        self.sdk(p, [plan_item(n) for n in ("CountError", "RateError", "UsersError", "UntilError")])
        by_count = self.issue(p, "CountError")
        by_rate = self.issue(p, "RateError")
        by_users = self.issue(p, "UsersError")
        by_time = self.issue(p, "UntilError")
        self.patch(p, by_count, {"status": "ignored", "ignore_until": {"count": 3}}, 200)
        out = self.patch(p, by_rate, {"status": "ignored", "ignore_until": {"rate": 4, "window_minutes": 60}})
        self.assertEqual(out["ignore_until"], {"rate": 4, "window_minutes": 60})
        self.patch(p, by_users, {"status": "ignored", "ignore_until": {"users": 2}})
        self.patch(p, by_time, {"status": "ignored", "ignore_until": {"until": "2020-01-01T00:00:00Z"}})
        # Bad conditions are refused with the field named.
        for bad in ({"count": 0}, {"rate": 5}, {"until": "tomorrow"}, {"count": 1, "users": 2}, [1]):
            r = self.srv.admin("PATCH", "/api/admin/projects/%d/issues/%d" % (p["id"], by_count["id"]),
                               {"status": "ignored", "ignore_until": bad})
            self.assertEqual(r.status, 400, bad)
            self.assertIn("ignore_until", r.body.decode())
        r = self.srv.admin("PATCH", "/api/admin/projects/%d/issues/%d" % (p["id"], by_count["id"]),
                           {"status": "resolved", "ignore_until": {"count": 3}})
        self.assertEqual(r.status, 400)

        # Below each threshold: still ignored, no alert.
        self.sdk(p, [plan_item("CountError")] * 2 + [plan_item("RateError")] * 3 +
                 [plan_item("UsersError", user={"id": "u1"})])
        for issue in (by_count, by_rate, by_users):
            self.assertEqual(self.issue(p, issue["title"])["status"], "ignored")
        # The next event passes each: unresolved, one escalating alert.
        self.sdk(p, [plan_item("CountError"), plan_item("RateError"),
                     plan_item("UsersError", user={"email": "u2@example.com"}), plan_item("UntilError")])
        for issue in (by_count, by_rate, by_users, by_time):
            now = self.issue(p, issue["title"])
            self.assertEqual(now["status"], "unresolved", issue["title"])
            self.assertNotIn("ignore_until", now)
        # More events: no second escalating alert.
        self.sdk(p, [plan_item("CountError")] * 3 + [plan_item("RateError")] * 3)
        for issue in (by_count, by_rate, by_users, by_time):
            self.assertEqual(self.kinds(p, issue), ["escalating", "new"], issue["title"])
        self.settle(p)
        self.assertEqual(self.got_kinds(path), ["escalating"] * 4 + ["new"] * 4)

    def test_bulk_patch_takes_ignore_until_and_resolved_in(self):
        p = self.project()
        self.sdk(p, [plan_item(n, release="app@1.0.0") for n in ("BulkAError", "BulkBError", "BulkCError")])
        a, b, c = (self.issue(p, n) for n in ("BulkAError", "BulkBError", "BulkCError"))
        base = "/api/admin/projects/%d/issues" % p["id"]

        def bulk(ids, body, status=200):
            r = self.srv.admin("PATCH", base + "?ids=" + ",".join(str(i) for i in ids), body)
            self.assertEqual(r.status, status, r.body)
            return r

        r = bulk([a["id"], b["id"], 999999], {"status": "ignored", "ignore_until": {"count": 2}})
        self.assertEqual(r.json()["updated"], 2)
        for name in ("BulkAError", "BulkBError"):
            now = self.issue(p, name)
            self.assertEqual((now["status"], now["ignore_until"]), ("ignored", {"count": 2}), name)
        # a bad condition is refused with the field named, and nothing changes
        r = bulk([c["id"]], {"status": "ignored", "ignore_until": {"count": 0}}, 400)
        self.assertIn("ignore_until", r.body.decode())
        bulk([c["id"]], {"status": "resolved", "resolved_in": ""}, 400)
        self.assertEqual(self.issue(p, "BulkCError")["status"], "unresolved")
        # each snooze counts on its own issue
        self.sdk(p, [plan_item("BulkAError")] * 2 + [plan_item("BulkBError")])
        self.assertEqual(self.issue(p, "BulkAError")["status"], "unresolved")
        self.assertEqual(self.issue(p, "BulkBError")["status"], "ignored")

        r = bulk([b["id"], c["id"]], {"status": "resolved", "resolved_in": "next_release"})
        self.assertEqual(r.json()["updated"], 2)
        for name in ("BulkBError", "BulkCError"):
            now = self.issue(p, name)
            self.assertEqual((now["status"], now["resolved_in"], now["resolved_after_release"]),
                             ("resolved", "next_release", "app@1.0.0"), name)
            self.assertNotIn("ignore_until", now)
        # the same release only counts, a newer one reopens
        self.sdk(p, [plan_item("BulkBError", release="app@1.0.0"),
                     plan_item("BulkCError", release="app@1.1.0")])
        self.assertEqual(self.issue(p, "BulkBError")["status"], "resolved")
        self.assertEqual(self.issue(p, "BulkCError")["status"], "unresolved")
        # a plain bulk status ends the condition
        bulk([b["id"]], {"status": "ignored"})
        now = self.issue(p, "BulkBError")
        self.assertEqual(now["status"], "ignored")
        self.assertNotIn("resolved_in", now)
        self.assertNotIn("ignore_until", now)

    # --- releases -------------------------------------------------------------

    def test_resolved_in_next_release_counts_older_and_reopens_on_newer(self):
        p = self.project()
        self.webhook(p, "oncall")
        self.sdk(p, [plan_item("PayError", release="shop@1.0.0"), plan_item("PayError", release="shop@1.2.0"),
                     plan_item("CartError", release="beta"), plan_item("CartError", release="alpha")])
        pay = self.issue(p, "PayError")
        self.assertEqual((pay["first_release"], pay["last_release"]), ("shop@1.0.0", "shop@1.2.0"))
        out = self.patch(p, pay, {"status": "resolved", "resolved_in": "next_release"})
        self.assertEqual(out["resolved_in"], "next_release")
        self.assertEqual(out["resolved_after_release"], "shop@1.2.0")  # its latest event's
        cart = self.issue(p, "CartError")
        # Non-semver versions compare in the order first seen: beta, then alpha.
        self.patch(p, cart, {"status": "resolved", "resolved_in": "alpha"})

        # Older or same releases (and no release) only count.
        self.sdk(p, [plan_item("PayError", release="shop@1.2.0"), plan_item("PayError", release="shop@0.9.0"),
                     plan_item("PayError"), plan_item("CartError", release="beta")])
        pay_now, cart_now = self.issue(p, "PayError"), self.issue(p, "CartError")
        self.assertEqual((pay_now["status"], pay_now["count"]), ("resolved", 5))
        self.assertEqual((cart_now["status"], cart_now["count"]), ("resolved", 3))
        # A newer release reopens it: a regression, once.
        self.sdk(p, [plan_item("PayError", release="shop@1.10.0"), plan_item("PayError", release="shop@1.10.0"),
                     plan_item("CartError", release="alpha")])
        for name in ("PayError", "CartError"):
            issue = self.issue(p, name)
            self.assertEqual(issue["status"], "unresolved", name)
            self.assertEqual(self.kinds(p, issue), ["new", "regression"], name)
        self.assertEqual(self.issue(p, "PayError")["last_release"], "shop@1.10.0")

        r = self.srv.admin("GET", "/api/admin/projects/%d/releases" % p["id"])
        self.assertEqual(r.status, 200, r.body)
        rel = {x["version"]: x for x in r.json()["data"]}
        self.assertEqual(set(rel), {"shop@1.0.0", "shop@1.2.0", "shop@0.9.0", "shop@1.10.0", "alpha", "beta"})
        self.assertEqual((rel["shop@1.2.0"]["events"], rel["shop@1.0.0"]["new_issues"]), (2, 1))
        self.assertEqual((rel["beta"]["new_issues"], rel["alpha"]["new_issues"]), (1, 0))
        self.assertEqual(rel["shop@1.10.0"]["events"], 2)
        self.assertTrue(rel["shop@1.0.0"]["semver"])
        self.assertFalse(rel["alpha"]["semver"])
        self.assertIn("T", rel["alpha"]["first_seen"])
        r = self.srv.admin("PATCH", "/api/admin/projects/%d/issues/%d" % (p["id"], pay["id"]),
                           {"status": "resolved", "resolved_in": ""})
        self.assertEqual(r.status, 400)

    # --- users affected -------------------------------------------------------

    def test_users_affected_exact_then_estimated(self):
        p = self.project()
        template = self.sdk(p, [
            plan_item("LoginError", user={"id": "42"}), plan_item("LoginError", user={"id": "42"}),
            plan_item("LoginError", user={"email": "a@example.com"}),
            plan_item("LoginError", user={"ip_address": "10.1.2.3"}),
            plan_item("LoginError"), plan_item("SearchError", user={"id": "7"}),
            plan_item("LoginError", user={"id": "43", "email": "a@example.com"})])
        login = self.issue(p, "LoginError")
        self.assertEqual(login["user_count"], 4)  # 42, a@example.com, 10.1.2.3, 43
        listed = self.srv.admin("GET", "/api/admin/projects/%d/issues?sort=users" % p["id"]).json()["data"]
        self.assertEqual([(i["title"].split(":")[0], i["user_count"]) for i in listed],
                         [("LoginError", 4), ("SearchError", 1)])

        # Many more users: the SDK's event again, with other ids.
        def send(first, last):
            evs = []
            for n in range(first, last):
                ev = dict(template, event_id=uuid.uuid4().hex, user={"id": "bulk-%d" % n})
                evs.append((ev["event_id"], ev))
            for i in range(0, len(evs), 200):
                r = self.srv.request("POST", "/api/%d/envelope/" % p["id"], envelope(evs[i:i + 200]),
                                     {"X-Sentry-Auth": "Sentry sentry_key=%s, sentry_version=7" % p["public_key"],
                                      "Content-Type": "application/x-sentry-envelope"})
                self.assertEqual(r.status, 200, r.body)

        send(0, 2000)
        wait_until("2,000 more events", lambda: self.issue(p, "LoginError")["count"] == 2006, timeout=120)
        self.assertEqual(self.issue(p, "LoginError")["user_count"], 2004)  # still exact
        send(2000, 10500)
        wait_until("8,500 more events", lambda: self.issue(p, "LoginError")["count"] == 10506, timeout=120)
        count = self.issue(p, "LoginError")["user_count"]
        self.assertLess(abs(count - 10504) / 10504, 0.02, count)
        self.assertNotEqual(count, 10000)  # past the exact limit it is the estimate

    # --- alert rules ----------------------------------------------------------

    def put_rules(self, p, rules, status=200, srv=None):
        r = (srv or self.srv).admin("PUT", "/api/admin/projects/%d/alert_rules" % p["id"], {"rules": rules})
        self.assertEqual(r.status, status, r.body)
        return r.json()

    def test_alert_rules_route_by_level_environment_and_tag(self):
        p = self.project()
        prod, prod_path = self.webhook(p, "prod")
        acme, acme_path = self.webhook(p, "acme")
        got = self.srv.admin("GET", "/api/admin/projects/%d/alert_rules" % p["id"]).json()
        self.assertTrue(got["default"])
        self.assertEqual(got["rules"][0]["when"]["kinds"], ["new", "regression", "escalating"])
        # Refused with the field named.
        for bad, field in (
                ([{"name": "x", "when": {"kinds": ["sometimes"]}}], "rules[0].when.kinds"),
                ([{"name": "x", "when": {"kinds": ["new"], "level_at_least": "loud"}}], "level_at_least"),
                ([{"name": "x", "when": {"kinds": ["frequency"]}}], "rules[0].when"),
                ([{"name": "x", "when": {"kinds": ["new"]}, "destinations": [999999]}], "rules[0].destinations"),
                ([{"name": "x", "when": {"kinds": ["new"]}}, {"name": "x", "when": {"kinds": ["new"]}}],
                 "rules[1].name"),
                ([{"name": "x", "when": {"kinds": ["new"], "frequency": {"count": 5}}}], "frequency"),
                ([{"name": "x", "when": {"kinds": ["new"]}, "colour": "red"}], "colour")):
            r = self.srv.admin("PUT", "/api/admin/projects/%d/alert_rules" % p["id"], {"rules": bad})
            self.assertEqual(r.status, 400, bad)
            self.assertIn(field, r.json()["error"]["message"])
        saved = self.put_rules(p, [
            {"name": "prod errors", "when": {"kinds": ["new", "regression"], "level_at_least": "error",
                                             "environments": ["production"]}, "destinations": [prod]},
            {"name": "acme", "when": {"kinds": ["new"], "tags": {"tenant": "acme"}}, "destinations": [acme]}])
        self.assertFalse(saved["default"])
        self.sdk(p, [
            plan_item("WarnOnly", level="warning", environment="production"),
            plan_item("StagingError", environment="staging"),
            plan_item("ProdError", environment="production"),
            plan_item("AcmeError", environment="staging", tags={"tenant": "acme"}),
            plan_item("FatalAcme", level="fatal", environment="production", tags={"tenant": "acme"})])
        self.settle(p)
        titles = lambda path: sorted(json.loads(r["body"])["data"]["issue"]["title"].split(":")[0]
                                     for r in self.hooks.got(path))
        self.assertEqual(titles(prod_path), ["FatalAcme", "ProdError"])
        self.assertEqual(titles(acme_path), ["AcmeError", "FatalAcme"])
        suppressed = [d for a in self.alerts(p) for d in a["deliveries"] if d["status"] == "suppressed"]
        self.assertEqual(len(suppressed), 6)  # 5 alerts x 2 destinations - 4 sent
        self.assertIn("no alert rule", suppressed[0]["last_error"])
        # Back to the default: every destination again.
        r = self.srv.admin("PUT", "/api/admin/projects/%d/alert_rules" % p["id"], {"rules": None})
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.json()["default"])
        self.sdk(p, [plan_item("AfterReset", level="info")])
        self.settle(p)
        self.assertEqual(len(self.hooks.got(prod_path)), 3)
        self.assertEqual(len(self.hooks.got(acme_path)), 3)

    def test_frequency_rule_fires_once_per_window(self):
        p = self.project()
        burst, path = self.webhook(p, "burst")
        self.put_rules(p, [{"name": "burst", "when": {"kinds": ["frequency"], "frequency": {"count": 5, "window_minutes": 60},
                                                      "environments": ["production"]},
                            "destinations": [burst], "throttle_minutes": 0}])
        self.sdk(p, [plan_item("BurstError", environment="production")] * 4)
        issue = self.issue(p, "BurstError")
        self.assertEqual(self.kinds(p, issue), ["new"])  # kept, but no rule sends it
        self.sdk(p, [plan_item("BurstError", environment="staging")] * 4)
        self.assertEqual(self.kinds(p, issue), ["new"])  # the rule's environment only
        self.sdk(p, [plan_item("BurstError", environment="production")] * 8)
        self.assertEqual(self.kinds(p, issue), ["frequency", "new"])
        self.settle(p)
        self.assertEqual(self.got_kinds(path), ["frequency"])

    # --- alert() and format() hooks --------------------------------------------

    def test_alert_hook_routes_and_format_false_suppresses(self):
        p = self.project()
        a, a_path = self.webhook(p, "a")
        b, b_path = self.webhook(p, "b")
        slack_path = "/p%d-%s-slack" % (p["id"], self.backend)
        r = self.srv.admin("POST", "/api/admin/projects/%d/alert_notification_destinations" % p["id"],
                           {"type": "slack_webhook", "name": "slack", "webhook_url": self.hooks.url(slack_path)})
        self.assertEqual(r.status, 201, r.body)
        script = """
return {
  alert = function(alert, issue, event)
    if issue.title:find("Noise") then return false end
    if event and event.environment == "staging" then return {%d} end
    return true
  end,
  format = function(alert, destination)
    if destination.type == "slack_webhook" then return false end
    return nil
  end,
}
""" % b
        r = self.srv.admin("PUT", "/api/admin/projects/%d/script" % p["id"], script)
        self.assertIn(r.status, (200, 201), r.body)
        # The dry run shows the rules and the hook's decision.
        r = self.srv.admin("POST", "/api/admin/projects/%d/script/test" % p["id"],
                           {"event": {"message": "x", "environment": "staging", "level": "error"}})
        self.assertEqual(r.status, 200, r.body)
        dry = r.json()
        self.assertEqual(dry["alerts"]["hook"], {"decision": "list", "destinations": [b]})
        self.assertEqual(dry["alerts"]["rules"][0]["matches"], ["new", "regression", "escalating"])
        self.assertIs(dry["notifications"]["slack_webhook"], False)
        self.assertNotEqual(dry["notifications"]["generic_webhook"], False)

        self.sdk(p, [plan_item("NoiseError"), plan_item("StagingError", environment="staging"),
                     plan_item("RealError", environment="production")])
        self.settle(p)
        title = lambda r: json.loads(r["body"])["data"]["issue"]["title"].split(":")[0]
        self.assertEqual([title(r) for r in self.hooks.got(a_path)], ["RealError"])
        self.assertEqual(sorted(title(r) for r in self.hooks.got(b_path)), ["RealError", "StagingError"])
        self.assertEqual(self.hooks.got(slack_path), [])
        reasons = sorted(d["last_error"] for x in self.alerts(p) for d in x["deliveries"]
                         if d["status"] == "suppressed")
        self.assertEqual(reasons.count("format() returned false"), 1)  # slack, RealError
        self.assertEqual(reasons.count("alert() returned false"), 3)  # NoiseError everywhere
        self.assertEqual(reasons.count("alert() did not name this destination"), 2)  # StagingError


class TriageSqlite(TriageBase, unittest.TestCase):
    backend = "sqlite"


@unittest.skipIf(pg_env() is None, "no test Postgres cluster")
class TriagePostgres(TriageBase, unittest.TestCase):
    backend = "postgres"

    def test_frequency_rule_fires_once_across_two_nodes(self):
        shared = {k: v for k, v in self.srv.env.items() if k.startswith("POSTGRES_")}
        with Server(backend="sqlite", env=dict(NOTIFY_ENV, **shared)) as other:
            p = self.project()
            burst, path = self.webhook(p, "two-nodes")
            self.put_rules(p, [{"name": "burst", "when": {"kinds": ["frequency"],
                                                          "frequency": {"count": 10, "window_minutes": 60}},
                                "destinations": [burst]}])
            self.sdk(p, [plan_item("NodesError")])
            plan = [plan_item("NodesError")] * 20
            threads = [threading.Thread(target=self.sdk, args=(p, plan, node)) for node in (self.srv, other)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wait_until("41 events", lambda: self.total(p) == 41)
            issue = self.issue(p, "NodesError")
            self.assertEqual(self.kinds(p, issue), ["frequency", "new"])  # new: no rule sends it
            self.settle(p)
            time.sleep(1)  # both notifiers had their chance
            self.assertEqual(self.got_kinds(path), ["frequency"])


if __name__ == "__main__":
    unittest.main()
