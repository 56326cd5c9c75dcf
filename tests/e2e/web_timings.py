"""`make web-timings`: issue 18's two timings with 100,000 issues — the
issues page's first 50 rows and the issue page of a 200-frame event, each
from navigation start to the page's User Timing mark, median of several
navigations (tests/browser/web_test.mjs) — on each backend named, written to
build/screenshots/timings.json as test_web.py writes SQLite's in `make test`.

    python3 web_timings.py postgres [sqlite]

Postgres needs the cluster in $PERISCOPE_TEST_PG_ENV (the Makefile starts
one with tests/pg_cluster.sh). Exits non-zero when a run fails or a median
is over the bound of web_util.TIMING_BOUND_MS.
"""
import shutil
import sys
import tempfile

from ingest_util import python_with_sentry_sdk
from periscope_testlib import Server
from web_util import BIG_ISSUES, backend_run, missing_browser_parts


def main(backends):
    python = python_with_sentry_sdk()
    missing = missing_browser_parts() + ([] if python else ["python3 with sentry_sdk"])
    if missing:
        sys.exit("missing %s: run `make test-deps`" % ", ".join(missing))
    failed = []
    for backend in backends:
        tmp = tempfile.mkdtemp(prefix="periscope-web-timings-")
        srv = Server(backend=backend)
        try:
            srv.start()
            code, results, err = backend_run(srv, python, tmp, big_issues=BIG_ISSUES)
            if code != 0:
                failed.append(backend)
                sys.stderr.write("server log:\n" + srv.stderr()[-3000:] + "\n")
            else:
                t = results["timings"]
                print("%s: issues page (100,000 issues, first 50 rows) %d ms, issue page (%d frames) %d ms"
                      % (backend, t["issues_100k_first_50_ms"], results["frames"], t["issue_200_frames_ms"]))
        finally:
            srv.cleanup()
            shutil.rmtree(tmp, True)
    if failed:
        sys.exit("web timings failed on " + ", ".join(failed))


if __name__ == "__main__":
    main(sys.argv[1:] or ["postgres"])
