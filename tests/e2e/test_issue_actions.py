"""Issue 19 through the admin API against the real server, with events sent
by the real Python SDK, on SQLite and on the throwaway Postgres: merge
(then an event of a merged hash joins the target), unmerge, assignment and
comments in the issue's activity, every form of the search language and hostile
queries, and merging while events arrive — on two nodes of one Postgres —
losing no event."""

import json
import threading
import unittest
import uuid

from periscope_testlib import Server, SharedServer, pg_env
from triage_util import AdminMixin, sdk_send


def ev(message, fp, **kw):
    e = {"message": message, "fingerprint": [fp]}
    e.update(kw)
    return e


class TriageContract(SharedServer, AdminMixin):
    backend = None

    def merge(self, pid, ids, expect=200):
        r = self.srv.admin("POST", "/api/admin/projects/%d/issues/merge" % pid, {"ids": ids})
        self.assertEqual(r.status, expect, r)
        return r.json()

    def unmerge(self, pid, iid, h, expect=201):
        r = self.srv.admin("DELETE", "/api/admin/projects/%d/issues/%d/hashes/%s" % (pid, iid, h))
        self.assertEqual(r.status, expect, r)
        return r.json()

    def test_merge_then_a_merged_hash_joins_the_target_and_unmerge_splits_it(self):
        pid, dsn = self.project()
        sdk_send(self, dsn, [ev("alpha failed", "a"), ev("alpha failed", "a"),
                             ev("beta failed", "b", tags={"tenant": "acme"}),
                             ev("gamma failed", "c")])
        self.wait_total(pid, 4)
        issues = self.by_title(pid)
        a, b, c = (issues[t] for t in ("alpha failed", "beta failed", "gamma failed"))
        alerts_before = len(self.alerts(pid))
        self.assertEqual(alerts_before, 3)

        merged = self.merge(pid, [a["id"], b["id"], c["id"]])
        self.assertEqual(merged["id"], a["id"])
        self.assertEqual(merged["count"], 4)
        self.assertEqual(sorted(merged["hashes"]), sorted([a["hash"], b["hash"], c["hash"]]))
        self.assertEqual([x["kind"] for x in merged["activity"]], ["merged"])
        self.assertIs(merged["user_count_upper_bound"], False)
        self.assertEqual(sorted(merged["activity"][0]["data"]["issues"]), sorted([b["id"], c["id"]]))
        self.assertEqual([i["id"] for i in self.issues(pid, status="all")["data"]], [a["id"]])
        self.issue(pid, b["id"], expect=404)
        tags = {t["key"]: t for t in self.issue(pid, a["id"])["tags"]}
        self.assertEqual(tags["tenant"]["top_values"][0]["value"], "acme")
        r = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d/events?limit=100" % (pid, a["id"]))
        self.assertEqual(len(r.json()["data"]), 4)
        # the moved alerts name the target
        self.assertEqual({x["issue_id"] for x in self.alerts(pid)}, {a["id"]})

        # a new event of a merged hash joins the target: no new issue, no alert
        sdk_send(self, dsn, [ev("beta failed", "b")])
        self.wait_total(pid, 5)
        self.assertEqual([i["id"] for i in self.issues(pid, status="all")["data"]], [a["id"]])
        self.assertEqual(len(self.alerts(pid)), alerts_before)

        # unmerge beta's hash: a new issue with beta's two events
        split = self.unmerge(pid, a["id"], b["hash"])
        self.assertNotEqual(split["id"], a["id"])
        self.assertEqual((split["title"], split["count"], split["hash"]), ("beta failed", 2, b["hash"]))
        self.assertEqual(split["hashes"], [b["hash"]])
        r = self.srv.admin("GET", "/api/admin/projects/%d/issues/%d/events" % (pid, split["id"]))
        self.assertEqual(len(r.json()["data"]), 2)
        rest = self.issue(pid, a["id"])
        self.assertEqual(rest["count"], 3)
        self.assertEqual(sorted(rest["hashes"]), sorted([a["hash"], c["hash"]]))
        self.assertEqual(rest["activity"][-1]["kind"], "unmerged")
        # the old issue kept the split-out users: its count is an upper bound
        self.assertIs(rest["user_count_upper_bound"], True)
        self.assertIs(self.issue(pid, split["id"])["user_count_upper_bound"], False)
        sdk_send(self, dsn, [ev("beta failed", "b")])
        self.wait_total(pid, 6)
        self.assertEqual(self.issue(pid, split["id"])["count"], 3)

        # the primary hash can be split out too: the issue keeps another
        other = self.unmerge(pid, a["id"], a["hash"])
        self.assertEqual((other["title"], other["count"]), ("alpha failed", 2))
        rest = self.issue(pid, a["id"])
        self.assertEqual((rest["hash"], rest["hashes"], rest["count"]), (c["hash"], [c["hash"]], 1))
        # the last hash cannot go; an unknown hash or issue is 404
        self.unmerge(pid, a["id"], c["hash"], expect=409)
        self.unmerge(pid, a["id"], "0" * 32, expect=404)
        self.unmerge(pid, a["id"], "not-a-hash", expect=404)
        self.unmerge(pid, 999999, c["hash"], expect=404)

    def test_merge_refuses_bad_requests(self):
        pid, dsn = self.project()
        sdk_send(self, dsn, [ev("one", "1"), ev("two", "2")])
        self.wait_total(pid, 2)
        ids = [i["id"] for i in self.issues(pid)["data"]]
        for body in ({"ids": [ids[0]]}, {"ids": [ids[0], ids[0]]}, {"ids": "1,2"},
                     {"ids": [ids[0], -1]}, {}):
            r = self.srv.admin("POST", "/api/admin/projects/%d/issues/merge" % pid, body)
            self.assertEqual(r.status, 400, (body, r))
        r = self.srv.admin("POST", "/api/admin/projects/%d/issues/merge" % pid,
                           {"ids": [ids[0], 987654321]})
        self.assertEqual(r.status, 404, r)
        self.assertIn("987654321", r.json()["error"]["message"])
        self.assertEqual(self.total(pid), 2)  # nothing moved
        other, _ = self.project("other")
        r = self.srv.admin("POST", "/api/admin/projects/%d/issues/merge" % other, {"ids": ids})
        self.assertEqual(r.status, 404, r)

    def test_assignment_and_comments_are_the_activity(self):
        pid, dsn = self.project()
        sdk_send(self, dsn, [ev("assign me", "x")])
        self.wait_total(pid, 1)
        iid = self.issues(pid)["data"][0]["id"]
        path = "/api/admin/projects/%d/issues/%d" % (pid, iid)
        r = self.srv.admin("PATCH", path, {"assignee_id": 5})
        self.assertEqual((r.status, r.json()["assignee_id"]), (200, 5), r)
        self.assertEqual(self.titles(pid, "assigned:5"), ["assign me"])
        self.assertEqual(self.titles(pid, "is:assigned"), ["assign me"])
        self.assertEqual(self.titles(pid, "assigned:none"), [])
        r = self.srv.admin("PATCH", path, {"assignee_id": None, "status": "resolved"})
        self.assertEqual((r.status, r.json()["assignee_id"], r.json()["status"]),
                         (200, None, "resolved"), r)
        self.assertEqual(self.titles(pid, "assigned:none"), ["assign me"])
        for bad in ({"assignee_id": "bob"}, {"assignee_id": 0}, {"assignee_id": 1.5}):
            self.assertEqual(self.srv.admin("PATCH", path, bad).status, 400, bad)
        r = self.srv.admin("POST", path + "/comments", {"text": "looking into it ✓"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json()["kind"], r.json()["text"]), ("comment", "looking into it ✓"))
        for bad in ({"text": ""}, {"text": 3}, {}, {"text": "x" * 10001}):
            self.assertEqual(self.srv.admin("POST", path + "/comments", bad).status, 400, bad)
        self.assertEqual(self.srv.admin("POST", "/api/admin/projects/%d/issues/999999/comments"
                                        % pid, {"text": "x"}).status, 404)
        activity = self.issue(pid, iid)["activity"]
        self.assertEqual([(a["kind"], a["data"].get("assignee_id"), a["text"]) for a in activity],
                         [("assigned", 5, ""), ("assigned", None, ""),
                          ("comment", None, "looking into it ✓")])
        self.assertRegex(activity[0]["created_at"], r"^\d{4}-\d\d-\d\dT")

    def test_every_form_of_the_search_language(self):
        pid, dsn = self.project()
        sdk_send(self, dsn, [
            ev("Payment timeout for order 7", "s1", level="error", environment="production",
               release="1.2.3", tags={"tenant": "acme"},
               user={"id": "42", "email": "ann@example.com"}),
            ev("Disk full on host", "s2", level="warning", environment="staging",
               release="2.0.0", tags={"tenant": "big corp"}, user={"email": "bob@example.com"}),
            ev("bad input value\nsecond line with needle", "s3", exception="ValueError",
               environment="production"),
        ])
        self.wait_total(pid, 3)
        t = self.by_title(pid)
        pay, disk = "Payment timeout for order 7", "Disk full on host"
        val = [k for k in t if k.startswith("ValueError")][0]
        r = self.srv.admin("PATCH", "/api/admin/projects/%d/issues/%d" % (pid, t[disk]["id"]),
                           {"status": "resolved"})
        self.assertEqual(r.status, 200)
        r = self.srv.admin("PATCH", "/api/admin/projects/%d/issues/%d" % (pid, t[val]["id"]),
                           {"assignee_id": 9})
        self.assertEqual(r.status, 200)
        cases = {
            "is:unresolved": [pay, val], "is:resolved": [disk], "is:ignored": [],
            "!is:resolved": [pay, val],
            "level:warning": [disk], "!level:warning": [pay, val],
            "environment:production": [pay, val], "environment:staging": [disk],
            "release:1.2.3": [pay], "release:2.0.0": [disk],
            "tenant:acme": [pay], 'tenant:"big corp"': [disk], "!tenant:acme": [disk, val],
            "has:tenant": [disk, pay], "!has:tenant": [val],
            # !has: starts from the issues without the key (none, some, all)
            "!has:environment": [], "!has:nosuchkey": [disk, pay, val], "has:nosuchkey": [],
            "is:unresolved !has:tenant": [val], "!has:tenant !has:nosuchkey": [val],
            "!has:nosuchkey tenant:acme": [pay], "!has:nosuchkey level:warning": [disk],
            "user.email:ann@example.com": [pay], "user.email:bob@example.com": [disk],
            "user.id:42": [pay], "user.id:43": [],
            "assigned:none": [disk, pay], "assigned:9": [val], "is:assigned": [val],
            "is:unassigned": [disk, pay],
            "timeout": [pay], "TIMEOUT for  order": [pay], "needle": [val], '"full on"': [disk],
            "Payment level:error environment:production tenant:acme": [pay],
            "level:error !environment:production": [],
            "is:unresolved environment:production !assigned:9": [pay],
            "tenant:\"x' OR 1=1 --\"": [], "'; DROP TABLE issues; --": [],
            "100%": [], "d_sk": [], "D%k": [],
        }
        for query, want in cases.items():
            self.assertEqual(self.titles(pid, query), sorted(want), query)
        # no is: term: the list's own status= applies (default unresolved)
        r = self.issues(pid, query="environment:staging")
        self.assertEqual(r["data"], [])
        # bad terms: 400 naming the term
        bad = {"is:fixed": "is:fixed", "level:loud": "level:loud", "tenant:": "tenant:",
               'server:"web 1': 'server:"web 1', "assigned:me": "assigned:me",
               "assigned:bob": "assigned:bob", "x" * 1100: "longer than",
               "a\x01b": "control character", " ".join(["k:v"] * 17): "more than 16"}
        for query, needle in bad.items():
            r = self.issues(pid, expect=400, status="all", query=query)
            self.assertEqual(r["error"]["code"], "invalid_query")
            self.assertIn(needle, r["error"]["message"], query)
        # pagination keeps the filter
        page = self.issues(pid, status="all", query="environment:production", limit=1)
        self.assertEqual(len(page["data"]), 1)
        nxt = self.issues(pid, status="all", query="environment:production", limit=1,
                          cursor=page["next_cursor"])
        self.assertEqual(len(nxt["data"]), 1)
        self.assertIsNone(nxt["next_cursor"])
        self.assertNotEqual(page["data"][0]["id"], nxt["data"][0]["id"])
        # … and so does a !has: term's set of issues, page by page in order
        seen, cursor = [], None
        for _ in range(3):
            params = {"cursor": cursor} if cursor else {}
            page = self.issues(pid, status="all", query="!has:nosuchkey", limit=1, **params)
            seen += [i["id"] for i in page["data"]]
            cursor = page["next_cursor"]
        self.assertIsNone(cursor)
        whole = self.issues(pid, status="all", query="!has:nosuchkey", limit=10)["data"]
        self.assertEqual(seen, [i["id"] for i in whole])


def store_event(srv, pid, key, fp, i):
    body = json.dumps({"event_id": uuid.uuid4().hex, "message": "concurrent %s" % fp,
                       "fingerprint": [fp], "extra": {"i": i}}).encode()
    r = srv.request("POST", "/api/%d/store/?sentry_key=%s" % (pid, key), body=body,
                    headers={"Content-Type": "application/json"})
    return r.status


class ConcurrentMergeContract(AdminMixin):
    """Nodes ingest events of six groups while issues are merged through
    them; every acknowledged event ends up stored, on an issue that owns
    its hash."""

    def nodes(self):
        raise NotImplementedError

    def test_merging_while_ingesting_loses_no_event(self):
        nodes = self.nodes()
        try:
            self.srv = nodes[0]
            pid, dsn = self.project("concurrent")
            key = dsn.split("//")[1].split("@")[0]
            groups = ["g%d" % k for k in range(6)]
            for g in groups:  # one issue per group first
                self.assertEqual(store_event(nodes[0], pid, key, g, -1), 200)
            self.wait_total(pid, len(groups))
            acked, failed = [0], []
            lock = threading.Lock()

            def ingest(node, offset):
                for i in range(150):
                    st = store_event(node, pid, key, groups[(i + offset) % len(groups)], i)
                    with lock:
                        if st == 200:
                            acked[0] += 1
                        else:
                            failed.append(st)

            threads = [threading.Thread(target=ingest, args=(n, k)) for k, n in enumerate(nodes)]
            for t in threads:
                t.start()
            merges = 0
            while any(t.is_alive() for t in threads) and merges < 4:
                live = [i["id"] for i in self.issues(pid, status="all")["data"]]
                if len(live) < 2:
                    break
                node = nodes[merges % len(nodes)]
                r = node.admin("POST", "/api/admin/projects/%d/issues/merge" % pid,
                               {"ids": sorted(live)[:2]})
                self.assertIn(r.status, (200, 404), r)  # 404: the other node merged it first
                merges += r.status == 200
            for t in threads:
                t.join()
            self.assertEqual(failed, [])
            self.assertGreaterEqual(merges, 2)
            self.wait_total(pid, len(groups) + acked[0])
            # every group's hash belongs to a live issue, and new events still find it
            live = self.issues(pid, status="all")["data"]
            self.assertLessEqual(len(live), len(groups) - merges)
            for g in groups:
                self.assertEqual(store_event(nodes[-1], pid, key, g, 999), 200)
            self.wait_total(pid, len(groups) * 2 + acked[0])
            self.assertEqual(len(self.issues(pid, status="all")["data"]), len(live))
        finally:
            for n in reversed(nodes):
                code = n.stop()
                n.cleanup()
                self.assertEqual(code, 0)


class SqliteTriageTest(TriageContract, unittest.TestCase):
    backend = "sqlite"


@unittest.skipUnless(pg_env(), "no throwaway Postgres (PERISCOPE_TEST_PG_ENV)")
class PostgresTriageTest(TriageContract, unittest.TestCase):
    backend = "postgres"


class SqliteConcurrentMergeTest(ConcurrentMergeContract, unittest.TestCase):
    def nodes(self):
        return [Server().start()]


@unittest.skipUnless(pg_env(), "no throwaway Postgres (PERISCOPE_TEST_PG_ENV)")
class PostgresTwoNodesMergeTest(ConcurrentMergeContract, unittest.TestCase):
    def nodes(self):
        first = Server(backend="postgres").start()
        shared = {k: v for k, v in first.env.items() if k.startswith("POSTGRES_")}
        shared["API_SECRET_KEY_ADMIN"] = first.env["API_SECRET_KEY_ADMIN"]
        return [first, Server(env=shared).start()]


if __name__ == "__main__":
    unittest.main()
