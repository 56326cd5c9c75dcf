"""Every recorded real SDK request (tests/fixtures/sdk) replayed against
the server — same method, path, headers and body bytes, only the project id
and key rewritten to a project made for the test — is answered 200 with its
event id, and the events are in the database."""

import gzip
import json
import unittest

from periscope_testlib import Server
from ingest_util import (FIXTURE_KEY, FIXTURE_PROJECT, HEX32, create_project, fixtures_dir,
                         load_fixtures, raw_request, wait_stored)

# Framing headers are the client library's business, not the recording's.
DROP = {"host", "content-length", "transfer-encoding", "connection"}


def rewrite(meta, body, project_id, key):
    path = meta["path"].replace("/api/%d/" % FIXTURE_PROJECT, "/api/%d/" % project_id)
    path = path.replace(FIXTURE_KEY, key)
    headers = {k: v.replace(FIXTURE_KEY, key) for k, v in meta["headers"].items()
               if k.lower() not in DROP}
    gz = meta["headers"].get("content-encoding") == "gzip"
    plain = gzip.decompress(body) if gz else body
    plain = plain.replace(FIXTURE_KEY.encode(), key.encode())
    body = gzip.compress(plain) if gz else plain
    chunked = meta["headers"].get("transfer-encoding") == "chunked"
    return path, headers, body, plain, chunked


def expected_id(path, plain):
    """The event id the answer must carry, or None when the request has none."""
    if "/store/" in path:
        return json.loads(plain)["event_id"].replace("-", "")
    header = json.loads(plain.split(b"\n", 1)[0])
    return header.get("event_id")


def has_event_item(plain):
    for line in plain.split(b"\n"):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("type") == "event":
            return True
    return False


class RecordedSdkRequests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_every_recorded_request_is_accepted_with_its_event_id(self):
        fixtures = load_fixtures(fixtures_dir())
        self.assertGreaterEqual(len(fixtures), 8)
        project_id, key, _ = create_project(self.srv, "fixtures")
        stored = []
        for name, meta, body in fixtures:
            with self.subTest(fixture=name):
                path, headers, body, plain, chunked = rewrite(meta, body, project_id, key)
                r = raw_request(self.srv, meta["method"], path, body, headers, chunked=chunked)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.headers["Access-Control-Allow-Origin"], "*")
                got = r.json()["id"]
                self.assertRegex(got, HEX32)
                want = expected_id(path, plain)
                if want:
                    self.assertEqual(got, want)
                if "/store/" in path or has_event_item(plain):
                    stored.append(got)
        self.assertGreaterEqual(len(stored), 6)
        in_db = wait_stored(self.srv, project_id, stored)
        self.assertTrue(set(stored) <= in_db, "missing in events table: %s" % (set(stored) - in_db))

    def test_replaying_the_same_request_keeps_one_event(self):
        fixtures = [f for f in load_fixtures(fixtures_dir()) if "/store/" in f[1]["path"]]
        project_id, key, _ = create_project(self.srv, "replay")
        name, meta, body = fixtures[0]
        path, headers, body, plain, _ = rewrite(meta, body, project_id, key)
        first = raw_request(self.srv, "POST", path, body, headers)
        second = raw_request(self.srv, "POST", path, body, headers)
        self.assertEqual(first.status, 200, first)
        self.assertEqual(second.status, 200, second)
        self.assertEqual(first.json()["id"], second.json()["id"])
        self.assertEqual(wait_stored(self.srv, project_id, [first.json()["id"]]),
                         {first.json()["id"]})


if __name__ == "__main__":
    unittest.main()
