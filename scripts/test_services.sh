#!/usr/bin/env bash
# Starts and stops the engines the scale-out tests run against (PostgreSQL, Redis, Kafka, an
# S3-compatible server), each on a free loopback port with its data under one state folder.
#
#   scripts/test_services.sh start DIR   starts every engine; prints KEY=VALUE lines, one per
#                                        variable the tests read (CAIRN_TEST_<ENGINE>_URI, ...)
#   scripts/test_services.sh stop DIR    stops every engine started under DIR
#
# Each engine is one script scripts/services/<engine>.sh taking the same two commands:
# `start DIR` starts it with its data under DIR/<engine>, waits until it answers, and prints its
# KEY=VALUE lines on stdout (logs go to DIR/<engine>/*.log, never to stdout); `stop DIR` stops
# it and returns 0 when it was not running. ./dev.sh test starts them once per test run and
# stops them on exit; tests that need an engine read its variable and skip without it, unless
# CAIRN_REQUIRE_SERVICES=1 (set by ./dev.sh test), which turns the skip into a failure.
# CAIRN_SERVICES="postgres redis" limits both commands to those engines (default: all).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd="${1:-}"
dir="${2:-}"
if [[ -z "${dir}" || ("${cmd}" != start && "${cmd}" != stop) ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
mkdir -p "${dir}"
shopt -s nullglob
scripts=("${ROOT}"/scripts/services/*.sh)
if [[ -n "${CAIRN_SERVICES:-}" ]]; then
  scripts=()
  for name in ${CAIRN_SERVICES}; do scripts+=("${ROOT}/scripts/services/${name}.sh"); done
fi
if [[ "${cmd}" == start ]]; then
  for script in "${scripts[@]}"; do
    # One retry: on a loaded machine an engine may miss its start-up deadline once.
    if ! "${script}" start "${dir}" &&
      ! { "${script}" stop "${dir}" >/dev/null 2>&1; mv "${dir}/$(basename "${script}" .sh)" \
          "${dir}/$(basename "${script}" .sh).failed-$$" 2>/dev/null; "${script}" start "${dir}"; }; then
      echo "test_services.sh: $(basename "${script}") did not start; see ${dir}" >&2
      for started in "${scripts[@]}"; do "${started}" stop "${dir}" >/dev/null 2>&1 || true; done
      exit 1
    fi
  done
else
  rc=0
  for script in "${scripts[@]}"; do "${script}" stop "${dir}" || rc=1; done
  exit "${rc}"
fi
