#!/usr/bin/env bash
# Clang's thread-safety analysis over Cairn's sources. The builds use GCC, which ignores the
# GUARDED_BY / REQUIRES / EXCLUDES annotations (base/thread_annotations.h), so this compiles every
# non-test source once with clang in syntax-only mode and fails on any thread-safety finding.
#
# Usage: scripts/thread_safety.sh [files...]   (default: every src/**/*.cc that is not a test)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

CLANGXX="${CLANGXX:-$(command -v clang++-14 || command -v clang++ || true)}"
if [[ -z "${CLANGXX}" ]]; then
  echo "thread_safety.sh: clang++ not found (scripts/install.sh installs it)" >&2
  exit 1
fi

if (($#)); then
  files=("$@")
else
  mapfile -t files < <(find src -name '*.cc' ! -name '*_test.cc' | sort)
fi

printf '%s\0' "${files[@]}" |
  xargs -0 -P "$(nproc)" -n 4 "${CLANGXX}" -std=c++20 -fsyntax-only -Isrc \
    -isystem "${ROOT}/.deps/onnxruntime/include/onnxruntime" \
    -isystem "$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)" \
    -DBOOST_ASIO_NO_DEPRECATED -DCAIRN_VERSION='"check"' -Wthread-safety -Werror=thread-safety
echo "thread_safety.sh: ${#files[@]} files pass clang's -Wthread-safety"
