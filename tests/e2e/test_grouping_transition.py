"""Grouping transitions (issue 19), against the real server with events from
the real Python SDK, on SQLite and on the throwaway Postgres: a project's
script changes how its events group; during the transition period the
known errors keep their issues (their new hashes join them) and raise no
alert, a new error still makes a new issue with its alert; with the
period set to 0 the same change splits every error into new issues."""

import unittest

from periscope_testlib import SharedServer, pg_env
from triage_util import AdminMixin, sdk_send

# v1 groups by the default; v2 prefixes every fingerprint, so every hash
# changes (what a new grouping does to known errors).
V1 = 'return { fingerprint = function(event, default) return default end }'
V2 = 'return { fingerprint = function(event, default) ' \
     'local out = { "v2" } for _, c in ipairs(default) do out[#out + 1] = c end return out end }'


def errors(*types):
    return [{"message": "%s happened" % t, "exception": t} for t in types]


class TransitionContract(SharedServer, AdminMixin):
    backend = None

    def put_script(self, pid, source):
        r = self.srv.admin("PUT", "/api/admin/projects/%d/script" % pid, source.encode(),
                           headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status, 200, r)

    def new_alerts(self, pid):
        return sorted(a["issue_id"] for a in self.alerts(pid) if a["kind"] == "new")

    def start(self, days=None):
        pid, dsn = self.project("transition")
        if days is not None:
            r = self.srv.admin("PATCH", "/api/admin/projects/%d" % pid,
                               {"grouping_transition_days": days})
            self.assertEqual((r.status, r.json()["grouping_transition_days"]), (200, days), r)
        self.put_script(pid, V1)
        sdk_send(self, dsn, errors("AlphaError", "BetaError"))
        self.wait_total(pid, 2)
        self.put_script(pid, V2)
        return pid, dsn

    def test_a_script_change_keeps_known_errors_on_their_issues(self):
        pid, dsn = self.start()
        self.assertEqual(self.srv.admin("GET", "/api/admin/projects/%d" % pid)
                         .json()["grouping_transition_days"], 7)
        before = {i["title"]: i for i in self.issues(pid, status="all")["data"]}
        alerts = self.new_alerts(pid)
        self.assertEqual(len(alerts), 2)
        sdk_send(self, dsn, errors("AlphaError", "BetaError", "AlphaError", "GammaError"))
        self.wait_total(pid, 6)
        after = {i["title"]: i for i in self.issues(pid, status="all")["data"]}
        self.assertEqual(set(after), set(before) | {"GammaError: GammaError happened"})
        for title, issue in before.items():
            self.assertEqual(after[title]["id"], issue["id"])
            hashes = self.issue(pid, issue["id"])["hashes"]
            self.assertEqual(len(hashes), 2, hashes)  # the old hash and the new one
            self.assertIn(issue["hash"], hashes)
        self.assertEqual(after["AlphaError: AlphaError happened"]["count"], 3)
        self.assertEqual(after["BetaError: BetaError happened"]["count"], 2)
        # one new alert: the new error's; none for the known ones
        gamma = after["GammaError: GammaError happened"]["id"]
        self.assertEqual(self.new_alerts(pid), sorted(alerts + [gamma]))
        self.assertEqual(self.issue(pid, gamma)["hashes"], [after["GammaError: GammaError happened"]["hash"]])

    def test_without_a_transition_period_the_change_splits_issues(self):
        pid, dsn = self.start(days=0)
        sdk_send(self, dsn, errors("AlphaError", "BetaError"))
        self.wait_total(pid, 4)
        self.assertEqual(len(self.issues(pid, status="all")["data"]), 4)
        self.assertEqual(len(self.new_alerts(pid)), 4)

    def test_the_setting_is_checked(self):
        pid, _ = self.project()
        for bad in (-1, 91, "7", 1.5):
            r = self.srv.admin("PATCH", "/api/admin/projects/%d" % pid,
                               {"grouping_transition_days": bad})
            self.assertEqual(r.status, 400, (bad, r))


class SqliteTransitionTest(TransitionContract, unittest.TestCase):
    backend = "sqlite"


@unittest.skipUnless(pg_env(), "no throwaway Postgres (PERISCOPE_TEST_PG_ENV)")
class PostgresTransitionTest(TransitionContract, unittest.TestCase):
    backend = "postgres"


if __name__ == "__main__":
    unittest.main()
