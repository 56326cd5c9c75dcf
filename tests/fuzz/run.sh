#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for FUZZ_SECONDS (default 60)
# with a seed corpus made now from the recorded SDK requests
# (tests/fixtures/sdk). Prints executions
# and crashes per target; exits non-zero when any target crashed.
set -euo pipefail

build_dir=${1:?usage: tests/fuzz/run.sh BUILD_DIR}
seconds=${FUZZ_SECONDS:-60}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
fixtures=$src/tests/fixtures/sdk
work=$(mktemp -d "${TMPDIR:-/tmp}/periscope-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! ls "$fixtures"/*.meta.json >/dev/null 2>&1; then
  echo "fuzz: no recorded requests in $fixtures"; exit 2
fi

python3 - "$fixtures" "$work" <<'PY'
import base64, glob, gzip, json, os, sys, zlib
fixtures, work = sys.argv[1], sys.argv[2]
for t in ("envelope", "auth", "decompress", "scrub"):
    os.makedirs(os.path.join(work, t), exist_ok=True)
def put(target, name, data):
    with open(os.path.join(work, target, name), "wb") as f:
        f.write(data)
# encodings as fuzz_decompress numbers them: identity 0, gzip 1, deflate 2, br 3, zstd 4, raven 5
for meta_path in sorted(glob.glob(os.path.join(fixtures, "*.meta.json"))):
    name = os.path.basename(meta_path)[: -len(".meta.json")]
    meta = json.load(open(meta_path))
    body = open(meta_path[: -len(".meta.json")] + ".body", "rb").read()
    headers = {k.lower(): v for k, v in meta.get("headers", {}).items()}
    plain = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
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
    for h in ("x-sentry-auth", "authorization"):
        if h in headers:
            put("auth", name + "." + h, headers[h].encode())
    put("auth", name + ".path", meta["path"].encode())
    put("auth", name + ".dsn", b"http://0123456789abcdef0123456789abcdef@127.0.0.1:8000/42")
PY
if command -v zstd >/dev/null; then
  for f in "$work"/envelope/*; do
    { printf '\004\007'; zstd -q -c "$f"; } > "$work/decompress/$(basename "$f").zstd"
  done
fi

status=0
for target in envelope auth decompress scrub; do
  bin="$build_dir/fuzz_$target"
  [ -x "$bin" ] || { echo "fuzz: $bin missing (build with PERISCOPE_FUZZ=ON and clang)"; exit 2; }
  mkdir -p "$work/$target.crashes"
  log="$work/$target.log"
  rc=0
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/$target.crashes/" "$work/$target" >"$log" 2>&1 || rc=$?
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
  crashes=$(find "$work/$target.crashes" -type f | wc -l)
  echo "fuzz_$target: ${execs} executions in ${seconds}s, ${crashes} crashes (exit $rc)"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    status=1
    mkdir -p "$build_dir/fuzz-crashes/$target"
    cp "$work/$target.crashes/"* "$build_dir/fuzz-crashes/$target/" 2>/dev/null || true
    tail -40 "$log"
  fi
done
exit $status
