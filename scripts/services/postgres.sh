#!/usr/bin/env bash
# PostgreSQL for the tests (see scripts/test_services.sh): a fresh cluster under DIR/postgres on
# a free loopback port, trust authentication on loopback only, one database `cairn_test`.
# Prints CAIRN_TEST_POSTGRES_URI=postgresql://cairn@127.0.0.1:PORT/cairn_test. PostgreSQL refuses
# to run as root, so as root the cluster runs as the `postgres` user the Debian package creates.
set -euo pipefail

cmd="$1"
base="$2/postgres"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [[ -z "${bindir}" ]]; then
  echo "postgres.sh: no PostgreSQL under /usr/lib/postgresql (scripts/install.sh installs it)" >&2
  exit 1
fi
as_owner=()
if ((EUID == 0)); then
  as_owner=(runuser -u postgres --)
fi

if [[ "${cmd}" == stop ]]; then
  if [[ -f "${base}/data/postmaster.pid" ]]; then
    "${as_owner[@]}" "${bindir}/pg_ctl" -D "${base}/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  exit 0
fi

mkdir -p "${base}"
if ((EUID == 0)); then
  chmod o+x "$2"  # the postgres user must reach its folder inside DIR
  chown postgres "${base}"
fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"${as_owner[@]}" "${bindir}/initdb" -D "${base}/data" -U cairn --auth=trust -E UTF8 \
  --locale=C.UTF-8 >"${base}/initdb.log" 2>&1
# Tuned for a throwaway test cluster: no fsync (the tests kill servers, never the database), a
# socket folder inside DIR, enough connections for several replicas with pools.
"${as_owner[@]}" "${bindir}/pg_ctl" -D "${base}/data" -l "${base}/postgres.log" -w -t 60 \
  -o "-p ${port} -h 127.0.0.1 -k ${base} -c fsync=off -c synchronous_commit=off \
      -c full_page_writes=off -c max_connections=300" start >/dev/null
"${bindir}/psql" -h 127.0.0.1 -p "${port}" -U cairn -d postgres -q -c 'CREATE DATABASE cairn_test' \
  >/dev/null
echo "CAIRN_TEST_POSTGRES_URI=postgresql://cairn@127.0.0.1:${port}/cairn_test"
