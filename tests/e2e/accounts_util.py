"""Helpers for the accounts tests: a browser-like session (cookie and CSRF
token), users and tokens made through the API, and the server settings that
keep Argon2id cheap in tests (the cost is a setting; production keeps
libsodium's interactive default)."""

import json
import re
import time
import uuid

from periscope_testlib import http_request

CHEAP_HASH = {"PASSWORD_HASH_OPSLIMIT": "1", "PASSWORD_HASH_MEMORY": "64KiB"}
PASSWORD = "correct horse battery staple"


class Browser:
    """A cookie jar of one: logs in, sends the cookie, the CSRF token and
    the page's Origin on every request (unless told otherwise)."""

    def __init__(self, srv):
        self.srv = srv
        self.cookie = None
        self.csrf = None
        self.last_set_cookie = None

    def login(self, email, password=PASSWORD, expect=200):
        r = http_request(self.srv.url + "/api/auth/login", "POST",
                         {"email": email, "password": password},
                         headers={"Content-Type": "application/json"})
        assert r.status == expect, r
        if r.status == 200:
            self.take_cookie(r)
            self.csrf = r.json()["csrf_token"]
        return r

    def take_cookie(self, r):
        sc = r.headers.get("Set-Cookie")
        self.last_set_cookie = sc
        m = re.match(r"periscope_session=([^;]*)", sc or "")
        self.cookie = m.group(1) if m and m.group(1) else None

    def request(self, method, path, body=None, csrf=True, origin=True, headers=None):
        h = {"Content-Type": content_type(body)}
        if self.cookie:
            h["Cookie"] = "periscope_session=" + self.cookie
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        if origin is True:
            h["Origin"] = self.srv.url
        elif origin:
            h["Origin"] = origin
        h.update(headers or {})
        return http_request(self.srv.url + path, method, body, headers=h)


def content_type(body):
    """A script's source goes as text, everything else as JSON."""
    return "text/plain" if isinstance(body, str) else "application/json"


def bearer(srv, token, method, path, body=None):
    h = {"Content-Type": content_type(body)}
    if token:
        h["Authorization"] = "Bearer " + token
    return http_request(srv.url + path, method, body, headers=h)


def root(srv, method, path, body=None, expect=None):
    r = bearer(srv, srv.admin_key, method, path, body)
    if expect is not None:
        assert r.status == expect, (method, path, r)
    return r


def make_user(srv, role, project_ids=(), email=None):
    """A user made by the root key, member of project_ids; returns (id, email)."""
    email = email or "%s-%s@example.com" % (role, uuid.uuid4().hex[:8])
    r = root(srv, "POST", "/api/admin/users",
             {"email": email, "password": PASSWORD, "role": role, "name": role.title()},
             expect=201)
    uid = r.json()["id"]
    for pid in project_ids:
        members = root(srv, "GET", "/api/admin/projects/%d/members" % pid, expect=200)
        ids = members.json()["user_ids"] + [uid]
        root(srv, "PUT", "/api/admin/projects/%d/members" % pid, {"user_ids": ids}, expect=200)
    return uid, email


def make_token(browser_or_none, srv, scope, project_ids=None, expires_at=None):
    """A token made by the browser's user (or by the root key): its secret."""
    body = {"name": "t-" + uuid.uuid4().hex[:6], "scope": scope, "project_ids": project_ids,
            "expires_at": expires_at}
    if browser_or_none:
        r = browser_or_none.request("POST", "/api/admin/tokens", body)
    else:
        r = root(srv, "POST", "/api/admin/tokens", body)
    assert r.status == 201, r
    return r.json()


def rfc3339(epoch_s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


def send_event(srv, message="boom"):
    """One event into the first project (ACK_MODE=commit: stored on return);
    returns its event id."""
    key = re.match(r"https?://([0-9a-f]+)@", srv.dsn).group(1)
    event_id = uuid.uuid4().hex
    r = http_request(srv.url + "/api/1/store/", "POST",
                     json.dumps({"event_id": event_id, "message": message, "level": "error"}),
                     headers={"Content-Type": "application/json",
                              "X-Sentry-Auth": "Sentry sentry_version=7, sentry_key=" + key})
    assert r.status == 200, r
    return event_id
