"""Shared helpers for Periscope's end-to-end tests (python3, stdlib only).

The API, kept small on purpose:

    from periscope_testlib import Server, pg_env, run_cli

    with Server(backend="sqlite", env={"ACK_MODE": "queue"}) as srv:
        srv.url                       # "http://127.0.0.1:<port>"
        srv.dsn                       # DSN of the first project ("default")
        srv.admin_key                 # the bearer token the server was started with
        r = srv.admin("POST", "/api/admin/projects", {"name": "x"})
        r.status, r.json(), r.headers["Content-Type"], r.body
        r = srv.request("POST", "/api/1/store/", body=b"{}", headers={...})
        srv.cli("project", "create", "web")   # same env and database as the server
        srv.stdout(), srv.stderr()    # what the process printed so far

    Server(binary=path, cwd=dir) runs another periscope binary (an installed
    copy) in another directory.

    Server(backend="postgres") runs on a fresh database of the throwaway
    cluster (created at start, dropped at stop), a clone of the cluster's
    migrated template (tests/pg_cluster.sh) when it has one: `serve` finds
    every migration applied (`periscope migrate` on an empty database has its
    own tests); pg_env() returns that cluster's POSTGRES_* variables, or None
    when the suite runs without one.

A Server picks a free loopback port and a temporary DATA_DIR, sets
API_SECRET_KEY_ADMIN to a random token unless env overrides it (pass
env={"API_SECRET_KEY_ADMIN": None} to let the server generate one), waits for
/healthz, and on stop() sends SIGTERM and returns the exit code.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.environ.get("PERISCOPE_BIN", "periscope")
START_TIMEOUT_S = 20
STOP_TIMEOUT_S = 20


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_env():
    """POSTGRES_* of the test cluster as a dict, or None without a cluster.

    Reads the KEY=VALUE file named by $PERISCOPE_TEST_PG_ENV."""
    path = os.environ.get("PERISCOPE_TEST_PG_ENV")
    if not path or not os.path.exists(path):
        return None
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                line = line[len("export "):]
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                env[key] = value.strip("'\"")
    return env


def _psql(pg, sql, attempts=1):
    """Runs one statement; a failure raises with psql's own message. A
    statement that can meet a transient refusal (DROP DATABASE while a
    just-stopped server's backends are still exiting) is tried `attempts`
    times, a second apart."""
    env = dict(os.environ, PGPASSWORD=pg.get("POSTGRES_PASSWORD", ""))
    for attempt in range(attempts):
        done = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg["POSTGRES_HOST"],
             "-p", pg["POSTGRES_PORT"], "-U", pg["POSTGRES_USER"],
             "-d", pg.get("POSTGRES_DATABASE", "postgres"), "-c", sql],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
        if done.returncode == 0:
            return
        if attempt + 1 < attempts:
            time.sleep(1)
    raise RuntimeError("psql %r failed: %s" % (sql, done.stderr.decode(errors="replace").strip()))


def pg_create_database(prefix="periscope_test", migrated=False):
    """Creates a uniquely named database on the test cluster, empty or (with
    migrated=True) a clone of the cluster's migrated template if it has one;
    returns the POSTGRES_* env for it (POSTGRES_ENABLED=true included)."""
    pg = pg_env()
    if pg is None:
        raise RuntimeError("no test Postgres cluster (PERISCOPE_TEST_PG_ENV)")
    name = "%s_%s" % (prefix, secrets.token_hex(6))
    template = pg.get("POSTGRES_TEMPLATE") if migrated else None
    _psql(pg, 'CREATE DATABASE "%s"' % name + (' TEMPLATE "%s"' % template if template else ""))
    return dict(pg, POSTGRES_DATABASE=name, POSTGRES_ENABLED="true")


def pg_drop_database(env):
    """Drops a database pg_create_database made (connections are closed first)."""
    pg = pg_env()
    name = env["POSTGRES_DATABASE"]
    _psql(pg, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, attempts=5)


class Response:
    """status (int), headers (case-insensitive mapping), body (bytes)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "Response(%d, %r)" % (self.status, self.body[:300])


def wait_for(check, what="condition", timeout=20, interval=0.05):
    """check()'s first true answer, polled every interval s; fails the test
    (AssertionError naming what) when none comes within timeout s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)


def http_request(url, method="GET", body=None, headers=None, timeout=30):
    """One HTTP request; answers every status as a Response (no exception)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())


def run_cli(*args, env=None, timeout=60):
    """Runs the periscope binary with args; returns the CompletedProcess
    (text stdout/stderr). env replaces os.environ's values it names."""
    full = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            full.pop(k, None)
        else:
            full[k] = v
    return subprocess.run([BIN, *args], env=full, capture_output=True, text=True,
                          timeout=timeout)


class Server:
    """A `periscope serve` process on a free port (see the module docstring)."""

    def __init__(self, backend="sqlite", env=None, data_dir=None, binary=None, cwd=None):
        assert backend in ("sqlite", "postgres")
        self.backend = backend
        self.binary = binary or BIN  # another periscope (an installed copy)
        self.cwd = cwd  # the directory it runs in (None: this one)
        self.port = free_port()
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="periscope-e2e-")
        self.env = {
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATA_DIR": self.data_dir,
            "API_SECRET_KEY_ADMIN": secrets.token_hex(16),
            "LOG_FORMAT": "json",
            "ALLOW_PRIVATE_DESTINATIONS": "true",
            # Counts written with each batch, before its answer, so that a
            # test reads them right after sending (the buffered interval
            # has its own test, test_counters.py).
            "COUNTER_FLUSH_MS": "0",
        }
        for k in ("PUBLIC_URL", "SQLITE_PATH", "POSTGRES_ENABLED"):
            self.env[k] = None  # never inherit the caller's deployment settings
        self._pg = None
        if backend == "postgres":
            self._pg = pg_create_database(migrated=True)
            self.env.update(self._pg)
        self.env.update(env or {})
        self.proc = None
        self._out = self._err = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def admin_key(self):
        key = self.env.get("API_SECRET_KEY_ADMIN")
        if key:
            return key
        m = re.search(r"^admin key: (\S+)$", self.stdout(), re.M)
        if m:
            return m.group(1)
        with open(os.path.join(self.data_dir, "admin.key")) as f:
            return f.read().strip()

    @property
    def dsn(self):
        """The first DSN `serve` printed (the first project's)."""
        m = re.search(r"^DSN for project .*: (\S+)$", self.stdout(), re.M)
        return m.group(1) if m else None

    def _full_env(self):
        full = dict(os.environ)
        for k, v in self.env.items():
            if v is None:
                full.pop(k, None)
            else:
                full[k] = v
        return full

    def start(self, wait=True):
        self._out = open(os.path.join(self.data_dir, "serve.stdout"), "w+")
        self._err = open(os.path.join(self.data_dir, "serve.stderr"), "w+")
        self.proc = subprocess.Popen([self.binary, "serve"], env=self._full_env(),
                                     stdout=self._out, stderr=self._err, cwd=self.cwd)
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout=START_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("periscope serve exited with %d:\n%s" %
                                   (self.proc.returncode, self.stderr()[-4000:]))
            try:
                if http_request(self.url + "/healthz", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("periscope serve did not answer /healthz in %ds:\n%s" %
                           (timeout, self.stderr()[-4000:]))

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT_S):
        """Signals the server, waits, returns its exit code (None if not started)."""
        code = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        elif self.proc:
            code = self.proc.returncode
        for f in (self._out, self._err):
            if f:
                f.close()
        self._out = self._err = None
        return code

    def cleanup(self):
        """Stops the server if needed, drops its database, removes DATA_DIR."""
        self.stop()
        if self._pg:
            pg_drop_database(self._pg)
            self._pg = None
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    def _read(self, name):
        path = os.path.join(self.data_dir, name)
        if not os.path.exists(path):
            return ""
        with open(path) as f:
            return f.read()

    def stdout(self):
        return self._read("serve.stdout")

    def stderr(self):
        return self._read("serve.stderr")

    def request(self, method, path, body=None, headers=None, timeout=30):
        return http_request(self.url + path, method, body, headers, timeout)

    def admin(self, method, path, body=None, token=None, headers=None):
        """An admin API call with the bearer token (token= overrides it)."""
        h = {"Authorization": "Bearer " + (token if token is not None else self.admin_key)}
        if body is not None and not isinstance(body, (bytes, str)):
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        return self.request(method, path, body, h)

    def cli(self, *args, timeout=60):
        """Runs `periscope ARGS` against this server's configuration and database."""
        return run_cli(*args, env=self.env, timeout=timeout)


class SharedServer:
    """A test class's one server: a mixin (first among the bases) that
    starts a Server of the class's `backend` with its `server_env` before
    the class's tests and stops it after them; a serve that did not exit 0
    fails the class."""

    backend = "sqlite"
    server_env = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = Server(backend=cls.backend, env=cls.server_env).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.srv.cleanup()
        super().tearDownClass()
        assert code == 0, "serve exited with %r" % code
