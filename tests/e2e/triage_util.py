"""Helpers of the triage tests (merge, search, transitions): events sent
through the real Python SDK (Debian's python3-sentry-sdk) with per-event
tags, user, level, environment, release and fingerprint, and a test case
base that talks to one server's admin API."""

import json
import subprocess
import time
import urllib.parse
import uuid

from ingest_util import python_with_sentry_sdk

# argv: DSN, then a JSON list of events. Each event: message, and optionally
# exception (a class name: the message is its value), level, tags, user,
# fingerprint, environment, release. Prints the ids the SDK sent.
SDK_APP = r'''
import json, sys
import sentry_sdk
spec = json.loads(sys.argv[2])
sent, current = [], {}
def before_send(event, hint):
    for k in ("environment", "release"):
        if current.get(k):
            event[k] = current[k]
    sent.append(event["event_id"].replace("-", ""))
    return event
sentry_sdk.init(sys.argv[1], before_send=before_send, transport_queue_size=10000)
for e in spec:
    current.clear()
    current.update(e)
    with sentry_sdk.push_scope() as s:
        for k, v in e.get("tags", {}).items():
            s.set_tag(k, v)
        if "user" in e:
            s.user = e["user"]
        if "fingerprint" in e:
            s.fingerprint = e["fingerprint"]
        if "level" in e:
            s.level = e["level"]
        if e.get("exception"):
            cls = type(e["exception"], (Exception,), {})
            try:
                raise cls(e["message"])
            except Exception:
                sentry_sdk.capture_exception()
        else:
            sentry_sdk.capture_message(e["message"], level=e.get("level", "error"))
sentry_sdk.flush(timeout=20)
print(json.dumps(sent))
'''


def sdk_send(test, dsn, events):
    """Sends events through the SDK; the ids it sent."""
    exe = python_with_sentry_sdk()
    if exe is None:
        test.fail("no python3 with sentry_sdk (apt-get install python3-sentry-sdk)")
    p = subprocess.run([exe, "-c", SDK_APP, dsn, json.dumps(events)], capture_output=True,
                       text=True, timeout=120)
    test.assertEqual(p.returncode, 0, p.stderr)
    sent = json.loads(p.stdout.strip().splitlines()[-1])
    test.assertEqual(len(sent), len(events), p.stderr)
    return sent


class AdminMixin:
    """Admin API helpers over self.srv."""

    def project(self, name="triage"):
        r = self.srv.admin("POST", "/api/admin/projects",
                           {"name": "%s-%s" % (name, uuid.uuid4().hex[:6])})
        self.assertEqual(r.status, 201, r)
        p = r.json()
        return p["id"], p["dsn"]

    def issues(self, pid, expect=200, **params):
        params.setdefault("limit", 100)
        qs = urllib.parse.urlencode(params)
        r = self.srv.admin("GET", "/api/admin/projects/%d/issues?%s" % (pid, qs))
        self.assertEqual(r.status, expect, r)
        return r.json()

    def titles(self, pid, query, status="all"):
        return sorted(i["title"] for i in self.issues(pid, status=status, query=query)["data"])

    def issue(self, pid, iid, expect=200):
        r = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d" % (pid, iid))
        self.assertEqual(r.status, expect, r)
        return r.json()

    def by_title(self, pid):
        return {i["title"]: i for i in self.issues(pid, status="all")["data"]}

    def total(self, pid):
        return sum(i["count"] for i in self.issues(pid, status="all")["data"])

    def wait_total(self, pid, n, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.total(pid) >= n:
                break
            time.sleep(0.05)
        self.assertEqual(self.total(pid), n)

    def alerts(self, pid):
        r = self.srv.admin("GET", "/api/admin/projects/%d/alerts?limit=100" % pid)
        self.assertEqual(r.status, 200, r)
        return r.json()["data"]
