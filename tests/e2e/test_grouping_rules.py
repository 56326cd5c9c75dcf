"""Grouping rules in Sentry's syntax end to end: set through the admin API,
applied to events ingested by the real server, refused with their line when
they do not parse, kept across a restart (SQLite) and seen by a second node
on the same Postgres."""

import json
import time
import unittest
import uuid

from periscope_testlib import Server, pg_env

RULES = {
    "fingerprint_rules": "# databases down are one issue\n"
                         "error.type:DatabaseUnavailable -> system-down title=\"Database down\"\n",
    "stacktrace_rules": "stack.module:vendor.* -app\n",
}


def event(exc_type="DatabaseUnavailable", value="db1 went away", module="app.views"):
    return {
        "event_id": uuid.uuid4().hex, "platform": "python",
        "exception": {"values": [{"type": exc_type, "value": value,
                                  "stacktrace": {"frames": [
                                      {"filename": "app/views.py", "module": module,
                                       "function": "checkout", "in_app": True}]}}]},
    }


class GroupingRulesApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(backend="sqlite").start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def project(self, srv=None):
        r = (srv or self.srv).admin("POST", "/api/admin/projects", {"name": "p-" + uuid.uuid4().hex[:8]})
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    def path(self, p):
        return "/api/admin/projects/%d/grouping-rules" % p["id"]

    def ingest(self, p, ev, srv=None):
        r = (srv or self.srv).request("POST", "/api/%d/store/" % p["id"], json.dumps(ev).encode(),
                                      {"X-Sentry-Auth": "Sentry sentry_key=%s, sentry_version=7" % p["public_key"],
                                       "Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.body)

    def issues(self, p, want, srv=None):
        """The project's issues once `want` exist (ingest is asynchronous)."""
        deadline = time.monotonic() + 10
        while True:
            data = (srv or self.srv).admin("GET", "/api/admin/projects/%d/issues?limit=100" % p["id"]).json()["data"]
            if len(data) >= want or time.monotonic() > deadline:
                return data
            time.sleep(0.05)

    def test_rules_group_ingested_events_and_set_the_title(self):
        p = self.project()
        r = self.srv.admin("PUT", self.path(p), RULES)
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        self.assertEqual(body["fingerprint_rules"], RULES["fingerprint_rules"])
        self.assertEqual(body["grouping_config"], "newstyle:2026-01-20")
        self.assertIsNotNone(body["updated_at"])
        self.ingest(p, event(value="db1 went away", module="app.views"))
        self.ingest(p, event(value="db2 went away", module="app.models"))
        self.ingest(p, event(exc_type="KeyError", value="x"))
        deadline = time.monotonic() + 10
        while True:
            issues = self.issues(p, 2)
            down = [i for i in issues if i["title"] == "Database down"]
            if (down and down[0]["count"] == 2) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(issues), 2, issues)
        self.assertEqual(len(down), 1, issues)
        self.assertEqual(down[0]["count"], 2)

    def test_stack_trace_rules_decide_what_counts(self):
        p = self.project()
        test = "/api/admin/projects/%d/script/test" % p["id"]
        mixed = event(exc_type="KeyError", value="x")
        mixed["exception"]["values"][0]["stacktrace"]["frames"].append(
            {"filename": "vendor/lib.py", "module": "vendor.lib", "function": "call", "in_app": True})
        before = self.srv.admin("POST", test, {"event": mixed}).json()["hash"]
        self.assertEqual(self.srv.admin("PUT", self.path(p), RULES).status, 200)
        after = self.srv.admin("POST", test, {"event": mixed}).json()["hash"]
        self.assertNotEqual(before, after)  # the vendor frame no longer counts
        plain = self.srv.admin("POST", test, {"event": event(exc_type="KeyError", value="x")}).json()["hash"]
        self.assertEqual(after, plain)

    def test_bad_rules_are_refused_with_their_line_and_the_old_ones_keep_serving(self):
        p = self.project()
        self.assertEqual(self.srv.admin("PUT", self.path(p), RULES).status, 200)
        r = self.srv.admin("PUT", self.path(p), {"fingerprint_rules": "type:A -> a\nerror.colour:red -> b\n"})
        self.assertEqual(r.status, 422, r.body)
        self.assertEqual(r.json()["error"]["code"], "rules_invalid")
        self.assertIn("line 2", r.json()["error"]["message"])
        r = self.srv.admin("PUT", self.path(p), {"stacktrace_rules": "stack.module:x -app max-frames=3\n"})
        self.assertEqual(r.status, 422, r.body)
        self.assertIn("not supported", r.json()["error"]["message"])
        self.assertEqual(self.srv.admin("PUT", self.path(p), {"fingerprint_rules": 7}).status, 400)
        self.assertEqual(self.srv.admin("GET", self.path(p)).json()["fingerprint_rules"],
                         RULES["fingerprint_rules"])

    def test_get_delete_and_unknown_project(self):
        p = self.project()
        empty = self.srv.admin("GET", self.path(p)).json()
        self.assertEqual((empty["fingerprint_rules"], empty["stacktrace_rules"], empty["updated_at"]), ("", "", None))
        self.assertEqual(self.srv.admin("PUT", self.path(p), RULES).status, 200)
        r = self.srv.admin("DELETE", self.path(p))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["fingerprint_rules"], "")
        self.assertEqual(self.srv.admin("GET", "/api/admin/projects/999999/grouping-rules").status, 404)
        self.assertEqual(self.srv.admin("PUT", "/api/admin/projects/999999/grouping-rules", RULES).status, 404)


class Restart(unittest.TestCase):
    def test_rules_survive_a_restart(self):
        srv = Server(backend="sqlite").start()
        try:
            p = srv.admin("POST", "/api/admin/projects", {"name": "restart"}).json()
            self.assertEqual(srv.admin("PUT", "/api/admin/projects/%d/grouping-rules" % p["id"], RULES).status, 200)
            test = "/api/admin/projects/%d/script/test" % p["id"]
            want = srv.admin("POST", test, {"event": event()}).json()["hash"]
            srv.stop()
            srv.start()
            self.assertEqual(srv.admin("GET", "/api/admin/projects/%d/grouping-rules" % p["id"]).json()
                             ["fingerprint_rules"], RULES["fingerprint_rules"])
            self.assertEqual(srv.admin("POST", test, {"event": event()}).json()["hash"], want)
        finally:
            srv.cleanup()


@unittest.skipIf(pg_env() is None, "no Postgres test cluster")
class TwoNodes(unittest.TestCase):
    def test_rules_put_on_one_node_apply_on_the_other(self):
        with Server(backend="postgres") as a:
            shared = {k: v for k, v in a.env.items() if k.startswith("POSTGRES_")}
            shared["API_SECRET_KEY_ADMIN"] = a.admin_key
            with Server(backend="sqlite", env=shared) as b:
                p = a.admin("POST", "/api/admin/projects", {"name": "nodes"}).json()
                test = "/api/admin/projects/%d/script/test" % p["id"]
                before = b.admin("POST", test, {"event": event()}).json()["hash"]
                self.assertEqual(a.admin("PUT", "/api/admin/projects/%d/grouping-rules" % p["id"], RULES).status, 200)
                want = a.admin("POST", test, {"event": event()}).json()["hash"]
                self.assertNotEqual(before, want)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    if b.admin("POST", test, {"event": event()}).json()["hash"] == want:
                        break
                    time.sleep(0.02)
                self.assertEqual(b.admin("POST", test, {"event": event()}).json()["hash"], want)
                self.assertEqual(b.admin("GET", "/api/admin/projects/%d/grouping-rules" % p["id"]).json()
                                 ["stacktrace_rules"], RULES["stacktrace_rules"])


if __name__ == "__main__":
    unittest.main()
