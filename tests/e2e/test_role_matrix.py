"""The role matrix: every admin route × every kind of caller → the status
the roles table promises (README "Accounts and tokens"), generated from one
table, on SQLite and on Postgres.

Callers: no credentials, a viewer and a member of project P, a member of
another project Q, an admin, tokens of scope read / write / write limited
to P (all made by the admin), an expired and a revoked token, the root key.
"Allowed" means the route ran: not 401, not 403, not the 404 that hides a
project, and no 5xx (a handler may still answer 404 for the object named,
or 400 for the body)."""

import time
import unittest
import uuid

from periscope_testlib import Server
from accounts_util import (CHEAP_HASH, Browser, bearer, make_token, make_user, rfc3339, root,
                           send_event)

# What a route asks (src/http/admin_policy.c says the same for the server).
ANY, ACCOUNT, READ, WRITE, PADMIN, ADMIN = "any", "account", "read", "write", "padmin", "admin"

SCRIPT = "return { filter = function(event) return true end }\n"

# (method, path, access, body); {P} project, {I} issue, {E} event, {D} destination,
# {U} a user, {X} the project a DELETE of a project removes.
ROUTES = [
    ("POST", "/api/admin/projects", ADMIN, lambda: {"name": "m-" + uuid.uuid4().hex[:6]}),
    ("GET", "/api/admin/projects", ANY, None),
    ("GET", "/api/admin/projects/{P}", READ, None),
    ("PATCH", "/api/admin/projects/{P}", PADMIN, {"rate_limit_per_minute": 0}),
    ("POST", "/api/admin/projects/{P}/keys", PADMIN, None),
    ("GET", "/api/admin/projects/{P}/keys", READ, None),
    ("DELETE", "/api/admin/projects/{P}/keys/" + "0" * 32, PADMIN, None),
    ("GET", "/api/admin/projects/{P}/members", PADMIN, None),
    ("PUT", "/api/admin/projects/{P}/members", PADMIN, "members"),
    ("GET", "/api/admin/projects/{P}/activity", READ, None),
    ("GET", "/api/admin/projects/{P}/issues", READ, None),
    ("PATCH", "/api/admin/projects/{P}/issues?ids={I}", WRITE, {"status": "unresolved"}),
    ("GET", "/api/admin/projects/{P}/issues/{I}", READ, None),
    ("PATCH", "/api/admin/projects/{P}/issues/{I}", WRITE, {"status": "unresolved"}),
    ("GET", "/api/admin/projects/{P}/issues/{I}/events", READ, None),
    ("GET", "/api/admin/projects/{P}/issues/{I}/activity", READ, None),
    ("GET", "/api/admin/projects/{P}/events/{E}", READ, None),
    ("GET", "/api/admin/projects/{P}/alerts", READ, None),
    ("GET", "/api/admin/projects/{P}/releases", READ, None),
    ("GET", "/api/admin/projects/{P}/alert_rules", READ, None),
    ("PUT", "/api/admin/projects/{P}/alert_rules", WRITE, {"rules": None}),
    ("GET", "/api/admin/projects/{P}/stats", READ, None),
    ("GET", "/api/admin/projects/{P}/issues/{I}/stats", READ, None),
    ("POST", "/api/admin/projects/{P}/alert_notification_destinations", WRITE,
     {"type": "internal_logger", "name": "m"}),
    ("GET", "/api/admin/projects/{P}/alert_notification_destinations", READ, None),
    ("GET", "/api/admin/projects/{P}/alert_notification_destinations/{D}", READ, None),
    ("PATCH", "/api/admin/projects/{P}/alert_notification_destinations/{D}", WRITE,
     {"name": "n"}),
    ("DELETE", "/api/admin/projects/{P}/alert_notification_destinations/999999", WRITE, None),
    ("POST", "/api/admin/projects/{P}/alert_notification_destinations/{D}/test", WRITE, None),
    ("GET", "/api/admin/projects/{P}/script", READ, None),
    ("PUT", "/api/admin/projects/{P}/script", WRITE, SCRIPT),
    ("GET", "/api/admin/projects/{P}/script/versions", READ, None),
    ("GET", "/api/admin/projects/{P}/script/versions/1", READ, None),
    ("POST", "/api/admin/projects/{P}/script/rollback", WRITE, {"version": 1}),
    ("POST", "/api/admin/projects/{P}/script/test", WRITE, {"source": SCRIPT}),
    ("DELETE", "/api/admin/projects/{P}/script", WRITE, None),
    ("GET", "/api/admin/projects/{P}/grouping-rules", READ, None),
    ("PUT", "/api/admin/projects/{P}/grouping-rules", WRITE,
     {"fingerprint_rules": "", "stacktrace_rules": ""}),
    ("DELETE", "/api/admin/projects/{P}/grouping-rules", WRITE, None),
    ("POST", "/api/admin/users", ADMIN,
     lambda: {"email": "n-%s@example.com" % uuid.uuid4().hex[:8],
              "password": "a long enough password", "role": "viewer"}),
    ("GET", "/api/admin/users", ADMIN, None),
    ("GET", "/api/admin/users/{U}", ADMIN, None),
    ("PATCH", "/api/admin/users/{U}", ADMIN, {"name": "renamed"}),
    ("DELETE", "/api/admin/users/999999", ADMIN, None),
    ("POST", "/api/admin/tokens", ACCOUNT, {"name": "m", "scope": "read"}),
    ("GET", "/api/admin/tokens", ACCOUNT, None),
    ("DELETE", "/api/admin/tokens/999999", ACCOUNT, None),
    ("GET", "/api/admin/activity", ADMIN, None),
    ("GET", "/api/auth/me", ANY, None),
    ("DELETE", "/api/admin/projects/{X}", PADMIN, None),
]

# Each caller: its level (1 read, 2 write, 3 admin), the projects it sees
# ("all", or a set of names), and whether it is a token.
CALLERS = {
    "none": None,
    "viewer": (1, {"P"}, False),
    "member_P": (2, {"P"}, False),
    "member_Q": (2, {"Q"}, False),
    "admin": (3, "all", False),
    "read_token": (1, "all", True),
    "write_token": (2, "all", True),
    "scoped_token": (2, {"P"}, True),
    "expired_token": None,
    "revoked_token": None,
    "root": (3, "all", False),
}

NEED = {READ: 1, WRITE: 2, PADMIN: 3}


def expected(access, caller):
    """401, 403, 404 or "ok" from the roles table."""
    c = CALLERS[caller]
    if c is None:
        return 401
    level, sees, token = c
    if access == ANY:
        return "ok"
    if access == ACCOUNT:
        return 403 if token and not (level == 3 and sees == "all") else "ok"
    if access == ADMIN:
        return "ok" if level == 3 and sees == "all" else 403
    if sees != "all" and "P" not in sees:
        return 404
    return "ok" if level >= NEED[access] else 403


class RoleMatrix:
    backend = "sqlite"

    def setUp(self):
        self.srv = Server(backend=self.backend, env=dict(CHEAP_HASH)).start()
        self.addCleanup(self.srv.cleanup)
        srv = self.srv
        self.P = 1
        self.Q = root(srv, "POST", "/api/admin/projects", {"name": "Q"}, expect=201).json()["id"]
        self.E = send_event(srv)
        issues = root(srv, "GET", "/api/admin/projects/1/issues?status=all", expect=200)
        self.I = issues.json()["data"][0]["id"]
        self.D = root(srv, "POST", "/api/admin/projects/1/alert_notification_destinations",
                      {"type": "internal_logger", "name": "log"}, expect=201).json()["id"]
        self.U = make_user(srv, "viewer")[0]
        self.viewer_id, viewer = make_user(srv, "viewer", [self.P])
        self.member_id, member = make_user(srv, "member", [self.P])
        _, other = make_user(srv, "member", [self.Q])
        _, admin = make_user(srv, "admin")
        self.browsers = {}
        for name, email in (("viewer", viewer), ("member_P", member), ("member_Q", other),
                            ("admin", admin)):
            b = Browser(srv)
            b.login(email)
            self.browsers[name] = b
        adm = self.browsers["admin"]
        self.tokens = {
            "read_token": make_token(adm, srv, "read")["token"],
            "write_token": make_token(adm, srv, "write")["token"],
            "scoped_token": make_token(adm, srv, "write", [self.P])["token"],
            "expired_token": make_token(adm, srv, "admin", None,
                                        rfc3339(time.time() + 2))["token"],
            "root": srv.admin_key,
        }
        revoked = make_token(adm, srv, "admin")
        adm.request("DELETE", "/api/admin/tokens/%d" % revoked["id"])
        self.tokens["revoked_token"] = revoked["token"]
        time.sleep(2.2)  # the expired token's time passes

    def fill(self, path, caller):
        project = self.P
        if "{X}" in path:
            c = CALLERS[caller]
            if c and c[1] == "all":  # a project of its own to delete, seen by this caller
                project = root(self.srv, "POST", "/api/admin/projects", {"name": "x"},
                               expect=201).json()["id"]
            path = path.replace("{X}", str(project))
        return (path.replace("{P}", str(self.P)).replace("{I}", str(self.I))
                .replace("{E}", self.E).replace("{D}", str(self.D)).replace("{U}", str(self.U)))

    def call(self, caller, method, path, body):
        if callable(body):
            body = body()
        if body == "members":
            body = {"user_ids": [self.viewer_id, self.member_id]}
        if caller in self.browsers:
            return self.browsers[caller].request(method, path, body)
        return bearer(self.srv, self.tokens.get(caller), method, path, body)

    def test_every_route_for_every_caller(self):
        failures, cells = [], 0
        for method, template, access, body in ROUTES:
            for caller in CALLERS:
                want = expected(access, caller)
                path = self.fill(template, caller)
                r = self.call(caller, method, path, body)
                cells += 1
                hidden = r.status == 404 and b"project_not_found" in r.body
                if want == "ok":
                    ok = r.status not in (401, 403) and not hidden and r.status < 500
                elif want == 404:
                    ok = hidden
                else:
                    ok = r.status == want
                if not ok:
                    failures.append("%s %s as %s: want %s, got %d %s" %
                                    (method, template, caller, want, r.status, r.body[:160]))
        self.assertEqual(cells, len(ROUTES) * len(CALLERS))
        self.assertEqual(failures, [], "\n".join(failures))


class RoleMatrixSQLite(RoleMatrix, unittest.TestCase):
    backend = "sqlite"


class RoleMatrixPostgres(RoleMatrix, unittest.TestCase):
    backend = "postgres"


if __name__ == "__main__":
    unittest.main()
