"""The real @sentry/node (pinned 11.12.0, installed under build/node by
scripts/deps.sh --test; chunked envelopes, key in the query string, no
Content-Type) captures exceptions and a message against a server the test
starts; every event it sent is stored."""

import json
import os
import shutil
import subprocess
import unittest

from periscope_testlib import Server
from ingest_util import HEX32, create_project, wait_stored

SENTRY_NODE_VERSION = "11.12.0"

APP = r'''
const Sentry = require('@sentry/node');
const sent = [];
Sentry.init({ dsn: process.env.PERISCOPE_TEST_DSN, release: 'shop@2.3.1', environment: 'production',
              beforeSend(event) { sent.push(event.event_id); return event; } });
function parseOrder(s) { return JSON.parse(s); }
try { parseOrder('{bad json'); } catch (e) { Sentry.captureException(e); }
Sentry.withScope(scope => { scope.setTag('region', 'eu');
  try { null.f(); } catch (e) { Sentry.captureException(e); } });
Sentry.captureMessage('Cache miss for key user:42:profile', 'warning');
Sentry.flush(10000).then(ok => {
  console.log(JSON.stringify({ ok, sent, sdk: Sentry.SDK_VERSION }));
  process.exit(0);
});
'''


def node_modules_dir():
    for base in (os.environ.get("PERISCOPE_NODE_DIR"),
                 os.path.join(os.environ.get("PERISCOPE_BINARY_DIR", ""), "node"),
                 os.path.join(os.environ.get("PERISCOPE_SOURCE_DIR", "../.."), "build", "node")):
        if base and os.path.exists(os.path.join(base, "node_modules", "@sentry", "node",
                                                "package.json")):
            return os.path.join(base, "node_modules")
    return None


class NodeSdk(unittest.TestCase):
    def test_node_sdk_events_arrive(self):
        node = shutil.which("node")
        if node is None:
            self.skipTest("node is not installed: the @sentry/node end-to-end test needs it")
        modules = node_modules_dir()
        if modules is None:
            self.fail("@sentry/node not installed: run scripts/deps.sh --test")
        with open(os.path.join(modules, "@sentry", "node", "package.json")) as f:
            self.assertEqual(json.load(f)["version"], SENTRY_NODE_VERSION)
        with Server() as srv:
            project_id, _, dsn = create_project(srv, "node-sdk")
            env = dict(os.environ, NODE_PATH=modules, PERISCOPE_TEST_DSN=dsn)
            p = subprocess.run([node, "-e", APP], capture_output=True, text=True,
                               timeout=60, env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            out = json.loads(p.stdout.strip().splitlines()[-1])
            self.assertTrue(out["ok"], out)
            sent = out["sent"]
            self.assertEqual(len(sent), 3, out)
            for s in sent:
                self.assertRegex(s, HEX32)
            stored = wait_stored(srv, project_id, sent)
            self.assertTrue(set(sent) <= stored,
                            "sdk %s: not stored %s\n%s" % (out["sdk"], set(sent) - stored,
                                                           srv.stderr()[-3000:]))


if __name__ == "__main__":
    unittest.main()
