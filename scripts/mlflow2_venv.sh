#!/usr/bin/env bash
# Creates the virtual environment ./.venv-mlflow2 with the MLflow 2.x client of
# requirements-mlflow2.txt, for the 2.x client suite (tests/mlflow2, run by
# `.venv-mlflow2/bin/python -m pytest tests/mlflow2`).
#
# Idempotent and quick when done: pip runs only when requirements-mlflow2.txt or the interpreter
# changed since the last successful install (recorded in .venv-mlflow2/.requirements.stamp).
# Exits non-zero when the venv cannot be created (no python3-venv, no network on first run).
#
# Environment:
#   CAIRN_PYTHON          interpreter used to create the venv (default: /usr/bin/python3)
#   CAIRN_MLFLOW2_VENV    venv location (default: <repo>/.venv-mlflow2)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CAIRN_MLFLOW2_VENV:-${ROOT}/.venv-mlflow2}"
PYTHON="${CAIRN_PYTHON:-/usr/bin/python3}"
REQUIREMENTS="${ROOT}/requirements-mlflow2.txt"
STAMP="${VENV}/.requirements.stamp"

log() { echo "mlflow2_venv.sh: $*" >&2; }

venv_is_usable() {
  [[ -x "${VENV}/bin/python" ]] && "${VENV}/bin/python" -c 'import sys' >/dev/null 2>&1
}

if ! venv_is_usable; then
  if [[ ! -x "${PYTHON}" ]]; then
    log "Python interpreter not found: ${PYTHON}"
    exit 1
  fi
  log "creating virtual environment ${VENV}"
  rm -rf "${VENV}"
  "${PYTHON}" -m venv "${VENV}"
fi

wanted="$({
  sha256sum "${REQUIREMENTS}" | cut -d' ' -f1
  "${VENV}/bin/python" -c 'import sys; print(sys.version)'
} | sha256sum | cut -d' ' -f1)"
if [[ -f "${STAMP}" && "$(cat "${STAMP}")" == "${wanted}" ]]; then
  exit 0
fi
log "installing Python packages from requirements-mlflow2.txt into ${VENV}"
rm -f "${STAMP}"
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
  "${VENV}/bin/python" -m pip install --quiet -r "${REQUIREMENTS}"
echo "${wanted}" >"${STAMP}"
