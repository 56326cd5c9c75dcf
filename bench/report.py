"""The table, the targets of issue 21, and the machine description for
bench/bench.py."""
import os
import platform

# Issue 21's targets: (case, the figure when the issue was filed, target,
# check(results) -> (met or None, observed text)).
TARGETS = [
    ("sqlite_commit_4k", "8,096/s, 135 µs/event",
     ">= 25,000/s or >= 0.5 ceiling, <= 65 µs/event", lambda r: _commit(r)),
    ("issues_100k vs issues_100", "-53 %", "<= 10 % slower",
     lambda r: _growth(r, "issues_100k", "issues_100")),
    ("issues_1m vs issues_100", "-", "<= 10 % slower",
     lambda r: _growth(r, "issues_1m", "issues_100")),
    ("db_1m vs fresh", "-7 %", "<= 10 % slower",
     lambda r: _growth(r, "db_1m", "sqlite_commit_4k")),
    ("postgres_4k", "8,302/s, Postgres 88 µs/event", ">= 15,000/s, Postgres <= 30 µs/event",
     lambda r: _postgres(r)),
    ("sqlite_50k", "3,220/s", ">= 5,000/s", lambda r: _rate(r, "sqlite_50k", 5_000)),
    ("gzip_4k", "6,348/s", ">= 0.8 x sqlite_commit_4k", lambda r: _ratio(r, "gzip_4k", 0.8)),
    ("node_envelope_4k p99", "117 ms", "<= 30 ms", lambda r: _p99(r, "node_envelope_4k", 30)),
    ("peak RSS, any case", "131 MB", "<= 128 MB", lambda r: _rss(r)),
    ("SYNC=full sqlite_commit_4k", "-", "reported, >= 5,000/s",
     lambda r: _rate(r, "sqlite_sync_full_4k", 5_000)),
]


def _ok(r, name):
    c = r.get(name)
    return c if c and "error" not in c and c.get("persisted_per_s") is not None else None


def _us(c):
    return c["server_cpu_s"] * 1e6 / c["persisted"] if c.get("persisted") else None


def _rate(r, name, want):
    c = _ok(r, name)
    if c is None:
        return None, "not measured"
    return c["persisted_per_s"] >= want, f"{c['persisted_per_s']:,.0f}/s, {_us(c) or 0:.0f} µs/event"


def _commit(r):
    c, ceil = _ok(r, "sqlite_commit_4k"), _ok(r, "ceiling")
    if c is None:
        return None, "not measured"
    rate, us = c["persisted_per_s"], _us(c) or 0
    ratio = rate / ceil["persisted_per_s"] if ceil and ceil["persisted_per_s"] else 0
    met = (rate >= 25_000 or ratio >= 0.5) and us <= 65
    return met, f"{rate:,.0f}/s ({ratio:.2f} ceiling), {us:.0f} µs/event"


def _postgres(r):
    c = _ok(r, "postgres_4k")
    if c is None:
        return None, "not measured"
    pg = c.get("postgres_cpu_s", 0) * 1e6 / c["persisted"] if c.get("persisted") else 0
    return (c["persisted_per_s"] >= 15_000 and pg <= 30,
            f"{c['persisted_per_s']:,.0f}/s, Postgres {pg:.0f} µs/event")


def _ratio(r, name, want):
    a, b = _ok(r, name), _ok(r, "sqlite_commit_4k")
    if a is None or b is None or not b["persisted_per_s"]:
        return None, "not measured"
    x = a["persisted_per_s"] / b["persisted_per_s"]
    return x >= want, f"{a['persisted_per_s']:,.0f}/s = {x:.2f} x"


def _p99(r, name, want):
    c = _ok(r, name)
    if c is None:
        return None, "not measured"
    return c["p99_ms"] <= want, f"{c['p99_ms']:.1f} ms"


def _rss(r):
    vals = [(c["peak_rss_mb"], n) for n, c in r.items()
            if n != "ceiling" and c.get("peak_rss_mb") and "same_as" not in c]
    if not vals:
        return None, "not measured"
    worst, name = max(vals)
    return worst <= 128, f"{worst:.0f} MB ({name})"


def _growth(r, grown, base):
    """Rate of case grown against base; also compares server CPU and bytes
    written per event, the figures least disturbed by a noisy machine."""
    a, b = _ok(r, base), _ok(r, grown)
    if a is None or b is None or not a["persisted_per_s"]:
        return None, "not measured"
    slower = 1 - b["persisted_per_s"] / a["persisted_per_s"]
    extra = ""
    if _us(a) and _us(b):
        extra = f"; server CPU {_us(a):.0f} → {_us(b):.0f} µs/event"
    if a.get("file_write_kb_per_event") and b.get("file_write_kb_per_event"):
        extra += (f"; written {a['file_write_kb_per_event']:.1f} → "
                  f"{b['file_write_kb_per_event']:.1f} KB/event")
    return slower <= 0.10, (f"{b['persisted_per_s']:,.0f}/s vs {a['persisted_per_s']:,.0f}/s "
                            f"({-slower * 100:+.0f} %){extra}")


# The cases whose measurements explain a target that is not met: the case
# itself, then the one it is compared with.
EXPLAIN_CASES = {
    "sqlite_commit_4k": ["sqlite_commit_4k"],
    "issues_100k vs issues_100": ["issues_100k", "sqlite_commit_4k"],
    "issues_1m vs issues_100": ["issues_1m", "sqlite_commit_4k"],
    "db_1m vs fresh": ["db_1m", "sqlite_commit_4k"],
    "postgres_4k": ["postgres_4k"],
    "sqlite_50k": ["sqlite_50k"],
    "gzip_4k": ["gzip_4k", "sqlite_commit_4k"],
    "node_envelope_4k p99": ["node_envelope_4k"],
    "SYNC=full sqlite_commit_4k": ["sqlite_sync_full_4k"],
}


def _top_symbols(c, n=8):
    """The case's hottest symbols (flat perf profile): "thread symbol share"."""
    prof = c.get("profile") or {}
    syms = prof.get("symbols") or []
    text = ", ".join(f"{comm}:{sym} {share:.1f}%" for comm, sym, share in syms[:n])
    if prof.get("kernel"):
        text += "; in the kernel " + ", ".join(f"{k} {v:.0f}%" for k, v in prof["kernel"].items())
    return text


def explain(results, target):
    """Measured reasons a target is not met: for each case behind it, the
    server's CPU per event by thread (against the bare server's per
    request), the share of the cores the server got and what other
    processes took, the writer's transaction size and bytes written, and
    the top of its flat profile when one was taken."""
    lines = []
    ceil = _ok(results, "ceiling")
    ceil_us = (ceil["server_cpu_s"] * 1e6 / ceil["requests"]
               if ceil and ceil.get("requests") and ceil.get("server_cpu_s") else None)
    for name in EXPLAIN_CASES.get(target, []):
        c = _ok(results, name)
        if c is None:
            continue
        dur, cores = c.get("duration_s") or 1, os.cpu_count() or 1
        parts = []
        if c.get("server_us_per_event_by_thread"):
            parts.append("µs/event by thread " + ", ".join(
                f"{k} {v:.0f}" for k, v in c["server_us_per_event_by_thread"].items())
                + (f" (bare HTTP server {ceil_us:.1f} µs/request)" if ceil_us else ""))
        if c.get("postgres_cpu_s") is not None and c.get("persisted"):
            parts.append(f"Postgres {c['postgres_cpu_s'] * 1e6 / c['persisted']:.0f} µs/event")
        parts.append(f"server got {c.get('server_cpu_s', 0) / dur * 100 / cores:.0f}% of the "
                     f"cores, other processes {c.get('other_cpu_s', 0) / dur * 100 / cores:.0f}%")
        if c.get("writer_batch_mean"):
            parts.append(f"{c['writer_batch_mean']:.0f} events per commit")
        if c.get("file_write_kb_per_event"):
            parts.append(f"{c['file_write_kb_per_event']:.1f} KB written/event")
        if c.get("p50_ms") is not None and target.endswith("p99"):
            parts.append(f"p50 {c['p50_ms']:.1f} ms, max {c.get('max_ms', 0):.0f} ms")
        top = _top_symbols(c)
        if top:
            parts.append("profile: " + top)
        lines.append(f"{name}: " + "; ".join(parts))
    return lines


def targets(results):
    out = []
    for name, before, want, check in TARGETS:
        met, seen = check(results)
        row = {"target": name, "before": before, "want": want, "met": met, "observed": seen}
        if met is False:
            row["explanation"] = explain(results, name)
        out.append(row)
    return out


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "kernel": platform.release()}


def print_stages(stages):
    if not stages or "error" in stages:
        print(f"stages: {stages.get('error') if stages else 'none'}")
        return
    print("stage micro-benchmarks (µs per event, one thread)")
    sizes = list(stages.get("sizes", []))
    print(f"  {'stage':40s}" + "".join(f"{s:>10s}" for s in sizes))
    for row in stages.get("stages", []):
        vals = [row["us"].get(s) for s in sizes]
        cells = "".join(f"{v:10.2f}" if v is not None else f"{'failed':>10s}" for v in vals)
        print(f"  {row['name']:40s}{cells}")


def print_case_line(name, res):
    if "error" in res:
        print(f"  {name}: ERROR {res['error'][:300]}", flush=True)
    else:
        print(f"  {name}: {res.get('persisted_per_s', 0):,.0f}/s, non-2xx {res.get('non2xx')},"
              f" p99 {res.get('p99_ms', 0):.1f} ms", flush=True)


def _load(la):
    return " ".join(f"{x:.2f}" for x in la) if la else "-"


def table(out):
    cases = out["cases"]
    ceiling = (cases.get("ceiling") or {}).get("persisted_per_s")
    cores = out["machine"]["cores"] or 1
    head = (f"{'case':18s} {'events/s':>9s} {'×ceil':>6s} {'req/s':>8s} {'non2xx':>7s} "
            f"{'p50 ms':>7s} {'p99 ms':>7s} {'RSS MB':>7s} {'srv CPU':>8s} {'wrk CPU':>8s} {'other':>6s} "
            f"{'srv µs/ev':>9s} {'idle est/s':>10s}")
    lines = [f"Periscope ingest, {out['seconds_per_case']} s per case, wrk -t2 -c64, "
             f"{cores} cores ({out['machine']['cpu']})",
             "load average (1, 5, 15 min) at start " + _load(out.get("loadavg_at_start"))
             + ", at end " + _load(out.get("loadavg_at_end")), head, "-" * len(head)]
    for name, c in cases.items():
        if "error" in c:
            lines.append(f"{name:18s} ERROR: {c['error'][:200]}")
            continue
        dur = c.get("duration_s") or 1
        rate = c.get("persisted_per_s", 0)
        ratio = f"{rate / ceiling:6.2f}" if ceiling else "     -"
        srv = c.get("server_cpu_s", 0)
        events = c.get("persisted", c["requests"] - c["non2xx"])
        per_ev = srv * 1e6 / events if events else 0
        # what the cores would sustain if server and wrk had them to
        # themselves at the CPU cost per event measured here
        busy = srv + c["wrk_cpu_s"] + (c.get("postgres_cpu_s") or 0)
        est = cores * events / busy if events and srv else 0
        lines.append(
            f"{name:18s} {rate:9,.0f} {ratio} {c['wrk_rps']:8,.0f} {c['non2xx']:7d} "
            f"{c['p50_ms']:7.2f} {c['p99_ms']:7.2f} {c.get('peak_rss_mb') or 0:7.0f} "
            f"{srv / dur * 100 / cores:7.0f}% {c['wrk_cpu_s'] / dur * 100 / cores:7.0f}% "
            f"{c.get('other_cpu_s', 0) / dur * 100 / cores:5.0f}% "
            f"{per_ev:9.1f} {est:10,.0f}")
        notes = []
        if c.get("same_as"):
            notes.append(f"same run as {c['same_as']}")
        if c.get("seeded_events") is not None:
            cpu = (f" ({c['seed_cpu_s']:.0f} s of CPU)" if c.get("seed_cpu_s") is not None
                   else "")
            notes.append(f"database seeded with {c['seeded_events']:,} events in "
                         f"{c['seed_seconds']:.0f} s{cpu}")
        if c.get("target_rate"):
            notes.append(f"rate-limited to {c['target_rate']:,.0f} req/s")
        if c.get("drain_s", 0) > 0.3:
            notes.append(f"queue drained {c['drain_s']:.1f} s after wrk")
        if c.get("postgres_cpu_s") is not None and c.get("persisted"):
            notes.append(f"Postgres processes: {c['postgres_cpu_s'] / dur * 100 / cores:.0f}% "
                         f"of the cores, {c['postgres_cpu_s'] * 1e6 / c['persisted']:.0f} "
                         "µs/event (not in srv CPU; not in other)")
        if c.get("new_issues", 0) > 1000:
            notes.append(f"{c['new_issues']:,} issues created during the run "
                         "(each with its alert and outbox rows)")
        if c.get("server_us_per_event_by_thread"):
            notes.append("server µs/event by thread: " + ", ".join(
                f"{k} {v:.0f}" for k, v in c["server_us_per_event_by_thread"].items()))
        if c.get("warm_up"):
            wu = c["warm_up"]
            notes.append(f"warm-up: {wu['issues']:,} issues created first, {wu['per_s']:,} "
                         "first sights/s (grouping, issue, alert and outbox rows each)")
        if c.get("writer_batch_mean"):
            wkb = c.get("file_write_kb_per_event")
            notes.append(f"writer: {c['writer_batch_mean']:.0f} events per transaction on average"
                         + (f", {wkb:.1f} KB written to files per event" if wkb else ""))
        if c.get("status"):
            notes.append("non-2xx: " + ", ".join(f"{k}×{v}" for k, v in c["status"].items()))
        for n in notes:
            lines.append(f"{'':18s}   {n}")
    lines.append("")
    lines.append("events/s: persisted events counted in the database after the queue drained, "
                 "÷ wall time; ×ceil: ratio to the bare libmicrohttpd server's req/s; "
                 "CPU: share of all cores while wrk ran (other: processes outside the "
                 "benchmark — high means a noisy run);\nsrv µs/ev: server CPU per stored "
                 "event; idle est/s: cores ÷ (server + wrk [+ Postgres] CPU per event), the rate an "
                 "otherwise idle machine would allow if CPU is the bound")
    lines.append("")
    lines.append("targets (issue 21): case | when filed | target | now | met")
    for t in out["targets"]:
        mark = {True: "met", False: "NOT met", None: "n/a"}[t["met"]]
        lines.append(f"  {t['target']:27s} | {t['before']:29s} | {t['want']:46s} | "
                     f"{t['observed']} | {mark}")
        for e in t.get("explanation", []):
            lines.append(f"      why: {e}")
    notes = out.get("limits_measured")
    if notes:
        lines.append("")
        lines.append("limits measured outside this run (bench/README.md):")
        lines.extend(f"  - {n}" for n in notes)
    return "\n".join(lines)
