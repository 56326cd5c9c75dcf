"""Durability of ACK_MODE=commit: a 200 means the event is on disk.

A child server takes events from several sender threads; it is killed
with SIGKILL in the middle of the load; after a restart on the same data
every event id that was answered 200 is in the database. Runs on SQLite
(WAL, synchronous=NORMAL: survives a process crash) and on Postgres."""

import http.client
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

SENDERS = 8
LOAD_SECONDS = 1.5
MAX_REQUESTS_PER_SENDER = 5000


def make_project(srv):
    r = srv.admin("POST", "/api/admin/projects", {"name": "durability"})
    assert r.status == 201, r
    p = r.json()
    return p["id"], p["public_key"]


def event_body(event_id, n):
    return json.dumps({
        "event_id": event_id,
        "platform": "python",
        "level": "error",
        "exception": {"values": [{
            "type": "DurabilityError%d" % (n % 7),
            "value": "request %d" % n,
            "stacktrace": {"frames": [
                {"module": "app.worker", "function": "run", "lineno": 10 + n % 5,
                 "context_line": "    handle(job)", "in_app": True},
            ]},
        }]},
        "tags": {"sender": str(n % SENDERS)},
    }).encode()


class Sender(threading.Thread):
    """Posts events one after another on a keep-alive connection until told
    to stop or the server goes away; remembers the ids answered 200."""

    def __init__(self, port, project_id, key, stop):
        super().__init__(daemon=True)
        self.port, self.project_id, self.key, self.stop = port, project_id, key, stop
        self.acked = []
        self.refused = 0

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/json",
                   "X-Sentry-Auth": "Sentry sentry_key=%s, sentry_version=7" % self.key}
        path = "/api/%d/store/" % self.project_id
        for n in range(MAX_REQUESTS_PER_SENDER):
            if self.stop.is_set():
                break
            eid = uuid.uuid4().hex
            try:
                conn.request("POST", path, body=event_body(eid, n), headers=headers)
                r = conn.getresponse()
                body = r.read()
            except (OSError, http.client.HTTPException):
                break  # killed: the answer never came, so nothing was promised
            if r.status == 200:
                assert json.loads(body)["id"] == eid
                self.acked.append(eid)
            else:
                self.refused += 1
        conn.close()


def stored_ids_sqlite(path):
    db = sqlite3.connect(path)
    try:
        return {row[0].hex() for row in db.execute("SELECT event_id FROM events")}
    finally:
        db.close()


def stored_ids_postgres(env):
    out = subprocess.run(
        ["psql", "-X", "-A", "-t", "-h", env["POSTGRES_HOST"], "-p", env["POSTGRES_PORT"],
         "-U", env["POSTGRES_USER"], "-d", env["POSTGRES_DATABASE"],
         "-c", "SELECT encode(event_id, 'hex') FROM events"],
        env=dict(os.environ, PGPASSWORD=env["POSTGRES_PASSWORD"]),
        capture_output=True, text=True, timeout=60, check=True)
    return {line.strip() for line in out.stdout.splitlines() if line.strip()}


class Durability(unittest.TestCase):
    def run_kill_under_load(self, backend):
        # Retention keeps MAX_EVENTS_PER_ISSUE events per issue: with 7 issues
        # and the default 1000, a fast run acknowledges more than are kept.
        srv = Server(backend=backend, env={"ACK_MODE": "commit", "QUEUE_CAPACITY": "2000",
                                           "MAX_EVENTS_PER_ISSUE": "1000000"})
        try:
            srv.start()
            project_id, key = make_project(srv)
            stop = threading.Event()
            senders = [Sender(srv.port, project_id, key, stop) for _ in range(SENDERS)]
            for s in senders:
                s.start()
            time.sleep(LOAD_SECONDS)
            srv.proc.send_signal(signal.SIGKILL)  # mid-load: batches in flight
            srv.proc.wait(timeout=30)
            stop.set()
            for s in senders:
                s.join(timeout=30)
            acked = [eid for s in senders for eid in s.acked]
            self.assertGreater(len(acked), 50, "too little load to mean anything")

            # The server starts again on what the crash left...
            srv.stop()
            srv.start()
            r = srv.request("GET", "/healthz")
            self.assertEqual(r.status, 200)
            srv.stop()
            # ...and every id that got a 200 is there.
            if backend == "sqlite":
                stored = stored_ids_sqlite(os.path.join(srv.data_dir, "periscope.db"))
            else:
                stored = stored_ids_postgres(srv.env)
            missing = [eid for eid in acked if eid not in stored]
            self.assertEqual(len(missing), 0, "%d of %d acknowledged events lost, e.g. %s" %
                             (len(missing), len(acked), missing[:3]))
        finally:
            srv.cleanup()

    def test_sigkill_loses_no_acknowledged_event_on_sqlite(self):
        self.run_kill_under_load("sqlite")

    def test_sigkill_loses_no_acknowledged_event_on_postgres(self):
        self.run_kill_under_load("postgres")


if __name__ == "__main__":
    unittest.main()
