"""The search case of `make bench` (issue 19): 100,000 issues seeded by
bench_search_seed (the writer's own batch code), then every form of the
search language timed through the real server's admin API, on SQLite and
on Postgres. Each query runs SEARCH_RUNS times after one warm-up (3 times
when the warm-up took over 10 times the target); the
median and the slowest are reported in ms. The target: every query within
100 ms."""
import os
import re
import statistics
import subprocess
import time
import urllib.parse

import benchlib as bl

SEARCH_ISSUES = int(os.environ.get("BENCH_SEARCH_ISSUES", "100000"))
SEARCH_RUNS = 10
TARGET_MS = 100.0

# (label, query string parameters)
QUERIES = [
    ("default list", {}),
    ("is:unresolved", {"query": "is:unresolved"}),
    ("is:ignored", {"query": "is:ignored"}),
    ("level:warning", {"query": "level:warning", "status": "all"}),
    ("environment:staging", {"query": "environment:staging", "status": "all"}),
    ("release:1.7.0", {"query": "release:1.7.0", "status": "all"}),
    ("tenant:t123 (0.2 %)", {"query": "tenant:t123", "status": "all"}),
    ("tenant:\"t123\" quoted", {"query": "tenant:\"t123\"", "status": "all"}),
    ("!tenant:t123", {"query": "!tenant:t123", "status": "all"}),
    ("has:browser (50 %)", {"query": "has:browser", "status": "all"}),
    ("!has:browser (50 %)", {"query": "!has:browser", "status": "all"}),
    ("has:canary (0.1 %)", {"query": "has:canary", "status": "all"}),
    ("!has:canary (0.1 %)", {"query": "!has:canary", "status": "all"}),
    ("has:tenant (every)", {"query": "has:tenant", "status": "all"}),
    ("!has:tenant (every)", {"query": "!has:tenant", "status": "all"}),
    ("!has:tenant, unresolved", {"query": "!has:tenant"}),
    ("!has:tenant, sort=users", {"query": "!has:tenant", "status": "all", "sort": "users"}),
    ("user.email (0.02 %)", {"query": "user.email:user42@example.com", "status": "all"}),
    ("user.id", {"query": "user.id:u4242", "status": "all"}),
    ("assigned:3", {"query": "assigned:3", "status": "all"}),
    ("assigned:none", {"query": "assigned:none", "status": "all"}),
    ("text in message (0.1 %)", {"query": "token777", "status": "all"}),
    ("text, no match", {"query": "nothing-matches-this", "status": "all"}),
    ("text in title", {"query": "\"item 99999\"", "status": "all"}),
    ("text, sort=users", {"query": "ErrorType7", "status": "all", "sort": "users"}),
    ("combined", {"query": "is:unresolved level:error environment:production tenant:t7 "
                           "ErrorType7"}),
    ("combined, !has:canary", {"query": "is:unresolved level:error !has:canary "
                                        "!tenant:t7"}),
    ("tag, sort=count", {"query": "environment:production", "status": "all", "sort": "count"}),
    ("tag, sort=first_seen", {"query": "release:1.3.0", "status": "all",
                              "sort": "first_seen"}),
    ("sort=users", {"sort": "users"}),
    ("sort=users, all", {"status": "all", "sort": "users"}),
    ("sort=users, page 2", {"page_of": {"sort": "users"}}),
    ("tag, page 2", {"page_of": {"query": "environment:production", "status": "all"}}),
    ("!has:browser, page 2", {"page_of": {"query": "!has:browser", "status": "all",
                                          "sort": "first_seen"}}),
]


def time_query(url, token, params):
    qs = urllib.parse.urlencode(params)
    t0 = time.perf_counter()
    status, body = bl.http("GET", f"{url}?{qs}", token=token, timeout=30)
    ms = (time.perf_counter() - t0) * 1000
    if status != 200:
        raise RuntimeError(f"search {params} answered {status}: {str(body)[:200]}")
    return ms, body


def measure(url, token, cpu_s=None):
    """Each query's median and slowest wall time, and (cpu_s: the server's
    CPU seconds so far) the server's CPU per query, which a loaded machine
    does not inflate the way it does wall time."""
    out = {}
    # One pass over every query first: the server's pooled connections each
    # warm their own caches (Postgres: a backend's catalog and plan caches),
    # which one warm-up per query does not reach past the first connection.
    for label, params in QUERIES:
        if "page_of" not in params:
            time_query(url, token, params)
    for label, params in QUERIES:
        if "page_of" in params:  # the page after the first of that query
            _, first = time_query(url, token, params["page_of"])
            params = dict(params["page_of"], cursor=first["next_cursor"])
        warm_ms, body = time_query(url, token, params)  # warm-up
        cpu0 = cpu_s() if cpu_s else 0.0
        # A query far over the target says so in 3 runs as well as in 10.
        runs = SEARCH_RUNS if warm_ms < 10 * TARGET_MS else 3
        times = [time_query(url, token, params)[0] for _ in range(runs)]
        out[label] = {"median_ms": round(statistics.median(times), 2),
                      "max_ms": round(max(times), 2), "rows": len(body["data"])}
        if cpu_s:
            out[label]["cpu_ms"] = round((cpu_s() - cpu0) * 1000 / runs, 2)
    return out


def run_backend(run, backend, start_periscope, create_project, periscope_env, build):
    """Seeds SEARCH_ISSUES issues on the backend and times every query
    (bench.py's helpers passed in: this module imports nothing of it)."""
    spec = {"backend": backend}
    data_dir = os.path.join(run.tmp, "search-" + backend)
    os.makedirs(data_dir)
    srv = start_periscope(run, spec, data_dir, "commit")
    try:
        project, _ = create_project(run, srv)
    finally:
        srv.stop()
    env = periscope_env(run, spec, data_dir, srv.port, "commit")
    t0 = time.monotonic()
    seed = subprocess.run([os.path.join(build, "bench_search_seed"), str(project),
                           str(SEARCH_ISSUES)], env=env, capture_output=True, text=True,
                          timeout=900)
    if seed.returncode != 0 or not re.search(r"seeded \d+ issues", seed.stdout):
        raise RuntimeError(f"bench_search_seed: {(seed.stderr or seed.stdout)[-500:]}")
    seeded_s = time.monotonic() - t0
    if backend == "postgres":
        # What autovacuum does within a minute or so of a bulk change, now:
        # statistics, and the visibility map that lets index-only scans
        # skip the heap. The plans measured are those of a database in use,
        # not those of whichever moment autovacuum got to the new rows.
        run.pg.psql("VACUUM ANALYZE")
    srv = start_periscope(run, spec, data_dir, "commit")
    try:
        url = f"{srv.url}/api/admin/projects/{project}/issues"
        load = os.getloadavg()[0]
        res = measure(url, run.admin_key, srv.cpu_s)
    finally:
        srv.stop()
    worst = max(q["max_ms"] for q in res.values())
    return {"issues": SEARCH_ISSUES, "seed_s": round(seeded_s, 1), "queries": res,
            "loadavg_1m": round(load, 1),
            "slowest_ms": worst, "within_target": worst <= TARGET_MS}


def report_lines(results):
    """The results as text lines (printed and kept in latest.txt)."""
    lines = []
    for backend, r in results.items():
        if "error" in r:
            lines.append(f"search {backend}: ERROR {r['error'][:300]}")
            continue
        lines.append(f"search over {r['issues']:,} issues, {backend} (seeded in {r['seed_s']} s,"
                     f" load average {r.get('loadavg_1m', '?')} on {os.cpu_count()} cores);"
                     f" median / max of {SEARCH_RUNS} runs (3 when over 1 s), ms;"
                     f" target {TARGET_MS:.0f} ms:")
        for label, q in r["queries"].items():
            lines.append(f"  {label:26s} {q['median_ms']:8.1f} {q['max_ms']:8.1f}"
                         f"  ({q['rows']} rows)")
        lines.append(f"  slowest: {r['slowest_ms']:.1f} ms — "
                     f"{'within' if r['within_target'] else 'OVER'} the target")
    return lines
