#!/usr/bin/env python3
"""The layering check: every #include "..." under src/ must point down.

src/ is split into folders, one layer each (docs/architecture.md):

    rank 0  base/      logging, metrics, config, queues, small utilities
    rank 1  model/     the event and its normalisation, tags, scrubbing
            accounts/  passwords, secrets, roles and authorization, login throttle
    rank 2  grouping/  fingerprints and grouping rules
    rank 3  store/     SQL (SQLite and Postgres), nothing else has any
    rank 4  ingest/    envelope, decompression, auth, quota
            lua/       the Lua vm, sandbox, scripts, registry
    rank 5  pipeline/  workers, writer
            notify/    alert delivery
    rank 6  scripts/   script lifecycle: ops, listener, dry run, checks
    rank 7  http/      the HTTP daemon, router, ingest and admin adapters
    rank 8  app/       main, the application context, retention

The rule: a file may include a header of its own folder or of a folder with a
lower rank. Upward includes and sideways ones (another folder of the same
rank) are forbidden. Includes are written relative to src/ ("base/log.h").

The C unit tests mirror the folders (tests/<layer>/test_*.c) and follow the
same rule: a test includes headers of its own folder or lower ones,
directly or through a shared helper in tests/ (support.h reaches store/).

Usage: layers.py [--src DIR] [--tests DIR]
                                   check; exit 1 naming each forbidden edge
       layers.py --cycles [--src DIR]  print the folders that include each
                                   other in a cycle (files at the top of src/
                                   count as one folder, "(top)")
"""
import argparse
import os
import re
import sys

RANK = {
    "base": 0, "model": 1, "accounts": 1, "grouping": 2, "store": 3,
    "ingest": 4, "lua": 4, "pipeline": 5, "notify": 5,
    "scripts": 6, "http": 7, "app": 8,
}

# Edges the rule forbids that the code may still have: (including file,
# included header), and (folder, included header). Issue 16 removed the
# last of them; nothing may be added.
ALLOWED = set()
ALLOWED_FOLDER = set()

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(rel):
    return rel.split("/", 1)[0] if "/" in rel else "(top)"


def sources(src):
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                path = os.path.join(dirpath, f)
                yield os.path.relpath(path, src).replace(os.sep, "/"), path


def includes(src):
    """(file, line number, included path relative to src/ or None)."""
    for rel, path in sources(src):
        with open(path, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                name = m.group(1)
                here = os.path.dirname(rel)
                target = None
                for cand in (os.path.join(here, name), name):
                    cand = os.path.normpath(cand).replace(os.sep, "/")
                    if os.path.exists(os.path.join(src, cand)):
                        target = cand
                        break
                yield rel, n, name, target


def check(src):
    errors = []
    for rel, n, name, target in includes(src):
        where = f"src/{rel}:{n}"
        if target is None:
            errors.append(f'{where}: #include "{name}" names no file under src/')
            continue
        if name != target:
            errors.append(f'{where}: #include "{name}" must be written relative to src/ as "{target}"')
        a, b = folder_of(rel), folder_of(target)
        if a not in RANK or b not in RANK:
            errors.append(f"{where}: {rel} or {target} is in no layer folder ({', '.join(RANK)})")
            continue
        if a == b or RANK[b] < RANK[a]:
            continue
        if (rel, target) in ALLOWED or (a, target) in ALLOWED_FOLDER:
            continue
        kind = "upward" if RANK[b] > RANK[a] else "sideways"
        errors.append(f"{where}: forbidden {kind} include {a}/ -> {b}/ "
                      f'("{target}"; {a} has rank {RANK[a]}, {b} rank {RANK[b]})')
    stale = [e for e in ALLOWED if not any((r, t) == e for r, _, _, t in includes(src))]
    for rel, target in sorted(stale):
        errors.append(f"scripts/layers.py: allow-list entry ({rel}, {target}) is no longer used: remove it")
    return errors


def reached(src, tests, path, seen=None):
    """The src/ folders a tests/ file includes, directly or through the
    helper headers in tests/ it includes: {folder: first include naming it}."""
    seen = set() if seen is None else seen
    out = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = INCLUDE.match(line)
            if not m:
                continue
            name = m.group(1)
            if os.path.exists(os.path.join(src, name)):
                out.setdefault(folder_of(name), name)
            elif os.path.exists(os.path.join(tests, name)) and name not in seen:
                seen.add(name)
                for folder, via in reached(src, tests, os.path.join(tests, name), seen).items():
                    out.setdefault(folder, f"{name} -> {via}")
    return out


def check_tests(src, tests):
    errors = []
    for dirpath, _, files in os.walk(tests):
        for f in sorted(files):
            if not (f.startswith("test_") and f.endswith(".c")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, tests).replace(os.sep, "/")
            layer = folder_of(rel)
            if layer not in RANK:
                continue  # tests/e2e, tests/fuzz…: not unit tests of one layer
            for folder, via in sorted(reached(src, tests, path).items()):
                if folder not in RANK or folder == layer or RANK[folder] < RANK[layer]:
                    continue
                kind = "upward" if RANK[folder] > RANK[layer] else "sideways"
                errors.append(f"tests/{rel}: {kind} include {layer}/ -> {folder}/ ({via}): "
                              f"move the test to tests/{folder}/ or include less")
    return errors


def cycles(src, skip_allowed=False):
    graph = {}
    for rel, _, _, target in includes(src):
        if target is None:
            continue
        a, b = folder_of(rel), folder_of(target)
        if skip_allowed and ((rel, target) in ALLOWED or (a, target) in ALLOWED_FOLDER):
            continue
        graph.setdefault(a, set())
        graph.setdefault(b, set())
        if a != b:
            graph[a].add(b)
    # Tarjan's strongly connected components
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    ap.add_argument("--tests", help="also check the unit tests in tests/<layer>/")
    ap.add_argument("--cycles", action="store_true")
    args = ap.parse_args()
    src = os.path.normpath(args.src)
    if args.cycles:
        for label, skip in (("", False), (" without the allow-listed edges", True)):
            comps = cycles(src, skip)
            for c in comps:
                print("cycle: " + " <-> ".join(c))
            print(f"{len(comps)} include cycle(s) between folders{label}, "
                  f"{sum(len(c) for c in comps)} folder(s) in them")
        return 0
    errors = check(src)
    if args.tests:
        errors += check_tests(src, os.path.normpath(args.tests))
    for e in errors:
        print(e)
    if errors:
        print(f"layers: {len(errors)} forbidden include(s) (rule: scripts/layers.py, docs/architecture.md)")
        return 1
    print("layers: every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
