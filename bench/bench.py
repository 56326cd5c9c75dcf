#!/usr/bin/env python3
"""`make bench`: end-to-end ingest throughput against the HTTP ceiling.

Runs every case of issue 10 in one go (see CASES), prints a table with each
figure and its ratio to the ceiling measured in the same run, and writes
bench/results/latest.json. Environment:
  BENCH_SECONDS   wrk duration per case (default 15)
  BENCH_QUICK=1   3 s per case, a small "1M" database, short stage loops
  BENCH_ONLY      comma-separated case names to run (default: all; the
                  search cases are search_sqlite and search_postgres)
  BENCH_SEARCH_ISSUES  issues the search cases seed (default 100000)
  BENCH_PROFILE=1 run the 4 KB SQLite commit case under `perf record -g`
                  and write perf-report.txt next to the results
  BENCH_RESULTS   results directory (default bench/results)
  BUILD_DIR       build directory (default build)
"""
import json
import os
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import report  # noqa: E402
import search  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = os.environ.get("BENCH_QUICK") == "1"
SECONDS = 3 if QUICK else int(os.environ.get("BENCH_SECONDS", "15"))
BUILD = os.path.abspath(os.environ.get("BUILD_DIR", os.path.join(ROOT, "build")))
RESULTS = os.path.abspath(os.environ.get("BENCH_RESULTS", os.path.join(ROOT, "bench", "results")))
SEED_EVENTS = 20_000 if QUICK else 1_000_000
SEED_ISSUES = 20_000 if QUICK else 1_000_000  # issues_1m: one event per issue
SEED_MAX_S = 60 if QUICK else 2400  # ~5 min of CPU for 1M issues; the rest is a busy machine
WARM_MAX_S = 20 if QUICK else 120  # bound on a growth case's warm-up

BASE = {"server": "periscope", "backend": "sqlite", "ack": "commit", "format": "store",
        "size": "4k", "issues": 100}
CASES = [  # name, overrides of BASE
    ("ceiling", {"server": "ceiling"}),
    ("sqlite_commit_4k", {}),
    ("sqlite_queue_4k", {"ack": "queue"}),
    # SYNC=full: every group commit fsynced (an acknowledgement survives power loss)
    ("sqlite_sync_full_4k", {"env": {"SYNC": "full"}}),
    ("sqlite_50k", {"size": "50k"}),
    ("postgres_4k", {"backend": "postgres"}),
    ("gzip_4k", {"format": "gzip"}),
    ("node_envelope_4k", {"format": "envelope"}),
    ("issues_100", {"same_as": "sqlite_commit_4k"}),
    # Growth: the case's issues are created first (a warm-up whose rate of
    # first sights is reported on its own), then events spread over them.
    ("issues_10k", {"issues": 10_000, "warm_issues": True}),
    ("issues_100k", {"issues": 100_000, "warm_issues": True}),
    # 1,000,000 issues created by bench_seed_db through the writer's batch
    # code (HTTP would take ~10 minutes), then events spread over them.
    ("issues_1m", {"issues": SEED_ISSUES, "seed": SEED_ISSUES, "seed_distinct": True}),
    ("db_1m", {"seed": SEED_EVENTS}),
    ("half_rate", {"rate_of": "sqlite_commit_4k"}),
]


class Run:
    def __init__(self, tmp):
        self.tmp = tmp
        self.results = {}
        self.pg = None          # PostgresCounter of the bench database
        self.pg_started = None  # cluster dir when we started one
        self.pg_postmaster = None
        self.admin_key = secrets.token_hex(16)


def make_templates(tmp):
    tdir = os.path.join(tmp, "templates")
    os.makedirs(tdir)
    for fmt, size in (("store", "4k"), ("store", "50k"), ("gzip", "4k"), ("envelope", "4k"),
                      ("json", "4k"), ("json", "50k")):
        ext = "json" if fmt == "json" else "lua"
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_events.py"), fmt, size,
                        os.path.join(tdir, f"{fmt}-{size}.{ext}")], check=True,
                       stderr=subprocess.DEVNULL, timeout=60)
    return tdir


def wrk_env(run, spec, project="1", key="0123456789abcdef0123456789abcdef", rate=0):
    return {"BENCH_TEMPLATE_DIR": os.path.join(run.tmp, "templates"),
            "BENCH_FORMAT": spec["format"], "BENCH_EVENT_SIZE": spec["size"],
            "BENCH_ISSUES": str(spec["issues"]), "BENCH_PROJECT": str(project),
            "BENCH_KEY": key, "BENCH_RATE": str(int(rate))}


def figures(w, seconds_persisted=None, persisted=None):
    out = {"requests": w["requests"], "wrk_rps": w["requests"] / (w["duration_us"] / 1e6),
           "non2xx": w["non2xx"], "status": w["status"], "samples": w["samples"],
           "socket_errors": w["errors"], "p50_ms": w["latency_us"]["p50"] / 1000.0,
           "p90_ms": w["latency_us"]["p90"] / 1000.0, "p99_ms": w["latency_us"]["p99"] / 1000.0,
           "max_ms": w["latency_us"]["max"] / 1000.0, "wrk_cpu_s": w["wrk_cpu_s"],
           "machine_busy_s": w["machine_busy_s"],
           "duration_s": w["duration_us"] / 1e6}
    if persisted is not None:
        out["persisted"] = persisted
        out["persisted_s"] = seconds_persisted
        out["persisted_per_s"] = persisted / seconds_persisted if seconds_persisted else 0.0
    return out


def run_ceiling(run, spec):
    port = bl.free_port()
    env = dict(os.environ, PORT=str(port))
    srv = bl.Server([os.path.join(BUILD, "bench_ceiling"), str(port)], env, run.tmp, port,
                    "ceiling")
    try:
        srv.wait_listening(timeout=10)
        cpu0 = srv.cpu_s()
        w = bl.run_wrk(ROOT, srv.url, SECONDS, wrk_env(run, spec))
        res = figures(w)
        res["server_cpu_s"] = srv.cpu_s() - cpu0
        res["other_cpu_s"] = max(0.0, w["machine_busy_s"] - res["server_cpu_s"] - w["wrk_cpu_s"])
        res["peak_rss_mb"] = srv.hwm_mb()
        res["persisted_per_s"] = (w["requests"] - w["non2xx"]) / res["duration_s"]
        return res
    finally:
        srv.stop(10)


def periscope_env(run, spec, data_dir, port, ack):
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), DATA_DIR=data_dir,
               API_SECRET_KEY_ADMIN=run.admin_key, ACK_MODE=ack, LOG_FORMAT="json",
               **spec.get("env", {}))
    if spec["backend"] == "postgres":
        pe = run.pg.env
        env.update(POSTGRES_ENABLED="true", POSTGRES_HOST=pe["PGHOST"],
                   POSTGRES_PORT=pe["PGPORT"], POSTGRES_USER=pe["PGUSER"],
                   POSTGRES_PASSWORD=pe["PGPASSWORD"], POSTGRES_DATABASE=pe["PGDATABASE"])
    return env


def start_periscope(run, spec, data_dir, ack):
    port = bl.free_port()
    srv = bl.Server([os.path.join(BUILD, "periscope"), "serve"],
                    periscope_env(run, spec, data_dir, port, ack), data_dir, port, "periscope")
    try:
        srv.wait_listening("/healthz", timeout=60)
    except Exception:
        srv.stop(10)
        raise
    return srv


def create_project(run, srv):
    status, body = bl.http("POST", srv.url + "/api/admin/projects", {"name": "bench"},
                           token=run.admin_key)
    if status not in (200, 201) or not isinstance(body, dict):
        raise RuntimeError(f"project create answered {status}: {str(body)[:300]}")
    return body["id"], body["public_key"]


def seed_database(run, spec, data_dir):
    """Creates the project through the admin API, stops the server, and
    writes spec["seed"] events with bench_seed_db (the writer's own batch
    code, no HTTP): over 10,000 issues, or with seed_distinct one event for
    each of the case's issues, grouped as load.lua's requests for issue
    numbers 0..N-1 will be. Returns (project, key, count, s)."""
    t0 = time.monotonic()
    srv = start_periscope(run, spec, data_dir, "commit")
    try:
        project, key = create_project(run, srv)
    finally:
        srv.stop()
    env = periscope_env(run, spec, data_dir, srv.port, "commit")
    distinct = spec.get("seed_distinct")
    args = [os.path.join(BUILD, "bench_seed_db"), str(project), str(spec["seed"]),
            str(spec["issues"] if distinct else 10_000),
            os.path.join(run.tmp, "templates", "json-4k.json")] + (["distinct"] if distinct else [])
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=SEED_MAX_S)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"seeded (\d+) events", out.stdout)
    if out.returncode != 0 or not m:
        raise RuntimeError(f"bench_seed_db failed: {(out.stderr or out.stdout)[-500:]}")
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return project, key, int(m.group(1)), time.monotonic() - t0, cpu


def warm_issues(run, spec, srv, counter, project, key):
    """Creates the case's issues before it is measured: wrk sends issue
    numbers in order (BENCH_ISSUES_SEQUENTIAL) until the database holds them
    all, bounded by WARM_MAX_S. Each request of it is a first sight (Lua
    grouping, an issue row, its alert and outbox rows); their rate is
    reported apart from the steady state that the case then measures."""
    want = spec["issues"]
    base, events0 = counter.count("issues"), counter.count()
    env = dict(wrk_env(run, spec, project, key), BENCH_ISSUES_SEQUENTIAL="1")
    t0 = time.monotonic()
    w = bl.run_wrk(ROOT, srv.url, WARM_MAX_S, env,
                   until=lambda: counter.count("issues") - base >= want)
    bl.wait_drained(counter, events0 + w["requests"] - w["non2xx"])
    created = counter.count("issues") - base
    seconds = time.monotonic() - t0
    return {"issues": created, "seconds": round(seconds, 1), "per_s": round(created / seconds)}


def run_periscope(run, name, spec, rate=0):
    data_dir = os.path.join(run.tmp, name)
    os.makedirs(data_dir)
    if spec["backend"] == "postgres":
        if run.pg is None:
            raise RuntimeError("no Postgres cluster (tests/pg_cluster.sh missing or failed)")
        counter = run.pg  # a database of its own, created for this run
    else:
        counter = bl.SqliteCounter(os.path.join(data_dir, "periscope.db"))
    extra = {}
    project = key = None
    if spec.get("seed"):
        project, key, seeded, seed_s, seed_cpu = seed_database(run, spec, data_dir)
        extra = {"seeded_events": seeded, "seed_seconds": seed_s, "seed_cpu_s": seed_cpu}
    srv = start_periscope(run, spec, data_dir, spec["ack"])
    perf = light = None
    try:
        if project is None:
            project, key = create_project(run, srv)
        if spec.get("warm_issues"):
            extra["warm_up"] = warm_issues(run, spec, srv, counter, project, key)
        base, issues0 = counter.count(), counter.count("issues")
        pg_pid = run.pg_postmaster if spec["backend"] == "postgres" else None
        if os.environ.get("BENCH_PROFILE") == "1" and name == "sqlite_commit_4k":
            perf = start_perf(srv.proc.pid)
        elif name in PROFILED and shutil.which("perf"):
            # a flat profile (no call graphs) of the server, or of the
            # Postgres backends: what the targets table names as the cost
            pids = ((bl.tree_pids(pg_pid, run.pg_db) or [pg_pid])
                    if name == "postgres_4k" and pg_pid else [srv.proc.pid])
            light = start_light_perf(name, pids)
        pg0 = bl.tree_cpu_s(pg_pid) if pg_pid else None
        cpu0, threads0, t0 = srv.cpu_s(), srv.threads_cpu_s(), time.monotonic()
        wchar0 = srv.wchar()
        w = bl.run_wrk(ROOT, srv.url, SECONDS, wrk_env(run, spec, project, key, rate))
        ok = w["requests"] - w["non2xx"]
        count, grew = bl.wait_drained(counter, base + ok)
        persisted = count - base
        # events/s over the time until the last event landed: wrk's own
        # duration, plus the drain when the queue was still committing
        drain = max(0.0, grew - t0 - w["wall_s"]) if grew else 0.0
        res = figures(w, w["duration_us"] / 1e6 + drain, persisted)
        res["server_cpu_s"] = srv.cpu_s() - cpu0
        if persisted:
            threads1 = srv.threads_cpu_s()
            res["server_us_per_event_by_thread"] = {
                name: round((cpu - threads0.get(name, 0.0)) * 1e6 / persisted, 1)
                for name, cpu in sorted(threads1.items()) if cpu - threads0.get(name, 0.0) > 0}
        res["other_cpu_s"] = max(0.0, w["machine_busy_s"] - res["server_cpu_s"] - w["wrk_cpu_s"])
        if pg_pid:
            res["postgres_cpu_s"] = bl.tree_cpu_s(pg_pid) - pg0
            res["other_cpu_s"] = max(0.0, res["other_cpu_s"] - res["postgres_cpu_s"])
        res["peak_rss_mb"] = srv.hwm_mb()
        res["writer_batch_mean"] = writer_batch_mean(srv)
        if persisted:
            res["file_write_kb_per_event"] = round((srv.wchar() - wchar0) / 1024 / persisted, 1)
        res["drain_s"] = drain
        res["new_issues"] = counter.count("issues") - issues0
        res.update(extra)
        if perf:
            stop_perf(perf)
        if light:
            res["profile"] = stop_light_perf(light)
        if rate:
            res["target_rate"] = rate
        return res
    finally:
        code = srv.stop()
        if code not in (0, None):
            print(f"  ({name}: periscope exited {code}; log {srv.log_path})", file=sys.stderr)


def writer_batch_mean(srv):
    """Mean events per writer transaction, from the server's /metrics
    (periscope_writer_batch_size): small batches mean commit latency, not
    CPU, bounds the commit-ack cases."""
    status, text = bl.http("GET", srv.url + "/metrics")
    if status != 200 or not isinstance(text, str):
        return None
    vals = {}
    for line in text.splitlines():
        m = re.match(r"periscope_writer_batch_size_(sum|count)\s+([0-9.e+]+)", line)
        if m:
            vals[m.group(1)] = float(m.group(2))
    return round(vals["sum"] / vals["count"], 1) if vals.get("count") else None


def start_perf(pid):
    os.makedirs(RESULTS, exist_ok=True)
    data = os.path.join(RESULTS, "perf.data")
    p = subprocess.Popen(["perf", "record", "-g", "-o", data, "-p", str(pid)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return p, data


# Cases whose server (or Postgres) runs under a flat `perf record` when perf
# is installed: the top symbols by thread go into the results and the
# targets table's explanations (report.py).
PROFILED = ("sqlite_commit_4k", "postgres_4k", "issues_1m", "node_envelope_4k")


def start_light_perf(name, pids):
    os.makedirs(RESULTS, exist_ok=True)
    data = os.path.join(RESULTS, f"perf-{name}.data")
    p = subprocess.Popen(["perf", "record", "-F", "499", "-o", data, "-p",
                          ",".join(str(x) for x in pids)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    return p, data


def stop_light_perf(light):
    """{"threads": {comm: share}, "symbols": [[comm, symbol, share], ...]}:
    the shares (of the profiled samples) by thread and the top symbols of
    each thread."""
    p, data = light
    p.send_signal(2)
    rep = None
    try:
        p.wait(60)
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                              "--sort", "comm,dso,sym", "--percent-limit", "0.3", "-g", "none"],
                             capture_output=True, text=True, timeout=300)
        out = rep.stdout
    except Exception as e:  # noqa: BLE001 - a profile is extra information
        return {"error": str(e)[:200]}
    finally:
        try:
            os.unlink(data)
        except OSError:
            pass
    threads, symbols, kernel = {}, [], {}
    for line in out.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+(\S+)\s+\[(.)\]\s+(.+?)\s*$", line)
        if not m:
            continue
        share, comm, dso, kind, sym = (float(m.group(1)), m.group(2), m.group(3), m.group(4),
                                       m.group(5))
        threads[comm] = round(threads.get(comm, 0.0) + share, 1)
        if kind == "k":  # the kernel (system calls, page faults, the hypervisor's IRQs)
            kernel[comm] = round(kernel.get(comm, 0.0) + share, 1)
        else:
            if sym.startswith("0x"):  # no symbol: its library says where
                sym = f"{dso}@{sym}"
            symbols.append([comm, sym, share])
    if not threads:
        return {"error": f"perf record: {p.stderr.read()[-300:]}; report: "
                         f"{(rep.stderr or rep.stdout)[-300:]}"}
    return {"threads": threads, "kernel": kernel, "symbols": symbols[:40]}


def stop_perf(perf):
    """Stops perf and writes three flat views of the server's CPU (by shared
    object, by thread, by symbol) to perf-report.txt."""
    p, data = perf
    p.send_signal(2)
    p.wait(60)
    sections = []
    for sort in ("dso", "comm,dso", "dso,symbol"):
        out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                              "--sort", sort, "--percent-limit", "0.3", "-g", "none"],
                             capture_output=True, text=True, timeout=300).stdout
        lines = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith("#")]
        sections.append(f"== perf report --sort {sort}\n" + "\n".join(lines[:60]))
    text = "\n\n".join(sections)
    with open(os.path.join(RESULTS, "perf-report.txt"), "w") as f:
        f.write(text + "\n")
    print(text)


def setup_postgres(run):
    envfile = os.environ.get("PERISCOPE_TEST_PG_ENV")
    if not (envfile and os.path.exists(envfile)):
        script = os.path.join(ROOT, "tests", "pg_cluster.sh")
        if not os.path.exists(script):
            return
        cluster = os.path.join(run.tmp, "pg")
        subprocess.run([script, "start", cluster], check=True, timeout=120,
                       stdout=subprocess.DEVNULL)
        run.pg_started = (script, cluster)
        envfile = os.path.join(cluster, "env")
    admin = bl.PostgresCounter(bl.read_env_file(envfile))
    try:  # the postmaster, to count the database's own CPU in the Postgres case
        with open(os.path.join(os.path.dirname(envfile), "data", "postmaster.pid")) as f:
            run.pg_postmaster = int(f.readline())
    except (OSError, ValueError):
        run.pg_postmaster = None
    dbname = "periscope_bench_" + secrets.token_hex(4)
    admin.psql(f"CREATE DATABASE {dbname}")
    run.pg = bl.PostgresCounter(dict(bl.read_env_file(envfile), POSTGRES_DATABASE=dbname))
    run.pg_admin, run.pg_db = admin, dbname


def teardown_postgres(run):
    if run.pg is not None:
        try:
            run.pg_admin.psql(f"DROP DATABASE IF EXISTS {run.pg_db}")
        except Exception as e:  # noqa: BLE001 - cleanup reports and goes on
            print(f"bench: dropping {run.pg_db}: {e}", file=sys.stderr)
    if run.pg_started:
        script, cluster = run.pg_started
        subprocess.run([script, "stop", cluster], timeout=120, stdout=subprocess.DEVNULL)


def run_stages(tmp):
    exe = os.path.join(BUILD, "bench_stages")
    if not os.path.exists(exe):
        return {"error": "bench_stages not built (its modules are not on this branch yet)"}
    env = dict(os.environ, BENCH_QUICK="1" if QUICK else "0")
    args = [f"{s}={os.path.join(tmp, 'templates', f'json-{s}.json')}" for s in ("4k", "50k")]
    out = subprocess.run([exe] + args, env=env, capture_output=True, text=True, timeout=240, cwd=ROOT)
    for line in out.stdout.splitlines():
        if line.startswith("STAGES "):
            return json.loads(line[7:])
    return {"error": f"bench_stages exit {out.returncode}: {(out.stderr or out.stdout)[-400:]}"}


def run_search(run, only):
    """The search cases (bench/search.py) on each backend."""
    results = {}
    for backend in ("sqlite", "postgres"):
        name = "search_" + backend
        if only and name not in only:
            continue
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        try:
            if backend == "postgres" and run.pg is None:
                raise RuntimeError("Postgres unavailable")
            results[backend] = search.run_backend(run, backend, start_periscope, create_project,
                                                  periscope_env, BUILD)
        except Exception as e:  # noqa: BLE001 - the other backend still runs
            results[backend] = {"error": str(e)[:1000]}
    return results


def main():
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    if os.environ.get("BENCH_PROFILE") == "1" and not only:
        only = {"sqlite_commit_4k"}
    started = time.time()
    tmp = tempfile.mkdtemp(prefix="periscope-bench-")
    os.chmod(tmp, 0o711)  # tests/pg_cluster.sh runs Postgres as user postgres under it
    run = Run(tmp)
    out = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
           "machine": report.machine(), "loadavg_at_start": os.getloadavg(), "seconds_per_case": SECONDS, "quick": QUICK,
           "wrk": {"threads": 2, "connections": 64}}
    try:
        make_templates(tmp)
        out["stages"] = run_stages(tmp)
        report.print_stages(out["stages"])
        try:
            setup_postgres(run)
        except Exception as e:  # noqa: BLE001 - the other cases still run
            print(f"bench: Postgres unavailable: {e}", file=sys.stderr)
        for name, overrides in CASES:
            if only and name not in only:
                continue
            spec = dict(BASE, **overrides)
            t0 = time.monotonic()
            print(f"bench: {name} …", file=sys.stderr, flush=True)
            try:
                if "same_as" in spec:
                    res = dict(run.results.get(spec["same_as"], {"error": "not run"}),
                               same_as=spec["same_as"])
                elif spec["server"] == "ceiling":
                    res = run_ceiling(run, spec)
                elif "rate_of" in spec:
                    ref = run.results.get(spec["rate_of"], {}).get("persisted_per_s")
                    if not ref:
                        raise RuntimeError(f"needs a max rate from {spec['rate_of']}")
                    res = run_periscope(run, name, spec, rate=ref / 2)
                else:
                    res = run_periscope(run, name, spec)
            except Exception as e:  # noqa: BLE001 - one failing case must not hide the rest
                res = {"error": str(e)[:1000]}
            res["spec"] = {k: v for k, v in spec.items() if k != "same_as"}
            res["case_wall_s"] = time.monotonic() - t0
            run.results[name] = res
            report.print_case_line(name, res)
        out["search"] = run_search(run, only)
    finally:
        teardown_postgres(run)
        bl.rmtree_quiet(tmp)
    out["cases"] = run.results
    out["total_seconds"] = time.time() - started
    out["loadavg_at_end"] = os.getloadavg()
    out["targets"] = report.targets(run.results)
    os.makedirs(RESULTS, exist_ok=True)
    text = report.table(out)
    if out.get("search"):
        text += "\n\n" + "\n".join(search.report_lines(out["search"]))
    print(text)
    with open(os.path.join(RESULTS, "latest.json"), "w") as f:
        json.dump(out, f, indent=1)
    with open(os.path.join(RESULTS, "latest.txt"), "w") as f:
        f.write(text + "\n")
    print(f"bench: wrote {os.path.join(RESULTS, 'latest.json')} in {out['total_seconds']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
