"""The real Python SDK (Debian's python3-sentry-sdk; gzip to /store/ with
X-Sentry-Auth) captures exceptions, a message and a logged error against a
server the test starts; every event the SDK sent is stored. Log records with
arguments (the logging integration sends logentry message + params) are
titled by their formatted text, as Sentry titles them."""

import json
import subprocess
import unittest

from periscope_testlib import Server
from ingest_util import (HEX32, create_project, event_issues, python_with_sentry_sdk, stored_event,
                         wait_stored)

APP = r'''
import json, logging, sys
import sentry_sdk
sent = []
def before_send(event, hint):
    sent.append(event["event_id"])
    return event
sentry_sdk.init(sys.argv[1], release="shop@2.3.1", environment="production",
                before_send=before_send, transport_queue_size=100)
def charge(order_id, amount):
    return amount / 0
try:
    charge(1001, 10)
except Exception:
    sentry_sdk.capture_exception()
with sentry_sdk.push_scope() as s:
    s.fingerprint = ["{{ default }}", "payments"]
    try:
        {}["missing"]
    except Exception:
        sentry_sdk.capture_exception()
sentry_sdk.capture_message("Timeout after 3000ms for user 42 at 10.0.0.1")
logging.getLogger("billing").error("invoice %s failed", "INV-77")
sentry_sdk.flush(timeout=10)
print(json.dumps({"sdk": sentry_sdk.VERSION, "sent": sent}))
'''


def run_app(test, app, dsn):
    """Runs app (Python source) with the SDK against dsn; its stdout lines."""
    exe = python_with_sentry_sdk()
    if exe is None:
        test.fail("no python3 with sentry_sdk (apt-get install python3-sentry-sdk)")
    p = subprocess.run([exe, "-c", app, dsn], capture_output=True, text=True, timeout=60)
    test.assertEqual(p.returncode, 0, p.stderr)
    return p.stdout.strip().splitlines()


class PythonSdk(unittest.TestCase):
    def test_python_sdk_events_arrive(self):
        with Server() as srv:
            project_id, _, dsn = create_project(srv, "python-sdk")
            out = json.loads(run_app(self, APP, dsn)[-1])
            sent = [s.replace("-", "") for s in out["sent"]]
            self.assertEqual(len(sent), 4, out)
            for s in sent:
                self.assertRegex(s, HEX32)
            stored = wait_stored(srv, project_id, sent)
            self.assertTrue(set(sent) <= stored,
                            "sdk %s: not stored %s\n%s" % (out["sdk"], set(sent) - stored,
                                                           srv.stderr()[-3000:]))


# Each line: the SDK call, then the title and culprit Sentry gives its event.
LOG_APP = r'''
import json, logging, sys
import sentry_sdk
sent = []
def before_send(event, hint):
    sent.append(event["event_id"])
    return event
sentry_sdk.init(sys.argv[1], before_send=before_send, transport_queue_size=100)
log = logging.getLogger("billing")
def charge(order_id, amount):
    return amount / 0
def mark(name):
    print(json.dumps({"case": name, "id": sent[-1]}))
log.error("invoice %s failed", "INV-77"); mark("positional")
log.error("user %(user)s owes %(amount)d EUR", {"user": "ann", "amount": 12}); mark("named")
log.error("retry %d of %s took %s s", 3, "sync", 2.5); mark("numbers")
log.error("no account for %s", None); mark("null param")
sentry_sdk.capture_message("Disk 100% full on %s"); mark("no params")
sentry_sdk.capture_event({"logentry": {"message": "Job {} failed after {1} tries", "params": ["sync", 3]},
                          "level": "error"}); mark("curly")
try:
    charge(1001, 10)
except Exception:
    sentry_sdk.capture_exception()
mark("exception")
sentry_sdk.flush(timeout=10)
'''

LOG_CASES = {
    "positional": ("invoice INV-77 failed", ""),
    "named": ("user ann owes 12 EUR", ""),
    "numbers": ("retry 3 of sync took 2.5 s", ""),
    # Relay: a null param is a missing one, so the template stands
    "null param": ("no account for %s", ""),
    "no params": ("Disk 100% full on %s", ""),
    "curly": ("Job sync failed after 3 tries", ""),
    "exception": ("ZeroDivisionError: division by zero", "__main__ in charge"),
}


class PythonSdkTitles(unittest.TestCase):
    def test_log_records_with_arguments_are_titled_formatted(self):
        with Server() as srv:
            project_id, _, dsn = create_project(srv, "python-titles")
            cases = {}
            for line in run_app(self, LOG_APP, dsn):
                c = json.loads(line)
                cases[c["case"]] = c["id"].replace("-", "")
            self.assertEqual(set(cases), set(LOG_CASES))
            stored = wait_stored(srv, project_id, cases.values())
            self.assertTrue(set(cases.values()) <= stored, srv.stderr()[-3000:])
            issues = event_issues(srv, project_id, set(cases.values()))
            for name, (title, culprit) in LOG_CASES.items():
                self.assertEqual(issues.get(cases[name]), (title, culprit), name)

            # the stored logentry keeps the template, params and formatted text
            ev = stored_event(srv, project_id, cases["named"])
            self.assertEqual(ev["logentry"]["message"], "user %(user)s owes %(amount)d EUR")
            self.assertEqual(ev["logentry"]["params"], {"user": "ann", "amount": 12})
            self.assertEqual(ev["logentry"]["formatted"], "user ann owes 12 EUR")
            # a template that cannot be filled is the text, with no separate template
            ev = stored_event(srv, project_id, cases["null param"])
            self.assertEqual(ev["logentry"]["formatted"], "no account for %s")
            self.assertNotIn("message", ev["logentry"])

if __name__ == "__main__":
    unittest.main()
