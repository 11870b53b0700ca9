#!/usr/bin/env bash
# Apache Kafka for the tests (see scripts/test_services.sh): one KRaft node (broker and
# controller in one JVM, no ZooKeeper) under DIR/kafka on free loopback ports, from the Maven
# jars scripts/fetch_kafka.sh caches (scripts/install.sh fetches them). Prints
# CAIRN_TEST_KAFKA_URI=kafka://127.0.0.1:PORT/cairn-test; tests add their own topic prefixes.
# Tuned for start-up time and a small footprint: a 512 MiB heap, the serial collector, one
# partition for the internal topics, no rebalance delay, short group session timeouts allowed.
# `start DIR` on a DIR whose broker was stopped starts it again on the same ports with its data
# (tests of broker outages use that); test_services.sh always passes a fresh DIR.
set -euo pipefail

cmd="$1"
base="$2/kafka"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Class-data-sharing archives of the storage tool and the broker (made by their first runs, kept
# beside the jars) save about a third of each JVM's start-up. A JVM writes its archive when it
# exits, under a name of its own; the archive is moved into place only once that JVM has exited,
# so a half-written one is never read (and a bad one only turns sharing off).
cds_option=()
cds_pending=""
cds_archive() {  # NAME: sets cds_option (read the archive, or write it at exit) and cds_pending
  local final="${cds}/$1.jsa"
  cds_pending=""
  if [[ -s "${final}" ]]; then
    cds_option=("-XX:SharedArchiveFile=${final}")
  else
    mkdir -p "${cds}"
    cds_pending="${final}.$$"
    cds_option=("-XX:ArchiveClassesAtExit=${cds_pending}")
  fi
}
publish_archive() {  # PENDING: moves a finished archive into place
  if [[ -n "$1" && -s "$1" ]]; then mv -f "$1" "${1%.*}" 2>/dev/null || true; fi
}

if [[ "${cmd}" == stop ]]; then
  if [[ -f "${base}/kafka.pid" ]]; then
    pid="$(cat "${base}/kafka.pid")"
    clean=false
    if kill "${pid}" 2>/dev/null; then
      for _ in $(seq 150); do
        if ! kill -0 "${pid}" 2>/dev/null; then
          clean=true
          break
        fi
        sleep 0.1
      done
      kill -9 "${pid}" 2>/dev/null || true
    fi
    rm -f "${base}/kafka.pid"
    if [[ -f "${base}/cds-pending" ]]; then
      # A broker killed while writing its archive leaves a partial one: not published.
      if [[ "${clean}" == true ]]; then publish_archive "$(cat "${base}/cds-pending")"; fi
      rm -f "$(cat "${base}/cds-pending")" "${base}/cds-pending"
    fi
  fi
  exit 0
fi

libs="$("${here}/../fetch_kafka.sh")"
cds="$(dirname "${libs}")/cds"
java="${JAVA:-java}"
mkdir -p "${base}"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
restart=false
if [[ -f "${base}/server.properties" && -f "${base}/data/meta.properties" ]]; then
  restart=true
  port="$(sed -n 's/^advertised.listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "${base}/server.properties")"
else
  port="$(free_port)"
  controller_port="$(free_port)"
  while [[ "${controller_port}" == "${port}" ]]; do controller_port="$(free_port)"; done
  cat >"${base}/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controller_port}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${base}/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=500
message.max.bytes=16777216
# Tests stamp events near 1970: the default time retention (7 days) would delete them at its
# next check, at any moment of a test.
log.retention.ms=-1
PROPS
fi
cat >"${base}/log4j2.properties" <<PROPS
appender.file.type=File
appender.file.name=file
appender.file.fileName=${base}/kafka.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.file.ref=file
logger.started.name=kafka.server.KafkaRaftServer
logger.started.level=INFO
PROPS

jvm=(-Xms128m -Xmx512m -XX:+UseSerialGC -Xshare:auto
  -Djava.awt.headless=true "-Dlog4j2.configurationFile=${base}/log4j2.properties")
if [[ "${restart}" == false ]]; then
  cluster_id="$(python3 -c 'import base64, uuid; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')"
  cds_archive storage-tool
  "${java}" "${jvm[@]}" "${cds_option[@]}" -cp "${libs}/*" kafka.tools.StorageTool \
    format -t "${cluster_id}" -c "${base}/server.properties" >"${base}/format.log" 2>&1
  publish_archive "${cds_pending}"
fi
: >"${base}/kafka.log"
cds_archive broker
# The broker writes its archive when it stops; `stop` moves it into place.
if [[ -n "${cds_pending}" ]]; then echo "${cds_pending}" >"${base}/cds-pending"; fi
nohup "${java}" "${jvm[@]}" "${cds_option[@]}" -cp "${libs}/*" kafka.Kafka \
  "${base}/server.properties" >"${base}/stdout.log" 2>&1 </dev/null &
echo $! >"${base}/kafka.pid"

for _ in $(seq 600); do
  if grep -q "Kafka Server started" "${base}/kafka.log" 2>/dev/null; then
    echo "CAIRN_TEST_KAFKA_URI=kafka://127.0.0.1:${port}/cairn-test"
    exit 0
  fi
  if ! kill -0 "$(cat "${base}/kafka.pid")" 2>/dev/null; then
    echo "kafka.sh: the broker exited; see ${base}/kafka.log and ${base}/stdout.log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "kafka.sh: the broker did not start within 60 s; see ${base}/kafka.log" >&2
"$0" stop "$2"
exit 1
