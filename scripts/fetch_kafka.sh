#!/usr/bin/env bash
# Fetches the Apache Kafka broker jars the tests run (scripts/services/kafka.sh) from Maven
# Central with `mvn dependency:copy-dependencies` on scripts/services/kafka-pom.xml, into
# .deps/kafka-<version>/libs. Called by scripts/install.sh; idempotent and quick when the jars
# are there (a stamp holds the pom's hash). Prints the libs folder on stdout.
#
# Environment: CAIRN_KAFKA_PREFIX overrides .deps/kafka-<version>.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POM="${ROOT}/scripts/services/kafka-pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "${POM}")"
PREFIX="${CAIRN_KAFKA_PREFIX:-${ROOT}/.deps/kafka-${version}}"
STAMP="${PREFIX}/.stamp"
wanted="$(sha256sum "${POM}" | cut -d' ' -f1)"
if [[ -f "${STAMP}" && "$(cat "${STAMP}")" == "${wanted}" ]]; then
  echo "${PREFIX}/libs"
  exit 0
fi
echo "fetch_kafka.sh: fetching Apache Kafka ${version} jars into ${PREFIX}" >&2
rm -rf "${PREFIX}.tmp"
mkdir -p "${PREFIX}.tmp"
if ! mvn -q -B -f "${POM}" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="${PREFIX}.tmp/libs" >"${PREFIX}.tmp/mvn.log" 2>&1; then
  cat "${PREFIX}.tmp/mvn.log" >&2
  exit 1
fi
rm -f "${PREFIX}.tmp/mvn.log"
echo "${wanted}" >"${PREFIX}.tmp/.stamp"
rm -rf "${PREFIX}"
mv "${PREFIX}.tmp" "${PREFIX}"
echo "${PREFIX}/libs"
