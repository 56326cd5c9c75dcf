#!/usr/bin/env bash
# `make bench`: end-to-end ingest benchmark against the HTTP ceiling.
# The work is in bench/bench.py (see its docstring for the BENCH_* knobs);
# this wrapper checks the tools and the build it needs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
for tool in wrk python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 2; }
done
if [ ! -x "$build/bench_ceiling" ]; then
  echo "bench: $build/bench_ceiling is missing; run make bench (it builds the bench programs)" >&2
  exit 2
fi
if [ "${BENCH_PROFILE:-}" = 1 ] && ! command -v perf >/dev/null; then
  echo "bench: BENCH_PROFILE=1 needs perf (apt-get install linux-perf)" >&2
  exit 2
fi
export BUILD_DIR="$build"
exec python3 "$root/bench/bench.py" "$@"
