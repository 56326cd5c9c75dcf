"""The real @sentry/node (pinned 11.12.0, installed under build/node by
scripts/deps.sh --test; chunked envelopes, key in the query string, no
Content-Type) captures exceptions and a message against a server the test
starts; every event it sent is stored, titled and with the culprit Sentry
gives it."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from periscope_testlib import Server
from ingest_util import HEX32, create_project, event_issues, stored_event, wait_stored

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


def node_and_modules(test):
    """(node binary, node_modules with @sentry/node); skips or fails the test without."""
    node = shutil.which("node")
    if node is None:
        test.skipTest("node is not installed: the @sentry/node end-to-end test needs it")
    modules = node_modules_dir()
    if modules is None:
        test.fail("@sentry/node not installed: run scripts/deps.sh --test")
    return node, modules


class NodeSdk(unittest.TestCase):
    def test_node_sdk_events_arrive(self):
        node, modules = node_and_modules(self)
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


# app.js run from a file: frames carry the module ("app") the SDK derives.
FILE_APP = r'''
const Sentry = require('@sentry/node');
Sentry.init({ dsn: process.env.PERISCOPE_TEST_DSN });
function parseOrder(s) { return JSON.parse(s); }
let parse;
try { parseOrder('{bad json'); } catch (e) { parse = Sentry.captureException(e); }
const message = Sentry.captureMessage('Cache miss for key user:42:profile', 'warning');
Sentry.flush(10000).then(ok => { console.log(JSON.stringify({ ok, parse, message })); process.exit(0); });
'''

# A script loaded from a URL (as a browser or a server-side bundle loads it),
# its stack parsed without module names: frames name the URL only.
URL_APP = r'''
const Sentry = require('@sentry/node');
const { createStackParser } = require('@sentry/core');
const { nodeStackLineParser } = require('@sentry/core/server');
const vm = require('vm');
Sentry.init({ dsn: process.env.PERISCOPE_TEST_DSN, stackParser: createStackParser(nodeStackLineParser()) });
vm.runInThisContext("function handler(order) { throw new TypeError('order ' + order.id + ' has no items'); }",
                    { filename: 'http://127.0.0.1:5000/static/js/app.js' });
let id;
try { handler({ id: 7 }); } catch (e) { id = Sentry.captureException(e); }
Sentry.flush(10000).then(ok => { console.log(JSON.stringify({ ok, handler: id })); process.exit(0); });
'''


class NodeSdkTitles(unittest.TestCase):
    def run_app(self, node, modules, dsn, source):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "app.js")
            with open(path, "w") as f:
                f.write(source)
            env = dict(os.environ, NODE_PATH=modules, PERISCOPE_TEST_DSN=dsn)
            p = subprocess.run([node, path], capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertTrue(out.pop("ok"), out)
        return out

    def test_titles_and_culprits(self):
        node, modules = node_and_modules(self)
        with Server() as srv:
            project_id, _, dsn = create_project(srv, "node-titles")
            ids = self.run_app(node, modules, dsn, FILE_APP)
            ids.update(self.run_app(node, modules, dsn, URL_APP))
            sent = set(ids.values())
            self.assertTrue(sent <= wait_stored(srv, project_id, sent), srv.stderr()[-3000:])
            issues = event_issues(srv, project_id, sent)

            value = stored_event(srv, project_id, ids["parse"])["exception"]["values"][-1]["value"]
            self.assertEqual(issues[ids["parse"]], ("SyntaxError: " + value, "parseOrder(app)"))
            # Sentry culprits a frame from a URL by the URL's path
            self.assertEqual(issues[ids["handler"]],
                             ("TypeError: order 7 has no items", "handler(/static/js/app.js)"))
            # captureMessage attaches a synthetic exception: Sentry titles it by
            # the crash frame's function (top-level code: "Object.?") and
            # gives it no culprit
            ev = stored_event(srv, project_id, ids["message"])
            self.assertTrue(ev["exception"]["values"][-1]["mechanism"]["synthetic"])
            self.assertEqual(issues[ids["message"]], ("Object.?", ""))

if __name__ == "__main__":
    unittest.main()
