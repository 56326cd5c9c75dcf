#!/usr/bin/env bash
# The format check (ctest test `format`, so part of `make test`): every C
# file of src/, tests/ and bench/ is as clang-format (.clang-format) would
# write it. `make format` rewrites them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mapfile -t files < <(find src tests bench -name '*.[ch]' -type f | sort)
clang-format --dry-run -Werror "${files[@]}"
echo "format: ${#files[@]} files as clang-format writes them"
