"""Script management end to end: hot reload through the admin API with the
server running, refusals that keep the old script serving, versions,
rollback, back to the default rules, the dry run against what a real ingest
stores, `periscope rules check` offline, SIGHUP, and two nodes on one
Postgres swapping within a second."""

import json
import os
import re
import signal
import sqlite3
import time
import unittest
import uuid

from periscope_testlib import Server, pg_env, run_cli

SOURCE_DIR = os.environ.get("PERISCOPE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(SOURCE_DIR, "rules", "examples")

BY_REGION = "return { fingerprint = function(e, d) return { 'region', e.tags.region } end }"
DROP_DEV = "return { filter = function(e) return e.environment ~= 'dev' end }"


def event(env="prod", region="eu", exc_type="ValueError"):
    return {
        "event_id": uuid.uuid4().hex, "platform": "python", "environment": env,
        "tags": {"region": region},
        "exception": {"values": [{"type": exc_type, "value": "bad input",
                                  "stacktrace": {"frames": [{"filename": "app/views.py", "module": "app.views",
                                                             "function": "checkout", "in_app": True}]}}]},
    }


class ScriptApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(backend="sqlite", env={"LUA_INSTRUCTION_LIMIT": "200000",
                                                "LUA_MEMORY_LIMIT": "8388608"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def project(self):
        r = self.srv.admin("POST", "/api/admin/projects", {"name": "p-" + uuid.uuid4().hex[:8]})
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    def path(self, p, rest=""):
        return "/api/admin/projects/%d/script%s" % (p["id"], rest)

    def put(self, p, source, raw=False):
        if raw:
            return self.srv.admin("PUT", self.path(p), source.encode(), headers={"Content-Type": "text/plain"})
        return self.srv.admin("PUT", self.path(p), {"source": source})

    def ingest(self, p, ev):
        """Sends through the real /store/ endpoint (answered 200, or the test fails)."""
        r = self.srv.request("POST", "/api/%d/store/" % p["id"], json.dumps(ev).encode(),
                             {"X-Sentry-Auth": "Sentry sentry_key=%s, sentry_version=7" % p["public_key"],
                              "Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.body)
        return r

    def issue_hashes(self, p):
        r = self.srv.admin("GET", "/api/admin/projects/%d/issues?limit=100" % p["id"])
        self.assertEqual(r.status, 200, r.body)
        return {i["hash"] for i in r.json()["data"]}

    def test_put_changes_grouping_for_the_next_event(self):
        p = self.project()
        self.ingest(p, event(region="eu"))
        self.ingest(p, event(region="us"))
        self.assertEqual(len(self.issue_hashes(p)), 1)  # default: same error, one issue
        r = self.put(p, BY_REGION, raw=True)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["version"], 1)
        self.ingest(p, event(region="eu"))
        self.ingest(p, event(region="us"))
        # The grouping transition (README "Grouping transitions") keeps the
        # known error on its issue: the new hashes join it.
        (issue,) = self.srv.admin("GET", "/api/admin/projects/%d/issues" % p["id"]).json()["data"]
        hashes = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d"
                                % (p["id"], issue["id"])).json()["hashes"]
        self.assertEqual(len(hashes), 3)  # old one + one per region

    def test_put_splits_issues_when_the_project_has_no_transition_period(self):
        p = self.project()
        r = self.srv.admin("PATCH", "/api/admin/projects/%d" % p["id"],
                           {"grouping_transition_days": 0})
        self.assertEqual(r.status, 200, r.body)
        self.ingest(p, event(region="eu"))
        self.assertEqual(len(self.issue_hashes(p)), 1)
        self.assertEqual(self.put(p, BY_REGION, raw=True).status, 200)
        self.ingest(p, event(region="eu"))
        self.ingest(p, event(region="us"))
        self.assertEqual(len(self.issue_hashes(p)), 3)  # old one + one per region

    def test_bad_scripts_are_refused_with_their_line_and_the_old_one_keeps_serving(self):
        p = self.project()
        self.assertEqual(self.put(p, DROP_DEV).status, 200)
        bad = [
            ("return {\n  filter = function(e)\n    return e. == 1\n  end }", 3, "syntax"),
            ("return { fingerprint = function(e)\n  return e.nothing.here end }", 2, "nothing"),
            ("return { filter = function(e)\n  while true do end\n end }", 2, "timeout"),
            ("return { format = function(alert, dest)\n  error('cannot format ' .. dest.type)\n end }", 2, "format"),
            ("return { filter = function(e)\n  local t = {}\n  for i = 1, 64 do t[i] = string.rep('x', 1 << 20) .. i end\n end }",
             None, "memory"),
        ]
        for source, line, says in bad:
            r = self.put(p, source)
            self.assertEqual(r.status, 422, r.body)
            err = r.json()["error"]
            self.assertEqual(err["code"], "script_invalid")
            if says != "syntax":
                self.assertIn(says, err["message"])
            if line is not None:
                self.assertEqual(err["line"], line, err)
            got = self.srv.admin("GET", self.path(p)).json()
            self.assertEqual(got["version"], 1)
            self.assertEqual(got["source"], DROP_DEV)
        versions = self.srv.admin("GET", self.path(p, "/versions")).json()["data"]
        self.assertEqual([v["version"] for v in versions], [1])

    def test_versions_rollback_and_delete(self):
        p = self.project()
        self.assertEqual(self.put(p, DROP_DEV).json()["version"], 1)
        self.assertEqual(self.put(p, BY_REGION).json()["version"], 2)
        versions = self.srv.admin("GET", self.path(p, "/versions")).json()["data"]
        self.assertEqual([(v["version"], v["active"]) for v in versions], [(2, True), (1, False)])
        r = self.srv.admin("POST", self.path(p, "/rollback"), {"version": 1})
        self.assertEqual(r.status, 200, r.body)
        got = self.srv.admin("GET", self.path(p)).json()
        self.assertEqual((got["version"], got["source"]), (1, DROP_DEV))
        self.assertIsNotNone(got["created_at"])
        self.assertIn("hooks", got["stats"])
        self.assertEqual(self.srv.admin("POST", self.path(p, "/rollback"), {"version": 9}).status, 404)
        self.assertEqual(self.srv.admin("POST", self.path(p, "/rollback"), {"version": "x"}).status, 400)
        self.assertEqual(self.srv.admin("DELETE", self.path(p)).status, 200)
        got = self.srv.admin("GET", self.path(p)).json()
        self.assertIsNone(got["version"])
        self.assertIsNone(got["source"])
        self.assertEqual(self.srv.admin("GET", "/api/admin/projects/999999/script").status, 404)

    def test_rollback_and_delete_restore_behaviour(self):
        p = self.project()
        self.put(p, DROP_DEV)
        self.put(p, BY_REGION)
        self.srv.admin("POST", self.path(p, "/rollback"), {"version": 1})
        before = len(self.issue_hashes(p))
        self.ingest(p, event(env="dev"))
        self.assertEqual(len(self.issue_hashes(p)), before)  # dropped by v1's filter
        self.srv.admin("DELETE", self.path(p))
        self.ingest(p, event(env="dev"))
        self.assertEqual(len(self.issue_hashes(p)), before + 1)

    def test_dry_run_hash_is_the_one_a_real_ingest_stores(self):
        p = self.project()
        self.put(p, BY_REGION)
        ev = event(region="ap")
        r = self.srv.admin("POST", self.path(p, "/test"), {"event": ev})
        self.assertEqual(r.status, 200, r.body)
        dry = r.json()
        self.assertEqual(set(dry), {"filtered", "components", "hash", "title", "culprit", "issue_id",
                                    "scrubbed", "event", "alerts", "notifications", "errors"})
        self.assertFalse(dry["filtered"])
        self.assertEqual(dry["components"], ["region", "ap"])
        self.assertIsNone(dry["issue_id"])
        self.assertIn("slack_webhook", dry["notifications"])
        self.assertEqual(self.srv.admin("GET", self.path(p)).json()["stats"]["events"], 0)  # nothing ran for real
        self.ingest(p, ev)
        self.assertIn(dry["hash"], self.issue_hashes(p))
        again = self.srv.admin("POST", self.path(p, "/test"), {"event_id": ev["event_id"]}).json()
        self.assertEqual(again["hash"], dry["hash"])
        self.assertIsNotNone(again["issue_id"])

    def test_dry_run_with_a_given_source_stores_nothing(self):
        p = self.project()
        r = self.srv.admin("POST", self.path(p, "/test"), {"event": event(env="dev"), "source": DROP_DEV})
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.json()["filtered"])
        self.assertEqual(r.json()["notifications"], {})
        self.assertIsNone(self.srv.admin("GET", self.path(p)).json()["version"])
        r = self.srv.admin("POST", self.path(p, "/test"), {"event": event(), "source": "return {"})
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["error"]["code"], "script_invalid")
        self.assertEqual(self.srv.admin("POST", self.path(p, "/test"), {"nothing": 1}).status, 400)
        self.assertEqual(self.srv.admin("POST", self.path(p, "/test"), {"event_id": "ab" * 16}).status, 404)

    def test_sighup_reloads_scripts_changed_in_the_database(self):
        p = self.project()
        self.put(p, DROP_DEV)
        dry = lambda: self.srv.admin("POST", self.path(p, "/test"), {"event": event(env="dev")}).json()
        self.assertTrue(dry()["filtered"])
        # Someone points the project back at the default rules in the
        # database itself (a restored backup); SIGHUP makes serve see it.
        db = sqlite3.connect(os.path.join(self.srv.data_dir, "periscope.db"), timeout=10)
        db.execute("UPDATE projects SET active_script_version = NULL WHERE id = ?", (p["id"],))
        db.commit()
        db.close()
        self.assertTrue(dry()["filtered"])
        self.srv.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and dry()["filtered"]:
            time.sleep(0.05)
        self.assertFalse(dry()["filtered"])
        self.assertIn("SIGHUP: scripts reloaded", self.srv.stderr())


class RulesCheck(unittest.TestCase):
    def setUp(self):
        self.dir = os.path.join(os.environ.get("TMPDIR", "/tmp"), "rules-check-" + uuid.uuid4().hex[:8])
        os.makedirs(self.dir)
        self.event = os.path.join(self.dir, "event.json")
        with open(self.event, "w") as f:
            json.dump(dict(event(env="production"), tags={"tenant": "acme"}), f)

    def tearDown(self):
        for n in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, n))
        os.rmdir(self.dir)

    def script(self, text):
        path = os.path.join(self.dir, "script.lua")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_readable_report_of_an_example(self):
        r = run_cli("rules", "check", os.path.join(EXAMPLES, "group_by_tag.lua"), "--event", self.event)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("filter:     kept", r.stdout)
        self.assertIn("acme", r.stdout)
        self.assertIn("hash:", r.stdout)
        self.assertIn("notification slack_webhook:", r.stdout)

    def test_json_is_the_dry_run_object_and_matches_the_server(self):
        r = run_cli("rules", "check", self.script(BY_REGION), "--event", self.event, "--json",
                    "--format", "email")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["components"], ["region"])  # the event has no region tag
        self.assertEqual(list(out["notifications"]), ["email"])
        with Server(backend="sqlite") as srv:
            p = srv.admin("POST", "/api/admin/projects", {"name": "cmp"}).json()
            with open(self.event) as f:
                ev = json.load(f)
            dry = srv.admin("POST", "/api/admin/projects/%d/script/test" % p["id"],
                            {"event": ev, "source": BY_REGION}).json()
        self.assertEqual(dry["hash"], out["hash"])
        self.assertEqual(dry["components"], out["components"])

    def test_script_errors_exit_1_usage_errors_exit_2(self):
        r = run_cli("rules", "check", self.script("return {\n  filter = function(e) return e. end }"),
                    "--event", self.event)
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 2", r.stdout)
        r = run_cli("rules", "check", self.script("return { fingerprint = function(e)\n error('nope') end }"),
                    "--event", self.event, "--json")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(json.loads(r.stdout)["errors"][0]["line"], 2)
        self.assertEqual(run_cli("rules", "check", self.script(DROP_DEV)).returncode, 2)
        self.assertEqual(run_cli("rules", "check", self.script(DROP_DEV), "--event", self.event,
                                 "--format", "carrier_pigeon").returncode, 2)
        self.assertEqual(run_cli("rules", "check", self.script(DROP_DEV), "--event", "/nonexistent").returncode, 2)
        self.assertEqual(run_cli("rules", "check", "--help").returncode, 0)

    def test_a_syntax_error_is_reported_as_such_with_its_line_and_nothing_else(self):
        r = run_cli("rules", "check", self.script("return {\n  filter = function(e)\n"
                                                  "    return e.x ==\n  end\n}\n"),
                    "--event", self.event)
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(r.stdout, "script:     does not load: syntax error at line 4: "
                                   "unexpected symbol near 'end'\n")
        r = run_cli("rules", "check", self.script("return 5\n"), "--event", self.event)
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(r.stdout, "script:     does not load: type error: the script must "
                                   "return a table of hooks, not a number\n")

    def test_a_wrong_return_type_is_reported_at_the_hooks_line(self):
        source = ("local KEEP = true\n"
                  "return {\n"
                  "  filter = function(e)\n"
                  "    return 'yes'\n"
                  "  end,\n"
                  "  fingerprint = function(e, d)\n"
                  "    return 42\n"
                  "  end,\n"
                  "  format = function(alert, destination)\n"
                  "    return 7\n"
                  "  end,\n"
                  "}\n")
        r = run_cli("rules", "check", self.script(source), "--event", self.event,
                    "--format", "slack_webhook", "--json")
        self.assertEqual(r.returncode, 1, r)
        got = {(e["hook"], e["kind"], e["line"]) for e in json.loads(r.stdout)["errors"]}
        self.assertEqual(got, {("filter", "type", 3), ("fingerprint", "type", 6),
                               ("format", "type", 9)})
        r = run_cli("rules", "check", self.script(source), "--event", self.event,
                    "--format", "slack_webhook")
        self.assertIn("  fingerprint: type error at line 6: fingerprint must be a list of "
                      "strings, not a number (the default was used)\n", r.stdout)

    def test_output_keys_are_in_a_stable_order(self):
        def objects_in_order(pairs):
            keys = [k for k, _ in pairs]
            self.assertEqual(keys, sorted(keys))
            return dict(pairs)

        outputs = set()
        for _ in range(3):  # Lua's table order changes from one process to the next
            r = run_cli("rules", "check", os.path.join(EXAMPLES, "group_by_tag.lua"),
                        "--event", self.event, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            json.loads(r.stdout, object_pairs_hook=objects_in_order)
            outputs.add(re.sub(r"\d{4}-\d\d-\d\dT[0-9:.]+Z", "TIME", r.stdout))
        self.assertEqual(len(outputs), 1)


@unittest.skipIf(pg_env() is None, "no Postgres test cluster")
class TwoNodes(unittest.TestCase):
    def test_a_put_on_one_node_changes_grouping_on_the_other_through_listen_notify(self):
        # Node b reloads a script only when notified (no timer): the change
        # arriving at all proves the path. The bound is generous because
        # the machine may be loaded; the time is not the test's business.
        with Server(backend="postgres") as a:
            shared = {k: v for k, v in a.env.items() if k.startswith("POSTGRES_")}
            shared["API_SECRET_KEY_ADMIN"] = a.admin_key
            with Server(backend="sqlite", env=shared) as b:
                p = a.admin("POST", "/api/admin/projects", {"name": "nodes"}).json()
                path = "/api/admin/projects/%d/script/test" % p["id"]
                ev = event(region="eu")
                before = b.admin("POST", path, {"event": ev}).json()["hash"]
                self.assertEqual(a.admin("PUT", "/api/admin/projects/%d/script" % p["id"],
                                         {"source": BY_REGION}).status, 200)
                want = a.admin("POST", path, {"event": ev}).json()["hash"]
                self.assertNotEqual(before, want)
                t0 = time.monotonic()
                while time.monotonic() - t0 < 10.0:
                    if b.admin("POST", path, {"event": ev}).json()["hash"] == want:
                        break
                    time.sleep(0.02)
                self.assertEqual(b.admin("POST", path, {"event": ev}).json()["hash"], want)


if __name__ == "__main__":
    unittest.main()
