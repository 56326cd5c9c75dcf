"""The web interface in a real browser on Postgres (issue 18): sign in, the
issue list and the issue page of a 200-frame event, on real Python SDK
events (tests/browser/web_test.mjs, "backend" mode; web_util.backend_run).

Every page and step, its screenshots and the 100,000-issue timing run on
SQLite in test_web.py; here the same pages read through the Postgres store
on a small project. The 100,000-issue timing on Postgres is `make
web-timings` (web_timings.py), outside `make test`.
"""
import shutil
import tempfile
import unittest

from ingest_util import python_with_sentry_sdk
from periscope_testlib import Server, pg_env
from web_util import backend_run, missing_browser_parts


class WebPostgresBrowserTest(unittest.TestCase):
    def test_browser(self):
        if not pg_env():
            self.skipTest("no Postgres test cluster")
        python = python_with_sentry_sdk()
        if not python:
            self.fail("no python3 with sentry_sdk (apt-get install python3-sentry-sdk)")
        missing = missing_browser_parts()
        if missing:
            self.fail("missing %s: run `make test-deps` (scripts/deps.sh --test)" % ", ".join(missing))
        tmp = tempfile.mkdtemp(prefix="periscope-web-pg-")
        self.addCleanup(shutil.rmtree, tmp, True)
        srv = Server(backend="postgres")
        srv.start()
        self.addCleanup(srv.cleanup)
        code, results, err = backend_run(srv, python, tmp)
        self.assertEqual(code, 0, "browser test failed:\n" + err + "\nserver log:\n" + srv.stderr()[-3000:])
        self.assertEqual(results["steps"], ["postgres: sign in", "postgres: issue list", "postgres: issue page"])
        self.assertGreaterEqual(results["frames"], 200)


if __name__ == "__main__":
    unittest.main()
