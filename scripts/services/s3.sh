#!/usr/bin/env bash
# An S3-compatible server for the tests (see scripts/test_services.sh): S3Proxy (Maven
# org.gaul:s3proxy, jar-with-dependencies, fetched by scripts/install.sh) on a free loopback
# port, keeping objects in memory (jclouds "transient"; its "filesystem" store lists the folders
# it makes as keys), with AWS Signature V2/V4 checking turned on so a wrong signature fails the
# tests. One bucket `cairn-test` exists at start.
# Prints:
#   CAIRN_TEST_S3_URI=http://127.0.0.1:PORT        the endpoint (path-style addressing)
#   CAIRN_TEST_S3_BUCKET=cairn-test
#   CAIRN_TEST_S3_ACCESS_KEY_ID=... / CAIRN_TEST_S3_SECRET_ACCESS_KEY=...
#   CAIRN_TEST_S3_REGION=us-east-1
set -euo pipefail

S3PROXY_VERSION=2.6.0
jar="${HOME}/.m2/repository/org/gaul/s3proxy/${S3PROXY_VERSION}/s3proxy-${S3PROXY_VERSION}-jar-with-dependencies.jar"
cmd="$1"
base="$2/s3"

if [[ "${cmd}" == stop ]]; then
  if [[ -f "${base}/s3proxy.pid" ]]; then
    kill "$(cat "${base}/s3proxy.pid")" 2>/dev/null || true
    rm -f "${base}/s3proxy.pid"
  fi
  exit 0
fi

if [[ ! -f "${jar}" ]]; then
  echo "s3.sh: no S3Proxy jar at ${jar} (scripts/install.sh fetches it with Maven)" >&2
  exit 1
fi
mkdir -p "${base}"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
identity=cairn-test-key
credential=cairn-test-secret
cat >"${base}/s3proxy.conf" <<CONF
s3proxy.endpoint=http://127.0.0.1:${port}
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=${identity}
s3proxy.credential=${credential}
jclouds.provider=transient
CONF
# The heap holds every object (the tests and bench/s3_artifact_bench.py keep well under 1 GiB at
# once). The full JIT stays on: C1 alone starts no faster here and hashes uploads 4x slower.
java -Xms64m -Xmx2g -jar "${jar}" --properties "${base}/s3proxy.conf" \
  >"${base}/s3proxy.log" 2>&1 &
echo $! >"${base}/s3proxy.pid"
for _ in $(seq 1 300); do
  if curl -s -o /dev/null "http://127.0.0.1:${port}/"; then
    curl -sf -o /dev/null -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
      -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
      --user "${identity}:${credential}" "http://127.0.0.1:${port}/cairn-test"
    echo "CAIRN_TEST_S3_URI=http://127.0.0.1:${port}"
    echo "CAIRN_TEST_S3_BUCKET=cairn-test"
    echo "CAIRN_TEST_S3_ACCESS_KEY_ID=${identity}"
    echo "CAIRN_TEST_S3_SECRET_ACCESS_KEY=${credential}"
    echo "CAIRN_TEST_S3_REGION=us-east-1"
    exit 0
  fi
  if ! kill -0 "$(cat "${base}/s3proxy.pid")" 2>/dev/null; then break; fi
  sleep 0.1
done
echo "s3.sh: S3Proxy did not answer; see ${base}/s3proxy.log" >&2
exit 1
