"""The admin API and the process around it, against the real binary, on
SQLite and on the throwaway Postgres: every route's success and error
answers, auth, DSNs, the CLI, migrations, signals and the admin key file."""

import http.client
import json
import os
import re
import signal
import stat
import time
import unittest

from periscope_testlib import (Server, SharedServer, pg_create_database, pg_drop_database, pg_env,
                               run_cli)

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def have_pg():
    return pg_env() is not None


class AdminApiContract(SharedServer):
    """Runs against self.srv, a Server of the subclass's backend."""

    backend = None

    def create(self, name="proj"):
        r = self.srv.admin("POST", "/api/admin/projects", {"name": name})
        self.assertEqual(r.status, 201, r)
        return r.json()

    def assertError(self, r, status, code=None):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
        err = r.json()["error"]
        self.assertIsInstance(err["message"], str)
        if code:
            self.assertEqual(err["code"], code)
        return err

    def expected_dsn(self, key, pid):
        return "http://%s@127.0.0.1:%d/%d" % (key, self.srv.port, pid)

    # probes and fallbacks

    def test_healthz_readyz_and_metrics_answer(self):
        r = self.srv.request("GET", "/healthz")
        self.assertEqual((r.status, r.json()), (200, {"status": "ok"}))
        r = self.srv.request("GET", "/readyz")
        self.assertEqual((r.status, r.json()["status"]), (200, "ok"))
        r = self.srv.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertIn("version=0.0.4", r.headers["Content-Type"])

    def test_unknown_path_is_404_json(self):
        self.assertError(self.srv.request("GET", "/api/nope"), 404, "not_found")

    # auth

    def test_missing_token_is_401(self):
        r = self.srv.request("GET", "/api/admin/projects")
        self.assertError(r, 401, "unauthorized")
        self.assertEqual(r.headers["WWW-Authenticate"], "Bearer")

    def test_wrong_tokens_are_401(self):
        key = self.srv.admin_key
        for token in ("wrong", key[:-1], key + "x", key.upper() if key != key.upper() else "x",
                      ""):
            self.assertError(self.srv.admin("GET", "/api/admin/projects", token=token), 401)
        r = self.srv.request("GET", "/api/admin/projects",
                             headers={"Authorization": "Basic " + key})
        self.assertError(r, 401)

    def test_auth_comes_before_routing_and_body_checks(self):
        for method, path, body in (("GET", "/api/admin/unknown", None),
                                   ("PUT", "/api/admin/projects", None),
                                   ("POST", "/api/admin/projects", b"{bad")):
            r = self.srv.admin(method, path, body, token="wrong")
            self.assertError(r, 401)

    # router errors

    def test_unknown_admin_route_is_404(self):
        self.assertError(self.srv.admin("GET", "/api/admin/nothing"), 404, "not_found")
        self.assertError(self.srv.admin("GET", "/api/admin/projects/1/nothing"), 404)

    def test_wrong_method_is_405_with_allow(self):
        r = self.srv.admin("PUT", "/api/admin/projects")
        self.assertError(r, 405, "method_not_allowed")
        self.assertEqual(sorted(r.headers["Allow"].split(", ")), ["GET", "POST"])
        r = self.srv.admin("POST", "/api/admin/projects/1")
        self.assertError(r, 405)
        self.assertEqual(sorted(r.headers["Allow"].split(", ")), ["DELETE", "GET", "PATCH"])

    def test_malformed_json_is_400_naming_the_problem(self):
        r = self.srv.admin("POST", "/api/admin/projects", b'{"name": "x",\n oops}',
                           headers={"Content-Type": "application/json"})
        err = self.assertError(r, 400, "invalid_json")
        self.assertIn("line 2", err["message"])
        for body in (b"", b"[1, 2]", b'"name"', b'{"name": "a", "name": "b"}'):
            self.assertError(self.srv.admin("POST", "/api/admin/projects", body), 400,
                             "invalid_json")

    def test_oversized_body_is_413(self):
        body = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
        r = self.srv.admin("POST", "/api/admin/projects", body)
        self.assertError(r, 413, "body_too_large")

    def test_oversized_chunked_body_is_413(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        chunks = (b"x" * 65536 for _ in range(20))  # 1.25 MiB, no Content-Length
        conn.request("POST", "/api/admin/projects", body=chunks, encode_chunked=True,
                     headers={"Authorization": "Bearer " + self.srv.admin_key})
        r = conn.getresponse()
        self.assertEqual(r.status, 413)
        self.assertEqual(json.loads(r.read())["error"]["code"], "body_too_large")
        conn.close()

    # projects

    def test_create_project_answers_201_with_dsn(self):
        p = self.create("web-frontend")
        self.assertEqual(set(p) >= {"id", "name", "created_at", "public_key", "dsn"}, True, p)
        self.assertIsInstance(p["id"], int)
        self.assertEqual(p["name"], "web-frontend")
        self.assertRegex(p["created_at"], RFC3339_MS)
        self.assertRegex(p["public_key"], HEX32)
        self.assertEqual(p["dsn"], self.expected_dsn(p["public_key"], p["id"]))

    def test_project_name_is_validated(self):
        for body in ({}, {"name": ""}, {"name": "   "}, {"name": 42}, {"name": None},
                     {"name": "x" * 201}, {"name": "é" * 101}):
            r = self.srv.admin("POST", "/api/admin/projects", body)
            self.assertError(r, 400, "invalid_name")
        # A NUL inside a string is refused by the JSON parser already.
        self.assertEqual(self.srv.admin("POST", "/api/admin/projects", {"name": "a\u0000b"}).status,
                         400)
        self.assertEqual(self.create("x" * 200)["name"], "x" * 200)
        self.assertEqual(self.create("é" * 100)["name"], "é" * 100)  # 200 bytes of UTF-8

    def test_get_project_and_unknown_ids(self):
        p = self.create("get-me")
        r = self.srv.admin("GET", "/api/admin/projects/%d" % p["id"])
        self.assertEqual(r.status, 200)
        got = r.json()
        for k in ("id", "name", "created_at", "public_key", "dsn"):
            self.assertEqual(got[k], p[k])
        for bad in ("999999999", "abc", "0", "-1", "1x"):
            self.assertError(self.srv.admin("GET", "/api/admin/projects/" + bad), 404)

    def test_list_is_cursor_paginated(self):
        made = [self.create("page-%d" % i)["id"] for i in range(5)]
        seen, cursor, pages = [], None, 0
        while True:
            path = "/api/admin/projects?limit=2" + ("&cursor=" + cursor if cursor else "")
            r = self.srv.admin("GET", path)
            self.assertEqual(r.status, 200, r)
            page = r.json()
            self.assertLessEqual(len(page["data"]), 2)
            seen += [p["id"] for p in page["data"]]
            for p in page["data"]:
                self.assertRegex(p["created_at"], RFC3339_MS)
                self.assertIn("dsn", p)
            cursor = page["next_cursor"]
            pages += 1
            if cursor is None:
                break
            self.assertLess(pages, 1000)
        self.assertEqual(seen, sorted(set(seen)))
        self.assertTrue(set(made) <= set(seen))

    def test_list_rejects_bad_cursor_and_limit(self):
        self.assertError(self.srv.admin("GET", "/api/admin/projects?cursor=garbage!"), 400,
                         "invalid_cursor")
        self.assertError(self.srv.admin("GET", "/api/admin/projects?cursor=Zm9v"), 400,
                         "invalid_cursor")
        self.assertError(self.srv.admin("GET", "/api/admin/projects?limit=abc"), 400,
                         "invalid_limit")
        r = self.srv.admin("GET", "/api/admin/projects?limit=1")
        self.assertEqual(len(r.json()["data"]), 1)

    def test_patch_name_and_rate_limit(self):
        p = self.create("before")
        path = "/api/admin/projects/%d" % p["id"]
        r = self.srv.admin("PATCH", path, {"name": "after", "rate_limit_per_minute": 600})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["name"], r.json()["rate_limit_per_minute"]), ("after", 600))
        got = self.srv.admin("GET", path).json()
        self.assertEqual((got["name"], got["rate_limit_per_minute"]), ("after", 600))
        self.assertEqual(got["dsn"], p["dsn"])
        self.assertError(self.srv.admin("PATCH", path, {"name": ""}), 400, "invalid_name")
        for bad in (-1, "10", 1.5, 10 ** 12):
            self.assertError(self.srv.admin("PATCH", path, {"rate_limit_per_minute": bad}), 400,
                             "invalid_rate_limit")
        self.assertError(self.srv.admin("PATCH", path, b"{"), 400, "invalid_json")
        self.assertError(self.srv.admin("PATCH", "/api/admin/projects/999999999", {"name": "z"}),
                         404, "project_not_found")

    def test_delete_project(self):
        p = self.create("doomed")
        path = "/api/admin/projects/%d" % p["id"]
        r = self.srv.admin("DELETE", path)
        self.assertEqual((r.status, r.body), (204, b""))
        self.assertError(self.srv.admin("GET", path), 404, "project_not_found")
        self.assertError(self.srv.admin("DELETE", path), 404)
        self.assertError(self.srv.admin("GET", path + "/keys"), 404)

    # keys

    def test_keys_create_list_revoke(self):
        p = self.create("keyed")
        base = "/api/admin/projects/%d/keys" % p["id"]
        r = self.srv.admin("POST", base)
        self.assertEqual(r.status, 201, r)
        k = r.json()
        self.assertRegex(k["public_key"], HEX32)
        self.assertNotEqual(k["public_key"], p["public_key"])
        self.assertEqual(k["dsn"], self.expected_dsn(k["public_key"], p["id"]))
        self.assertIsNone(k["revoked_at"])
        self.assertRegex(k["created_at"], RFC3339_MS)

        listed = self.srv.admin("GET", base).json()
        self.assertIsNone(listed["next_cursor"])
        self.assertEqual({x["public_key"] for x in listed["data"]},
                         {p["public_key"], k["public_key"]})

        r = self.srv.admin("DELETE", base + "/" + p["public_key"])
        self.assertEqual(r.status, 204, r)
        keys = {x["public_key"]: x for x in self.srv.admin("GET", base).json()["data"]}
        self.assertRegex(keys[p["public_key"]]["revoked_at"], RFC3339_MS)
        self.assertIsNone(keys[k["public_key"]]["revoked_at"])
        # The project now shows its remaining active key.
        got = self.srv.admin("GET", "/api/admin/projects/%d" % p["id"]).json()
        self.assertEqual(got["public_key"], k["public_key"])

    def test_key_errors(self):
        p = self.create("keyless")
        base = "/api/admin/projects/%d/keys" % p["id"]
        self.assertError(self.srv.admin("DELETE", base + "/" + "0" * 32), 404, "key_not_found")
        other = self.create("other")
        self.assertError(self.srv.admin("DELETE", base + "/" + other["public_key"]), 404)
        for method in ("GET", "POST"):
            self.assertError(self.srv.admin(method, "/api/admin/projects/999999999/keys"), 404,
                             "project_not_found")
        self.assertError(self.srv.admin("PUT", base), 405)

    # CLI and first run

    def test_first_run_created_default_project_and_printed_its_dsn(self):
        self.assertRegex(self.srv.dsn, r"^http://[0-9a-f]{32}@127\.0\.0\.1:%d/\d+$" %
                         self.srv.port)
        names = [p["name"] for p in self.srv.admin("GET", "/api/admin/projects").json()["data"]]
        self.assertIn("default", names)

    def test_project_created_by_cli_shows_through_the_api(self):
        r = self.srv.cli("project", "create", "from-cli")
        self.assertEqual(r.returncode, 0, r.stderr)
        dsn = r.stdout.strip()
        m = re.match(r"^http://([0-9a-f]{32})@127\.0\.0\.1:%d/(\d+)$" % self.srv.port, dsn)
        self.assertIsNotNone(m, dsn)
        got = self.srv.admin("GET", "/api/admin/projects/" + m.group(2))
        self.assertEqual(got.status, 200, got)
        self.assertEqual((got.json()["name"], got.json()["public_key"], got.json()["dsn"]),
                         ("from-cli", m.group(1), dsn))


class SqliteAdminApi(AdminApiContract, unittest.TestCase):
    backend = "sqlite"


@unittest.skipUnless(have_pg(), "no throwaway Postgres (PERISCOPE_TEST_PG_ENV)")
class PostgresAdminApi(AdminApiContract, unittest.TestCase):
    backend = "postgres"


class Process(unittest.TestCase):
    """Start-up, configuration errors, signals, migrations, the admin key."""

    def test_bad_port_exits_2_naming_port(self):
        for value in ("abc", "70000"):
            r = run_cli("serve", env={"PORT": value})
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("PORT", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_bad_boolean_exits_2_naming_the_variable(self):
        r = run_cli("migrate", env={"POSTGRES_ENABLED": "maybe"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("POSTGRES_ENABLED", r.stderr)

    def test_help_version_and_unknown_command(self):
        for args in (["--help"], ["-h"], ["serve", "--help"], ["migrate", "-h"],
                     ["project", "--help"], ["version", "--help"]):
            r = run_cli(*args)
            self.assertEqual(r.returncode, 0, args)
            self.assertIn("usage: periscope", r.stdout)
        r = run_cli("version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^periscope \d+\.\d+\.\d+")
        for args in ([], ["frobnicate"], ["project"], ["project", "delete", "x"],
                     ["serve", "extra"]):
            r = run_cli(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("usage:", r.stderr)

    def test_sigterm_and_sigint_exit_0(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            srv = Server()
            try:
                srv.start()
                self.assertEqual(srv.request("GET", "/healthz").status, 200)
                self.assertEqual(srv.stop(sig), 0, srv.stderr())
            finally:
                srv.cleanup()

    def test_generated_admin_key_is_0600_printed_once_and_reused(self):
        srv = Server(env={"API_SECRET_KEY_ADMIN": None})
        try:
            srv.start()
            printed = re.findall(r"^admin key: (\S+)$", srv.stdout(), re.M)
            self.assertEqual(len(printed), 1)
            key = printed[0]
            path = os.path.join(srv.data_dir, "admin.key")
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            self.assertEqual(srv.admin("GET", "/api/admin/projects", token=key).status, 200)
            self.assertEqual(srv.stop(), 0)
            self.assertNotIn(key, srv.stderr())  # never logged

            again = Server(env={"API_SECRET_KEY_ADMIN": None}, data_dir=srv.data_dir)
            again.start()
            try:
                self.assertNotIn("admin key:", again.stdout())  # only when generated
                self.assertEqual(again.admin("GET", "/api/admin/projects", token=key).status,
                                 200)
            finally:
                self.assertEqual(again.stop(), 0)
        finally:
            srv.cleanup()

    def test_public_url_shapes_the_dsn(self):
        with Server(env={"PUBLIC_URL": "https://errors.example.com/sub/"}) as srv:
            p = srv.admin("POST", "/api/admin/projects", {"name": "pub"}).json()
            self.assertEqual(p["dsn"], "https://%s@errors.example.com/sub/%d" %
                             (p["public_key"], p["id"]))

    @unittest.skipUnless(have_pg(), "no throwaway Postgres (PERISCOPE_TEST_PG_ENV)")
    def test_readyz_is_503_when_the_database_is_gone(self):
        with Server(backend="postgres") as srv:
            self.assertEqual(srv.request("GET", "/readyz").status, 200)
            pg_drop_database(srv.env)  # kills the server's connections too
            # /readyz answers from the writer's state, which its idle ping
            # (every second) updates: 503 within a few seconds.
            deadline = time.monotonic() + 10
            while True:
                r = srv.request("GET", "/readyz")
                if r.status == 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual((r.status, r.json()["reason"]), (503, "database"))
            self.assertTrue(r.json()["detail"].startswith("database: "), r.json())
            self.assertEqual(srv.request("GET", "/healthz").status, 200)

    def test_migrate_twice_on_sqlite(self):
        srv = Server()  # for its env and DATA_DIR; not started
        try:
            for _ in range(2):
                r = srv.cli("migrate")
                self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(os.path.exists(os.path.join(srv.data_dir, "periscope.db")))
        finally:
            srv.cleanup()

    @unittest.skipUnless(have_pg(), "no throwaway Postgres (PERISCOPE_TEST_PG_ENV)")
    def test_migrate_twice_on_postgres(self):
        env = pg_create_database()
        try:
            for _ in range(2):
                r = run_cli("migrate", env=env)
                self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            pg_drop_database(env)


if __name__ == "__main__":
    unittest.main()
