#!/usr/bin/env python3
"""Throughput benchmark of the tracking REST API: Cairn against the reference MLflow server.

One run starts each server fresh on a free loopback port (MLflow on a SQLite
backend, Cairn on a temporary data directory), drives the same workloads
against it with a multi-process keep-alive HTTP client, stops it, and prints a
results table plus a Cairn/MLflow throughput ratio table. Results are also
written as JSON to bench/results/<timestamp>.json.

See bench/README.md for how to run it and how to read the output.
"""

from __future__ import annotations
import argparse
import dataclasses
import functools
import json
import math
import random
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import benchlib
from benchlib import (  # noqa: F401 (re-exported for the tests)
    API,
    MP,
    ApiClient,
    BenchError,
    FixedRequest,
    LoadResult,
    Prepared,
    Request,
    Row,
    ServerProcess,
    ServerSpec,
    Validator,
    WorkerResult,
    Workload,
    _init_child_signals,
    now_ms,
    percentile,
    progress,
    summarize,
)

# ----------------------------------------------------------------------------
# Request factories: callables mapping a request index to a (method, path, body)
# tuple. Each worker process gets its own factory. They build bodies with
# string templates because json.dumps of a 1000-metric batch costs several
# times more client CPU than the formatting below.


class LogMetricRequests:
    """One metric per call, the next step each time."""

    def __init__(self, run_id: str) -> None:
        self._prefix = f'{{"run_id":"{run_id}","key":"loss","value":'
        self._t0 = now_ms()

    def __call__(self, i: int) -> Request:
        body = f'{self._prefix}{1.0 / (i + 1)!r},"timestamp":{self._t0 + i},"step":{i}}}'
        return "POST", f"{API}/runs/log-metric", body.encode()


class LogBatchRequests:
    """Batches of `size` metrics over `keys` keys: call i logs steps
    [i*size/keys, (i+1)*size/keys) of every key, all with one timestamp."""

    def __init__(self, run_id: str, size: int, keys: int = 10) -> None:
        assert size % keys == 0
        self._steps_per_call = size // keys
        entries = []
        self._step_offsets = []
        for step in range(self._steps_per_call):
            for k in range(keys):
                value = ((step * keys + k) * 7919 % 1000) / 1000
                entries.append(f'{{"key":"m{k}","value":{value!r},"timestamp":%d,"step":%d}}')
                self._step_offsets.append(step)
        # %% survives the first formatting pass as the placeholders above.
        self._template = f'{{"run_id":"{run_id}","metrics":[{",".join(entries)}]}}'
        self._t0 = now_ms()

    def __call__(self, i: int) -> Request:
        ts = self._t0 + i
        base = i * self._steps_per_call
        args = tuple(x for offset in self._step_offsets for x in (ts, base + offset))
        return "POST", f"{API}/runs/log-batch", (self._template % args).encode()


class CreateRunRequests:
    """runs/create as the Python client sends it (run name plus source tags)."""

    def __init__(self, experiment_id: str, worker: int) -> None:
        self._experiment_id = experiment_id
        self._worker = worker

    def __call__(self, i: int) -> Request:
        name = f"bench-{self._worker}-{i}"
        payload = {
            "experiment_id": self._experiment_id,
            "user_id": "bench",
            "start_time": now_ms(),
            "run_name": name,
            "tags": [
                {"key": "mlflow.user", "value": "bench"},
                {"key": "mlflow.source.name", "value": "tracking_bench.py"},
                {"key": "mlflow.source.type", "value": "LOCAL"},
                {"key": "mlflow.runName", "value": name},
            ],
        }
        return "POST", f"{API}/runs/create", json.dumps(payload).encode()


# ----------------------------------------------------------------------------
# Fixtures: data that workloads need, created before (and excluded from) timing.

SEARCH_FILTER = "metrics.m > 0.5 AND params.p = 'x'"
SEARCH_ORDER_BY = "metrics.m DESC"
SEARCH_PAGE = 100  # max_results of each search call.
SEARCH_PARAM_VALUES = ("x", "y", "z")
SEED_CHUNK = 50  # Runs per seeding task.
HISTORY_POINTS = 1000


@dataclasses.dataclass(frozen=True)
class SeedRun:
    """Deterministic content of seeded search run number `index`, so that
    search responses can be checked against what was logged."""

    index: int
    p: str
    lr: str
    m: float
    loss: float
    stage: str

    @classmethod
    def of(cls, index: int) -> "SeedRun":
        rng = random.Random(index)
        return cls(
            index=index,
            p=SEARCH_PARAM_VALUES[index % len(SEARCH_PARAM_VALUES)],
            lr=rng.choice(("0.1", "0.01", "0.001")),
            m=rng.random(),
            loss=rng.random(),
            stage=rng.choice(("dev", "prod")),
        )

    def matches_filter(self) -> bool:  # SEARCH_FILTER in Python.
        return self.m > 0.5 and self.p == "x"

    def create_tags(self) -> List[dict]:
        return [
            {"key": "mlflow.user", "value": "bench"},
            {"key": "team", "value": f"team-{self.index % 7}"},
        ]

    def log_batch_payload(self, run_id: str) -> dict:
        ts = now_ms()
        return {
            "run_id": run_id,
            "params": [
                {"key": "p", "value": self.p},
                {"key": "lr", "value": self.lr},
                {"key": "index", "value": str(self.index)},
            ],
            "metrics": [
                {"key": "m", "value": self.m, "timestamp": ts, "step": 0},
                {"key": "loss", "value": self.loss, "timestamp": ts, "step": 0},
            ],
            "tags": [{"key": "stage", "value": self.stage}],
        }


def _seed_chunk(port: int, experiment_id: str, indices: Sequence[int]) -> int:
    """Creates the runs of `indices` (runs/create, then one runs/log-batch each)."""
    api = ApiClient(port)
    try:
        for index in indices:
            seed = SeedRun.of(index)
            run_id = api.create_run(experiment_id, f"seed-{index}", tags=seed.create_tags())
            api.call("POST", "runs/log-batch", seed.log_batch_payload(run_id))
    finally:
        api.close()
    return len(indices)


class Fixtures:
    """Per-server setup state. The search experiment is seeded on first use and
    shared by the search workloads."""

    def __init__(self, server: ServerProcess, api: ApiClient, processes: int, seed_runs: int):
        self.server = server
        self.api = api
        self.processes = processes
        self.seed_runs = seed_runs
        self.seed_seconds: Optional[float] = None
        self._search_experiment: Optional[str] = None
        self._experiments = 0

    def new_experiment(self, label: str) -> str:
        self._experiments += 1
        return self.api.create_experiment(f"bench-{label}-{self._experiments}-{now_ms()}")

    def new_runs(self, label: str, count: int) -> List[str]:
        experiment_id = self.new_experiment(label)
        return [self.api.create_run(experiment_id, f"{label}-{i}") for i in range(count)]

    def search_experiment(self) -> str:
        if self._search_experiment is None:
            experiment_id = self.new_experiment("search")
            self.seed_seconds = self._seed(experiment_id)
            self._search_experiment = experiment_id
        return self._search_experiment

    def _seed(self, experiment_id: str) -> float:
        """Seeds the search runs from all client processes; returns the seconds taken."""
        chunks = [
            range(start, min(start + SEED_CHUNK, self.seed_runs))
            for start in range(0, self.seed_runs, SEED_CHUNK)
        ]
        started = time.monotonic()
        done = reported_tenths = 0
        seed = functools.partial(_seed_chunk, self.server.port, experiment_id)
        with MP.Pool(self.processes, initializer=_init_child_signals) as pool:
            for count in pool.imap_unordered(seed, chunks):
                done += count
                tenths = done * 10 // self.seed_runs
                if sys.stderr.isatty() or tenths > reported_tenths:  # Logs get every 10%.
                    reported_tenths = tenths
                    progress(f"  seeding search runs: {done}/{self.seed_runs}", transient=True)
        elapsed = round(time.monotonic() - started, 1)
        progress(f"  seeded {self.seed_runs} search runs in {elapsed} s")
        return elapsed  # prepare_search settles the database before every search workload


# ----------------------------------------------------------------------------
# Workloads


def prepare_log_metric(fx: Fixtures, processes: int) -> Prepared:
    """Each process logs one metric per call to a run of its own."""
    return Prepared([LogMetricRequests(run) for run in fx.new_runs("log-metric", processes)])


def prepare_log_batch(size: int) -> Callable[[Fixtures, int], Prepared]:
    """Each process logs batches of `size` metrics to a run of its own."""

    def prepare(fx: Fixtures, processes: int) -> Prepared:
        runs = fx.new_runs(f"log-batch-{size}", processes)
        return Prepared([LogBatchRequests(run, size) for run in runs])

    return prepare


def prepare_create_run(fx: Fixtures, processes: int) -> Prepared:
    experiment_id = fx.new_experiment("create-run")
    return Prepared([CreateRunRequests(experiment_id, worker) for worker in range(processes)])


def prepare_metric_history(fx: Fixtures, processes: int) -> Prepared:
    """All processes read the full history of one metric with HISTORY_POINTS points."""
    (run_id,) = fx.new_runs("history", 1)
    status, data = fx.api.send(LogBatchRequests(run_id, HISTORY_POINTS, keys=1)(0))
    if status != 200:
        raise BenchError(f"logging the metric history: HTTP {status}: {data[:300]!r}")
    fx.server.analyze_postgres()  # The write workloads before this one added many rows.
    path = f"{API}/metrics/get-history?run_id={run_id}&metric_key=m0&max_results=25000"

    def validate(response: dict) -> Optional[str]:
        steps = [point.get("step") for point in response.get("metrics", [])]
        if sorted(steps) != list(range(HISTORY_POINTS)):
            return f"expected steps 0..{HISTORY_POINTS - 1}, got {len(steps)} points"
        return None

    return Prepared([FixedRequest("GET", path)] * processes, validate)


def prepare_search(order_by: Optional[str]) -> Callable[[Fixtures, int], Prepared]:
    """All processes run the same search over the seeded experiment."""

    def prepare(fx: Fixtures, processes: int) -> Prepared:
        experiment_id = fx.search_experiment()
        fx.server.analyze_postgres()  # The write workloads before this one added many rows.
        payload = {
            "experiment_ids": [experiment_id],
            "filter": SEARCH_FILTER,
            "max_results": SEARCH_PAGE,
            "order_by": [order_by] if order_by else [],
            "run_view_type": "ACTIVE_ONLY",
        }
        validate = search_validator(fx.seed_runs, ordered=order_by is not None)
        return Prepared([FixedRequest("POST", f"{API}/runs/search", payload)] * processes, validate)

    return prepare


def search_validator(seed_runs: int, ordered: bool) -> Validator:
    """Checks a search page against the seeded data: the page is full (or holds
    every match), every run matches SEARCH_FILTER, and with SEARCH_ORDER_BY the
    page holds the largest values of `m` in descending order."""
    matching = sorted((s.m for s in map(SeedRun.of, range(seed_runs)) if s.matches_filter()),
                      reverse=True)
    expected = matching[:SEARCH_PAGE]

    def validate(response: dict) -> Optional[str]:
        runs = response.get("runs", [])
        if len(runs) != len(expected):
            return f"expected {len(expected)} runs, got {len(runs)}"
        got = []
        for run in runs:
            data = run.get("data", {})
            params = {p["key"]: p["value"] for p in data.get("params", [])}
            metrics = {m["key"]: m["value"] for m in data.get("metrics", [])}
            if params.get("p") != "x" or not metrics.get("m", 0) > 0.5:
                return f"run {run.get('info', {}).get('run_id')} does not match the filter"
            got.append(metrics["m"])
        if ordered and not all(math.isclose(a, b) for a, b in zip(got, expected)):
            return f"runs are not the top {len(expected)} by {SEARCH_ORDER_BY}"
        return None

    return validate


WORKLOADS: List[Workload] = [
    Workload("log-metric (1 conn)", "log-metric", prepare_log_metric, sequential=True),
    Workload("log-metric", "log-metric", prepare_log_metric),
    Workload("log-batch 100", "log-batch", prepare_log_batch(100),
             units="metrics", units_per_call=100),
    Workload("log-batch 1000", "log-batch", prepare_log_batch(1000),
             units="metrics", units_per_call=1000),
    Workload("create-run", None, prepare_create_run),
    Workload("get-metric-history 1k", None, prepare_metric_history,
             units="points", units_per_call=HISTORY_POINTS),
    Workload("search-runs filter", "search-runs", prepare_search(None)),
    Workload("search-runs filter+order", "search-runs", prepare_search(SEARCH_ORDER_BY)),
]

# Cairn/MLflow throughput ratio each family must reach.
BARS = {"log-metric": 20.0, "log-batch": 20.0, "search-runs": 10.0}


def ratio_table(rows: Sequence[Row]) -> str:
    return benchlib.ratio_table(rows, BARS)


def run_server_suite(
    spec: ServerSpec, workloads: Sequence[Workload], args: argparse.Namespace
) -> Tuple[List[Row], Dict[str, object]]:
    """Starts one server, runs every workload against it, and stops it."""

    def make_fixtures(server: ServerProcess, api: ApiClient) -> Fixtures:
        return Fixtures(server, api, args.processes, args.seed_runs)

    def fixture_info(fixtures: Fixtures) -> Dict[str, object]:
        return {} if fixtures.seed_seconds is None else {"seed_runs_s": fixtures.seed_seconds}

    return benchlib.run_server_suite(spec, workloads, args, make_fixtures, fixture_info)


def settings(args: argparse.Namespace) -> Dict[str, object]:
    return {
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "processes": args.processes,
        "seed_runs": args.seed_runs,
        "search_filter": SEARCH_FILTER,
        "search_order_by": SEARCH_ORDER_BY,
        "search_max_results": SEARCH_PAGE,
    }


def print_report(
    rows: Sequence[Row], servers: Dict[str, dict], args: argparse.Namespace, compare: bool
) -> None:
    notes = [
        f"{name}: seeding {args.seed_runs} search runs took {info['seed_runs_s']} s (not timed)"
        for name, info in servers.items()
        if "seed_runs_s" in info
    ]
    benchlib.print_report(rows, compare, BARS, notes)


# ----------------------------------------------------------------------------
# Entry point


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    benchlib.add_server_args(parser)
    parser.add_argument("--seed-runs", type=int, default=10000,
                        help="runs seeded for the search workloads (default: 10000)")
    benchlib.add_selection_args(parser)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.processes < 1 or args.seed_runs < 1:
        parser.error("need --duration > 0, --warmup >= 0, --processes >= 1, --seed-runs >= 1")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)

    def report(rows: Sequence[Row], servers: Dict[str, dict], compare: bool) -> None:
        print_report(rows, servers, args, compare)

    return benchlib.run_benchmark(args, WORKLOADS, run_server_suite, report, settings(args), BARS)


if __name__ == "__main__":
    sys.exit(main())
