"""Issues and events through the admin API, against the real binary with
events sent through the real ingest endpoint, on SQLite and on the
throwaway Postgres: every filter and sort, the pagination edges, the
lifecycle (resolve, regress, ignore), retention with backdated rows, and
/metrics parsed by prometheus_client's text parser."""

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import unittest
import urllib.parse
import uuid

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # a python3 other than Debian's: use the Debian package (pure Python)
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

from periscope_testlib import Server, pg_env

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DAY_MS = 86400 * 1000


def have_pg():
    return pg_env() is not None


class QueryApiContract:
    backend = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(backend=cls.backend,
                         env={"RETENTION_INTERVAL_MS": "100", "RETENTION_DAYS": "30",
                              "MAX_EVENTS_PER_ISSUE": "5"}).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.srv.cleanup()
        assert code == 0, "serve exited with %r" % code

    # helpers

    def project(self):
        r = self.srv.admin("POST", "/api/admin/projects", {"name": "q-%s" % uuid.uuid4().hex[:6]})
        self.assertEqual(r.status, 201, r)
        p = r.json()
        return p["id"], p["public_key"]

    def send(self, pid, key, message, **fields):
        event = {"event_id": uuid.uuid4().hex, "message": message}
        event.update(fields)
        r = self.srv.request("POST", "/api/%d/store/?sentry_key=%s" % (pid, key),
                             body=json.dumps(event).encode(),
                             headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        return event["event_id"]

    def issues(self, pid, expect=200, **params):
        qs = urllib.parse.urlencode(params)
        r = self.srv.admin("GET", "/api/admin/projects/%d/issues?%s" % (pid, qs))
        self.assertEqual(r.status, expect, r)
        return r.json()

    def titles(self, pid, **params):
        return [i["title"] for i in self.issues(pid, **params)["data"]]

    def issue_id(self, pid, title):
        for i in self.issues(pid, status="all", limit=100)["data"]:
            if i["title"] == title:
                return i["id"]
        self.fail("no issue %r" % title)

    def patch(self, pid, iid, status, expect=200):
        r = self.srv.admin("PATCH", "/api/admin/projects/%d/issues/%d" % (pid, iid),
                           {"status": status})
        self.assertEqual(r.status, expect, r)
        return r.json()

    def sql(self, statement):
        """Runs one statement on the server's database (to backdate rows)."""
        if self.backend == "sqlite":
            db = sqlite3.connect(os.path.join(self.srv.data_dir, "periscope.db"), timeout=10)
            try:
                db.execute(statement)
                db.commit()
            finally:
                db.close()
            return
        env = dict(os.environ, PGPASSWORD=self.srv.env.get("POSTGRES_PASSWORD", ""))
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                        self.srv.env["POSTGRES_HOST"], "-p", self.srv.env["POSTGRES_PORT"],
                        "-U", self.srv.env["POSTGRES_USER"], "-d",
                        self.srv.env["POSTGRES_DATABASE"], "-c", statement],
                       env=env, check=True, timeout=30, capture_output=True)

    def wait_for(self, predicate, what, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        self.fail("timed out waiting for " + what)

    # list: shape, filters, sorts

    def test_issue_shape_and_histogram(self):
        pid, key = self.project()
        self.send(pid, key, "shape check", level="warning", environment="prod")
        self.send(pid, key, "shape check", level="warning", environment="prod")
        page = self.issues(pid)
        self.assertIsNone(page["next_cursor"])
        (issue,) = page["data"]
        for field in ("id", "project_id", "title", "culprit", "level", "status", "first_seen",
                      "last_seen", "count", "hash"):
            self.assertIn(field, issue)
        self.assertEqual((issue["project_id"], issue["title"], issue["level"], issue["status"],
                          issue["count"]), (pid, "shape check", "warning", "unresolved", 2))
        self.assertRegex(issue["first_seen"], RFC3339_MS)
        self.assertRegex(issue["hash"], r"^[0-9a-f]{32}$")
        self.assertEqual(len(issue["histogram_24h"]), 24)
        self.assertEqual(issue["histogram_24h"][-1], 2)

    def test_every_filter(self):
        pid, key = self.project()
        self.send(pid, key, "Alpha failure", level="error", environment="prod", release="1.0")
        self.send(pid, key, "Beta warning", level="warning", environment="staging", release="2.0")
        self.send(pid, key, "Gamma 100% broken", level="error", environment="prod", release="2.0")
        self.patch(pid, self.issue_id(pid, "Beta warning"), "resolved")
        self.patch(pid, self.issue_id(pid, "Gamma 100% broken"), "ignored")

        self.assertEqual(self.titles(pid), ["Alpha failure"])
        self.assertEqual(self.titles(pid, status="resolved"), ["Beta warning"])
        self.assertEqual(self.titles(pid, status="ignored"), ["Gamma 100% broken"])
        self.assertEqual(len(self.titles(pid, status="all")), 3)
        self.assertEqual(sorted(self.titles(pid, status="all", level="error")),
                         ["Alpha failure", "Gamma 100% broken"])
        self.assertEqual(sorted(self.titles(pid, status="all", environment="prod")),
                         ["Alpha failure", "Gamma 100% broken"])
        self.assertEqual(sorted(self.titles(pid, status="all", release="2.0")),
                         ["Beta warning", "Gamma 100% broken"])
        self.assertEqual(self.titles(pid, status="all", query="BETA"), ["Beta warning"])
        self.assertEqual(self.titles(pid, status="all", query="100%"), ["Gamma 100% broken"])
        self.assertEqual(self.titles(pid, status="all", query="0% b"), ["Gamma 100% broken"])
        self.assertEqual(self.titles(pid, status="all", query="nothing like it"), [])
        now = time.time()
        self.assertEqual(len(self.titles(pid, status="all", since=str(int(now - 3600)))), 3)
        self.assertEqual(self.titles(pid, status="all", since=str(int(now + 3600))), [])
        self.assertEqual(self.titles(pid, status="all", until="2000-01-01T00:00:00Z"), [])
        future = time.strftime("%Y-%m-%dT%H:%M:%S+02:00", time.gmtime(now + 7200 + 3600))
        self.assertEqual(len(self.titles(pid, status="all", until=future)), 3)
        for bad in ({"status": "open"}, {"sort": "title"}, {"since": "yesterday"},
                    {"until": "2026-13-01T00:00:00Z"}, {"limit": "x"}):
            r = self.srv.admin("GET", "/api/admin/projects/%d/issues?%s" %
                               (pid, urllib.parse.urlencode(bad)))
            self.assertEqual(r.status, 400, (bad, r))
            self.assertIn("code", r.json()["error"])

    def test_every_sort(self):
        pid, key = self.project()
        self.send(pid, key, "first")
        time.sleep(0.01)
        self.send(pid, key, "second")
        self.send(pid, key, "second")
        self.send(pid, key, "second")
        time.sleep(0.01)
        self.send(pid, key, "third")
        time.sleep(0.01)
        self.send(pid, key, "first")  # now the most recently seen
        self.assertEqual(self.titles(pid), ["first", "third", "second"])
        self.assertEqual(self.titles(pid, sort="last_seen"), ["first", "third", "second"])
        self.assertEqual(self.titles(pid, sort="first_seen"), ["third", "second", "first"])
        self.assertEqual(self.titles(pid, sort="count"), ["second", "first", "third"])
        self.assertEqual(self.titles(pid, sort="times_seen"), ["second", "first", "third"])

    def test_pagination_edges(self):
        pid, key = self.project()
        self.assertEqual(self.issues(pid), {"data": [], "next_cursor": None})  # empty
        for word in ("alpha", "beta", "gamma", "delta", "epsilon"):  # digits would group
            self.send(pid, key, "page issue " + word)
        one = self.issues(pid, limit=5)  # exactly one page
        self.assertEqual((len(one["data"]), one["next_cursor"]), (5, None))
        for sort in ("last_seen", "first_seen", "times_seen"):
            seen, cursor, pages = [], None, 0
            while True:
                params = {"limit": 2, "sort": sort}
                if cursor:
                    params["cursor"] = cursor
                page = self.issues(pid, **params)
                seen += [i["id"] for i in page["data"]]
                cursor, pages = page["next_cursor"], pages + 1
                if not cursor:
                    break
                self.assertLess(pages, 5)
            self.assertEqual(pages, 3)
            self.assertEqual(sorted(seen), sorted(i["id"] for i in one["data"]))
        last = self.issues(pid, limit=4)
        past = self.issues(pid, limit=4, cursor=last["next_cursor"])
        self.assertEqual(len(past["data"]), 1)
        # a cursor past the end: a valid cursor after the last row
        tail = self.issues(pid, limit=1, cursor=self.issues(pid, limit=4)["next_cursor"])
        self.assertIsNone(tail["next_cursor"])
        for bad in ("garbage!", "AAAA", "bm90LWEtY3Vyc29y"):
            r = self.issues(pid, expect=400, cursor=bad)
            self.assertEqual(r["error"]["code"], "invalid_cursor")

    def test_unknown_project_issue_and_event_are_404(self):
        pid, _ = self.project()
        self.assertEqual(self.srv.admin("GET", "/api/admin/projects/999999/issues").status, 404)
        self.assertEqual(self.srv.admin("GET", "/api/admin/projects/%d/issues/999999" %
                                        pid).status, 404)
        self.patch(pid, 999999, "resolved", expect=404)
        self.assertEqual(self.srv.admin("GET", "/api/admin/projects/%d/events/%s" %
                                        (pid, uuid.uuid4().hex)).status, 404)
        self.assertEqual(self.srv.admin("GET", "/api/admin/projects/%d/events/nothex" %
                                        pid).status, 404)

    # detail, events

    def test_detail_tags_events_and_raw_event(self):
        pid, key = self.project()
        ids = []
        for n in range(3):
            ids.append(self.send(pid, key, "detail issue", environment="prod" if n else "dev",
                                 release="r%d" % (n % 2), server_name="web1",
                                 user={"id": "u%d" % n}, tags={"browser": "Firefox"}))
        iid = self.issue_id(pid, "detail issue")
        r = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d" % (pid, iid))
        self.assertEqual(r.status, 200, r)
        issue = r.json()
        tags = {t["key"]: t for t in issue["tags"]}
        self.assertEqual(set(tags), {"environment", "release", "server_name", "user", "browser"})
        self.assertEqual(tags["environment"]["total"], 3)
        self.assertEqual(tags["environment"]["top_values"][0]["value"], "prod")
        self.assertEqual(tags["environment"]["top_values"][0]["count"], 2)
        self.assertEqual(tags["user"]["total"], 3)
        self.assertEqual(issue["latest_event"]["event_id"], ids[-1])
        self.assertEqual(issue["latest_event"]["data"]["user"], {"id": "u2"})

        r = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d/events?limit=2" % (pid, iid))
        self.assertEqual(r.status, 200, r)
        page = r.json()
        self.assertEqual([e["event_id"] for e in page["data"]], [ids[2], ids[1]])
        ev = page["data"][0]
        self.assertEqual((ev["issue_id"], ev["level"], ev["environment"], ev["release"],
                          ev["message"]), (iid, "error", "prod", "r0", "detail issue"))
        self.assertRegex(ev["received_at"], RFC3339_MS)
        r = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d/events?cursor=%s" %
                           (pid, iid, page["next_cursor"]))
        self.assertEqual([e["event_id"] for e in r.json()["data"]], [ids[0]])
        self.assertIsNone(r.json()["next_cursor"])
        r = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d/events?cursor=zz" % (pid, iid))
        self.assertEqual(r.status, 400)

        dashed = str(uuid.UUID(ids[0]))
        r = self.srv.admin("GET", "/api/admin/projects/%d/events/%s" % (pid, dashed))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
        raw = r.json()
        self.assertEqual((raw["event_id"], raw["environment"], raw["message"]),
                         (ids[0], "dev", "detail issue"))
        other, _ = self.project()
        self.assertEqual(self.srv.admin("GET", "/api/admin/projects/%d/events/%s" %
                                        (other, ids[0])).status, 404)

    # lifecycle

    def alerts(self, pid):
        r = self.srv.admin("GET", "/api/admin/projects/%d/alerts" % pid)
        self.assertEqual(r.status, 200, r)
        return r.json()["data"]

    def test_resolve_then_new_event_regresses_and_ignore_stays_quiet(self):
        pid, key = self.project()
        self.send(pid, key, "lifecycle")
        iid = self.issue_id(pid, "lifecycle")
        self.assertEqual([a["kind"] for a in self.alerts(pid)], ["new"])
        self.assertEqual(self.patch(pid, iid, "resolved")["status"], "resolved")
        self.assertEqual(self.titles(pid), [])
        self.send(pid, key, "lifecycle")
        issue = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d" % (pid, iid)).json()
        self.assertEqual((issue["status"], issue["count"]), ("unresolved", 2))
        self.assertEqual(sorted(a["kind"] for a in self.alerts(pid)), ["new", "regression"])

        self.patch(pid, iid, "ignored")
        self.send(pid, key, "lifecycle")
        issue = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d" % (pid, iid)).json()
        self.assertEqual((issue["status"], issue["count"]), ("ignored", 3))
        self.assertEqual(len(self.alerts(pid)), 2)
        self.patch(pid, iid, "nonsense", expect=400)

    def test_bulk_status_change(self):
        pid, key = self.project()
        names = ["bulk one", "bulk two", "bulk three"]  # digits would group into one issue
        for name in names:
            self.send(pid, key, name)
        ids = [self.issue_id(pid, name) for name in names]
        r = self.srv.admin("PATCH", "/api/admin/projects/%d/issues?ids=%d,%d,999999" %
                           (pid, ids[0], ids[1]), {"status": "resolved"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"status": "resolved", "updated": 2})
        self.assertEqual(sorted(self.titles(pid, status="resolved")), ["bulk one", "bulk two"])
        for bad in ("", "1,x", "-1", ",".join(["1"] * 101)):
            r = self.srv.admin("PATCH", "/api/admin/projects/%d/issues?ids=%s" % (pid, bad),
                               {"status": "resolved"})
            self.assertEqual(r.status, 400, (bad, r))

    # retention

    def count_events(self, pid, iid):
        r = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d/events?limit=100" % (pid, iid))
        return len(r.json()["data"])

    def test_retention_deletes_old_and_capped_events_keeping_counts(self):
        pid, key = self.project()
        for _ in range(3):
            self.send(pid, key, "old one")
        old = self.issue_id(pid, "old one")
        self.sql("UPDATE events SET received_at = received_at - %d WHERE issue_id = %d" %
                 (40 * DAY_MS, old))
        self.wait_for(lambda: self.count_events(pid, old) == 0, "old events to go")
        issue = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d" % (pid, old)).json()
        self.assertEqual(issue["count"], 3)
        self.assertIsNone(issue["latest_event"])

        # cap of 5 per issue; ingest keeps answering while retention runs
        for _ in range(12):
            self.send(pid, key, "busy one")
        busy = self.issue_id(pid, "busy one")
        self.wait_for(lambda: self.count_events(pid, busy) == 5, "the cap")
        issue = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d" % (pid, busy)).json()
        self.assertEqual(issue["count"], 12)

    # metrics

    def test_metrics_parse_with_prometheus_client(self):
        pid, key = self.project()
        self.send(pid, key, "metrics")
        self.issues(pid)
        r = self.srv.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        families = {f.name: f for f in text_string_to_metric_families(r.body.decode())}
        for name in ("periscope_http_requests", "periscope_ingest_requests",
                     "periscope_events", "periscope_pipeline_events",
                     "periscope_topic_depth", "periscope_topic_capacity",
                     "periscope_writer_batch_size", "periscope_writer_commit_seconds",
                     "periscope_deliveries", "periscope_retention_runs"):
            self.assertIn(name, families)
            self.assertTrue(families[name].documentation, name)  # HELP from the catalog
        self.assertEqual(families["periscope_writer_commit_seconds"].type, "histogram")
        statuses = {s.labels["status"] for s in families["periscope_deliveries"].samples}
        self.assertEqual(statuses, {"pending", "sending", "sent", "failed"})
        routes = {s.labels.get("route") for s in families["periscope_http_requests"].samples}
        self.assertIn("/api/admin/projects/{}/issues", routes)


class SqliteQueryApiTest(QueryApiContract, unittest.TestCase):
    backend = "sqlite"


@unittest.skipUnless(have_pg(), "no throwaway Postgres (PERISCOPE_TEST_PG_ENV)")
class PostgresQueryApiTest(QueryApiContract, unittest.TestCase):
    backend = "postgres"


if __name__ == "__main__":
    unittest.main()
