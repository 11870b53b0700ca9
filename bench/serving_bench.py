#!/usr/bin/env python3
"""Prediction serving benchmark: Cairn's ONNX and Python runtimes against `mlflow models serve`,
MLServer and a bare Boost.Beast echo server, one after the other in one run on this machine.

One model for all: a 100-tree GradientBoostingClassifier on 20 features, one row per request.
The load generator is wrk (closed loop, keep-alive), at 1 and 8 connections, plus a paced run
near 2,000 requests/s for the ONNX path. Every server's answers are first checked against
scikit-learn's own predictions. Then deploy-to-READY times are measured on fresh Cairn servers.

See bench/README.md ("Serving benchmark") for how to run it and how to read the output.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import benchlib
from benchlib import BenchError, ServerSpec, progress
from serving_lib import (HOST, Process, build_echo_server, ensure_mlserver_venv, ensure_wrk,
                         free_port, http_call, run_wrk, running)

DEFAULT_MLSERVER_VENV = benchlib.REPO_ROOT / "bench" / ".venv-mlserver"
N_FEATURES = 20
N_TREES = 100
SEED = 42
PACED_CONNECTIONS = 8  # first guess of the paced run, corrected by a trial run
PACED_DELAY_MS = 4
CHECK_ROWS = 5  # rows whose predictions every server must get right before timing
DEPLOY_TIMEOUT_S = 120.0


# ----------------------------------------------------------------------------
# The model


def make_model():
    """(estimator, X): the GradientBoostingClassifier and its training features, rounded to 4
    decimals so that float32 and float64 inputs are the same numbers for every server."""
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingClassifier

    x, y = make_classification(n_samples=2000, n_features=N_FEATURES, n_informative=10,
                               random_state=SEED)
    x = np.round(x, 4).astype(np.float32).astype(np.float64)
    estimator = GradientBoostingClassifier(n_estimators=N_TREES, random_state=SEED).fit(x, y)
    return estimator, x


def feature_names() -> List[str]:
    return [f"f{i}" for i in range(N_FEATURES)]


def to_onnx(estimator):
    """The estimator as ONNX: input float_input [N, 20] FP32, one output `label` (int64 [N]),
    zipmap off. Only the label is kept, which is what the other servers answer."""
    import onnx
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    model = convert_sklearn(estimator, initial_types=[("float_input",
                                                       FloatTensorType([None, N_FEATURES]))],
                            options={id(estimator): {"zipmap": False}},
                            target_opset={"": 17, "ai.onnx.ml": 3})
    kept = [o for o in model.graph.output if o.name == "label"]
    del model.graph.output[:]
    model.graph.output.extend(kept)
    onnx.checker.check_model(model)
    return model


def row_values(x, i: int) -> List[float]:
    return [float(v) for v in x[i]]


def body_dataframe_split(values: Sequence[float]) -> str:
    return json.dumps({"dataframe_split": {"columns": feature_names(), "data": [list(values)]}})


def body_v2(values: Sequence[float], name: str, datatype: str) -> str:
    return json.dumps({"inputs": [{"name": name, "shape": [1, len(values)], "datatype": datatype,
                                   "data": list(values)}]})


def body_v2_columns(values: Sequence[float]) -> str:
    """V2 with one FP64 tensor of shape [1] per column, for models with a column signature."""
    return json.dumps({"inputs": [{"name": name, "shape": [1], "datatype": "FP64", "data": [v]}
                                  for name, v in zip(feature_names(), values)]})


def extract_label(answer: Any) -> int:
    """The one predicted label in an MLflow scoring or V2 answer."""
    if isinstance(answer, dict) and "outputs" in answer:
        return int(answer["outputs"][0]["data"][0])
    predictions = answer["predictions"]
    if isinstance(predictions, dict):  # {"label": [1]}
        predictions = next(iter(predictions.values()))
    first = predictions[0]
    if isinstance(first, dict):  # [{"label": 1}]
        first = next(iter(first.values()))
    if isinstance(first, list):
        first = first[0]
    return int(first)

# ----------------------------------------------------------------------------
# Targets: one server and protocol each


class Target:
    """What one load row sends where: `server` + `protocol`, its URL path and body."""

    def __init__(self, server: str, protocol: str, path: str, body_for: Callable[[int], str]):
        self.server, self.protocol, self.path, self.body_for = server, protocol, path, body_for

    @property
    def name(self) -> str:
        return f"{self.server} {self.protocol}"


def check_predictions(port: int, target: Target, expected: Sequence[int]) -> None:
    """Every check row must come back with scikit-learn's own label."""
    for i, want in enumerate(expected):
        status, answer = http_call(port, "POST", target.path, target.body_for(i))
        if status != 200:
            raise BenchError(f"{target.name}: HTTP {status} for row {i}: {str(answer)[:300]}")
        got = extract_label(answer)
        if got != want:
            raise BenchError(f"{target.name}: row {i} predicted {got}, scikit-learn says {want}"
                             f" ({str(answer)[:200]})")


def measure(args, wrk: str, port: int, target: Target, pid: Optional[int],
            rows: List[dict], workdir: Path, expected: Sequence[int]) -> None:
    check_predictions(port, target, expected)
    url = f"http://{HOST}:{port}{target.path}"
    body = target.body_for(0)
    plans = [(c, 0) for c in args.connections]
    if target.server in args.paced_servers and args.paced_rate > 0:
        plans.append((PACED_CONNECTIONS, PACED_DELAY_MS))
    for connections, delay_ms in plans:
        if delay_ms:
            # Each connection waits delay_ms plus its own latency plus timer slack between
            # requests: a short run tells how many connections give the target rate.
            trial = run_wrk(wrk, url, body, connections, max(args.warmup, 2), args.threads,
                            delay_ms, workdir=workdir)
            connections = max(1, round(connections * args.paced_rate / max(trial["rps"], 1)))
        label = f"{target.name} c={connections}" + (f" paced {delay_ms}ms" if delay_ms else "")
        progress(f"  {label}", transient=True)
        if args.warmup > 0 and not delay_ms:
            run_wrk(wrk, url, body, connections, args.warmup, args.threads, delay_ms,
                    workdir=workdir)
        result = run_wrk(wrk, url, body, connections, args.duration, args.threads, delay_ms,
                         server_pid=pid, workdir=workdir)
        rows.append({"server": target.server, "protocol": target.protocol,
                     "connections": connections, "delay_ms": delay_ms, **result})
        progress(f"  {label}: {result['rps']:,.0f} req/s, p50 {result['p50_us']:.0f} us, "
                 f"p99 {result['p99_us']:.0f} us")


# ----------------------------------------------------------------------------
# Cairn set-up


def cairn_env() -> dict:
    # The server as deployed: Python workers pre-started (the test harness turns that off).
    return {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
            "CAIRN_PYTHON_PRESTART": "true"}


# The estimator is fitted on an array, and MLflow hands it a DataFrame: scikit-learn then warns
# "X has feature names" on every request (MLflow's predict resets the warnings registry), and
# each warning is written to the log. Every Python server runs with UserWarnings off.
PYTHON_ENV = {"PYTHONWARNINGS": "ignore::UserWarning"}


def register_models(url: str, estimator, x, onnx_model, sklearn_versions: int = 2) -> None:
    """Registers `gbc-sklearn` (mlflow.sklearn, versions 1..n, the same estimator) and
    `gbc-onnx` (mlflow.onnx, version 1) on the server at `url`."""
    import mlflow
    import mlflow.onnx
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature

    frame = pd.DataFrame(x[:10], columns=feature_names())
    signature = infer_signature(frame, estimator.predict(x[:10]))
    os.environ.update(cairn_env())
    mlflow.set_tracking_uri(url)
    try:
        mlflow.set_experiment("serving-bench")
        for _ in range(sklearn_versions):
            with mlflow.start_run():
                mlflow.sklearn.log_model(estimator, name="model",
                                         registered_model_name="gbc-sklearn",
                                         signature=signature, serialization_format="cloudpickle",
                                         pip_requirements=["mlflow", "scikit-learn"])
        with mlflow.start_run():
            mlflow.onnx.log_model(onnx_model, name="model", registered_model_name="gbc-onnx",
                                  pip_requirements=["onnx", "onnxruntime"])
    finally:
        mlflow.set_tracking_uri(None)


def deploy(port: int, name: str, model: str, version: str, runtime: str,
           options: Optional[dict] = None) -> Dict[str, Any]:
    """Creates a deployment and polls its status until READY; returns the seconds from the
    create call to the first READY status, and the server's load_time_ms."""
    t0 = time.monotonic()
    spec = {"model_name": model, "version": version, "name": name, "runtime": runtime}
    if options:
        spec["options"] = options
    status, answer = http_call(port, "POST", "/api/v1/deployments/create", spec)
    if status != 200:
        raise BenchError(f"deploying {model} v{version} ({runtime}): HTTP {status}: {answer}")
    while answer.get("state") != "READY":
        if answer.get("state") == "FAILED":
            raise BenchError(f"deployment {name} FAILED: {answer.get('reason')}")
        if time.monotonic() - t0 > DEPLOY_TIMEOUT_S:
            raise BenchError(f"deployment {name} not READY after {DEPLOY_TIMEOUT_S:.0f}s")
        time.sleep(0.005)
        status, answer = http_call(port, "GET", f"/api/v1/deployments/{name}/status")
    return {"ready_s": time.monotonic() - t0, "load_time_ms": answer.get("load_time_ms")}


def delete_deployment(port: int, name: str) -> None:
    status, answer = http_call(port, "DELETE", f"/api/v1/deployments/{name}", timeout=60)
    if status != 200:
        raise BenchError(f"deleting {name}: HTTP {status}: {answer}")


def cairn_server(args, workdir: Path) -> benchlib.ServerProcess:
    """A Cairn server over `workdir`/data, started by `with`."""
    server = benchlib.ServerProcess(ServerSpec("cairn", args.cairn_bin), workdir)
    server.extra_env.update(cairn_env())
    server.extra_env.update(PYTHON_ENV)
    return server


def wait_for_spare_worker(log: Path, offset: int, timeout: float = 60.0) -> float:
    """Waits until the server's log (from `offset` on) says that two Python workers are ready:
    the one that loaded the first model and the spare started behind it. Returns the seconds
    waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with open(log, "rb") as f:
            f.seek(offset)
            if len(re.findall(rb"python worker \d+ ready", f.read())) >= 2:
                break
        time.sleep(0.1)
    return time.monotonic() - t0


def deploy_timings(args, workdir: Path) -> Dict[str, Any]:
    """Deploy-to-READY on fresh servers over the same data: per run, the first Python deployment
    (its worker interpreter starts), a second Python version once the spare worker that the
    first started is ready, then an ONNX deployment; all deleted before the server stops."""
    runs = []
    for run in range(args.deploy_runs):
        progress(f"deploy timing run {run + 1}/{args.deploy_runs}", transient=True)
        server = cairn_server(args, workdir)
        offset = server.log_path.stat().st_size if server.log_path.exists() else 0
        with server:
            port = server.port
            timing = {"python_first": deploy(port, f"t{run}-py1", "gbc-sklearn", "1", "python")}
            timing["spare_wait_s"] = wait_for_spare_worker(server.log_path, offset)
            timing["python_second"] = deploy(port, f"t{run}-py2", "gbc-sklearn", "2", "python")
            timing["onnx"] = deploy(port, f"t{run}-onnx", "gbc-onnx", "1", "onnx")
            for name in (f"t{run}-py1", f"t{run}-py2", f"t{run}-onnx"):
                delete_deployment(port, name)
        runs.append(timing)
    summary = {key: {"median_ready_s": statistics.median(r[key]["ready_s"] for r in runs),
                     "max_ready_s": max(r[key]["ready_s"] for r in runs),
                     "median_load_time_ms": statistics.median(
                         r[key]["load_time_ms"] or 0 for r in runs)}
               for key in ("python_first", "python_second", "onnx")}
    return {"runs": runs, "summary": summary}


# ----------------------------------------------------------------------------
# The servers


def bench_echo(args, ctx) -> None:
    binary = build_echo_server()
    port = free_port()
    with running(Process("echo", [str(binary), str(port), "2"], ctx.workdir / "echo.log")) as p:
        p.wait_ready(port, "/")
        target = Target("echo", "fixed", "/invocations", ctx.dataframe_body)
        # The echo server's answer is fixed: nothing to check.
        measure(args, ctx.wrk, port, target, p.pid, ctx.rows, ctx.workdir, expected=[])


def bench_mlflow(args, ctx) -> None:
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature

    model_dir = ctx.workdir / "mlflow-model"
    frame = pd.DataFrame(ctx.x[:10], columns=feature_names())
    mlflow.sklearn.save_model(ctx.estimator, str(model_dir),
                              signature=infer_signature(frame, ctx.estimator.predict(ctx.x[:10])),
                              serialization_format="cloudpickle",
                              pip_requirements=["mlflow", "scikit-learn"])
    port = free_port()
    venv_bin = str(Path(args.mlflow_bin).parent)
    env = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""), **cairn_env(),
               **PYTHON_ENV)
    command = [str(args.mlflow_bin), "models", "serve", "-m", str(model_dir), "-h", HOST,
               "-p", str(port), "--env-manager", "local"]
    with running(Process("mlflow models serve", command, ctx.workdir / "mlflow.log", env)) as p:
        ctx.startup_s["mlflow"] = p.wait_ready(port, "/ping")
        target = Target("mlflow", "invocations", "/invocations", ctx.dataframe_body)
        measure(args, ctx.wrk, port, target, p.pid, ctx.rows, ctx.workdir, ctx.expected)


def bench_mlserver(args, ctx) -> None:
    import joblib
    import sklearn

    mlserver = ensure_mlserver_venv(args.mlserver_venv, sklearn.__version__)
    model_dir = ctx.workdir / "mlserver"
    model_dir.mkdir()
    # mlserver-sklearn loads joblib files, not MLflow's model folder: the same estimator, dumped.
    joblib.dump(ctx.estimator, model_dir / "model.joblib")
    port, grpc, metrics = free_port(), free_port(), free_port()
    (model_dir / "settings.json").write_text(json.dumps(
        {"host": HOST, "http_port": port, "grpc_port": grpc, "metrics_port": metrics}))
    (model_dir / "model-settings.json").write_text(json.dumps(
        {"name": "gbc", "implementation": "mlserver_sklearn.SKLearnModel",
         "parameters": {"uri": "./model.joblib", "version": "v1"}}))
    env = dict(os.environ, PATH=str(mlserver.parent) + os.pathsep + os.environ.get("PATH", ""),
               **PYTHON_ENV)
    env.pop("VIRTUAL_ENV", None)
    with running(Process("mlserver", [str(mlserver), "start", str(model_dir)],
                         ctx.workdir / "mlserver.log", env, cwd=model_dir)) as p:
        ctx.startup_s["mlserver"] = p.wait_ready(port, "/v2/models/gbc/ready")
        target = Target("mlserver", "v2", "/v2/models/gbc/infer",
                        lambda i: body_v2(row_values(ctx.x, i), "input-0", "FP64"))
        measure(args, ctx.wrk, port, target, p.pid, ctx.rows, ctx.workdir, ctx.expected)


def bench_cairn(args, ctx) -> None:
    with cairn_server(args, ctx.workdir) as server:
        port = server.port
        progress("registering the models on Cairn")
        register_models(server.url, ctx.estimator, ctx.x, to_onnx(ctx.estimator))
        ctx.deploys["measured"] = {
            "onnx": deploy(port, "onnx", "gbc-onnx", "1", "onnx"),
            "onnx-nolog": deploy(port, "onnx-nolog", "gbc-onnx", "1", "onnx",
                                 {"log_predictions": False}),
            "python": deploy(port, "py", "gbc-sklearn", "1", "python")}
        if args.perf_record:
            ctx.perf = perf_during(args, ctx, server)
        for server_name, endpoint, v2 in (
                ("cairn-onnx", "onnx", lambda i: body_v2(row_values(ctx.x, i), "float_input",
                                                         "FP32")),
                # The sklearn model's signature has 20 columns: one V2 tensor per column.
                ("cairn-python", "py", lambda i: body_v2_columns(row_values(ctx.x, i)))):
            for target in (Target(server_name, "invocations", f"/endpoints/{endpoint}/invocations",
                                  ctx.dataframe_body),
                           Target(server_name, "v2", f"/v2/models/{endpoint}/infer", v2)):
                measure(args, ctx.wrk, port, target, server.pid, ctx.rows, ctx.workdir,
                        ctx.expected)
        # What logging every prediction to the event stream (the default) costs.
        measure(args, ctx.wrk, port,
                Target("cairn-onnx-nolog", "v2", "/v2/models/onnx-nolog/infer",
                       lambda i: body_v2(row_values(ctx.x, i), "float_input", "FP32")),
                server.pid, ctx.rows, ctx.workdir, ctx.expected)
        # Deploy timing restarts the server over the same data: leave nothing to restore.
        for name in ("onnx", "onnx-nolog", "py"):
            delete_deployment(port, name)
    if args.deploy_runs > 0:
        ctx.deploys.update(deploy_timings(args, ctx.workdir))


def perf_during(args, ctx, server) -> Optional[str]:
    """`perf record -g` of the Cairn server during 8-connection ONNX V2 load; returns the
    report's top lines."""
    if not shutil.which("perf"):
        return None
    url = f"http://{HOST}:{server.port}/v2/models/onnx/infer"
    data = ctx.workdir / "perf.data"
    perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-o", str(data), "-p",
                             str(server.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run_wrk(ctx.wrk, url, body_v2(row_values(ctx.x, 0), "float_input", "FP32"), 8,
                args.duration, args.threads, workdir=ctx.workdir)
    finally:
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=60)
    out = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--stdio",
                          "--percent-limit", "1", "-g", "none", "--sort", "dso,sym"],
                         capture_output=True, text=True)
    report = ctx.workdir / "perf-report.txt"
    report.write_text(out.stdout)
    return "\n".join(line for line in out.stdout.splitlines() if line and line[0] != "#")


# ----------------------------------------------------------------------------
# Report


def best(rows: List[dict], server: str, protocol: str, connections: int) -> Optional[dict]:
    for row in rows:
        if (row["server"], row["protocol"], row["connections"], row["delay_ms"]) == (
                server, protocol, connections, 0):
            return row
    return None


def ratios(rows: List[dict], connections: Sequence[int]) -> Dict[str, Any]:
    """Throughput ratios per connection count, and Cairn's latency over the echo server's."""
    pairs = {
        "cairn-onnx v2 / mlflow invocations": (("cairn-onnx", "v2"), ("mlflow", "invocations")),
        "cairn-onnx invocations / mlflow invocations": (("cairn-onnx", "invocations"),
                                                        ("mlflow", "invocations")),
        "cairn-onnx v2 / mlserver v2": (("cairn-onnx", "v2"), ("mlserver", "v2")),
        "cairn-onnx invocations / mlserver v2": (("cairn-onnx", "invocations"),
                                                 ("mlserver", "v2")),
        "cairn-python invocations / mlflow invocations": (("cairn-python", "invocations"),
                                                          ("mlflow", "invocations")),
        "cairn-python v2 / mlserver v2": (("cairn-python", "v2"), ("mlserver", "v2")),
        "cairn-onnx v2 / echo": (("cairn-onnx", "v2"), ("echo", "fixed")),
        "cairn-onnx invocations / echo": (("cairn-onnx", "invocations"), ("echo", "fixed")),
        "cairn-onnx-nolog v2 / echo": (("cairn-onnx-nolog", "v2"), ("echo", "fixed")),
        "cairn-onnx-nolog v2 / cairn-onnx v2": (("cairn-onnx-nolog", "v2"), ("cairn-onnx", "v2")),
    }
    out: Dict[str, Any] = {}
    for name, (ours, theirs) in pairs.items():
        for c in connections:
            a, b = best(rows, *ours, c), best(rows, *theirs, c)
            if a and b and b["rps"]:
                entry = {"throughput_ratio": a["rps"] / b["rps"]}
                if theirs[0] == "echo":
                    entry["p50_overhead_us"] = a["p50_us"] - b["p50_us"]
                    entry["p99_overhead_us"] = a["p99_us"] - b["p99_us"]
                out[f"{name} c={c}"] = entry
    return out


def goals(rows: List[dict], ratio: Dict[str, Any], deploys: Dict[str, Any]) -> List[str]:
    lines = []
    paced = [r for r in rows if r["server"] == "cairn-onnx" and r["delay_ms"]]
    for row in paced:
        ok = row["p99_us"] is not None and row["p99_us"] < 1000 and row["rps"] >= 1900
        lines.append(f"ONNX {row['protocol']} p99 < 1 ms at ~2,000 req/s: p99 "
                     f"{row['p99_us']:.0f} us at {row['rps']:,.0f} req/s "
                     f"{'PASS' if ok else 'FAIL'}")
    for name, bar in (("cairn-onnx v2 / mlflow invocations", 20),
                      ("cairn-onnx v2 / mlserver v2", 20),
                      ("cairn-python invocations / mlflow invocations", 1)):
        found = {k: v for k, v in ratio.items() if k.startswith(name + " c=")}
        if found:  # The bar holds at every connection count.
            low = min(v["throughput_ratio"] for v in found.values())
            text = ", ".join(f"{k.rsplit(' ', 1)[1]}: {v['throughput_ratio']:.1f}x"
                             for k, v in found.items())
            lines.append(f"{name} >= {bar}x: {text} {'PASS' if low >= bar else 'FAIL'}")
    summary = deploys.get("summary", {})
    for key, bar in (("onnx", 1.0), ("python_first", 3.0), ("python_second", 3.0)):
        if key in summary:
            value = summary[key]["median_ready_s"]
            lines.append(f"deploy {key} < {bar:.0f} s: median {value:.2f} s "
                         f"{'PASS' if value < bar else 'FAIL'}")
    return lines


def results_table(rows: List[dict]) -> str:
    header = ("server", "protocol", "conns", "paced", "req/s", "p50 us", "p90 us", "p99 us",
              "srv CPU", "wrk CPU", "errors")
    lines = [header]
    for r in rows:
        def us(v):
            return "-" if v is None else f"{v:,.0f}"
        lines.append((r["server"], r["protocol"], str(r["connections"]),
                      f"{r['delay_ms']}ms" if r["delay_ms"] else "", f"{r['rps']:,.0f}",
                      us(r["p50_us"]), us(r["p90_us"]), us(r["p99_us"]),
                      f"{r.get('server_cpu_cores', 0):.2f}", f"{r['client_cpu_cores']:.2f}",
                      str(r["non_2xx"] + r["socket_errors"])))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(cell.ljust(w) if i < 4 else cell.rjust(w)
                             for i, (cell, w) in enumerate(zip(line, widths))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


# ----------------------------------------------------------------------------
# Entry point


class Context:
    def __init__(self, workdir: Path, wrk: str) -> None:
        self.workdir, self.wrk = workdir, wrk
        self.estimator, self.x = make_model()
        self.expected = [int(v) for v in self.estimator.predict(self.x[:CHECK_ROWS])]
        self.rows: List[dict] = []
        self.startup_s: Dict[str, float] = {}
        self.deploys: Dict[str, Any] = {}
        self.perf: Optional[str] = None

    def dataframe_body(self, i: int) -> str:
        return body_dataframe_split(row_values(self.x, i))


SUITES = {"echo": bench_echo, "mlflow": bench_mlflow, "mlserver": bench_mlserver,
          "cairn": bench_cairn}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0,
                        help="measured seconds per wrk run (default: 10)")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="unmeasured wrk seconds before each run (default: 2; 0: none)")
    parser.add_argument("--connections", default="1,8",
                        help="comma-separated wrk connection counts (default: 1,8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default: 2)")
    parser.add_argument("--paced-rate", type=float, default=2000,
                        help="target req/s of the paced run: connections that each wait "
                             f"{PACED_DELAY_MS} ms before a request, as many as a trial run "
                             "says give this rate (0: no paced run; default 2000)")
    parser.add_argument("--paced-servers", default="cairn-onnx,echo",
                        help="servers that get the paced run (default: cairn-onnx,echo)")
    parser.add_argument("--servers", default="echo,mlflow,mlserver,cairn",
                        help="which servers to run (default: echo,mlflow,mlserver,cairn)")
    parser.add_argument("--deploy-runs", type=int, default=3,
                        help="fresh Cairn servers for deploy timing (default: 3; 0: skip)")
    parser.add_argument("--perf-record", action="store_true",
                        help="also `perf record` Cairn under 8-connection ONNX V2 load")
    parser.add_argument("--cairn-bin", type=Path, default=benchlib.DEFAULT_CAIRN_BIN)
    parser.add_argument("--mlflow-bin", type=Path, default=benchlib.DEFAULT_MLFLOW_BIN)
    parser.add_argument("--mlserver-venv", type=Path, default=DEFAULT_MLSERVER_VENV,
                        help="MLServer's own virtualenv, created when missing "
                             "(default: bench/.venv-mlserver)")
    parser.add_argument("--keep-workdir", action="store_true",
                        help="keep the temporary folder (server logs, models)")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON output (default: bench/results/serving-<timestamp>.json)")
    args = parser.parse_args(argv)
    args.connections = [int(c) for c in args.connections.split(",") if c.strip()]
    args.paced_servers = [s.strip() for s in args.paced_servers.split(",") if s.strip()]
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(args.servers) - set(SUITES)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if "cairn" in args.servers and not os.access(args.cairn_bin, os.X_OK):
        print(f"error: cairn binary not found: {args.cairn_bin} (scripts/build.sh release)",
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, benchlib.raise_keyboard_interrupt)
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1) / 2:
        progress(f"warning: load average {load:.1f} on {os.cpu_count()} cores; numbers will "
                 "be noisy")
    workdir = Path(tempfile.mkdtemp(prefix="serving-bench-"))
    failed: Dict[str, str] = {}
    try:
        ctx = Context(workdir, ensure_wrk())
        for name in args.servers:
            progress(f"[{name}]")
            try:
                SUITES[name](args, ctx)
            except BenchError as e:
                print(f"error: [{name}] {e}", file=sys.stderr)
                failed[name] = str(e)
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if not args.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            progress(f"kept {workdir}")

    ratio = ratios(ctx.rows, args.connections)
    goal_lines = goals(ctx.rows, ratio, ctx.deploys)
    print()
    print(results_table(ctx.rows))
    print("\nwrk: closed loop, keep-alive, one row per request; paced: each connection waits "
          "before its next request. srv/wrk CPU: cores used by the server's process tree / "
          f"by wrk ({os.cpu_count()} cores here).")
    print("\nratios (throughput; overhead = latency above the echo server's):")
    for name, entry in ratio.items():
        extra = "".join(f", {k[:3]} latency {v:+,.0f} us" for k, v in entry.items()
                        if k.endswith("_overhead_us"))
        print(f"  {name}: {entry['throughput_ratio']:.2f}x{extra}")
    summary = ctx.deploys.get("summary")
    if summary:
        print(f"\ndeploy to READY (median of {args.deploy_runs} fresh servers):")
        for key, value in summary.items():
            print(f"  {key}: {value['median_ready_s']:.3f} s (max {value['max_ready_s']:.3f} s,"
                  f" server load_time_ms {value['median_load_time_ms']})")
    print("\ngoals:")
    for line in goal_lines:
        print(f"  {line}")
    if ctx.perf:
        print("\nperf (Cairn, 8-connection ONNX V2 load; self time by dso/symbol >= 1%):")
        print("\n".join(ctx.perf.splitlines()[:40]))
    for name, error in failed.items():
        print(f"\nfailed: {name}: {error.splitlines()[0]}")

    document = {
        "timestamp": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                    "python": platform.python_version(), "loadavg_at_start": load},
        "git_commit": benchlib.tool_version(["git", "rev-parse", "HEAD"]),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "model": {"estimator": f"GradientBoostingClassifier(n_estimators={N_TREES})",
                  "features": N_FEATURES, "seed": SEED},
        "versions": {"mlflow": benchlib.tool_version([str(args.mlflow_bin), "--version"]),
                     "wrk": benchlib.tool_version(["dpkg-query", "-W", "-f=${Version}", "wrk"])},
        "startup_s": ctx.startup_s,
        "results": ctx.rows,
        "ratios": ratio,
        "deploy": ctx.deploys,
        "goals": goal_lines,
        "perf": ctx.perf,
        "failed": failed,
    }
    output = args.output or benchlib.RESULTS_DIR / (
        f"serving-{datetime.datetime.now():%Y%m%d-%H%M%S}.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {output}")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
