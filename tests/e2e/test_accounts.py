"""Accounts end to end, on SQLite and Postgres: the first-run setup link,
login and the session cookie, CSRF, logout and session expiry, API tokens
(scopes, projects, expiry, revocation, the creator's rights as a bound),
login slow-down, the activity record, and that no password or hash ever
shows in an answer or the log."""

import hashlib
import os
import re
import sqlite3
import subprocess
import time
import unittest

from periscope_testlib import BIN, Server, SharedServer, http_request
from accounts_util import (CHEAP_HASH, PASSWORD, Browser, bearer, make_token, make_user, rfc3339,
                           root, send_event)


def own_issue(srv, message):
    """The issue of one event with this message in the first project (of
    the shared server: other tests change their own issues' status)."""
    send_event(srv, message)
    issues = root(srv, "GET", "/api/admin/projects/1/issues?status=all&limit=100",
                  expect=200).json()["data"]
    return [i for i in issues if i["title"] == message][0]


class Accounts:
    """The tests that need a server of their own (a first run, a restart,
    settings of their own, the only admin, an exact activity record) start
    one; the others share the class's (SharedServer: self.srv), each with
    users, projects and tokens of its own."""

    backend = "sqlite"

    def start(self, **env):
        srv = Server(backend=self.backend, env=dict(CHEAP_HASH, **env)).start()
        self.addCleanup(srv.cleanup)
        self.answers = getattr(self, "answers", [])
        return srv

    def setup_token(self, srv):
        m = re.search(r"^setup link: (\S+)/setup\?token=([0-9a-f]{64})$", srv.stdout(), re.M)
        self.assertIsNotNone(m, srv.stdout())
        self.assertEqual(m.group(1), srv.url)
        return m.group(2)

    # -- first run ----------------------------------------------------------

    def test_setup_link_creates_the_first_admin_once(self):
        srv = self.start()
        token = self.setup_token(srv)
        r = http_request(srv.url + "/api/auth/setup?token=" + token)
        self.assertEqual(r.json(), {"valid": True, "needed": True})
        weak = http_request(srv.url + "/api/auth/setup", "POST",
                            {"token": token, "email": "a@example.com", "password": "short"})
        self.assertEqual(weak.status, 400)  # a bad form does not use the link up
        r = http_request(srv.url + "/api/auth/setup", "POST",
                         {"token": token, "email": "First@Example.com", "password": PASSWORD,
                          "name": "First"})
        self.assertEqual(r.status, 201, r)
        body = r.json()
        self.assertEqual(body["user"]["email"], "first@example.com")
        self.assertEqual(body["user"]["role"], "admin")
        self.assertIn("periscope_session=", r.headers["Set-Cookie"])
        again = http_request(srv.url + "/api/auth/setup", "POST",
                             {"token": token, "email": "b@example.com", "password": PASSWORD})
        self.assertEqual(again.status, 403)
        self.assertEqual(again.json()["error"]["code"], "invalid_setup_token")
        r = http_request(srv.url + "/api/auth/setup?token=" + token)
        self.assertEqual(r.json(), {"valid": False, "needed": False})
        b = Browser(srv)
        b.login("first@example.com")
        # once a user exists, a restart prints no link
        srv.stop()
        srv.start()
        self.assertNotIn("setup link:", srv.stdout())

    def test_a_restart_replaces_the_setup_link(self):
        srv = self.start()
        first = self.setup_token(srv)
        srv.stop()
        srv.start()
        second = self.setup_token(srv)
        self.assertNotEqual(first, second)
        r = http_request(srv.url + "/api/auth/setup", "POST",
                         {"token": first, "email": "a@example.com", "password": PASSWORD})
        self.assertEqual(r.status, 403)

    def test_user_commands_work_offline(self):
        srv = self.start()
        srv.env["PERISCOPE_PASSWORD"] = PASSWORD
        r = srv.cli("user", "create", "Ops@Example.com", "--role", "admin", "--name", "Ops")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^Created admin ops@example.com \(id \d+\)\.$")
        self.assertEqual(srv.cli("user", "create", "ops@example.com", "--role", "admin")
                         .returncode, 1)
        self.assertEqual(srv.cli("user", "create", "x@example.com", "--role", "owner").returncode, 2)
        self.assertEqual(srv.cli("user", "create", "not-an-email", "--role", "viewer").returncode,
                         2)
        srv.env["PERISCOPE_PASSWORD"] = "too short"
        weak = srv.cli("user", "create", "w@example.com", "--role", "viewer")
        self.assertEqual(weak.returncode, 2)
        self.assertIn("12 characters", weak.stderr)
        del srv.env["PERISCOPE_PASSWORD"]
        pw_file = os.path.join(srv.data_dir, "pw.txt")
        with open(pw_file, "w") as f:
            f.write("password from a file\n")
        r = srv.cli("user", "create", "file@example.com", "--role", "viewer", "--password-file",
                    pw_file)
        self.assertEqual(r.returncode, 0, r.stderr)
        b = Browser(srv)
        b.login("ops@example.com")
        Browser(srv).login("file@example.com", "password from a file")
        # reset: a new password (here from standard input), every session ends
        env = dict(os.environ)
        env.update({k: v for k, v in srv.env.items() if v is not None})
        env.pop("PERISCOPE_PASSWORD", None)
        r = subprocess.run([BIN, "user", "reset-password", "OPS@example.com"], env=env,
                           input="a whole new password\n", capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(b.request("GET", "/api/auth/me").status, 401)
        Browser(srv).login("ops@example.com", "a whole new password")
        Browser(srv).login("ops@example.com", PASSWORD, expect=401)
        r = srv.cli("user", "reset-password", "nobody@example.com", "--password-file", pw_file)
        self.assertEqual(r.returncode, 1)
        for out in (r.stdout, r.stderr, srv.stderr()):
            self.assertNotIn("password from a file", out)

    # -- sessions -----------------------------------------------------------

    def test_login_cookie_me_and_logout(self):
        srv = self.srv
        _, email = make_user(srv, "member", [1])
        b = Browser(srv)
        wrong = b.login(email, "not the password!!", expect=401)
        self.assertEqual(wrong.json()["error"]["code"], "invalid_credentials")
        r = b.login(email.upper())  # emails compare case-insensitively
        attrs = [a.strip() for a in r.headers["Set-Cookie"].split(";")]
        self.assertRegex(attrs[0], r"^periscope_session=[0-9a-f]{64}$")
        self.assertIn("HttpOnly", attrs)
        self.assertIn("SameSite=Lax", attrs)
        self.assertIn("Path=/", attrs)
        self.assertNotIn("Secure", attrs)
        user = r.json()["user"]
        self.assertEqual((user["email"], user["role"], user["project_ids"]), (email, "member", [1]))
        self.assertNotIn("password_hash", r.body.decode())
        me = b.request("GET", "/api/auth/me")
        self.assertEqual(me.status, 200)
        self.assertEqual(me.json()["kind"], "session")
        self.assertEqual(me.json()["csrf_token"], b.csrf)
        # the session id is stored hashed
        if self.backend == "sqlite":
            db = sqlite3.connect(os.path.join(srv.data_dir, "periscope.db"))
            stored = [row[0] for row in db.execute("SELECT id_hash FROM sessions")]
            db.close()
            self.assertNotIn(b.cookie, stored)
            self.assertIn(hashlib.sha256(b.cookie.encode()).hexdigest(), stored)
        out = b.request("POST", "/api/auth/logout")
        self.assertEqual(out.status, 204)
        self.assertIn("Max-Age=0", out.headers["Set-Cookie"])
        self.assertEqual(b.request("GET", "/api/auth/me").status, 401)
        self.assertEqual(b.request("GET", "/api/admin/projects/1").status, 401)

    def test_cookie_is_secure_behind_https(self):
        srv = self.start(PUBLIC_URL="https://errors.example.com")
        _, email = make_user(srv, "viewer")
        r = Browser(srv).login(email)
        self.assertIn("Secure", [a.strip() for a in r.headers["Set-Cookie"].split(";")])

    def test_state_changing_cookie_requests_need_csrf_token_and_same_origin(self):
        srv = self.srv
        _, email = make_user(srv, "admin")
        b = Browser(srv)
        b.login(email)
        path, body = "/api/admin/projects", {"name": "csrf"}
        for kwargs in ({"csrf": False}, {"origin": "https://evil.example"},
                       {"origin": None}, {"origin": srv.url + ".evil.example"},
                       {"headers": {"X-CSRF-Token": "0" * 64}}):
            r = b.request("POST", path, body, **kwargs)
            self.assertEqual(r.status, 403, (kwargs, r))
            self.assertEqual(r.json()["error"]["code"], "csrf_failed")
        ok = b.request("POST", path, body, origin=None, headers={"Referer": srv.url + "/projects"})
        self.assertEqual(ok.status, 201, ok)
        self.assertEqual(b.request("POST", path, body).status, 201)
        # reads need no token; bearer requests are not cookie requests
        self.assertEqual(b.request("GET", path, csrf=False, origin=None).status, 200)
        self.assertEqual(root(srv, "POST", path, body).status, 201)

    def test_sessions_end_when_idle_and_at_their_maximum_age(self):
        srv = self.start(SESSION_IDLE_TIMEOUT="2", SESSION_MAX_AGE="4",
                         RETENTION_INTERVAL_MS="500")
        _, email = make_user(srv, "viewer")
        idle, busy = Browser(srv), Browser(srv)
        idle.login(email)
        busy.login(email)
        t0 = time.monotonic()
        self.assertEqual(idle.request("GET", "/api/auth/me").status, 200)
        seen = []
        # busy is used every second: idle time never runs out, the maximum age does
        for at in (1.0, 2.0, 2.5, 3.0, 4.3):
            time.sleep(max(0, t0 + at - time.monotonic()))
            seen.append(busy.request("GET", "/api/auth/me").status)
            if at == 2.5:
                self.assertEqual(idle.request("GET", "/api/auth/me").status, 401)
        self.assertEqual(seen, [200, 200, 200, 200, 401])
        if self.backend == "sqlite":  # ended sessions nobody presents are deleted too
            other = Browser(srv)
            other.login(email)
            path = os.path.join(srv.data_dir, "periscope.db")
            deadline = time.monotonic() + 10
            while True:
                db = sqlite3.connect(path)
                (left,) = db.execute("SELECT COUNT(*) FROM sessions").fetchone()
                db.close()
                if left == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            self.assertEqual(left, 0)

    def test_failed_logins_are_slowed_and_logged_without_the_password(self):
        srv = self.start()
        _, email = make_user(srv, "viewer")
        b = Browser(srv)
        for i in range(5):
            b.login(email, "wrong password number %d" % i, expect=401)
        slow = b.login(email, "wrong password number 5", expect=429)
        self.assertGreaterEqual(int(slow.headers["Retry-After"]), 1)
        b.login(email, expect=429)  # even the right password waits its turn
        time.sleep(int(slow.headers["Retry-After"]) + 0.1)
        b.login(email)  # never locked out for good
        log = srv.stderr()
        self.assertIn("login failed", log)
        self.assertIn("login throttled", log)
        self.assertNotIn("wrong password number", log)
        self.assertNotIn(PASSWORD, log)

    def test_a_changed_hash_cost_is_upgraded_at_login(self):
        if self.backend != "sqlite":
            self.skipTest("reads the stored hash from the SQLite file")
        srv = self.start()
        _, email = make_user(srv, "viewer")
        path = os.path.join(srv.data_dir, "periscope.db")

        def stored():
            db = sqlite3.connect(path)
            (h,) = db.execute("SELECT password_hash FROM users WHERE email = ?", (email,)).fetchone()
            db.close()
            return h

        before = stored()
        self.assertTrue(before.startswith("$argon2id$"), before)
        self.assertIn("t=1,", before)
        srv.stop()
        srv.env["PASSWORD_HASH_OPSLIMIT"] = "2"
        srv.start()
        Browser(srv).login(email)
        after = stored()
        self.assertIn("t=2,", after)
        self.assertNotEqual(before, after)
        Browser(srv).login(email)  # the new hash verifies

    # -- users ----------------------------------------------------------------

    def test_users_crud_and_the_last_admin(self):
        srv = self.start()
        r = root(srv, "POST", "/api/admin/users",
                 {"email": "A@Example.com", "password": PASSWORD, "role": "admin", "name": "A"},
                 expect=201)
        a = r.json()
        self.assertEqual(set(a), {"id", "email", "name", "role", "created_at"})
        self.assertEqual(root(srv, "POST", "/api/admin/users",
                              {"email": "a@example.com", "password": PASSWORD,
                               "role": "viewer"}).status, 409)
        self.assertEqual(root(srv, "POST", "/api/admin/users",
                              {"email": "b@example.com", "password": "elevenchars",
                               "role": "viewer"}).status, 400)
        self.assertEqual(root(srv, "POST", "/api/admin/users",
                              {"email": "b@example.com", "password": PASSWORD,
                               "role": "owner"}).status, 400)
        listed = root(srv, "GET", "/api/admin/users", expect=200).json()
        self.assertEqual([u["email"] for u in listed["data"]], ["a@example.com"])
        uid = a["id"]
        self.assertEqual(root(srv, "PATCH", "/api/admin/users/%d" % uid,
                              {"role": "viewer"}).status, 409)  # the last admin
        self.assertEqual(root(srv, "DELETE", "/api/admin/users/%d" % uid).status, 409)
        b_id, b_email = make_user(srv, "member")
        browser = Browser(srv)
        browser.login(b_email)
        r = root(srv, "PATCH", "/api/admin/users/%d" % b_id,
                 {"name": "Bee", "password": "a brand new password"}, expect=200)
        self.assertEqual(r.json()["name"], "Bee")
        # a new password ends the user's sessions
        self.assertEqual(browser.request("GET", "/api/auth/me").status, 401)
        Browser(srv).login(b_email, "a brand new password")
        root(srv, "DELETE", "/api/admin/users/%d" % b_id, expect=204)
        self.assertEqual(root(srv, "GET", "/api/admin/users/%d" % b_id).status, 404)

    def test_members_see_only_their_projects(self):
        srv = self.srv
        q = root(srv, "POST", "/api/admin/projects", {"name": "Q"}, expect=201).json()["id"]
        uid, email = make_user(srv, "viewer", [q])
        m = root(srv, "GET", "/api/admin/projects/%d/members" % q, expect=200).json()
        self.assertEqual(m["user_ids"], [uid])
        self.assertEqual(root(srv, "PUT", "/api/admin/projects/%d/members" % q,
                              {"user_ids": [999999]}).status, 400)
        b = Browser(srv)
        b.login(email)
        listed = b.request("GET", "/api/admin/projects").json()["data"]
        self.assertEqual([p["id"] for p in listed], [q])
        self.assertEqual(b.request("GET", "/api/admin/projects/1").status, 404)
        self.assertEqual(b.request("GET", "/api/admin/projects/987654").status, 404)
        root(srv, "PUT", "/api/admin/projects/%d/members" % q, {"user_ids": []}, expect=200)
        self.assertEqual(b.request("GET", "/api/admin/projects/%d" % q).status, 404)

    # -- tokens ---------------------------------------------------------------

    def test_tokens_are_shown_once_and_stored_hashed(self):
        srv = self.srv
        t = make_token(None, srv, "read", expires_at=None)
        self.assertRegex(t["token"], r"^psc_[0-9a-f]{64}$")
        self.assertEqual(t["scope"], "read")
        self.assertIsNone(t["last_used_at"])
        listed = root(srv, "GET", "/api/admin/tokens", expect=200)
        self.assertNotIn(t["token"], listed.body.decode())
        self.assertNotIn("token", listed.json()["data"][0])
        self.assertEqual(bearer(srv, t["token"], "GET", "/api/admin/projects/1").status, 200)
        used = [x for x in root(srv, "GET", "/api/admin/tokens", expect=200).json()["data"]
                if x["id"] == t["id"]][0]
        self.assertIsNotNone(used["last_used_at"])
        if self.backend == "sqlite":
            db = sqlite3.connect(os.path.join(srv.data_dir, "periscope.db"))
            rows = db.execute("SELECT token_hash FROM api_tokens").fetchall()
            db.close()
            self.assertIn((hashlib.sha256(t["token"].encode()).hexdigest(),), rows)
            self.assertNotIn((t["token"],), rows)

    def test_token_scopes_projects_expiry_and_revocation(self):
        srv = self.srv
        issue = own_issue(srv, "token scopes")
        q = root(srv, "POST", "/api/admin/projects", {"name": "Q"}, expect=201).json()["id"]
        patch = "/api/admin/projects/1/issues/%d" % issue["id"]
        read = make_token(None, srv, "read")["token"]
        self.assertEqual(bearer(srv, read, "GET", patch).status, 200)
        self.assertEqual(bearer(srv, read, "PATCH", patch, {"status": "resolved"}).status, 403)
        write = make_token(None, srv, "write")["token"]
        self.assertEqual(bearer(srv, write, "PATCH", patch, {"status": "resolved"}).status, 200)
        self.assertEqual(bearer(srv, write, "POST", "/api/admin/projects",
                                {"name": "no"}).status, 403)
        only_q = make_token(None, srv, "admin", [q])["token"]
        self.assertEqual(bearer(srv, only_q, "GET", patch).status, 404)
        self.assertEqual(bearer(srv, only_q, "PATCH", "/api/admin/projects/%d" % q,
                                {"name": "Q2"}).status, 200)
        self.assertEqual(bearer(srv, only_q, "GET", "/api/admin/users").status, 403)
        listed = bearer(srv, only_q, "GET", "/api/admin/projects").json()["data"]
        self.assertEqual([p["id"] for p in listed], [q])
        soon = make_token(None, srv, "read", expires_at=rfc3339(time.time() + 2))["token"]
        self.assertEqual(bearer(srv, soon, "GET", patch).status, 200)
        time.sleep(2.2)
        self.assertEqual(bearer(srv, soon, "GET", patch).status, 401)
        gone = make_token(None, srv, "read")
        root(srv, "DELETE", "/api/admin/tokens/%d" % gone["id"], expect=204)
        self.assertEqual(bearer(srv, gone["token"], "GET", patch).status, 401)
        self.assertEqual(bearer(srv, "psc_" + "0" * 64, "GET", patch).status, 401)
        self.assertEqual(root(srv, "POST", "/api/admin/tokens",
                              {"name": "x", "scope": "read",
                               "expires_at": rfc3339(time.time() - 60)}).status, 400)

    def test_a_token_never_has_more_rights_than_its_creator(self):
        srv = self.srv
        issue = own_issue(srv, "token bounded by its creator")
        q = root(srv, "POST", "/api/admin/projects", {"name": "Q"}, expect=201).json()["id"]
        uid, email = make_user(srv, "member", [1])
        b = Browser(srv)
        b.login(email)
        self.assertEqual(b.request("POST", "/api/admin/tokens",
                                   {"name": "x", "scope": "admin"}).status, 403)
        self.assertEqual(b.request("POST", "/api/admin/tokens",
                                   {"name": "x", "scope": "read", "project_ids": [q]}).status, 404)
        tok = make_token(b, srv, "write")
        self.assertEqual(tok["user_id"], uid)
        patch = "/api/admin/projects/1/issues/%d" % issue["id"]
        self.assertEqual(bearer(srv, tok["token"], "GET", "/api/admin/projects/%d" % q).status,
                         404)
        self.assertEqual(bearer(srv, tok["token"], "PATCH", patch,
                                {"status": "ignored"}).status, 200)
        # the creator is demoted: the token follows
        root(srv, "PATCH", "/api/admin/users/%d" % uid, {"role": "viewer"}, expect=200)
        self.assertEqual(bearer(srv, tok["token"], "PATCH", patch,
                                {"status": "resolved"}).status, 403)
        # a member lists and revokes only their own tokens
        mine = b.request("GET", "/api/admin/tokens").json()["data"]
        self.assertEqual([t["id"] for t in mine], [tok["id"]])
        other = make_token(None, srv, "read")
        self.assertEqual(b.request("DELETE", "/api/admin/tokens/%d" % other["id"]).status, 404)
        self.assertEqual(b.request("DELETE", "/api/admin/tokens/%d" % tok["id"]).status, 204)
        # the creator deleted: their tokens go with them
        tok2 = make_token(b, srv, "read")
        root(srv, "DELETE", "/api/admin/users/%d" % uid, expect=204)
        self.assertEqual(bearer(srv, tok2["token"], "GET", "/api/admin/projects/1").status, 401)

    # -- the activity record --------------------------------------------------

    def test_activity_records_actor_and_change_of_each_kind(self):
        srv = self.start()
        send_event(srv)
        uid, email = make_user(srv, "member", [1])  # user.create + members.update by root
        b = Browser(srv)
        b.login(email)  # login
        issue = root(srv, "GET", "/api/admin/projects/1/issues", expect=200).json()["data"][0]
        b.request("PATCH", "/api/admin/projects/1/issues/%d" % issue["id"], {"status": "resolved"})
        b.request("PUT", "/api/admin/projects/1/script", "return {}\n")
        b.request("PUT", "/api/admin/projects/1/script", "return { }\n")
        b.request("POST", "/api/admin/projects/1/script/rollback", {"version": 1})
        d = b.request("POST", "/api/admin/projects/1/alert_notification_destinations",
                      {"type": "generic_webhook", "name": "hook", "webhook_url": "http://127.0.0.1:9/x",
                       "secret": "whsec_dG9wc2VjcmV0dG9wc2VjcmV0"}).json()["id"]
        b.request("PATCH", "/api/admin/projects/1/alert_notification_destinations/%d" % d,
                  {"enabled": False})
        b.request("DELETE", "/api/admin/projects/1/alert_notification_destinations/%d" % d)
        key = root(srv, "POST", "/api/admin/projects/1/keys", expect=201).json()["public_key"]
        root(srv, "DELETE", "/api/admin/projects/1/keys/" + key, expect=204)
        tok = make_token(b, srv, "read")
        b.request("DELETE", "/api/admin/tokens/%d" % tok["id"])
        root(srv, "PATCH", "/api/admin/users/%d" % uid, {"name": "M"}, expect=200)

        rows = root(srv, "GET", "/api/admin/activity?limit=200", expect=200).json()["data"]
        by_action = {}
        for row in rows:
            by_action.setdefault(row["action"], []).append(row)
        for action in ("user.create", "members.update", "login", "issue.update", "script.upload",
                       "script.rollback", "destination.create", "destination.update",
                       "destination.delete", "key.create", "key.revoke", "token.create",
                       "token.revoke", "user.update"):
            self.assertIn(action, by_action, action)
        resolved = by_action["issue.update"][0]
        self.assertEqual(resolved["actor"], {"type": "user", "id": uid, "name": email})
        self.assertEqual(resolved["changes"], {"status": "resolved"})
        self.assertEqual(resolved["target"], {"type": "issue", "id": str(issue["id"])})
        self.assertEqual(resolved["project_id"], 1)
        self.assertEqual(by_action["key.revoke"][0]["actor"]["type"], "root")
        self.assertEqual(by_action["script.rollback"][0]["changes"], {"version": 1})
        self.assertEqual(by_action["destination.update"][0]["changes"], {"enabled": False})
        created = by_action["destination.create"][0]["changes"]
        self.assertEqual(created["secret"], "(changed)")  # named, never recorded
        self.assertEqual(by_action["user.create"][-1]["changes"]["password"], "(changed)")
        # the issue's own history, and the project's, paginated
        hist = b.request("GET", "/api/admin/projects/1/issues/%d/activity" % issue["id"]).json()
        self.assertEqual([r["action"] for r in hist["data"]], ["issue.update"])
        page = b.request("GET", "/api/admin/projects/1/activity?limit=2").json()
        self.assertEqual(len(page["data"]), 2)
        self.assertIsNotNone(page["next_cursor"])
        nxt = b.request("GET", "/api/admin/projects/1/activity?limit=2&cursor=" +
                        page["next_cursor"]).json()
        self.assertLess(nxt["data"][0]["id"], page["data"][-1]["id"])
        self.assertEqual(b.request("GET", "/api/admin/activity").status, 403)
        everything = root(srv, "GET", "/api/admin/activity?limit=200", expect=200).body.decode()
        self.assertNotIn("whsec_", everything)
        self.assertNotIn(PASSWORD, everything)
        self.assertNotIn("$argon2", everything)
        self.assertNotIn("$argon2", srv.stderr())
        self.assertNotIn(PASSWORD, srv.stderr())


class AccountsSQLite(SharedServer, Accounts, unittest.TestCase):
    backend = "sqlite"
    server_env = CHEAP_HASH


class AccountsPostgres(SharedServer, Accounts, unittest.TestCase):
    backend = "postgres"
    server_env = CHEAP_HASH


if __name__ == "__main__":
    unittest.main()
