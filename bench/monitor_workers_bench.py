"""Monitor workers sharing a Kafka predictions topic: one `cairn monitor worker` against two, on
the same machine in one run.

For each worker count, on a fresh topic prefix with `--partitions` partitions: a `cairn server`
that serves but does not monitor (--monitor false) gets `--deployments` deployments of one ONNX
model (a logistic regression on scikit-learn's breast-cancer data), each with a drift
configuration (windows of 200 requests against a reference from the training data); a backlog of
`--requests` requests of `--rows` rows each is sent to every deployment and logged into Kafka.
Then the workers start and drain the backlog: each reads its partitions, extracts the rows of
every request, fills the windows and closes them with their drift tests. The figure is the
backlog over the time from starting the workers to the last event read (read from the
workers' /metrics): worker start-up (loading the deployments' models) and the consumer group's
rebalance are in it, as they are when workers are added to catch up. Before the backlog, the
workers join the group once and leave, so the group has committed offsets to start from (a
monitor new to a group starts at the end of the log).

Kafka is the broker at CAIRN_TEST_KAFKA_URI when set (scripts/test_services.sh), else one this
script starts with scripts/services/kafka.sh. The broker, the workers and this script share the
machine's cores: on 2 cores two workers cannot reach 2x, and the ratio shows what a second one
gains where it stands next to the first.

    .venv/bin/python bench/monitor_workers_bench.py [--deployments 4] [--partitions 4]
        [--requests 2500] [--rows 100]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import mlflow
import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from server_process import ServerProcess  # noqa: E402

KAFKA_SH = ROOT / "scripts" / "services" / "kafka.sh"


class MonitorWorker(ServerProcess):
    """`cairn monitor worker` with the options of `cairn server`."""

    def command(self) -> list[str]:
        server = super().command()
        return [server[0], "monitor", "worker", *server[2:]]


def metric(url: str, name: str) -> float:
    text = requests.get(f"{url}/metrics", timeout=30).text
    return sum(float(m.group(2)) for m in
               re.finditer(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", text, re.M))


def model():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from skl2onnx import to_onnx

    data = load_breast_cancer()
    x = data.data.astype(np.float32)
    fitted = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, data.target)
    onnx_model = to_onnx(fitted, x[:1], options={id(fitted.steps[-1][1]): {"zipmap": False}})
    return onnx_model, x, data


def deploy(url: str, onnx_model, x, data, name: str) -> None:
    mlflow.set_tracking_uri(url)
    with mlflow.start_run():
        mlflow.onnx.log_model(onnx_model, name="model", registered_model_name=name)
        frame = io.StringIO()
        frame.write(",".join(data.feature_names) + "\n")
        for row in x:
            frame.write(",".join(f"{v:.6g}" for v in row) + "\n")
        mlflow.log_text(frame.getvalue(), "data/train.csv")
    r = requests.post(f"{url}/api/v1/deployments/create",
                      json={"model_name": name, "version": 1, "name": name}, timeout=60)
    r.raise_for_status()
    r = requests.post(f"{url}/api/v1/deployments/{name}/reference/from-run",
                      json={"path": "data/train.csv"}, timeout=60)
    r.raise_for_status()
    config = {"deployment": name, "window": {"size": 200}, "min_samples": 50}
    requests.post(f"{url}/api/v1/models/{name}/drift-config", json=config,
                  timeout=60).raise_for_status()


def backlog(url: str, names: list[str], x, count: int, rows: int) -> int:
    rng = np.random.default_rng(7)
    session = requests.Session()

    def send(i: int) -> None:
        name = names[i % len(names)]
        batch = x[rng.integers(0, len(x), rows)]
        r = session.post(f"{url}/v2/models/{name}/infer", timeout=60, json={
            "inputs": [{"name": "X", "shape": list(batch.shape), "datatype": "FP32",
                        "data": batch.ravel().tolist()}]})
        r.raise_for_status()

    total = count * len(names)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(total)))
    deadline = time.monotonic() + 120
    while metric(url, "cairn_event_stream_kafka_delivered_total") < total:
        if time.monotonic() > deadline:
            raise RuntimeError("the backlog did not reach Kafka")
        time.sleep(0.2)
    return total


def wait(predicate, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def drain(workers: list[ServerProcess], started: float) -> float:
    """When the last event of the backlog was read: no lag left, no more reads for a second."""
    def read() -> float:
        return sum(metric(w.url, "cairn_monitor_events_total") for w in workers)

    last, last_at = 0.0, started
    deadline = started + 900
    while True:
        now, count = time.monotonic(), read()
        if count != last:
            last, last_at = count, now
        lag = sum(metric(w.url, "cairn_monitor_lag_events") for w in workers)
        if last > 0 and lag == 0 and now - last_at > 1.0:
            return last_at
        if now > deadline:
            raise RuntimeError("the workers did not finish the backlog")
        time.sleep(0.05)


def phase(kafka: str, workers_count: int, args, onnx_model, x, data, tmp: Path) -> float:
    events = f"{kafka}.mwb{uuid.uuid4().hex[:8]}?partitions={args.partitions}"
    data_dir = tmp / f"phase-{workers_count}"
    server = ServerProcess("cairn", data_dir, extra_args=("--events-uri", events, "--monitor",
                                                          "false"),
                           log_path=tmp / f"server-{workers_count}.log")
    server.start()
    workers: list[ServerProcess] = []
    try:
        names = [f"mw{i}" for i in range(args.deployments)]
        for name in names:
            deploy(server.url, onnx_model, x, data, name)
        for i in range(workers_count):
            workers.append(MonitorWorker("cairn", data_dir, extra_args=("--events-uri", events),
                                         log_path=tmp / f"worker-{workers_count}-{i}.log"))
        # A monitor new to the group starts at the end of the log: the workers join once (and
        # commit where they start), leave, and come back to the backlog.
        for w in workers:
            w.start()
        wait(lambda: sum(metric(w.url, "cairn_monitor_partitions") for w in workers)
             == args.partitions, "the workers to own the partitions")
        time.sleep(1)
        for w in workers:
            w.stop()
        print(f"  {workers_count} worker(s): sending the backlog...", file=sys.stderr)
        total = backlog(server.url, names, x, args.requests, args.rows)
        started = time.monotonic()
        starts = [threading.Thread(target=w.start) for w in workers]
        for t in starts:
            t.start()
        for t in starts:
            t.join()
        rate = total / (drain(workers, started) - started)
        owned = [metric(w.url, "cairn_monitor_partitions") for w in workers]
        print(f"  {workers_count} worker(s): {total} events in {total / rate:.1f} s, "
              f"{rate:,.0f} events/s; partitions {owned}", file=sys.stderr)
        return rate
    finally:
        for w in workers:
            w.stop()
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployments", type=int, default=4)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2500, help="per deployment")
    parser.add_argument("--rows", type=int, default=100, help="per request")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cairn-monitor-workers-bench-"))
    state = None
    kafka = os.environ.get("CAIRN_TEST_KAFKA_URI", "")
    if not kafka:
        state = tmp / "kafka"
        state.mkdir()
        out = subprocess.run([str(KAFKA_SH), "start", str(state)], check=True,
                             capture_output=True, text=True).stdout
        kafka = next(l.split("=", 1)[1] for l in out.splitlines()
                     if l.startswith("CAIRN_TEST_KAFKA_URI="))
    try:
        onnx_model, x, data = model()
        one = phase(kafka, 1, args, onnx_model, x, data, tmp)
        two = phase(kafka, 2, args, onnx_model, x, data, tmp)
    finally:
        if state is not None:
            subprocess.run([str(KAFKA_SH), "stop", str(state)], check=False)
    rows = args.rows
    print(f"| workers | events/s | rows/s |\n|---|---|---|\n"
          f"| 1 | {one:,.0f} | {one * rows:,.0f} |\n| 2 | {two:,.0f} | {two * rows:,.0f} |\n"
          f"\ntwo workers / one: {two / one:.2f}x "
          f"({args.deployments} deployments, {args.partitions} partitions, "
          f"{args.requests} requests of {rows} rows per deployment)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
