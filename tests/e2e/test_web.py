"""The web interface in a real browser (issue 18): headless Debian chromium
driven by puppeteer-core (tests/browser/web_test.mjs) against a real server
filled with real Python and Node SDK events.

This file starts what the browser needs — the server (SQLite), a local
webhook receiver, an admin and a viewer account, a project with SDK events
whose alert carried the notification link, and a second project with
100,000 issues for the timing (bulk SQL on the store's schema, web_seed.py)
— and hands it to the Node script. The timings go to
build/screenshots/timings.json (median of several navigations, with the
load average). The steps and their assertions are in web_test.mjs;
screenshots go to build/screenshots/. Also, without a browser: the shell,
static files and their headers on both backends. The browser on Postgres is
test_web_postgres.py; the 100,000-issue timing on Postgres is
`make web-timings` (web_timings.py).
"""
import gzip
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from ingest_util import python_with_sentry_sdk
from periscope_testlib import Server, pg_env, wait_for
from web_util import BIG_ISSUES, BROWSER_DIR, ROOT, SDK_NODE_DIR, missing_browser_parts, run_browser, send
import web_seed

HERE = os.path.dirname(os.path.abspath(__file__))


class Receiver:
    """tests/e2e/notify_receiver.py on a free port, answering 204."""

    def __init__(self, tmp):
        self.log = os.path.join(tmp, "receiver.log")
        port_file = os.path.join(tmp, "receiver.port")
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "notify_receiver.py"),
                                      "--port-file", port_file, "--log", self.log])
        port = wait_for(lambda: os.path.exists(port_file) and open(port_file).read(), what="receiver")
        self.url = "http://127.0.0.1:%s/hook" % port

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class WebStaticTest(unittest.TestCase):
    """The shell and static files, on SQLite and (when the suite has one) Postgres."""

    def check(self, backend):
        with Server(backend=backend) as srv:
            for path in ("/", "/projects/1/issues/2", "/login?next=/x", "/setup?token=abc"):
                r = srv.request("GET", path)
                self.assertEqual(r.status, 200, path)
                self.assertTrue(r.headers["Content-Type"].startswith("text/html"))
                self.assertRegex(r.body, rb'<script type="module" src="/static/js/app.js\?v=[0-9a-f]{16}">')
                csp = r.headers["Content-Security-Policy"]
                self.assertIn("script-src 'self'", csp)
                self.assertIn("frame-ancestors 'none'", csp)
                self.assertNotIn("unsafe-inline", csp)
                self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
                self.assertEqual(r.headers["Referrer-Policy"], "same-origin")
            release = re.search(rb'app.js\?v=([0-9a-f]{16})', srv.request("GET", "/").body).group(1).decode()
            r = srv.request("GET", "/static/js/app.js", headers={"Accept-Encoding": "gzip"})
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["Content-Type"].startswith("text/javascript"))
            self.assertEqual(r.headers.get("Content-Encoding"), "gzip")
            with open(os.path.join(ROOT, "web", "js", "app.js"), "rb") as f:
                source = f.read()
            # Its relative imports carry the release: one URL per module.
            body = gzip.decompress(r.body)
            self.assertIn(b"from './dom.js?v=%s'" % release.encode(), body)
            self.assertEqual(body.replace(b"?v=" + release.encode(), b""), source)
            r = srv.request("GET", "/static/js/app.js?v=" + release)
            self.assertEqual(r.headers["Cache-Control"], "public, max-age=31536000, immutable")
            r = srv.request("GET", "/static/js/app.js?v=0000000000000000")
            self.assertEqual(r.headers["Cache-Control"], "no-cache")
            etag = r.headers["ETag"]
            r = srv.request("GET", "/static/js/app.js", headers={"If-None-Match": etag})
            self.assertEqual((r.status, r.body), (304, b""))
            r = srv.request("GET", "/static/js/app.js", headers={"Accept-Encoding": "gzip;q=0"})
            self.assertIsNone(r.headers.get("Content-Encoding"))
            self.assertEqual(r.headers["Cache-Control"], "no-cache")
            self.assertEqual(srv.request("GET", "/static/nope.js").status, 404)
            self.assertEqual(srv.request("GET", "/static/../CMakeLists.txt").status, 404)
            self.assertEqual(srv.request("GET", "/static/index.html").status, 404)
            self.assertEqual(srv.request("POST", "/projects", body=b"{}").status, 405)
            r = srv.request("GET", "/api/nope")
            self.assertEqual((r.status, r.json()["error"]["code"]), (404, "not_found"))
            self.assertEqual(srv.request("GET", "/healthz").status, 200)

    def test_sqlite(self):
        self.check("sqlite")

    def test_every_module_is_preloaded(self):
        """index.html preloads every module: no import waterfall on a cold load."""
        with open(os.path.join(ROOT, "web", "index.html")) as f:
            shell = f.read()
        js = os.path.join(ROOT, "web", "js")
        for dirpath, _, files in os.walk(js):
            for name in files:
                rel = os.path.relpath(os.path.join(dirpath, name), os.path.join(ROOT, "web"))
                if rel != "js/app.js":
                    self.assertIn('<link rel="modulepreload" href="/static/%s">' % rel, shell)

    def test_postgres(self):
        if not pg_env():
            self.skipTest("no Postgres test cluster")
        self.check("postgres")

    def test_stats_endpoints(self):
        with Server() as srv:
            r = srv.admin("GET", "/api/admin/projects/1/stats")
            self.assertEqual(r.status, 200)
            s = r.json()
            self.assertEqual((s["events_24h"], s["unresolved_issues"], len(s["histogram_24h"])), (0, 0, 24))
            self.assertEqual(srv.admin("GET", "/api/admin/projects/99/stats").status, 404)
            self.assertEqual(srv.admin("GET", "/api/admin/projects/1/issues/5/stats").status, 404)
            self.assertEqual(srv.admin("GET", "/api/admin/projects/1/script/versions/1").status, 404)
            self.assertEqual(srv.request("GET", "/api/admin/projects/1/stats").status, 401)
            key = srv.dsn.split("//")[1].split("@")[0]
            ev = {"event_id": "a" * 32, "platform": "python", "user": {"id": "7"},
                  "exception": {"values": [{"type": "KeyError", "value": "'sku'"}]}}
            r = srv.request("POST", "/api/1/store/", json.dumps(ev).encode(),
                            {"X-Sentry-Auth": "Sentry sentry_key=%s" % key})
            self.assertEqual(r.status, 200, r)
            issue = wait_for(lambda: srv.admin("GET", "/api/admin/projects/1/issues").json()["data"],
                             what="the issue")[0]
            s = srv.admin("GET", "/api/admin/projects/1/stats").json()
            self.assertEqual((s["events_24h"], s["unresolved_issues"], s["histogram_24h"][-1]), (1, 1, 1))
            r = srv.admin("GET", "/api/admin/projects/1/issues/%d/stats" % issue["id"])
            self.assertEqual(r.status, 200)
            s = r.json()
            self.assertEqual((s["histogram_14d"][-1], sum(s["histogram_14d"]), len(s["histogram_14d"])), (1, 1, 14))
            self.assertEqual((s["users"], s["first_event_id"]), (1, "a" * 32))
            other = srv.admin("POST", "/api/admin/projects", {"name": "other"}).json()
            self.assertEqual(srv.admin("GET", "/api/admin/projects/%d/issues/%d/stats"
                                       % (other["id"], issue["id"])).status, 404)
            r = srv.admin("PUT", "/api/admin/projects/1/script", body="return {}\n",
                          headers={"Content-Type": "text/plain"})
            self.assertEqual(r.status, 200, r.body)
            r = srv.admin("GET", "/api/admin/projects/1/script/versions/1")
            self.assertEqual((r.status, r.json()["source"]), (200, "return {}\n"))


class WebBrowserTest(unittest.TestCase):
    def setUp(self):
        self.python = python_with_sentry_sdk()
        if not self.python:
            self.fail("no python3 with sentry_sdk (apt-get install python3-sentry-sdk)")
        missing = missing_browser_parts()
        if missing:
            self.fail("missing %s: run `make test-deps` (scripts/deps.sh --test)" % ", ".join(missing))
        self.tmp = tempfile.mkdtemp(prefix="periscope-web-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def admin_ok(self, srv, method, path, body=None, want=(200, 201, 204)):
        r = srv.admin(method, path, body)
        self.assertIn(r.status, want, "%s %s: %s" % (method, path, r.body[:300]))
        return r.json() if r.body else None

    def test_browser(self):
        receiver = Receiver(self.tmp)
        self.addCleanup(receiver.stop)
        srv = Server()
        srv.env["PUBLIC_URL"] = srv.url
        srv.start()
        self.addCleanup(srv.cleanup)

        admin = {"email": "admin@example.com", "password": secrets.token_urlsafe(18)}
        viewer = {"email": "viewer@example.com", "password": secrets.token_urlsafe(18)}
        self.admin_ok(srv, "POST", "/api/admin/users", dict(admin, role="admin", name="Ada Admin"))
        v = self.admin_ok(srv, "POST", "/api/admin/users", dict(viewer, role="viewer", name="Vic Viewer"))
        project = self.admin_ok(srv, "GET", "/api/admin/projects/1")
        self.admin_ok(srv, "PUT", "/api/admin/projects/1/members", {"user_ids": [v["id"]]})
        self.admin_ok(srv, "POST", "/api/admin/projects/1/alert_notification_destinations",
                      {"type": "generic_webhook", "name": "notifications", "webhook_url": receiver.url})

        self.assertEqual(len(send(self.python, srv.dsn, "app")), 3)
        node = subprocess.run(["node", os.path.join(BROWSER_DIR, "send_node.js"), srv.dsn],
                              env=dict(os.environ, NODE_PATH=os.path.join(SDK_NODE_DIR, "node_modules")),
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(node.returncode, 0, node.stderr)

        def issues():
            r = srv.admin("GET", "/api/admin/projects/1/issues?status=all&limit=50")
            return r.json()["data"] if len(r.json()["data"]) >= 4 else None
        rows = wait_for(issues, what="4 issues")
        zero = next(i for i in rows if i["title"].startswith("ZeroDivisionError"))
        # The notification's own link: the alert of the ZeroDivisionError issue.
        def link():
            for req in receiver.requests():
                issue = json.loads(req["body"])["data"]["issue"]
                if issue["id"] == zero["id"]:
                    return issue["link"]
        notification_link = wait_for(link, what="the alert's webhook")
        self.assertEqual(notification_link, "%s/projects/1/issues/%d" % (srv.url, zero["id"]))

        big = self.admin_ok(srv, "POST", "/api/admin/projects", {"name": "big"})
        t = time.monotonic()
        web_seed.seed_sqlite(os.path.join(srv.data_dir, "periscope.db"), big["id"], BIG_ISSUES)
        sys.stderr.write("seeded %d issues in %.1f s\n" % (BIG_ISSUES, time.monotonic() - t))

        code, results, err = run_browser(srv, {
            "mode": "full", "backend": "sqlite", "admin": admin, "viewer": viewer, "project_id": 1,
            "project_name": project["name"], "dsn": srv.dsn, "notification_link": notification_link,
            "zero_issue_id": zero["id"], "big_project_id": big["id"], "receiver_url": receiver.url}, self.tmp, self.python)
        self.assertEqual(code, 0, "browser test failed:\n" + err + "\nserver log:\n" + srv.stderr()[-3000:])
        print("web: js+css bytes (gzip):", results["js_css_bytes_compressed"], "in", results["js_css_files"],
              "files; screenshots:", results["screenshots"], file=sys.stderr)
        self.assertGreaterEqual(results["screenshots"], 60)
        # The test-send arrived at the receiver, marked as a test.
        kinds = [json.loads(r["body"])["data"]["alert"]["kind"] for r in receiver.requests()]
        self.assertIn("test", kinds)


if __name__ == "__main__":
    unittest.main()
