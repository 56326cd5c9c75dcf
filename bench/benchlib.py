"""Process control and measurement for bench/bench.py.

Starts servers (Periscope or the bare ceiling) on loopback ports, runs wrk
with bench/load.lua, reads CPU time and peak RSS from /proc, and counts what
reached the database. Everything is bounded in time; every process started
here is stopped here, by its pid."""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_s(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_threads_cpu_s(pid):
    """CPU seconds per thread name (comm) of a process: the split between
    HTTP threads, pipeline workers and the writer."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def _tree_stats(root_pid):
    """(pid, /proc/pid/stat fields after the command) of a process and its
    direct children (a postmaster and its backends)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == root_pid or int(fields[1]) == root_pid:
            yield int(entry), fields


def tree_pids(root_pid, cmdline_has=None):
    """A process and its direct children (a postmaster and its backends),
    with cmdline_has only those whose command line (a backend's title
    names its database) holds it."""
    pids = []
    for pid, _ in _tree_stats(root_pid):
        if cmdline_has:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if cmdline_has.encode() not in f.read():
                        continue
            except OSError:
                continue
        pids.append(pid)
    return pids


def tree_cpu_s(root_pid):
    """CPU seconds of a process and its direct children (a postmaster and
    its backends), read from /proc."""
    return sum((int(f[11]) + int(f[12])) / CLK_TCK for _, f in _tree_stats(root_pid))


def machine_busy_s():
    """CPU seconds spent by everything on the machine (all cores, not idle or
    iowait), to tell how much of a case's CPU went to other processes."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / CLK_TCK


def proc_hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def proc_wchar(pid):
    """Bytes the process passed to write(2)-like calls on files (/proc/PID/io
    wchar; socket sends are not in it): here the SQLite WAL, its checkpoints
    and the log."""
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


def http(method, url, body=None, token=None, timeout=5.0):
    """(status, parsed JSON or text) — never raises for an HTTP status."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


class Server:
    """One server process on 127.0.0.1:<port>, its log in workdir."""

    def __init__(self, argv, env, workdir, port, name):
        self.port, self.name, self.workdir = port, name, workdir
        self.log_path = os.path.join(workdir, name + ".log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=workdir, start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"

    def wait_listening(self, path=None, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: "
                                   + self.log_tail())
            try:
                if path is None:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                    return
                status, _ = http("GET", self.url + path, timeout=1.0)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s: " + self.log_tail())

    def cpu_s(self):
        return proc_cpu_s(self.proc.pid)

    def threads_cpu_s(self):
        return proc_threads_cpu_s(self.proc.pid)

    def hwm_mb(self):
        return proc_hwm_mb(self.proc.pid)

    def wchar(self):
        return proc_wchar(self.proc.pid)

    def log_tail(self, n=600):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout=60.0):
        """SIGTERM (Periscope drains and commits), SIGKILL after timeout."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        return self.proc.returncode


def run_wrk(root, url, seconds, env, connections=int(os.environ.get("BENCH_CONNECTIONS", "64")),
            threads=2, timeout_s=10, until=None):
    """Runs wrk with bench/load.lua; returns the BENCH_RESULT dict plus the
    wrk process's own CPU seconds (from wait4) and its raw output. until:
    a function polled twice a second; once it answers True, wrk is stopped
    early (SIGINT: it still prints its figures)."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
            "--timeout", f"{timeout_s}s", "-s", os.path.join(root, "bench", "load.lua"), url]
    wenv = dict(os.environ, **env, BENCH_THREADS=str(threads))
    wenv.setdefault("BENCH_SEED", str(secrets.randbelow(1 << 30)))
    t0, busy0 = time.monotonic(), machine_busy_s()
    proc = subprocess.Popen(argv, env=wenv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=root)
    deadline = t0 + seconds + 60
    next_poll, stopped = t0 + 0.5, False
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if until and not stopped and time.monotonic() >= next_poll:
            next_poll += 0.5
            if until():
                proc.send_signal(signal.SIGINT)
                stopped = True
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, ru = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    out = proc.stdout.read().decode("utf-8", "replace")
    proc.stdout.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    m = re.search(r"^BENCH_RESULT (\{.*\})$", out, re.M)
    if proc.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed (exit {proc.returncode}): {out[-800:]}")
    res = json.loads(m.group(1))
    res["wrk_cpu_s"] = ru.ru_utime + ru.ru_stime
    res["machine_busy_s"] = machine_busy_s() - busy0
    res["wall_s"] = time.monotonic() - t0
    res["output"] = out
    return res


class SqliteCounter:
    def __init__(self, path):
        self.path = path

    def count(self, table="events"):
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        finally:
            con.close()


class PostgresCounter:
    def __init__(self, pgenv):
        self.env = dict(os.environ, PGHOST=pgenv["POSTGRES_HOST"],
                        PGPORT=str(pgenv["POSTGRES_PORT"]), PGUSER=pgenv["POSTGRES_USER"],
                        PGPASSWORD=pgenv.get("POSTGRES_PASSWORD", ""),
                        PGDATABASE=pgenv["POSTGRES_DATABASE"])

    def psql(self, sql, database=None):
        env = dict(self.env)
        if database:
            env["PGDATABASE"] = database
        out = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql], env=env,
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError("psql: " + out.stderr.strip())
        return out.stdout.strip()

    def count(self, table="events"):
        return int(self.psql(f"SELECT count(*) FROM {table}"))


def wait_drained(counter, expect_at_least, quiet_s=1.0, timeout_s=60.0):
    """Polls the event count until it reaches expect_at_least or stops
    growing for quiet_s. Returns (count, monotonic time of the last growth
    seen here, or None when it never grew while polled)."""
    start = time.monotonic()
    last = counter.count()
    last_change, grew = start, None
    while time.monotonic() - start < timeout_s and last < expect_at_least:
        time.sleep(0.2)
        n = counter.count()
        if n != last:
            last, last_change = n, time.monotonic()
            grew = last_change
        elif time.monotonic() - last_change >= quiet_s:
            break
    return last, grew


def read_env_file(path):
    """KEY=VALUE lines (optionally `export`, optionally quoted)."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[7:]
            k, _, v = line.partition("=")
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            out[k.strip()] = v
    return out


def rmtree_quiet(path):
    shutil.rmtree(path, ignore_errors=True)
