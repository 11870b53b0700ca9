"""The Python half of bench/gpu/check.sh (run it through check.sh, which prepares the
environment): starts Cairn with the given ONNX Runtime library, registers a 512-4096-4096-10 MLP,
deploys it on device cpu and device cuda, checks the answers, and measures both.

Needs numpy, onnx and onnxruntime (or onnxruntime-gpu) in the running interpreter; talks to the
server over plain HTTP (no mlflow client needed).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
import server_process  # noqa: E402  (standard library only)

LAYERS = (512, 4096, 4096, 10)
SEED = 0
BATCHES = (1, 64)
CONCURRENCY = (1, 8)
DEPLOY_TIMEOUT_S = 300.0
# ONNX Runtime's CUDA provider may use TF32 and other reduction orders: compare with a tolerance
# relative to the outputs' scale. The cpu deployment must match onnxruntime in Python closely.
CUDA_REL_TOL = 1e-2
CPU_REL_TOL = 1e-5


class CheckFailed(Exception):
    pass


def make_mlp() -> onnx.ModelProto:
    """x [N, 512] -> Gemm+Relu -> 4096 -> Gemm+Relu -> 4096 -> Gemm -> y [N, 10]; He-initialised
    random weights, fixed seed, so the outputs stay of order one."""
    rng = np.random.default_rng(SEED)
    nodes, inits = [], []
    current = "x"
    for i, (fan_in, fan_out) in enumerate(zip(LAYERS, LAYERS[1:])):
        w = (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = (rng.standard_normal(fan_out) * 0.01).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        last = i == len(LAYERS) - 2
        out = "y" if last else f"h{i}"
        gemm_out = out if last else f"g{i}"
        nodes.append(helper.make_node("Gemm", [current, f"w{i}", f"b{i}"], [gemm_out]))
        if not last:
            nodes.append(helper.make_node("Relu", [gemm_out], [out]))
        current = out
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", LAYERS[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", LAYERS[-1]])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


MLMODEL = """\
artifact_path: model
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_session_options: null
    onnx_version: {onnx_version}
    providers:
    - CUDAExecutionProvider
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    loader_module: mlflow.onnx
    python_version: {python_version}
model_size_bytes: {size}
model_uuid: {uuid}
utc_time_created: '{created}'
"""


class Api:
    def __init__(self, port: int) -> None:
        self.port = port

    def call(self, method: str, path: str, body=None, raw: bytes | None = None,
             timeout: float = 300) -> tuple[int, object]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = raw if raw is not None else (json.dumps(body) if body is not None else None)
            ctype = "application/octet-stream" if raw is not None else "application/json"
            conn.request(method, path, data, {"Content-Type": ctype})
            resp = conn.getresponse()
            text = resp.read()
            try:
                return resp.status, json.loads(text) if text else {}
            except ValueError:
                return resp.status, text.decode(errors="replace")
        finally:
            conn.close()

    def ok(self, method: str, path: str, body=None, raw: bytes | None = None) -> dict:
        status, answer = self.call(method, path, body, raw)
        if status != 200:
            raise CheckFailed(f"{method} {path}: HTTP {status}: {str(answer)[:500]}")
        return answer


def register(api: Api, model: onnx.ModelProto, name: str) -> str:
    """Logs the model as MLflow's onnx flavor through the REST API and registers version 1."""
    mlflow = "/api/2.0/mlflow"
    exp = api.ok("POST", f"{mlflow}/experiments/create", {"name": f"gpu-check-{name}"})
    run = api.ok("POST", f"{mlflow}/runs/create",
                 {"experiment_id": exp["experiment_id"], "start_time": int(time.time() * 1000)})
    artifact_uri = run["run"]["info"]["artifact_uri"]
    if not artifact_uri.startswith("mlflow-artifacts:/"):
        raise CheckFailed(f"unexpected run artifact_uri {artifact_uri}")
    base = "/api/2.0/mlflow-artifacts/artifacts/" + artifact_uri[len("mlflow-artifacts:/"):]
    blob = model.SerializeToString()
    api.ok("PUT", f"{base}/model/model.onnx", raw=blob)
    now = datetime.datetime.now(datetime.timezone.utc)
    mlmodel = MLMODEL.format(onnx_version=onnx.__version__,
                             python_version=".".join(map(str, sys.version_info[:3])),
                             size=len(blob), uuid=uuid.uuid4().hex,
                             created=now.strftime("%Y-%m-%d %H:%M:%S.%f"))
    api.ok("PUT", f"{base}/model/MLmodel", raw=mlmodel.encode())
    api.ok("POST", f"{mlflow}/registered-models/create", {"name": name})
    version = api.ok("POST", f"{mlflow}/model-versions/create",
                     {"name": name, "source": f"{artifact_uri}/model",
                      "run_id": run["run"]["info"]["run_id"]})
    return version["model_version"]["version"]


def deploy(api: Api, model: str, version: str, name: str, device: str, threads: int) -> dict:
    """Creates the deployment and waits until it is READY or FAILED; returns its status."""
    t0 = time.monotonic()
    status = api.ok("POST", "/api/v1/deployments/create",
                    {"model_name": model, "version": version, "name": name, "runtime": "onnx",
                     "device": device, "options": {"intra_op_threads": threads}})
    while status["state"] not in ("READY", "FAILED"):
        if time.monotonic() - t0 > DEPLOY_TIMEOUT_S:
            raise CheckFailed(f"{name} not READY after {DEPLOY_TIMEOUT_S:.0f}s: {status}")
        time.sleep(0.05)
        status = api.ok("GET", f"/api/v1/deployments/{name}/status")
    status["ready_s"] = time.monotonic() - t0
    return status


def v2_body(x: np.ndarray) -> bytes:
    return json.dumps({"inputs": [{"name": "x", "shape": list(x.shape), "datatype": "FP32",
                                   "data": x.ravel().tolist()}]}).encode()


def predict(api: Api, name: str, x: np.ndarray) -> np.ndarray:
    answer = api.ok("POST", f"/v2/models/{name}/infer", raw=v2_body(x))
    out = answer["outputs"][0]
    return np.asarray(out["data"], dtype=np.float32).reshape(out["shape"])


def compare(what: str, got: np.ndarray, want: np.ndarray, rel_tol: float) -> dict:
    scale = float(np.max(np.abs(want))) or 1.0
    err = float(np.max(np.abs(got - want)))
    ok = got.shape == want.shape and err <= rel_tol * scale
    print(f"  {what}: max |diff| {err:.3g} (outputs up to {scale:.3g}, allowed "
          f"{rel_tol * scale:.3g}) {'OK' if ok else 'MISMATCH'}")
    if not ok:
        raise CheckFailed(f"{what}: outputs differ by {err:.3g}, more than {rel_tol * scale:.3g}")
    return {"max_abs_diff": err, "scale": scale}


def load(port: int, path: str, body: bytes, concurrency: int, duration: float) -> dict:
    """Closed-loop keep-alive load from `concurrency` threads; 1 s of warm-up not counted."""
    start = time.monotonic() + 1.0
    stop = start + duration
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while True:
            t0 = time.monotonic()
            if t0 >= stop:
                break
            try:
                conn.request("POST", path, body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                good = resp.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                good = False
            t1 = time.monotonic()
            if start <= t1 < stop:
                if good:
                    mine.append(t1 - t0)
                else:
                    with lock:
                        errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()

    def pct(q):
        return latencies[max(0, int(np.ceil(q * len(latencies))) - 1)] * 1e3 if latencies else None

    return {"requests_per_s": len(latencies) / duration, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "errors": errors[0]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cairn-bin", type=Path, required=True)
    parser.add_argument("--ort-lib", required=True)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--cpu-threads", type=int, default=4)
    parser.add_argument("--cpu-only", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    print(f"onnxruntime (Python) {onnxruntime.__version__}, providers "
          f"{onnxruntime.get_available_providers()}")
    if not args.cpu_only and "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        print("check.sh: this onnxruntime has no CUDAExecutionProvider", file=sys.stderr)
        return 2
    model = make_mlp()
    reference = onnxruntime.InferenceSession(model.SerializeToString(),
                                             providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(SEED + 1)
    x64 = rng.standard_normal((64, LAYERS[0])).astype(np.float32)
    want = reference.run(["y"], {"x": x64})[0]

    workdir = Path(tempfile.mkdtemp(prefix="cairn-gpu-check-"))
    server = server_process.ServerProcess(
        "cairn", workdir / "data", binary=args.cairn_bin, log_path=workdir / "server.log",
        extra_args=("--onnxruntime-library", args.ort_lib), ready_timeout=60)
    report: dict = {"layers": LAYERS, "cpu_only": args.cpu_only, "ort_lib": args.ort_lib,
                    "deployments": {}, "checks": {}, "load": []}
    failures: list[str] = []
    try:
        server.start()
        api = Api(server.port)
        t0 = time.monotonic()
        version = register(api, model, "mlp")
        print(f"registered mlp v{version} ({model.ByteSize() / 2**20:.0f} MiB) in "
              f"{time.monotonic() - t0:.1f}s")
        ready = {}
        for device in ("cpu", "cuda"):
            status = deploy(api, "mlp", version, f"mlp-{device}", device, args.cpu_threads)
            report["deployments"][device] = status
            print(f"deploy {device}: {status['state']} in {status['ready_s']:.2f}s"
                  + (f": {status.get('reason')}" if status["state"] == "FAILED" else ""))
            if status["state"] == "READY":
                ready[device] = f"mlp-{device}"
        if "cpu" not in ready:
            raise CheckFailed(f"device cpu did not load: {report['deployments']['cpu']}")
        if "cuda" not in ready:
            reason = report["deployments"]["cuda"].get("reason", "")
            if not args.cpu_only:
                raise CheckFailed(f"device cuda did not load: {reason}")
            if "CUDA" not in reason:
                raise CheckFailed(f"device cuda refused without a clear reason: {reason!r}")
            print("  device cuda refused as expected on this library (--cpu-only)")

        print("checks (batch 64):")
        got_cpu = predict(api, ready["cpu"], x64)
        report["checks"]["cpu_vs_onnxruntime_python"] = compare(
            "cairn cpu vs onnxruntime Python", got_cpu, want, CPU_REL_TOL)
        if "cuda" in ready:
            got_cuda = predict(api, ready["cuda"], x64)
            report["checks"]["cuda_vs_cpu"] = compare("cairn cuda vs cairn cpu", got_cuda,
                                                      got_cpu, CUDA_REL_TOL)
            one = predict(api, ready["cuda"], x64[:1])
            report["checks"]["cuda_batch1"] = compare("cairn cuda, batch 1", one, want[:1],
                                                      CUDA_REL_TOL)

        print(f"\n{'device':<6} {'batch':>5} {'conc':>4} {'req/s':>9} {'rows/s':>10} "
              f"{'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
        for device, name in ready.items():
            for batch in BATCHES:
                body = v2_body(x64[:batch])
                for conc in CONCURRENCY:
                    r = load(server.port, f"/v2/models/{name}/infer", body, conc, args.duration)
                    r.update(device=device, batch=batch, concurrency=conc,
                             rows_per_s=r["requests_per_s"] * batch)
                    report["load"].append(r)
                    print(f"{device:<6} {batch:>5} {conc:>4} {r['requests_per_s']:>9,.0f} "
                          f"{r['rows_per_s']:>10,.0f} {r['p50_ms'] or 0:>8.2f} "
                          f"{r['p99_ms'] or 0:>8.2f} {r['errors']:>6}")
                    if r["errors"]:
                        failures.append(f"{device} batch {batch} x{conc}: {r['errors']} errors")
        for device in ready:
            api.ok("DELETE", f"/api/v1/deployments/mlp-{device}")
    except (CheckFailed, server_process.ServerStartError) as e:
        failures.append(str(e))
    finally:
        server.stop()
        if failures:
            print(f"\nserver log (last lines, {workdir / 'server.log'}):\n{server.log_tail()}")

    out = ROOT / "bench" / "results" / f"gpu-check-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report["failures"] = failures
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nwrote {out}")
    if not args.keep and not failures:
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("\nPASS" + (" (cpu only)" if args.cpu_only else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
