#!/usr/bin/env bash
# Cairn's two everyday commands.
#
#   ./dev.sh start [server options]   install prerequisites, build (release), run the server
#                                      (default: 127.0.0.1:5000, data in ./cairn-data)
#   ./dev.sh test [pytest options]    install prerequisites, build (release), start the test
#                                      engines (PostgreSQL, S3, Kafka, Redis), run the unit tests
#                                      (ctest), the integration tests (pytest tests/), the MLflow
#                                      client flows again on PostgreSQL metadata, and the MLflow
#                                      2.x client tests (tests/mlflow2, own venv)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "${ROOT}"

PRESET=release
BIN="${ROOT}/build/${PRESET}/cairn"
VENV="${CAIRN_VENV:-${ROOT}/.venv}"
MLFLOW2_VENV="${CAIRN_MLFLOW2_VENV:-${ROOT}/.venv-mlflow2}"

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# has_option NAME ARGS...: true when ARGS contain "NAME" or "NAME=...".
has_option() {
  local name="$1"
  shift
  local arg
  for arg in "$@"; do
    if [[ "${arg}" == "${name}" || "${arg}" == "${name}="* ]]; then
      return 0
    fi
  done
  return 1
}

prepare() {
  "${ROOT}/scripts/install.sh"
  "${ROOT}/scripts/build.sh" "${PRESET}"
}

cmd_start() {
  prepare
  local -a args=(server)
  has_option --host "$@" || args+=(--host 127.0.0.1)
  has_option --port "$@" || args+=(--port 5000)
  has_option --data-dir "$@" || args+=(--data-dir ./cairn-data)
  # Python model workers run the project's interpreter, which has mlflow installed.
  export CAIRN_PYTHON="${CAIRN_PYTHON:-${VENV}/bin/python}"
  exec "${BIN}" "${args[@]}" "$@"
}

cmd_test() {
  prepare
  local failed=0

  # The engines of the scale-out tests (PostgreSQL, Redis, Kafka, S3), once for the whole run.
  echo "== starting test engines (scripts/test_services.sh)"
  SERVICES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/cairn-services.XXXXXX")"
  trap '"${ROOT}/scripts/test_services.sh" stop "${SERVICES_DIR}" >/dev/null 2>&1 || true;
        rm -rf "${SERVICES_DIR}"' EXIT
  local line
  while IFS= read -r line; do
    [[ "${line}" == *=* ]] || continue
    export "${line?}"
    echo "   ${line%%=*}"
  done < <("${ROOT}/scripts/test_services.sh" start "${SERVICES_DIR}" || echo "__FAILED__=1")
  if [[ -n "${__FAILED__:-}" ]]; then
    local logs="${TMPDIR:-/tmp}/cairn-services-failed-$$"
    cp -r "${SERVICES_DIR}" "${logs}" 2>/dev/null || true
    echo "dev.sh test: a test engine did not start (logs kept under ${logs})" >&2
    find "${logs}" -name '*.log' -size -64k -exec tail -n 20 {} + >&2 2>/dev/null || true
    return 1
  fi
  export CAIRN_REQUIRE_SERVICES=1

  echo "== unit tests (ctest, preset ${PRESET})"
  ctest --preset "${PRESET}" --output-on-failure --no-tests=error -j2 || failed=1

  echo "== integration tests (pytest tests/)"
  # Any non-zero pytest exit counts, including 5 (no tests collected).
  CAIRN_BIN="${CAIRN_BIN:-${BIN}}" "${VENV}/bin/python" -m pytest "${ROOT}/tests" \
    -p no:cacheprovider --timeout=300 -rfEs "$@" || failed=1

  # The MLflow client flows again with every test server's metadata in PostgreSQL (the same
  # suites; tests/server_process.py gives each data dir a schema of its own).
  echo "== MLflow client flows on PostgreSQL metadata (CAIRN_TEST_METADATA=postgres)"
  CAIRN_TEST_METADATA=postgres CAIRN_BIN="${CAIRN_BIN:-${BIN}}" "${VENV}/bin/python" -m pytest \
    "${ROOT}/tests/test_mlflow_client.py" "${ROOT}/tests/test_registry_client.py" \
    "${ROOT}/tests/test_mlflow_parity.py" "${ROOT}/tests/test_traces.py" \
    "${ROOT}/tests/test_trace_spans.py" "${ROOT}/tests/test_assessments.py" \
    "${ROOT}/tests/test_eval_datasets.py" "${ROOT}/tests/test_scorers_issues.py" \
    "${ROOT}/tests/test_registry_http.py" "${ROOT}/tests/test_graphql.py" \
    "${ROOT}/tests/test_v1_api.py" "${ROOT}/tests/test_security.py" \
    "${ROOT}/tests/test_webhooks.py" -p no:cacheprovider --timeout=300 -q -rfEs "$@" || failed=1

  echo "== MLflow 2.x client tests (pytest tests/mlflow2, ${MLFLOW2_VENV})"
  if "${ROOT}/scripts/mlflow2_venv.sh"; then
    CAIRN_BIN="${CAIRN_BIN:-${BIN}}" CAIRN_VENV="${VENV}" "${MLFLOW2_VENV}/bin/python" -m pytest \
      "${ROOT}/tests/mlflow2" -p no:cacheprovider --timeout=300 -rfEs || failed=1
  else
    echo "skipped: scripts/mlflow2_venv.sh could not create ${MLFLOW2_VENV}" >&2
  fi

  if ((failed)); then
    echo "dev.sh test: FAILED" >&2
    return 1
  fi
  echo "dev.sh test: all tests passed"
}

case "${1:-}" in
  start)
    shift
    cmd_start "$@"
    ;;
  test)
    shift
    cmd_test "$@"
    ;;
  *)
    usage
    ;;
esac
