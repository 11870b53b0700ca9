#!/usr/bin/env bash
# Clang's thread-safety analysis over Cairn's sources. The builds use GCC, which ignores the
# GUARDED_BY / REQUIRES / EXCLUDES annotations (base/thread_annotations.h), so this compiles every
# non-test source once with clang in syntax-only mode and fails on any thread-safety finding.
#
# A file that passed is remembered by the hash of its preprocessed text (with this checkout's
# path taken out), the flags and clang's version, as ccache does for the builds: unchanged files
# are not analysed again, in this checkout or another one (CI's fresh clone).
# CAIRN_THREAD_SAFETY_CACHE names the cache folder (default ~/.cache/cairn-thread-safety; empty
# string: no cache).
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

FLAGS=(-std=c++20 -Isrc
  -isystem "${ROOT}/.deps/onnxruntime/include/onnxruntime"
  -isystem "$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)"
  -DBOOST_ASIO_NO_DEPRECATED -DCAIRN_VERSION='"check"' -Wthread-safety -Werror=thread-safety)
CACHE="${CAIRN_THREAD_SAFETY_CACHE-${XDG_CACHE_HOME:-${HOME}/.cache}/cairn-thread-safety}"
[[ -n "${CACHE}" ]] && mkdir -p "${CACHE}"
SALT="$("${CLANGXX}" --version | head -1) ${FLAGS[*]//${ROOT}/@ROOT@}"
export CLANGXX CACHE SALT ROOT

# check_one FILE [FLAGS...]: analyses FILE unless a pass of the same text is cached.
check_one() {
  local file="$1"
  shift
  local key=""
  set -o pipefail
  # A file that does not preprocess is analysed (and fails) below, never looked up.
  if [[ -n "${CACHE}" ]] && key="$({
    echo "${SALT}"
    "${CLANGXX}" -E -P "$@" "${file}" 2>/dev/null | sed "s|${ROOT}|@ROOT@|g"
  } | sha256sum | cut -c1-64)"; then
    [[ -e "${CACHE}/${key}" ]] && return 0
  else
    key=""
  fi
  "${CLANGXX}" -fsyntax-only "$@" "${file}" || return 1
  if [[ -n "${key}" ]]; then touch "${CACHE}/${key}"; fi
}
export -f check_one

printf '%s\0' "${files[@]}" |
  xargs -0 -P "$(nproc)" -I{} bash -c 'check_one "$@"' _ {} "${FLAGS[@]}"
echo "thread_safety.sh: ${#files[@]} files pass clang's -Wthread-safety"
