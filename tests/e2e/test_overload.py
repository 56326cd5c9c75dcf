"""Overload: when events arrive faster than the writer stores them, the
topics stay at capacity, ingest answers 503 with Retry-After at once, and
the server's memory stays flat; once the writer drains again, events are
accepted and stored.

The writer is held up for real: the test takes SQLite's write lock from
outside (BEGIN EXCLUSIVE) for a few seconds, so the writer's transaction
waits while senders keep posting."""

import http.client
import json
import os
import sqlite3
import threading
import time
import unittest
import uuid

from periscope_testlib import Server

QUEUE_CAPACITY = 32
SENDERS = 6
LOCK_SECONDS = 3.0
RSS_SLACK_KB = 16 * 1024


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Sender(threading.Thread):
    def __init__(self, port, project_id, key, stop):
        super().__init__(daemon=True)
        self.port, self.project_id, self.key, self.stop = port, project_id, key, stop
        self.ok, self.unavailable, self.other = [], 0, []
        self.retry_after = set()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json",
                   "X-Sentry-Auth": "Sentry sentry_key=%s, sentry_version=7" % self.key}
        body_pad = "x" * 3000  # ~4 KB events
        for n in range(200000):
            if self.stop.is_set():
                break
            eid = uuid.uuid4().hex
            body = json.dumps({"event_id": eid, "message": "overload %d" % (n % 10),
                               "extra": {"pad": body_pad}}).encode()
            conn.request("POST", "/api/%d/store/" % self.project_id, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                self.ok.append(eid)
            elif r.status == 503:
                self.unavailable += 1
                self.retry_after.add(r.headers.get("Retry-After"))
            else:
                self.other.append(r.status)
        conn.close()


class Overload(unittest.TestCase):
    def test_full_topic_answers_503_with_retry_after_and_memory_stays_flat(self):
        srv = Server(env={"ACK_MODE": "queue", "QUEUE_CAPACITY": str(QUEUE_CAPACITY),
                          "WORKERS": "1", "BATCH_MAX": "16"})
        try:
            srv.start()
            r = srv.admin("POST", "/api/admin/projects", {"name": "overload"})
            self.assertEqual(r.status, 201, r)
            project_id, key = r.json()["id"], r.json()["public_key"]

            lock = sqlite3.connect(os.path.join(srv.data_dir, "periscope.db"),
                                   isolation_level=None, timeout=10)
            lock.execute("BEGIN EXCLUSIVE")  # the writer's next BEGIN waits
            stop = threading.Event()
            senders = [Sender(srv.port, project_id, key, stop) for _ in range(SENDERS)]
            for s in senders:
                s.start()
            time.sleep(0.8)
            rss_start = rss_kb(srv.proc.pid)
            samples = []
            deadline = time.monotonic() + LOCK_SECONDS
            while time.monotonic() < deadline:
                samples.append(rss_kb(srv.proc.pid))
                time.sleep(0.2)
            refused_while_locked = sum(s.unavailable for s in senders)
            lock.execute("COMMIT")
            lock.close()

            # The writer drains again: new events are accepted.
            time.sleep(1.0)
            before = sum(len(s.ok) for s in senders)
            time.sleep(1.0)
            stop.set()
            for s in senders:
                s.join(timeout=30)
            after = sum(len(s.ok) for s in senders)

            self.assertGreater(refused_while_locked, 100, "the topic never filled")
            retry_after = {ra for s in senders for ra in s.retry_after}
            self.assertNotIn(None, retry_after, "a 503 without Retry-After")
            self.assertTrue(all(int(ra) > 0 for ra in retry_after), retry_after)
            self.assertEqual([st for s in senders for st in s.other], [])
            self.assertLess(max(samples) - rss_start, RSS_SLACK_KB,
                            "RSS grew from %d kB to %d kB under overload" %
                            (rss_start, max(samples)))
            self.assertGreater(after, before, "no event accepted after the writer drained")

            code = srv.stop()
            self.assertEqual(code, 0)
            db = sqlite3.connect(os.path.join(srv.data_dir, "periscope.db"))
            stored = {row[0].hex() for row in db.execute("SELECT event_id FROM events")}
            db.close()
            accepted = [eid for s in senders for eid in s.ok]
            self.assertEqual(len([e for e in accepted if e not in stored]), 0,
                             "events answered 200 missing after a clean stop")
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
