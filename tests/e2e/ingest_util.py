"""Helpers for the ingest end-to-end tests (on top of periscope_testlib).

raw_request sends exactly the headers given (http.client adds only Host and
the body framing), optionally chunked, so tests reproduce what SDKs send."""

import functools
import gzip
import http.client
import json
import os
import re
import shutil
import sqlite3
import time
import zlib

from periscope_testlib import Response

FIXTURE_KEY = "0123456789abcdef0123456789abcdef"
FIXTURE_PROJECT = 42
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def raw_request(srv, method, path, body=b"", headers=None, chunked=False, timeout=30):
    """One request with exactly these headers; every status as a Response."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if chunked:
            def chunks():
                for i in range(0, len(body), 700):
                    yield body[i:i + 700]
            hdrs["Transfer-Encoding"] = "chunked"
            conn.request(method, path, body=chunks(), headers=hdrs, encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return Response(r.status, r.headers, r.read())
    finally:
        conn.close()


def create_project(srv, name, rate_limit=None):
    """(project id, public key, dsn) of a new project made through the admin API."""
    r = srv.admin("POST", "/api/admin/projects", {"name": name})
    assert r.status == 201, r
    p = r.json()
    if rate_limit is not None:
        r2 = srv.admin("PATCH", "/api/admin/projects/%d" % p["id"],
                       {"rate_limit_per_minute": rate_limit})
        assert r2.status == 200, r2
    return p["id"], p["public_key"], p["dsn"]


def store_path(project_id, key=None):
    path = "/api/%d/store/" % project_id
    return path + ("?sentry_key=" + key if key else "")


def envelope(event_ids_and_events, header=None):
    """An envelope body: header line, then one event item per (id, event)."""
    lines = [json.dumps(header or {}).encode()]
    for _, ev in event_ids_and_events:
        payload = json.dumps(ev).encode()
        lines.append(json.dumps({"type": "event", "length": len(payload)}).encode())
        lines.append(payload)
    return b"\n".join(lines) + b"\n"


def db_path(srv):
    return os.path.join(srv.data_dir, "periscope.db")


def stored_event_ids(srv, project_id):
    """Event ids (hex) stored for the project, read straight from SQLite."""
    path = db_path(srv)
    if not os.path.exists(path):
        return set()
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        rows = con.execute("SELECT event_id FROM events WHERE project_id = ?",
                           (project_id,)).fetchall()
    finally:
        con.close()
    return {bytes(r[0]).hex() for r in rows}


def wait_stored(srv, project_id, ids, timeout=10.0):
    """Waits until every id in ids is stored; returns the stored set."""
    deadline = time.monotonic() + timeout
    while True:
        got = stored_event_ids(srv, project_id)
        if set(ids) <= got or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def event_issues(srv, project_id, event_ids):
    """{event id: (title, culprit) of its issue} through the admin API."""
    r = srv.admin("GET", "/api/admin/projects/%d/issues?status=all&limit=100" % project_id)
    assert r.status == 200, r
    out = {}
    for issue in r.json()["data"]:
        ev = srv.admin("GET", "/api/admin/projects/%d/issues/%d/events?limit=100"
                       % (project_id, issue["id"]))
        assert ev.status == 200, ev
        for e in ev.json()["data"]:
            if e["event_id"] in event_ids:
                out[e["event_id"]] = (issue["title"], issue["culprit"])
    return out


def stored_event(srv, project_id, event_id):
    """The stored (normalized) event JSON."""
    r = srv.admin("GET", "/api/admin/projects/%d/events/%s" % (project_id, event_id))
    assert r.status == 200, r
    return r.json()


def load_fixtures(fixtures_dir):
    """[(name, meta, body bytes)] of the recorded SDK requests."""
    out = []
    sdk = os.path.join(fixtures_dir, "sdk")
    for name in sorted(os.listdir(sdk)):
        if name.endswith(".meta.json"):
            base = name[: -len(".meta.json")]
            with open(os.path.join(sdk, name)) as f:
                meta = json.load(f)
            with open(os.path.join(sdk, base + ".body"), "rb") as f:
                body = f.read()
            out.append((base, meta, body))
    return out


def fixtures_dir():
    """tests/fixtures of this repository: sdk/ holds the recorded requests."""
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    if not os.path.isdir(os.path.join(d, "sdk")):
        raise RuntimeError("recorded SDK requests not found in %s" % os.path.join(d, "sdk"))
    return d


@functools.lru_cache(maxsize=None)
def python_with_sentry_sdk():
    """An interpreter that can import sentry_sdk (Debian's python3-sentry-sdk).
    Looked up once per test process: every SDK run used to start up to three
    interpreters to find it again."""
    import subprocess
    import sys
    for exe in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if exe and os.path.exists(exe) and subprocess.run(
                [exe, "-c", "import sentry_sdk"], capture_output=True).returncode == 0:
            return exe
    return None


def gzip_bomb(decoded_bytes, chunk=1 << 20):
    """gzip of decoded_bytes zeros, compressed chunk by chunk."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(chunk)
    parts = []
    left = decoded_bytes
    while left > 0:
        n = min(chunk, left)
        parts.append(z.compress(zeros[:n]))
        left -= n
    parts.append(z.flush())
    return b"".join(parts)


__all__ = ["FIXTURE_KEY", "FIXTURE_PROJECT", "HEX32", "raw_request", "create_project",
           "store_path", "envelope", "stored_event_ids", "wait_stored", "load_fixtures",
           "fixtures_dir", "python_with_sentry_sdk", "gzip_bomb", "gzip"]
