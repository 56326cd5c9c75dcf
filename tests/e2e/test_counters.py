"""Buffered counters (issue 21): issue counts, tag counts and the hourly
histogram are summed in memory and flushed every COUNTER_FLUSH_MS; a
SIGKILL loses the increments since the last flush, and the restart counts
the events past the flush mark again, so every count ends exact: equal to
the events the database holds, never short and never twice.

Phase 1: a flush interval longer than the test, events acknowledged, the
counts still 0 (they are only in memory), SIGKILL, restart: exact.
Phase 2: a short interval, senders under load, SIGKILL mid-load once 200
events were acknowledged (some flushes done, some not), restart: exact. Then a clean stop and one more
restart count nothing twice. SQLite and Postgres."""

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
import unittest
import uuid

from periscope_testlib import Server
from test_durability import Sender, make_project

ISSUE_TYPES = 7  # test_durability's event_body spreads its events over seven issues


def db_rows(srv, sql):
    """Rows of sql on the server's database, as tuples of strings."""
    if srv.backend == "sqlite":
        db = sqlite3.connect(os.path.join(srv.data_dir, "periscope.db"))
        try:
            return [tuple(str(v) for v in row) for row in db.execute(sql)]
        finally:
            db.close()
    env = srv.env
    out = subprocess.run(
        ["psql", "-X", "-A", "-t", "-F", "|", "-h", env["POSTGRES_HOST"], "-p",
         env["POSTGRES_PORT"], "-U", env["POSTGRES_USER"], "-d", env["POSTGRES_DATABASE"],
         "-c", sql],
        env=dict(os.environ, PGPASSWORD=env["POSTGRES_PASSWORD"]),
        capture_output=True, text=True, timeout=60, check=True)
    return [tuple(line.split("|")) for line in out.stdout.splitlines() if line.strip()]


def send_one(srv, project_id, key, n):
    """One event through /store/, answered 200 (ACK_MODE=commit: stored)."""
    from test_durability import event_body
    eid = uuid.uuid4().hex
    r = srv.request("POST", "/api/%d/store/" % project_id, event_body(eid, n),
                    {"Content-Type": "application/json",
                     "X-Sentry-Auth": "Sentry sentry_key=%s, sentry_version=7" % key})
    assert r.status == 200, r
    return eid


class Counters(unittest.TestCase):
    def issues(self, srv, project_id):
        r = srv.admin("GET", "/api/admin/projects/%d/issues?limit=100" % project_id)
        self.assertEqual(r.status, 200, r)
        return r.json()["data"]

    def assert_exact(self, srv, project_id, what):
        """Every issue's count, tag totals and 24 h histogram equal the
        events the database holds for it."""
        stored = {int(i): int(c) for i, c in
                  db_rows(srv, "SELECT issue_id, COUNT(*) FROM events GROUP BY issue_id")}
        self.assertGreater(sum(stored.values()), 0)
        seen = {}
        for issue in self.issues(srv, project_id):
            seen[issue["id"]] = issue["count"]
            self.assertEqual(sum(issue["histogram_24h"]), stored.get(issue["id"], 0),
                             "%s: histogram of issue %d" % (what, issue["id"]))
            r = srv.admin("GET", "/api/admin/projects/%d/issues/%d" % (project_id, issue["id"]))
            tags = {t["key"]: t["total"] for t in r.json()["tags"]}
            # every event carries one "sender" tag
            self.assertEqual(tags.get("sender"), stored.get(issue["id"], 0),
                             "%s: tag total of issue %d" % (what, issue["id"]))
        self.assertEqual(seen, stored, what)

    def run_counters(self, backend):
        srv = Server(backend=backend, env={"ACK_MODE": "commit", "COUNTER_FLUSH_MS": "600000",
                                           "MAX_EVENTS_PER_ISSUE": "1000000"})
        try:
            srv.start()
            project_id, key = make_project(srv)
            for n in range(21):
                send_one(srv, project_id, key, n)
            # acknowledged and stored, but the counts are still in memory
            self.assertEqual(len(db_rows(srv, "SELECT id FROM events")), 21)
            self.assertEqual([i["count"] for i in self.issues(srv, project_id)],
                             [0] * ISSUE_TYPES)
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait(timeout=30)
            srv.stop()
            srv.start()
            self.assertIn("counters reconciled", srv.stderr())
            self.assert_exact(srv, project_id, "after SIGKILL, nothing flushed")
            srv.stop()

            # Phase 2: flushes every 100 ms while senders keep it busy.
            srv.env["COUNTER_FLUSH_MS"] = "100"
            srv.start()
            stop = threading.Event()
            senders = [Sender(srv.port, project_id, key, stop) for _ in range(4)]
            for s in senders:
                s.start()
            # kill once a few flushes have passed and enough events were
            # acknowledged (a loaded machine is slow), or after 20 s
            deadline = time.monotonic() + 20
            time.sleep(0.5)
            while (sum(len(s.acked) for s in senders) < 200 and
                   time.monotonic() < deadline):
                time.sleep(0.1)
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait(timeout=30)
            stop.set()
            for s in senders:
                s.join(timeout=30)
            self.assertGreater(sum(len(s.acked) for s in senders), 20, "too little load")
            srv.stop()
            srv.start()
            self.assert_exact(srv, project_id, "after SIGKILL under load")
            self.assertEqual(srv.stop(), 0)
            # a clean stop flushed everything: the next start adds nothing
            srv.start()
            self.assert_exact(srv, project_id, "after a clean stop and start")
        finally:
            srv.cleanup()

    def send_user_event(self, srv, project_id, key, n):
        """One event of issue n % 7 with a user of its own (user counts)."""
        from test_durability import event_body
        body = json.loads(event_body(uuid.uuid4().hex, n))
        body["user"] = {"id": "user-%d" % n}
        body["release"] = "1.%d" % n
        r = srv.request("POST", "/api/%d/store/" % project_id, json.dumps(body).encode(),
                        {"Content-Type": "application/json",
                         "X-Sentry-Auth": "Sentry sentry_key=%s, sentry_version=7" % key})
        self.assertEqual(r.status, 200, r)

    def restart(self, srv):
        """A clean stop flushes the buffer; the start finds nothing to add."""
        self.assertEqual(srv.stop(), 0)
        srv.start()

    def run_merge(self, backend):
        """Merge and unmerge while increments wait in the writer's buffer:
        the buffered increments follow their hash, the flushed counts move
        with the rows, and every count ends exact (issue 21 meets issue 19).
        """
        srv = Server(backend=backend, env={"ACK_MODE": "commit", "COUNTER_FLUSH_MS": "600000",
                                           "MAX_EVENTS_PER_ISSUE": "1000000"})
        sent = []
        try:
            srv.start()
            project_id, key = make_project(srv)
            base = "/api/admin/projects/%d/issues" % project_id

            def send(ns):
                for n in ns:
                    self.send_user_event(srv, project_id, key, n)
                    sent.append(n)

            send(range(14))  # two events of each of the seven issues
            self.restart(srv)  # flushed
            send(range(14, 21))  # one more each, buffered
            ids = sorted(i["id"] for i in self.issues(srv, project_id))
            self.assertEqual(len(ids), ISSUE_TYPES)
            self.assertEqual(sum(i["count"] for i in self.issues(srv, project_id)), 14)
            r = srv.admin("POST", base + "/merge", {"ids": ids[:3]})
            self.assertEqual(r.status, 200, r)
            # the merged counts are the flushed ones; the buffered follow
            self.assertEqual(r.json()["count"], 6)
            self.assertEqual(r.json()["user_count"], 9, "users are not buffered: the union")
            # the releases widen: the earliest first, the latest last
            self.assertEqual((r.json()["first_release"], r.json()["last_release"]),
                             ("1.0", "1.16"))
            self.restart(srv)
            self.assert_exact(srv, project_id, "merge, then flush")
            users = {i["id"]: i["user_count"] for i in self.issues(srv, project_id)}
            self.assertEqual(users[ids[0]], 9, "the merged issue's users are the union")

            # a hash split out while its newest events are still buffered
            send(range(21, 35))
            hashes = srv.admin("GET", "%s/%d" % (base, ids[0])).json()["hashes"]
            split_hash = [h for h in hashes
                          if h != srv.admin("GET", "%s/%d" % (base, ids[0])).json()["hash"]][0]
            r = srv.admin("DELETE", "%s/%d/hashes/%s" % (base, ids[0], split_hash))
            self.assertEqual(r.status, 201, r)
            split = srv.admin("GET", "%s/%d" % (base, r.json()["id"])).json()
            self.assertEqual(split["count"], 3, "the split's flushed events")
            self.assertEqual(split["user_count"], 5, "users of all the split's events")
            tags = {t["key"]: t["total"] for t in split["tags"]}
            self.assertEqual(tags.get("sender"), 3, "tags recounted from the payloads")
            self.restart(srv)
            self.assert_exact(srv, project_id, "unmerge, then flush")
            users = {i["id"]: i["user_count"] for i in self.issues(srv, project_id)}
            self.assertEqual(users[split["id"]], 5)
            # the old issue keeps its users: an upper bound, never short
            self.assertGreaterEqual(users[ids[0]], 10)
        finally:
            srv.cleanup()

    def test_merge_and_unmerge_with_buffered_counts_on_sqlite(self):
        self.run_merge("sqlite")

    def test_merge_and_unmerge_with_buffered_counts_on_postgres(self):
        self.run_merge("postgres")

    def test_counts_exact_after_sigkill_on_sqlite(self):
        self.run_counters("sqlite")

    def test_counts_exact_after_sigkill_on_postgres(self):
        self.run_counters("postgres")


if __name__ == "__main__":
    unittest.main()
