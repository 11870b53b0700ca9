#!/usr/bin/env python3
"""What the MLflow web UI waits for: Cairn against the reference `mlflow server`, side by side.

Both servers are seeded with the same data through the official client: one experiment with
RUNS runs, each with 20 metrics of 100 steps, params and tags; one run holds a 1 MiB CSV
artifact. Then, on one keep-alive connection per server, the UI's own requests are timed one
after another (what a single browser tab does):

  graphql-get-run      POST /graphql, the run page's GetRun query
  graphql-search-runs  POST /graphql, the runs table's SearchRuns query (100 runs)
  metric-chart         POST /graphql, GetMetricHistoryBulkInterval over 10 runs
  get-artifact-1mib    GET /get-artifact of the 1 MiB CSV
  static-main-js       GET the UI's main script from /static-files

Reports p50/p99 latency per request and the ratio reference/Cairn at p50.

Usage: .venv/bin/python bench/ui_bench.py [--requests N] [--runs N]
"""

from __future__ import annotations

import argparse
import glob
import re
import sys
import tempfile
import time
from pathlib import Path

import requests

import benchlib
from benchlib import ServerProcess, ServerSpec

REPO = Path(__file__).resolve().parent.parent


def ui_queries() -> dict[str, str]:
    import mlflow

    build = Path(mlflow.__file__).parent / "server" / "js" / "build" / "static" / "js"
    queries = {}
    for path in glob.glob(str(build / "*.js")):
        text = open(path, encoding="utf-8", errors="replace").read()
        for m in re.finditer(r"query (GetRun|SearchRuns|GetMetricHistoryBulkInterval)\(\$", text):
            queries[m.group(1)] = text[m.start():text.find("`", m.start())]
    return queries


def main_js() -> str:
    import mlflow

    build = Path(mlflow.__file__).parent / "server" / "js" / "build"
    return "/static-files/static/js/" + Path(glob.glob(str(build / "static/js/main.*.js"))[0]).name


def seed(url: str, runs: int, workdir: Path) -> dict:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(url)
    experiment_id = client.create_experiment("ui-bench")
    run_ids = []
    now = int(time.time() * 1000)
    for i in range(runs):
        run = client.create_run(experiment_id, run_name=f"run-{i}")
        metrics = [Metric(f"m{k}", float(s * k), now + s, s) for k in range(20) for s in range(100)]
        for chunk in range(0, len(metrics), 1000):
            client.log_batch(run.info.run_id, metrics=metrics[chunk:chunk + 1000],
                             params=[Param(f"p{k}", str(k)) for k in range(10)] if chunk == 0
                             else [], tags=[RunTag("team", "bench")] if chunk == 0 else [])
        client.set_terminated(run.info.run_id)
        run_ids.append(run.info.run_id)
    csv = workdir / "table.csv"
    csv.write_bytes(b"a,b,c\n" + b"1,2,3\n" * ((1 << 20) // 6))
    mlflow.set_tracking_uri(url)
    client.log_artifact(run_ids[0], str(csv))
    return {"experiment_id": experiment_id, "run_ids": run_ids}


def time_requests(session: requests.Session, n: int, send) -> list[float]:
    for _ in range(3):
        send(session)
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = send(session)
        out.append((time.perf_counter() - start) * 1000.0)
        if response.status_code != 200:
            raise benchlib.BenchError(f"{response.status_code}: {response.text[:200]}")
    return sorted(out)


def measure(url: str, data: dict, queries: dict, n: int, script: str) -> dict[str, list[float]]:
    session = requests.Session()
    r0 = data["run_ids"][0]
    cases = {
        "graphql-get-run": lambda s: s.post(url + "/graphql", json={
            "query": queries["GetRun"], "variables": {"data": {"runId": r0}}}),
        "graphql-search-runs": lambda s: s.post(url + "/graphql", json={
            "query": queries["SearchRuns"],
            "variables": {"data": {"experimentIds": [data["experiment_id"]], "maxResults": 100}}}),
        "metric-chart": lambda s: s.post(url + "/graphql", json={
            "query": queries["GetMetricHistoryBulkInterval"],
            "variables": {"data": {"runIds": data["run_ids"][:10], "metricKey": "m3",
                                   "maxResults": 320}}}),
        "get-artifact-1mib": lambda s: s.get(url + "/get-artifact",
                                             params={"run_uuid": r0, "path": "table.csv"}),
        "static-main-js": lambda s: s.get(url + script),
    }
    return {name: time_requests(session, n, send) for name, send in cases.items()}


def p(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--cairn-bin", default=str(REPO / "build/release/cairn"))
    args = parser.parse_args()
    benchlib.warn_if_busy()
    queries = ui_queries()
    script = main_js()
    results = {}
    for name, binary in (("mlflow", Path(sys.executable).parent / "mlflow"),
                         ("cairn", Path(args.cairn_bin))):
        with tempfile.TemporaryDirectory(prefix=f"ui-bench-{name}-") as tmp:
            workdir = Path(tmp)
            with ServerProcess(ServerSpec(name, binary), workdir) as server:
                benchlib.progress(f"{name}: seeding {args.runs} runs")
                data = seed(server.url, args.runs, workdir)
                benchlib.progress(f"{name}: timing")
                results[name] = measure(server.url, data, queries, args.requests, script)
    rows = []
    for case in results["cairn"]:
        ref, cairn = results["mlflow"][case], results["cairn"][case]
        rows.append([case, f"{p(ref, .5):.2f}", f"{p(ref, .99):.2f}", f"{p(cairn, .5):.2f}",
                     f"{p(cairn, .99):.2f}", f"{p(ref, .5) / p(cairn, .5):.1f}x"])
    print(benchlib.render_table(
        ["request", "mlflow p50 ms", "mlflow p99 ms", "cairn p50 ms", "cairn p99 ms",
         "p50 ratio"], rows, 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
