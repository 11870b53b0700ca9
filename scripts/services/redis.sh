#!/usr/bin/env bash
# Redis for the tests (see scripts/test_services.sh): Debian's redis-server on a free loopback
# port, no persistence (no RDB snapshots, no AOF), its working folder DIR/redis.
# Prints CAIRN_TEST_REDIS_URI=redis://127.0.0.1:PORT/0.
set -euo pipefail

cmd="$1"
base="$2/redis"
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis.sh: no redis-server on PATH (scripts/install.sh installs it)" >&2
  exit 1
fi

if [[ "${cmd}" == stop ]]; then
  if [[ -f "${base}/redis.pid" ]]; then
    pid="$(cat "${base}/redis.pid")"
    if kill "${pid}" 2>/dev/null; then
      # Gone, or a zombie (the daemon's parent is whoever reaps orphans, which may be slow).
      for _ in $(seq 50); do
        state="$(awk '{print $3}' "/proc/${pid}/stat" 2>/dev/null || true)"
        [[ -z "${state}" || "${state}" == Z ]] && break
        sleep 0.1
      done
    fi
    rm -f "${base}/redis.pid"
  fi
  exit 0
fi

mkdir -p "${base}"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --bind 127.0.0.1 --port "${port}" --dir "${base}" --save '' --appendonly no \
  --daemonize yes --pidfile "${base}/redis.pid" --logfile "${base}/redis.log" \
  --protected-mode yes >/dev/null
for _ in $(seq 100); do
  if redis-cli -h 127.0.0.1 -p "${port}" ping 2>/dev/null | grep -q PONG; then
    echo "CAIRN_TEST_REDIS_URI=redis://127.0.0.1:${port}/0"
    exit 0
  fi
  sleep 0.05
done
echo "redis.sh: redis-server did not answer on port ${port}; see ${base}/redis.log" >&2
exit 1
