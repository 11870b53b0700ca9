"""Shared machinery of the Cairn-versus-MLflow benchmarks.

Starting and stopping servers, the multi-process keep-alive load generator,
probing responses before timing, and the results and ratio tables. The
benchmark scripts (tracking_bench.py, registry_bench.py) add their workloads
and fixtures on top. Linux-only: CPU accounting reads /proc.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import dataclasses
import datetime
import http.client
import json
import math
import multiprocessing
import os
import platform
import queue
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

import server_process  # noqa: E402  (tests/server_process.py, shared with the tests)

RESULTS_DIR = REPO_ROOT / "bench" / "results"
DEFAULT_CAIRN_BIN = REPO_ROOT / "build" / "release" / "cairn"
DEFAULT_MLFLOW_BIN = Path(sys.executable).parent / "mlflow"

HOST = "127.0.0.1"
API = "/api/2.0/mlflow"
JSON_HEADERS = {"Content-Type": "application/json"}
# With CAIRN_AUTH=token in the environment, Cairn runs with API tokens on: each server's data dir
# gets an admin token (`cairn admin bootstrap`), which every request then carries, so the
# numbers include authentication. Load workers inherit it through CAIRN_BENCH_TOKEN.
if os.environ.get("CAIRN_BENCH_TOKEN"):
    JSON_HEADERS["Authorization"] = "Bearer " + os.environ["CAIRN_BENCH_TOKEN"]

SERVER_START_TIMEOUT_S = 180.0  # MLflow spawns several Python processes.
SERVER_STOP_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 120.0

# Fork keeps worker start-up cheap and lets workers receive request factories
# and synchronisation objects without pickling. The benchmark is Linux-only.
MP = multiprocessing.get_context("fork")

# (method, path, body) of one HTTP request.
Request = Tuple[str, str, Optional[bytes]]
# Maps a request index to the request; each client process has its own.
RequestFactory = Callable[[int], Request]


class BenchError(Exception):
    """A benchmark step failed (bad response, server not starting, ...)."""


def now_ms() -> int:
    return int(time.time() * 1000)


# ----------------------------------------------------------------------------
# HTTP helpers


STALE_CONNECTION_ERRORS = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
)


class ApiClient:
    """Minimal JSON client over one keep-alive connection, used for setup."""

    def __init__(self, port: int, timeout: float = REQUEST_TIMEOUT_S) -> None:
        self._conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def close(self) -> None:
        self._conn.close()

    def send(self, request: Request) -> Tuple[int, bytes]:
        """Sends one request and returns (status, body)."""
        try:
            try:
                return self._exchange(request)
            except STALE_CONNECTION_ERRORS:
                # The server closed the connection while it sat idle between
                # workloads; http.client reconnects on the retry.
                self._conn.close()
                return self._exchange(request)
        except (OSError, http.client.HTTPException) as e:
            self._conn.close()
            method, path, _ = request
            raise BenchError(f"{method} {path}: {type(e).__name__}: {e}") from e

    def _exchange(self, request: Request) -> Tuple[int, bytes]:
        method, path, body = request
        self._conn.request(method, path, body, JSON_HEADERS)
        response = self._conn.getresponse()
        return response.status, response.read()

    def call(self, method: str, endpoint: str, payload: Optional[dict] = None) -> dict:
        body = json.dumps(payload).encode() if payload is not None else None
        status, data = self.send((method, f"{API}/{endpoint}", body))
        if status != 200:
            raise BenchError(f"{method} {endpoint}: HTTP {status}: {data[:300]!r}")
        return json.loads(data) if data else {}

    def create_experiment(self, name: str) -> str:
        return self.call("POST", "experiments/create", {"name": name})["experiment_id"]

    def create_run(self, experiment_id: str, run_name: str, tags: Sequence[dict] = ()) -> str:
        payload = {
            "experiment_id": experiment_id,
            "run_name": run_name,
            "start_time": now_ms(),
            "tags": list(tags),
        }
        return self.call("POST", "runs/create", payload)["run"]["info"]["run_id"]


# ----------------------------------------------------------------------------
# Server processes


@dataclasses.dataclass(frozen=True)
class ServerSpec:
    name: str  # "mlflow" or "cairn"
    binary: Path


class ServerProcess(server_process.ServerProcess):
    """The test suite's server process (tests/server_process.py) as a context manager that
    raises BenchError, with the CPU accounting the benchmark reports. Data and log live in
    `workdir`."""

    def __init__(self, spec: ServerSpec, workdir: Path) -> None:
        super().__init__(spec.name, workdir / "data", binary=spec.binary,
                         log_path=workdir / "server.log", ready_timeout=SERVER_START_TIMEOUT_S)
        self.spec = spec
        self.workdir = workdir

    def __enter__(self) -> "ServerProcess":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> "ServerProcess":
        if self.target == "cairn" and "token" in os.environ.get("CAIRN_AUTH", ""):
            self.data_dir.mkdir(parents=True, exist_ok=True)
            out = subprocess.run([str(self.binary), "admin", "bootstrap", "--data-dir",
                                  str(self.data_dir), "--force"], capture_output=True, text=True)
            if out.returncode != 0:
                raise BenchError(f"cairn admin bootstrap failed: {out.stderr}")
            token = out.stdout.strip().splitlines()[-1]
            os.environ["CAIRN_BENCH_TOKEN"] = token
            JSON_HEADERS["Authorization"] = "Bearer " + token
        try:
            return super().start()
        except server_process.ServerStartError as e:
            raise BenchError(str(e)) from None

    def stop(self, timeout: float = SERVER_STOP_TIMEOUT_S) -> Optional[int]:
        return super().stop(timeout)

    def cpu_seconds(self) -> float:
        """User+system CPU time of every live process in the server's session."""
        if self.pid is None:
            return 0.0
        return session_cpu_seconds(self.pid)


def session_cpu_seconds(session_id: int) -> float:
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # The process exited meanwhile.
        # Fields after "(comm)": state ppid pgrp session ... utime(14) stime(15).
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[3]) == session_id:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------
# Request factories: callables mapping a request index to a (method, path, body)
# tuple. Each worker process gets its own factory.


class FixedRequest:
    """The same request every time (reads: search, metric history)."""

    def __init__(self, method: str, path: str, payload: Optional[dict] = None) -> None:
        body = json.dumps(payload).encode() if payload is not None else None
        self._request: Request = (method, path, body)

    def __call__(self, i: int) -> Request:
        return self._request



# ----------------------------------------------------------------------------
# Load generation


@dataclasses.dataclass
class WorkerResult:
    latencies_ns: array.array  # Of successful calls completed inside the window.
    errors: Dict[str, int]
    error_samples: Dict[str, str]
    cpu_seconds: float


@dataclasses.dataclass
class LoadResult:
    processes: int
    duration_s: float
    ok: int
    errors: Dict[str, int]
    error_samples: Dict[str, str]
    calls_per_s: float
    p50_ms: Optional[float]
    p99_ms: Optional[float]
    mean_ms: Optional[float]
    max_ms: Optional[float]
    server_cpu_cores: float
    client_cpu_cores: float


def _load_worker(port, factory, ready, go, start_ns, warmup_ns, duration_ns, results) -> None:
    """Runs in a child process: sends requests back to back over one keep-alive
    connection until the window closes, then reports to `results`."""
    _init_child_signals()
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    with contextlib.suppress(OSError):
        conn.connect()
    ready.release()
    go.wait()
    measure_from = start_ns.value + warmup_ns
    measure_until = measure_from + duration_ns

    latencies = array.array("q")
    errors: Dict[str, int] = {}
    error_samples: Dict[str, str] = {}
    cpu_start: Optional[float] = None
    i = 0
    while True:
        method, path, body = factory(i)
        i += 1
        sent = time.monotonic_ns()
        if sent >= measure_until:
            break
        if cpu_start is None and sent >= measure_from:
            cpu_start = time.process_time()
        try:
            conn.request(method, path, body, JSON_HEADERS)
            response = conn.getresponse()
            data = response.read()
            error = None if response.status == 200 else f"HTTP {response.status}"
        except (OSError, http.client.HTTPException) as e:
            conn.close()  # http.client reconnects on the next request.
            data = str(e).encode()
            error = type(e).__name__
        done = time.monotonic_ns()
        if measure_from <= done < measure_until:  # Else warm-up or past the window.
            if error is None:
                latencies.append(done - sent)
            else:
                errors[error] = errors.get(error, 0) + 1
                error_samples.setdefault(error, data[:300].decode(errors="replace"))
        if error is not None and not error.startswith("HTTP"):
            time.sleep(0.01)  # Do not spin on a refused connection.
    conn.close()
    cpu = time.process_time() - cpu_start if cpu_start is not None else 0.0
    results.put(WorkerResult(latencies, errors, error_samples, cpu))


def run_load(
    server: ServerProcess,
    factories: Sequence[RequestFactory],
    warmup_s: float,
    duration_s: float,
) -> LoadResult:
    """Runs one worker process per factory for warm-up + duration seconds."""
    ready = MP.Semaphore(0)
    go = MP.Event()
    start_ns = MP.Value("q", 0)
    results = MP.Queue()
    warmup_ns, duration_ns = int(warmup_s * 1e9), int(duration_s * 1e9)
    workers = [
        MP.Process(
            target=_load_worker,
            args=(server.port, factory, ready, go, start_ns, warmup_ns, duration_ns, results),
            daemon=True,
        )
        for factory in factories
    ]
    try:
        for worker in workers:
            worker.start()
        for _ in workers:
            if not ready.acquire(timeout=30):
                raise BenchError("load workers did not start")
        start_ns.value = time.monotonic_ns()
        go.set()
        measure_from = start_ns.value + warmup_ns
        sleep_until_ns(measure_from)
        server_cpu_start = server.cpu_seconds()
        sleep_until_ns(measure_from + duration_ns)
        server_cpu = server.cpu_seconds() - server_cpu_start
        try:
            collected = [results.get(timeout=REQUEST_TIMEOUT_S + 30) for _ in workers]
        except queue.Empty:
            raise BenchError("load workers did not report their results") from None
        for worker in workers:
            worker.join(timeout=10)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5)
    return summarize(collected, duration_s, server_cpu)


def sleep_until_ns(deadline_ns: int) -> None:
    remaining = (deadline_ns - time.monotonic_ns()) / 1e9
    if remaining > 0:
        time.sleep(remaining)


def percentile(sorted_values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile of a non-empty sorted sequence."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def summarize(results: Sequence[WorkerResult], duration_s: float, server_cpu: float) -> LoadResult:
    latencies = sorted(x for r in results for x in r.latencies_ns)
    errors: Dict[str, int] = {}
    samples: Dict[str, str] = {}
    for r in results:
        for kind, count in r.errors.items():
            errors[kind] = errors.get(kind, 0) + count
        for kind, text in r.error_samples.items():
            samples.setdefault(kind, text)

    def ms(ns: float) -> float:
        return round(ns / 1e6, 3)

    have = bool(latencies)
    return LoadResult(
        processes=len(results),
        duration_s=duration_s,
        ok=len(latencies),
        errors=errors,
        error_samples=samples,
        calls_per_s=round(len(latencies) / duration_s, 2),
        p50_ms=ms(percentile(latencies, 0.50)) if have else None,
        p99_ms=ms(percentile(latencies, 0.99)) if have else None,
        mean_ms=ms(sum(latencies) / len(latencies)) if have else None,
        max_ms=ms(latencies[-1]) if have else None,
        server_cpu_cores=round(server_cpu / duration_s, 3),
        client_cpu_cores=round(sum(r.cpu_seconds for r in results) / duration_s, 3),
    )


# ----------------------------------------------------------------------------
# Process and console helpers


def _init_child_signals() -> None:
    """Child processes leave Ctrl-C to the parent and die on its SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)



def progress(text: str, transient: bool = False) -> None:
    """Prints a status line to stderr. On a terminal a transient line is
    overwritten by the next one."""
    if sys.stderr.isatty():
        print(f"\r{text}\033[K", end="" if transient else "\n", file=sys.stderr, flush=True)
    else:
        print(text, file=sys.stderr, flush=True)



# ----------------------------------------------------------------------------
# Workloads

# Checks the body of one response; returns a description of what is wrong, or None.
Validator = Callable[[dict], Optional[str]]


@dataclasses.dataclass
class Prepared:
    factories: List[RequestFactory]  # One per client process.
    validate: Optional[Validator] = None  # Checks the response to factories[0](0).
    # Further (request, check) pairs sent before timing, for workloads whose
    # requests differ from one call to the next.
    checks: List[Tuple[Request, Validator]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    family: Optional[str]  # Rows of one family share a ratio bar.
    prepare: Callable[[Any, int], Prepared]  # (fixtures, processes) -> requests.
    sequential: bool = False  # One connection instead of --processes.
    units: Optional[str] = None  # What a call carries several of, e.g. "metrics".
    units_per_call: int = 1


@dataclasses.dataclass
class Row:
    workload: str
    family: Optional[str]
    server: str
    units: Optional[str]
    units_per_call: int
    result: Optional[LoadResult] = None
    problem: Optional[str] = None  # Validation warning or why the row has no result.


def run_workload(
    workload: Workload, server: ServerProcess, fixtures: Any, args: argparse.Namespace
) -> Row:
    """Prepares one workload, probes it, and times it. `fixtures` must have an
    `api` attribute (the setup ApiClient)."""
    row = Row(
        workload.name, workload.family, server.spec.name, workload.units, workload.units_per_call
    )
    processes = 1 if workload.sequential else args.processes
    try:
        prepared = workload.prepare(fixtures, processes)
        if prepared.validate is not None or prepared.checks:
            row.problem = probe(fixtures.api, prepared)
        row.result = run_load(server, prepared.factories, args.warmup, args.duration)
    except BenchError as e:
        row.problem = str(e)
    return row


def probe(api: ApiClient, prepared: Prepared) -> Optional[str]:
    """Sends the workload's probe requests outside the timing and validates
    their responses; returns the first problem found."""
    checks = list(prepared.checks)
    if prepared.validate is not None:
        checks.insert(0, (prepared.factories[0](0), prepared.validate))
    for request, validate in checks:
        status, data = api.send(request)
        if status != 200:
            return f"probe request failed: HTTP {status}: {data[:200]!r}"
        try:
            problem = validate(json.loads(data))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            return f"probe response malformed: {type(e).__name__}: {e}"
        if problem is not None:
            return problem
    return None


def warn_if_busy() -> None:
    """Other load on the machine skews both servers' numbers; say so."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > 0.5 * cores:
        progress(f"  warning: load average {load:.1f} on {cores} cores; results will be noisy")


def run_server_suite(
    spec: ServerSpec,
    workloads: Sequence[Workload],
    args: argparse.Namespace,
    make_fixtures: Callable[[ServerProcess, ApiClient], Any],
    fixture_info: Callable[[Any], Dict[str, object]],
) -> Tuple[List[Row], Dict[str, object]]:
    """Starts one server, runs every workload against it, and stops it.
    `fixture_info` adds what the fixtures measured (e.g. seeding time) to the
    server's information."""
    info: Dict[str, object] = {
        "binary": str(spec.binary),
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }
    rows: List[Row] = []
    with tempfile.TemporaryDirectory(prefix=f"cairn-bench-{spec.name}-") as tmp:
        progress(f"[{spec.name}] starting {spec.binary}")
        warn_if_busy()
        started = time.monotonic()
        with ServerProcess(spec, Path(tmp)) as server:
            info["startup_s"] = round(time.monotonic() - started, 2)
            progress(f"[{spec.name}] ready on port {server.port} after {info['startup_s']} s")
            api = ApiClient(server.port)
            fixtures = make_fixtures(server, api)
            try:
                for workload in workloads:
                    progress(f"[{spec.name}] {workload.name}")
                    rows.append(run_workload(workload, server, fixtures, args))
                    if not server.alive():
                        info["crashed"] = f"exited during {workload.name}:\n{server.log_tail()}"
                        break
            finally:
                api.close()
                info.update(fixture_info(fixtures))
    return rows, info


# ----------------------------------------------------------------------------
# Reporting


def fmt(value: Optional[float], digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int) -> str:
    """Plain-text table: the first `text_columns` columns left-aligned, the rest
    (numbers) right-aligned."""

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < text_columns else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths))
        ).rstrip()

    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
    separator = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), separator, *(line(cells) for cells in rows)])


def results_table(rows: Sequence[Row], cpu_count: int) -> str:
    table = []
    for row in rows:
        r = row.result
        if r is None:
            table.append([row.workload, row.server, "-", "-", "-", "-", "-", "-", "-", "-", "-"])
            continue
        units = f"{fmt(r.calls_per_s * row.units_per_call, 0)} {row.units}" if row.units else ""
        client = fmt(r.client_cpu_cores, 2)
        if r.client_cpu_cores >= 0.7 * cpu_count:
            client += "*"
        table.append([
            row.workload, row.server, str(r.processes), fmt(r.calls_per_s), units,
            fmt(r.p50_ms, 2), fmt(r.p99_ms, 2), f"{r.ok:,}", f"{sum(r.errors.values()):,}",
            fmt(r.server_cpu_cores, 2), client,
        ])
    headers = ["workload", "server", "conns", "calls/s", "units/s", "p50 ms", "p99 ms",
               "ok", "errors", "srv CPU", "cli CPU"]
    return render_table(headers, table, text_columns=2)


def ratio_table(rows: Sequence[Row], bars: Dict[str, float]) -> str:
    """Cairn/MLflow calls/s per workload, against the bar of its family."""
    table = []
    for workload, (mlflow, cairn) in pair_rows(rows).items():
        bar = bars.get(next(r for r in (mlflow, cairn) if r).family)
        ratio = throughput_ratio(mlflow, cairn)
        if bar is None:
            verdict = "-"
        elif ratio is None:
            verdict = "n/a"
        else:
            verdict = "PASS" if ratio >= bar else "FAIL"
        table.append([
            workload,
            fmt(calls_per_s(mlflow)),
            fmt(calls_per_s(cairn)),
            "-" if ratio is None else f"{ratio:,.1f}x",
            "-" if bar is None else f">={bar:g}x",
            verdict,
        ])
    headers = ["workload", "mlflow calls/s", "cairn calls/s", "cairn/mlflow", "bar", "result"]
    return render_table(headers, table, text_columns=1)


def pair_rows(rows: Sequence[Row]) -> Dict[str, Tuple[Optional[Row], Optional[Row]]]:
    """Maps each workload, in run order, to its (mlflow, cairn) rows."""
    by_key = {(row.workload, row.server): row for row in rows}
    return {
        row.workload: (by_key.get((row.workload, "mlflow")), by_key.get((row.workload, "cairn")))
        for row in rows
    }


def calls_per_s(row: Optional[Row]) -> Optional[float]:
    return row.result.calls_per_s if row and row.result else None


def throughput_ratio(mlflow: Optional[Row], cairn: Optional[Row]) -> Optional[float]:
    base, ours = calls_per_s(mlflow), calls_per_s(cairn)
    if base is None or ours is None or base == 0:
        return None
    return ours / base


def problems_report(rows: Sequence[Row]) -> List[str]:
    lines = []
    for row in rows:
        if row.problem:
            lines.append(f"{row.workload} [{row.server}]: {row.problem}")
        if row.result:
            for kind, count in row.result.errors.items():
                sample = row.result.error_samples.get(kind, "")
                lines.append(f"{row.workload} [{row.server}]: {count} x {kind}: {sample}")
    return lines


def print_report(
    rows: Sequence[Row],
    compare: bool,
    bars: Dict[str, float],
    notes: Sequence[str] = (),
    units_legend: str = "metrics or points per second",
) -> None:
    """Prints the results table, its legend plus `notes`, the ratio table when
    both servers ran, and any problems."""
    cpu_count = os.cpu_count() or 1
    print()
    print(results_table(rows, cpu_count))
    print()
    print(f"conns: client connections (one process each). units/s: {units_legend}.")
    print(f"srv/cli CPU: cores used by the server's process tree / by the client processes "
          f"({cpu_count} cores here; * = the client may be the bottleneck).")
    for note in notes:
        print(note)
    if compare:
        print()
        print(ratio_table(rows, bars))
    problems = problems_report(rows)
    if problems:
        print("\nproblems:")
        for line in problems:
            print(f"  {line}")


def tool_version(command: Sequence[str]) -> Optional[str]:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
        if out.returncode == 0:
            return out.stdout.strip()
    return None


def write_json(
    path: Path,
    settings: Dict[str, object],
    rows: Sequence[Row],
    servers: Dict[str, dict],
    bars: Dict[str, float],
) -> None:
    document = {
        "timestamp": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "git_commit": tool_version(["git", "rev-parse", "HEAD"]),
        "settings": settings,
        "servers": servers,
        "results": [dataclasses.asdict(row) for row in rows],
        "ratios": {
            workload: throughput_ratio(mlflow, cairn)
            for workload, (mlflow, cairn) in pair_rows(rows).items()
        },
        "bars": bars,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


# ----------------------------------------------------------------------------
# Entry point


def add_server_args(parser: argparse.ArgumentParser) -> None:
    """Flags for timing, client processes and the servers under test."""
    parser.add_argument("--duration", type=float, default=8.0,
                        help="measured seconds per workload and server (default: 8)")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="unmeasured seconds before each measurement (default: 1)")
    parser.add_argument("--processes", type=int, default=8,
                        help="client processes for the concurrent workloads (default: 8)")
    parser.add_argument("--only", choices=["mlflow", "cairn"], help="benchmark only one server")
    parser.add_argument("--cairn-bin", type=Path, default=DEFAULT_CAIRN_BIN,
                        help=f"cairn binary (default: {DEFAULT_CAIRN_BIN.relative_to(REPO_ROOT)})")
    parser.add_argument("--mlflow-bin", type=Path, default=DEFAULT_MLFLOW_BIN,
                        help="mlflow CLI (default: the mlflow next to this Python)")


def add_selection_args(parser: argparse.ArgumentParser, output_prefix: str = "") -> None:
    """Flags selecting workloads and where the JSON goes."""
    parser.add_argument("--workloads", default=None,
                        help="comma-separated substrings selecting workloads (default: all)")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"JSON output path "
                             f"(default: bench/results/{output_prefix}<timestamp>.json)")


def select_workloads(workloads: Sequence[Workload], selector: Optional[str]) -> List[Workload]:
    if not selector:
        return list(workloads)
    wanted = [s.strip() for s in selector.split(",") if s.strip()]
    return [w for w in workloads if any(s in w.name for s in wanted)]


def raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


# Runs every workload against one server: (spec, workloads, args) -> (rows, info).
Suite = Callable[[ServerSpec, Sequence[Workload], argparse.Namespace],
                 Tuple[List[Row], Dict[str, object]]]


def run_servers(
    specs: Sequence[ServerSpec],
    workloads: Sequence[Workload],
    args: argparse.Namespace,
    suite: Suite,
) -> Tuple[List[Row], Dict[str, dict], bool]:
    """Benchmarks each server in turn. Returns the rows, per-server information,
    and whether a server failed to start or crashed."""
    rows: List[Row] = []
    servers: Dict[str, dict] = {}
    failed = False
    for spec in specs:
        try:
            server_rows, info = suite(spec, workloads, args)
        except BenchError as e:  # The server did not start.
            print(f"error: [{spec.name}] {e}", file=sys.stderr)
            servers[spec.name] = {"binary": str(spec.binary), "failed": str(e)}
            failed = True
            continue
        rows.extend(server_rows)
        servers[spec.name] = info
        if "crashed" in info:
            print(f"error: [{spec.name}] {info['crashed']}", file=sys.stderr)
            failed = True
    if "mlflow" in servers:
        servers["mlflow"]["version"] = tool_version([str(args.mlflow_bin), "--version"])
    return rows, servers, failed


def run_benchmark(
    args: argparse.Namespace,
    all_workloads: Sequence[Workload],
    suite: Suite,
    report: Callable[[Sequence[Row], Dict[str, dict], bool], None],
    settings: Dict[str, object],
    bars: Dict[str, float],
    output_prefix: str = "",
) -> int:
    """The common main(): checks the binaries, benchmarks the selected servers,
    reports via `report(rows, servers, compare)`, and writes the JSON (by
    default to bench/results/<output_prefix><timestamp>.json). Returns
    the exit status: 0, 2 when a server is missing, fails to start or crashes,
    130 after Ctrl-C or SIGTERM."""
    specs = [ServerSpec("mlflow", args.mlflow_bin), ServerSpec("cairn", args.cairn_bin)]
    specs = [s for s in specs if args.only in (None, s.name)]
    for spec in specs:
        if not os.access(spec.binary, os.X_OK):
            print(f"error: {spec.name} binary not found or not executable: {spec.binary}",
                  file=sys.stderr)
            return 2
    workloads = select_workloads(all_workloads, args.workloads)
    if not workloads:
        print(f"error: no workload matches {args.workloads!r}", file=sys.stderr)
        return 2

    # SIGTERM takes the same clean-up path as Ctrl-C: every server is stopped
    # by the context managers that started it.
    signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    try:
        rows, servers, failed = run_servers(specs, workloads, args, suite)
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130

    report(rows, servers, len(specs) == 2)
    default_name = f"{output_prefix}{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    output = args.output or RESULTS_DIR / default_name
    write_json(output, settings, rows, servers, bars)
    print(f"\nwrote {output}")
    return 2 if failed else 0
