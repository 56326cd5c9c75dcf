#!/usr/bin/env bash
# Installs the Debian packages Periscope builds, runs and tests with, and the
# pinned @sentry/node used by the end-to-end tests (--test). Only calls
# apt-get for what is missing, so a machine that has everything does no
# network I/O; and once everything was found, a stamp keyed on the package
# list ($BUILD_DIR/.deps.stamp) skips even the package queries until the list
# changes (`make clean` or deleting the stamp checks again).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang clang-format
  liblua5.4-dev lua5.4 lua-cjson lua-busted
  libmicrohttpd-dev libpq-dev postgresql libsqlite3-dev sqlite3
  zlib1g-dev libbrotli-dev libzstd-dev libcurl4-openssl-dev libssl-dev
  libcjson-dev libcmocka-dev libxxhash-dev libjemalloc-dev libsodium-dev
  python3 python3-sentry-sdk python3-aiosmtpd python3-prometheus-client
  nodejs npm wrk curl jq ca-certificates
  chromium fonts-liberation
)
SENTRY_NODE_VERSION=11.12.0

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-build}
[[ $build_dir == /* ]] || build_dir="$root/$build_dir"
stamp="$build_dir/.deps.stamp"
key=$(printf '%s\n' "${PACKAGES[@]}" | sha256sum | cut -c1-16)
node_dir="${PERISCOPE_NODE_DIR:-$root/build/node}"
node_sdk="$node_dir/node_modules/@sentry/node/package.json"
# The browser tests' npm packages (tests/browser/package-lock.json, pinned),
# installed with `npm ci` beside the SDK; reinstalled when the lock changes.
browser_dir="${PERISCOPE_BROWSER_NODE_DIR:-$root/build/browser-node}"
browser_lock="$root/tests/browser/package-lock.json"
browser_ok() { cmp -s "$browser_lock" "$browser_dir/package-lock.json" && [ -d "$browser_dir/node_modules/puppeteer-core" ]; }
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] &&
   { [ "${1:-}" != "--test" ] || { [ -f "$node_sdk" ] && browser_ok; }; }; then
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from elsewhere on a developer machine; a working `node`
# and `npm` on PATH is enough.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The real Node SDK for end-to-end tests, pinned, kept out of the source tree.
if [ "${1:-}" = "--test" ] && [ ! -f "$node_sdk" ]; then
  mkdir -p "$node_dir"
  echo "deps: installing @sentry/node@$SENTRY_NODE_VERSION into $node_dir"
  (cd "$node_dir" && npm install --no-audit --no-fund --silent "@sentry/node@$SENTRY_NODE_VERSION" >/dev/null)
fi

# puppeteer-core drives the Debian chromium: no browser is downloaded.
if [ "${1:-}" = "--test" ] && ! browser_ok; then
  mkdir -p "$browser_dir"
  cp "$root/tests/browser/package.json" "$browser_lock" "$browser_dir/"
  echo "deps: installing the browser tests' npm packages into $browser_dir"
  (cd "$browser_dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --silent >/dev/null)
fi

mkdir -p "$build_dir"
echo "$key" > "$stamp"
