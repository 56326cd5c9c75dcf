"""The real Python SDK (Debian's python3-sentry-sdk; gzip to /store/ with
X-Sentry-Auth) captures exceptions, a message and a logged error against a
server the test starts; every event the SDK sent is stored."""

import json
import subprocess
import unittest

from periscope_testlib import Server
from ingest_util import HEX32, create_project, python_with_sentry_sdk, wait_stored

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


class PythonSdk(unittest.TestCase):
    def test_python_sdk_events_arrive(self):
        exe = python_with_sentry_sdk()
        if exe is None:
            self.fail("no python3 with sentry_sdk (apt-get install python3-sentry-sdk)")
        with Server() as srv:
            project_id, _, dsn = create_project(srv, "python-sdk")
            p = subprocess.run([exe, "-c", APP, dsn], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            out = json.loads(p.stdout.strip().splitlines()[-1])
            sent = [s.replace("-", "") for s in out["sent"]]
            self.assertEqual(len(sent), 4, out)
            for s in sent:
                self.assertRegex(s, HEX32)
            stored = wait_stored(srv, project_id, sent)
            self.assertTrue(set(sent) <= stored,
                            "sdk %s: not stored %s\n%s" % (out["sdk"], set(sent) - stored,
                                                           srv.stderr()[-3000:]))


if __name__ == "__main__":
    unittest.main()
