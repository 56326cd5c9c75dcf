#!/usr/bin/env bash
# Runs the libFuzzer targets in BUILD_DIR (every fuzz_* there, or those
# named in FUZZ_TARGETS) for FUZZ_SECONDS each (default 60), FUZZ_JOBS at a
# time (default 1), with a seed corpus made now from the events in
# spec/fixtures and the recorded SDK requests (tests/fixtures/sdk). Prints
# executions and crashes per target; exits non-zero when any target
# crashed (the crashing inputs are kept in BUILD_DIR/fuzz-crashes/).
set -euo pipefail

build_dir=${1:?usage: tests/fuzz/run.sh BUILD_DIR}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
fixtures=$src/tests/fixtures/sdk
work=$(mktemp -d "${TMPDIR:-/tmp}/periscope-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
targets=${FUZZ_TARGETS:-$(cd "$build_dir" && ls fuzz_* 2>/dev/null | grep -v '\.' | sed 's/^fuzz_//' | tr '\n' ' ')}
[ -n "$targets" ] || { echo "fuzz: no fuzz_* targets in $build_dir (build with PERISCOPE_FUZZ=ON and clang)"; exit 2; }

python3 - "$src" "$fixtures" "$work" <<'PY'
import base64, glob, gzip, json, os, sys, zlib
src, fixtures, work = sys.argv[1], sys.argv[2], sys.argv[3]
for t in ("envelope", "auth", "decompress", "scrub", "event_table", "grouping"):
    os.makedirs(os.path.join(work, t), exist_ok=True)
def put(target, name, data):
    with open(os.path.join(work, target, name), "wb") as f:
        f.write(data)
# encodings as fuzz_decompress numbers them: identity 0, gzip 1, deflate 2, br 3, zstd 4, raven 5
def bodies(name, plain):
    put("envelope", name, plain)
    for i, line in enumerate(plain.split(b"\n")):  # the event JSON of each item
        if line.startswith(b"{"):
            put("scrub", "%s.%d" % (name, i), line)
    put("decompress", name + ".identity", b"\x00\x07" + plain)
    put("decompress", name + ".gzip", b"\x01\x07" + gzip.compress(plain))
    put("decompress", name + ".zlib", b"\x02\x07" + zlib.compress(plain))
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    put("decompress", name + ".raw", b"\x02\x03" + raw.compress(plain) + raw.flush())
    put("decompress", name + ".raven", b"\x05\x00" + base64.b64encode(zlib.compress(plain)))
# The events in the repository: SDK events and Sentry's grouping inputs.
events = [(os.path.basename(p), json.load(open(p))) for p in sorted(glob.glob(os.path.join(src, "spec/fixtures/*.json")))]
for p in sorted(glob.glob(os.path.join(src, "spec/fixtures/sentry/*.json"))):
    doc = json.load(open(p))
    if isinstance(doc, dict) and isinstance(doc.get("event"), dict):
        events.append(("sentry-" + os.path.basename(p), doc["event"]))
for name, ev in events:
    text = json.dumps(ev).encode()
    put("event_table", name, text)
    put("grouping", name, text)
    put("scrub", name, text)
    item = json.dumps({"type": "event", "length": len(text)}).encode()
    bodies(name, b'{"event_id":"0123456789abcdef0123456789abcdef"}\n' + item + b"\n" + text + b"\n")
key = "0123456789abcdef0123456789abcdef"
put("auth", "header", ("Sentry sentry_key=%s, sentry_version=7, sentry_client=e2e/1.0" % key).encode())
put("auth", "bearer", ("DSN http://%s@127.0.0.1:8000/42" % key).encode())
put("auth", "path", ("/api/42/envelope/?sentry_key=%s&sentry_version=7" % key).encode())
put("auth", "dsn", ("http://%s@127.0.0.1:8000/42" % key).encode())
# The recorded SDK requests.
for meta_path in sorted(glob.glob(os.path.join(fixtures, "*.meta.json"))):
    name = os.path.basename(meta_path)[: -len(".meta.json")]
    meta = json.load(open(meta_path))
    body = open(meta_path[: -len(".meta.json")] + ".body", "rb").read()
    headers = {k.lower(): v for k, v in meta.get("headers", {}).items()}
    plain = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
    bodies(name, plain)
    for h in ("x-sentry-auth", "authorization"):
        if h in headers:
            put("auth", name + "." + h, headers[h].encode())
    put("auth", name + ".path", meta["path"].encode())
PY
# Inputs that once failed a target (tests/fuzz/regressions/<target>/) seed
# it too: every run replays them first.
for dir in "$here"/regressions/*/; do
  [ -d "$dir" ] && cp "$dir"* "$work/$(basename "$dir")/"
done
if command -v zstd >/dev/null; then
  for f in "$work"/envelope/*; do
    { printf '\004\007'; zstd -q -c "$f"; } > "$work/decompress/$(basename "$f").zstd"
  done
fi

# One target: its run, its verdict line, its crashes kept. Exit status 0/1.
run_target() {
  local target=$1 bin="$build_dir/fuzz_$1" rc=0
  [ -x "$bin" ] || { echo "fuzz: $bin missing (build with PERISCOPE_FUZZ=ON and clang)"; return 1; }
  mkdir -p "$work/$target.crashes"
  local log="$work/$target.log"
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/$target.crashes/" "$work/$target" >"$log" 2>&1 || rc=$?
  local execs crashes
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
  crashes=$(find "$work/$target.crashes" -type f | wc -l)
  echo "fuzz_$target: ${execs} executions in ${seconds}s, ${crashes} crashes (exit $rc)"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    mkdir -p "$build_dir/fuzz-crashes/$target"
    cp "$work/$target.crashes/"* "$build_dir/fuzz-crashes/$target/" 2>/dev/null || true
    tail -40 "$log"
    return 1
  fi
}

status=0
pids=()
for target in $targets; do
  run_target "$target" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]+"${pids[@]}"}"; do
  wait "$pid" || status=1
done
exit $status
