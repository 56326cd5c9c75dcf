"""Where is my event? The server log says: every stored event at debug (its
project, id, issue, whether the issue is new and what grouped it), every
filtered or duplicate one, and every refused request at info with its
project, reason and status — those rate-limited per reason, with the count
of the lines left out, so that nothing goes uncounted."""

import json
import time
import unittest
import uuid

from periscope_testlib import Server
from ingest_util import create_project, store_path


def event(env="prod", exc_type="ValueError", event_id=None):
    return {
        "event_id": event_id or uuid.uuid4().hex, "platform": "python", "environment": env,
        "exception": {"values": [{"type": exc_type, "value": "bad input", "stacktrace": {
            "frames": [{"filename": "app/views.py", "module": "app.views",
                        "function": "checkout", "in_app": True}]}}]},
    }


class EventLogs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(env={"DEBUG": "true", "MAX_BODY_BYTES": "4K"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def send(self, project_id, key, ev=None, body=None):
        raw = body if body is not None else json.dumps(ev).encode()
        return self.srv.request("POST", store_path(project_id), raw, {
            "X-Sentry-Auth": "Sentry sentry_key=%s, sentry_version=7" % key,
            "Content-Type": "application/json"})

    def lines(self, msg, **fields):
        """The log lines (parsed) with this msg whose fields have these values."""
        out = []
        for text in self.srv.stderr().splitlines():
            line = json.loads(text)  # every line is one JSON object
            if line["msg"] == msg and all(line.get(k) == v for k, v in fields.items()):
                out.append(line)
        return out

    def wait_lines(self, msg, want=1, **fields):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(self.lines(msg, **fields)) < want:
            time.sleep(0.05)
        return self.lines(msg, **fields)

    def test_each_stored_event_says_its_issue_and_how_it_was_grouped(self):
        pid, key, _ = create_project(self.srv, "logs-" + uuid.uuid4().hex[:6])
        first, second = event(), event()
        for ev in (first, second):
            self.assertEqual(self.send(pid, key, ev).status, 200)
        new = self.wait_lines("event stored", project=str(pid), event_id=first["event_id"])
        self.assertEqual(len(new), 1)
        self.assertEqual(new[0]["issue_state"], "new")
        self.assertEqual(new[0]["grouping"], "default")
        issue = new[0]["issue"]
        again = self.wait_lines("event stored", project=str(pid), event_id=second["event_id"])
        self.assertEqual((again[0]["issue"], again[0]["issue_state"]), (issue, "existing"))
        r = self.srv.admin("GET", "/api/admin/projects/%d/issues" % pid)
        self.assertEqual([str(i["id"]) for i in r.json()["data"]], [issue])

        self.assertEqual(self.send(pid, key, first).status, 200)  # a resend
        dup = self.wait_lines("event duplicate, not stored again", project=str(pid),
                              event_id=first["event_id"])
        self.assertEqual(dup[0]["issue"], issue)

    def test_a_scripts_filter_and_fingerprint_are_named(self):
        pid, key, _ = create_project(self.srv, "logs-" + uuid.uuid4().hex[:6])
        script = ("return {\n"
                  "  filter = function(e) return e.environment ~= 'dev' end,\n"
                  "  fingerprint = function(e, d) return { 'all-in-one' } end,\n"
                  "}\n")
        self.assertEqual(self.srv.admin("PUT", "/api/admin/projects/%d/script" % pid,
                                        {"source": script}).status, 200)
        dropped, kept = event(env="dev"), event(env="prod")
        self.assertEqual(self.send(pid, key, dropped).status, 200)
        self.assertEqual(self.send(pid, key, kept).status, 200)
        self.assertEqual(len(self.wait_lines("event filtered", project=str(pid),
                                             event_id=dropped["event_id"], by="script")), 1)
        stored = self.wait_lines("event stored", project=str(pid), event_id=kept["event_id"])
        self.assertEqual(stored[0]["grouping"], "script")
        self.assertEqual(self.lines("event stored", event_id=dropped["event_id"]), [])

    def test_refused_requests_say_project_reason_and_status(self):
        pid, key, _ = create_project(self.srv, "logs-" + uuid.uuid4().hex[:6], rate_limit=1)
        self.assertEqual(self.send(pid, "f" * 32, event()).status, 401)
        self.assertEqual(self.send(pid, key, body=b"{" + b" " * 5000 + b"}").status, 413)
        self.assertEqual(self.send(pid, key, event()).status, 200)
        self.assertEqual(self.send(pid, key, event()).status, 429)
        for status, reason in (("401", "unauthorized"), ("413", "too_large"),
                               ("429", "rate_limited")):
            got = self.wait_lines("event refused", project=str(pid), status=status, reason=reason)
            self.assertEqual(len(got), 1, (status, reason, got))
            self.assertEqual(got[0]["level"], "info")
            self.assertEqual(got[0]["route"], "store")
            self.assertNotIn(key, json.dumps(got[0]))  # no DSN key in the log

    def test_a_flood_of_refusals_is_rate_limited_and_counted(self):
        pid, key, _ = create_project(self.srv, "flood-" + uuid.uuid4().hex[:6])
        sent = 60
        for _ in range(sent):
            self.assertEqual(self.send(pid, key, body=b"not json").status, 400)
        time.sleep(1.2)  # the next refusal falls in a later second: it is logged
        self.assertEqual(self.send(pid, key, body=b"not json").status, 400)
        sent += 1
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = self.lines("event refused", project=str(pid), reason="invalid_json")
            if sum(1 + int(g["suppressed"]) for g in got) >= sent:
                break
            time.sleep(0.05)
        self.assertLess(len(got), sent)  # not one line each
        self.assertGreater(int(got[-1]["suppressed"]), 0)
        # Every refusal is either a line or counted in a later line's "suppressed".
        self.assertEqual(sum(1 + int(g["suppressed"]) for g in got), sent)


if __name__ == "__main__":
    unittest.main()
