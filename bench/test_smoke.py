"""Smoke test of `make bench` (`make bench-smoke`, not part of `make test`):
BENCH_QUICK=1 bench/run.sh runs every case for 3 s against the real server
and writes the results JSON. No thresholds: only completeness is checked."""
import json
import os
import subprocess
import tempfile
import unittest

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BIN = os.environ.get("PERISCOPE_BIN", os.path.join(SOURCE, "build", "periscope"))

CASES = ["ceiling", "sqlite_commit_4k", "sqlite_queue_4k", "sqlite_50k", "postgres_4k",
         "gzip_4k", "node_envelope_4k", "issues_100", "issues_10k", "issues_100k", "issues_1m", "db_1m",
         "sqlite_sync_full_4k",
         "half_rate"]


class BenchSmokeTest(unittest.TestCase):
    def test_quick_bench_runs_every_case_and_writes_results(self):
        with tempfile.TemporaryDirectory() as results:
            env = dict(os.environ, BENCH_QUICK="1", BENCH_RESULTS=results,
                       BUILD_DIR=os.path.dirname(os.path.abspath(BIN)))
            env.pop("BENCH_ONLY", None)
            env.pop("BENCH_PROFILE", None)
            run = subprocess.run([os.path.join(SOURCE, "bench", "run.sh")], env=env,
                                 capture_output=True, text=True, timeout=240)
            self.assertEqual(run.returncode, 0, run.stdout[-2000:] + run.stderr[-2000:])
            with open(os.path.join(results, "latest.json")) as f:
                out = json.load(f)
        self.assertEqual(sorted(out["cases"]), sorted(CASES))
        for name in CASES:
            case = out["cases"][name]
            self.assertNotIn("error", case, f"{name}: {case.get('error')}")
            self.assertGreater(case["persisted_per_s"], 0, name)
            self.assertIn("p99_ms", case, name)
            self.assertIn("peak_rss_mb", case, name)
        self.assertGreater(out["cases"]["db_1m"]["seeded_events"], 0)
        self.assertNotIn("error", out["stages"], out["stages"].get("error"))
        self.assertEqual(len(out["targets"]), 6)


if __name__ == "__main__":
    unittest.main()
