#!/usr/bin/env bash
# Installs everything Cairn needs to build and test on Debian bookworm, then creates the Python
# virtual environment ./.venv with the pinned packages of requirements-dev.txt, and
# ./.venv-mlflow2 with the MLflow 2.x client of requirements-mlflow2.txt
# (scripts/mlflow2_venv.sh, same stamp scheme, for tests/mlflow2).
#
# Idempotent and quick when nothing is missing: Debian packages are checked with one dpkg-query
# call (apt-get runs only for missing ones), and pip runs only when requirements-dev.txt, the
# Python client's clients/python/pyproject.toml (installed editable from requirements-dev.txt) or
# the interpreter changed since the last successful install (recorded in
# .venv/.requirements.stamp).
#
# Environment:
#   CAIRN_PYTHON   interpreter used to create the venv (default: /usr/bin/python3)
#   CAIRN_VENV     venv location (default: <repo>/.venv)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CAIRN_VENV:-${ROOT}/.venv}"
PYTHON="${CAIRN_PYTHON:-/usr/bin/python3}"
REQUIREMENTS="${ROOT}/requirements-dev.txt"
# Local packages that requirements-dev.txt installs editable: their code is used in place, but a
# change to their metadata (dependencies, entry points) needs a reinstall.
LOCAL_PACKAGE_FILES=("${ROOT}/clients/python/pyproject.toml")
STAMP="${VENV}/.requirements.stamp"

log() { echo "install.sh: $*" >&2; }

APT_PACKAGES=(
  # Build tools.
  cmake ninja-build g++ ccache clang clang-format clang-tidy pkg-config
  # Libraries.
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libssl-dev libsimdjson-dev
  # Scale-out backends: PostgreSQL metadata (libpq), S3 artifacts (libcurl with SigV4), Kafka
  # event stream (librdkafka), Redis limits and notifications (hiredis).
  libpq-dev libcurl4-openssl-dev librdkafka-dev libhiredis-dev
  # The engines themselves, started on loopback by the tests (Kafka runs from Maven jars).
  postgresql redis-server maven
  # Python for the integration tests.
  python3 python3-venv
  # Java for the Spark ML integration test (pyspark 3.5 runs on Java 17).
  openjdk-17-jre-headless
  # Load generator of the serving benchmark (bench/serving_bench.py).
  wrk
  # Browser of the web UI test (tests/test_web_ui.py, driven by Playwright).
  chromium
)

missing_apt_packages() {
  # dpkg-query exits non-zero when it knows nothing about a package; that only means "missing".
  local installed
  installed="$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${APT_PACKAGES[@]}" \
    2>/dev/null || true)"
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    if ! grep -qx "${pkg} installed" <<<"${installed}"; then
      echo "${pkg}"
    fi
  done
}

install_apt_packages() {
  local -a missing
  mapfile -t missing < <(missing_apt_packages)
  if ((${#missing[@]} == 0)); then
    return
  fi
  log "installing Debian packages: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
    "${missing[@]}"
  mapfile -t missing < <(missing_apt_packages)
  if ((${#missing[@]} != 0)); then
    log "still missing after apt-get install: ${missing[*]}"
    exit 1
  fi
}

venv_is_usable() {
  [[ -x "${VENV}/bin/python" ]] && "${VENV}/bin/python" -c 'import sys' >/dev/null 2>&1
}

install_python_packages() {
  if [[ ! -x "${PYTHON}" ]]; then
    log "Python interpreter not found: ${PYTHON}"
    exit 1
  fi
  if ! venv_is_usable; then
    log "creating virtual environment ${VENV}"
    rm -rf "${VENV}"
    "${PYTHON}" -m venv "${VENV}"
  fi
  # The stamp covers the requirements, the local packages' metadata and the interpreter the
  # venv runs on.
  local wanted
  wanted="$({
    sha256sum "${REQUIREMENTS}" "${LOCAL_PACKAGE_FILES[@]}" | cut -d' ' -f1
    "${VENV}/bin/python" -c 'import sys; print(sys.version)'
    echo "${ROOT}" # the editable installs point into this checkout
  } | sha256sum | cut -d' ' -f1)"
  if [[ -f "${STAMP}" && "$(cat "${STAMP}")" == "${wanted}" ]]; then
    return
  fi
  log "installing Python packages from requirements-dev.txt into ${VENV}"
  rm -f "${STAMP}"
  # From the repository root: pip resolves the relative paths of the editable entries
  # (-e ./clients/python) against the working directory, not the requirements file.
  (cd "${ROOT}" && PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
    "${VENV}/bin/python" -m pip install --quiet -r "${REQUIREMENTS}")
  echo "${wanted}" >"${STAMP}"
}

# S3Proxy, the S3-compatible server of the artifact tests (scripts/services/s3.sh), from Maven
# into ~/.m2; kept in step with S3PROXY_VERSION there.
install_s3proxy() {
  local version
  version="$(sed -n 's/^S3PROXY_VERSION=//p' "${ROOT}/scripts/services/s3.sh")"
  local jar="${HOME}/.m2/repository/org/gaul/s3proxy/${version}/s3proxy-${version}-jar-with-dependencies.jar"
  [[ -f "${jar}" ]] && return
  log "fetching S3Proxy ${version} with Maven"
  mvn -q dependency:get -Dartifact="org.gaul:s3proxy:${version}:jar:jar-with-dependencies" \
    -Dtransitive=false >&2
}

install_apt_packages
install_python_packages
install_s3proxy
"${ROOT}/scripts/install_onnxruntime.sh"
# The Apache Kafka broker jars of the event-stream tests (scripts/services/kafka.sh).
"${ROOT}/scripts/fetch_kafka.sh" >/dev/null
# The MLflow 2.x client's venv, for tests/mlflow2 only: not being able to create it must not stop
# a build or a server start (./dev.sh test says it skips that suite).
"${ROOT}/scripts/mlflow2_venv.sh" || log "could not create the MLflow 2.x client venv" \
  "(scripts/mlflow2_venv.sh); tests/mlflow2 will be skipped"
