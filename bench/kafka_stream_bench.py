"""Prediction-log throughput into Kafka versus the embedded SQLite log, on the same machine in one
run.

Runs build/release/src/stream/prediction_logger_bench (events appended through the serving
path's PredictionLogger: a bounded queue drained by one writer in batches of up to 1000 events,
each batch one EventStream::Append that returns once the log has it: SQLite committed, Kafka
acknowledged with acks=all by the idempotent producer) once per log, and prints events/s and
the ratio of each Kafka configuration to SQLite.

Kafka is the broker at CAIRN_TEST_KAFKA_URI when set (scripts/test_services.sh), else one this
script starts with scripts/services/kafka.sh in a temporary folder and stops at the end. The
broker runs on this machine, so it competes with the producer for the same cores, as SQLite's
writer does not have to; on a 2-core machine that weighs on Kafka's figure.

    .venv/bin/python bench/kafka_stream_bench.py [--events 200000] [--producers 2]
        [--input-bytes 400]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "build" / "release" / "src" / "stream" / "prediction_logger_bench"
KAFKA_SH = ROOT / "scripts" / "services" / "kafka.sh"


def run(events: int, producers: int, input_bytes: int, uri: str | None) -> tuple[float, str]:
    cmd = [str(BENCH), str(events), str(producers), str(input_bytes)]
    if uri:
        cmd.append(uri)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=900).stdout
    line = next(l for l in out.splitlines() if l.startswith("prediction_logger_bench:"))
    rate = float(re.search(r"([0-9.]+) events/s", line).group(1))
    return rate, line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200000)
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument("--input-bytes", type=int, default=400)
    args = parser.parse_args()
    if not BENCH.exists():
        print(f"build it first: cmake --build build/release --target prediction_logger_bench",
              file=sys.stderr)
        return 2

    state = None
    base = os.environ.get("CAIRN_TEST_KAFKA_URI", "")
    if not base:
        state = tempfile.mkdtemp(prefix="cairn-kafka-bench-")
        out = subprocess.run([str(KAFKA_SH), "start", state], check=True, capture_output=True,
                             text=True, timeout=180).stdout
        base = out.strip().split("=", 1)[1]
    try:
        configs = [
            ("sqlite (events.db, synchronous=NORMAL)", None),
            ("kafka linger_ms=5 lz4 (default)", f"{base}.bench-{uuid.uuid4().hex[:8]}"),
            ("kafka linger_ms=0 no compression",
             f"{base}.bench-{uuid.uuid4().hex[:8]}?linger_ms=0&compression=none"),
            ("kafka linger_ms=20 zstd",
             f"{base}.bench-{uuid.uuid4().hex[:8]}?linger_ms=20&compression=zstd"),
        ]
        results = []
        for name, uri in configs:
            rate, line = run(args.events, args.producers, args.input_bytes, uri)
            print(f"# {name}: {line}", flush=True)
            results.append((name, rate))
    finally:
        if state:
            subprocess.run([str(KAFKA_SH), "stop", state], check=False, timeout=60)
            subprocess.run(["rm", "-rf", state], check=False)

    sqlite_rate = results[0][1]
    print(f"\n{args.events} prediction events, {args.producers} producer threads, "
          f"~{args.input_bytes}-byte inputs, {os.cpu_count()} cores")
    print(f"{'log':44} {'events/s':>10} {'vs sqlite':>10}")
    for name, rate in results:
        print(f"{name:44} {rate:10.0f} {rate / sqlite_rate:9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
