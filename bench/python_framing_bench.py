"""Python worker framing vs plain JSON, for the same tabular request.

Compares the binary frames of src/runtime/python (a JSON header plus raw little-endian column
buffers, read with numpy.frombuffer) with the JSON that `mlflow models serve` takes
({"dataframe_split": ...}, parsed by MLflow's own scoring-server functions), for a one-row and
a 1000-row table of the four iris features (FP64), answered by an sklearn LogisticRegression
saved with mlflow.sklearn.

Two measurements per table size:
  codec       the worker's side only: request bytes -> pandas DataFrame, and the model's INT64
              predictions -> response bytes (no model call, no transport);
  round trip  the pre-encoded request over a Unix socketpair to a worker process that parses
              it, predicts and answers; the client reads the answer into numbers. The frame
              worker is the real worker.py; the JSON worker runs MLflow's scoring-server path
              (_split_data_and_params, infer_and_parse_data, predictions_to_json) over the
              same socketpair with a 4-byte length prefix. The time pyfunc's predict itself
              takes (schema enforcement included) is shown beside it.

Usage: .venv/bin/python bench/python_framing_bench.py [--seconds 2]
Needs mlflow, scikit-learn, pandas and numpy (the project's .venv has them).
"""

import argparse
import io
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "src", "runtime", "python", "worker.py")
sys.path.insert(0, os.path.dirname(WORKER))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import worker as W  # noqa: E402  (the frame codec the server's workers run)

LEN = struct.Struct("<I")


# ---- the JSON worker: mlflow models serve's parsing, over a socketpair ------------------------


def json_parse(text, schema):
    from mlflow.pyfunc.scoring_server import _split_data_and_params, infer_and_parse_data

    data, _params = _split_data_and_params(text)
    return infer_and_parse_data(data, schema)


def json_answer(predictions):
    from mlflow.pyfunc.scoring_server import predictions_to_json

    out = io.StringIO()
    predictions_to_json(predictions, out)
    return out.getvalue().encode()


def recv_exact(sock, n):
    buf = bytearray(n)
    return buf if W.recv_exact(sock, memoryview(buf)) else None


def json_worker(fd, model_dir):
    import mlflow.pyfunc

    sock = socket.socket(fileno=fd)
    model = mlflow.pyfunc.load_model(model_dir)
    schema = model.metadata.get_input_schema()
    sock.sendall(b"ok")
    while True:
        head = recv_exact(sock, 4)
        if head is None:
            return
        body = recv_exact(sock, LEN.unpack(head)[0])
        answer = json_answer(model.predict(json_parse(body.decode(), schema)))
        sock.sendall(LEN.pack(len(answer)) + answer)


# ---- encodings of the same table ---------------------------------------------------------------


def frame_request(table):
    specs, buffers = [], []
    for name in table.columns:
        column = np.ascontiguousarray(table[name].to_numpy(dtype="<f8"))
        specs.append({"name": name, "datatype": "FP64", "shape": [len(column)],
                      "size": column.nbytes})
        buffers.append(column.tobytes())
    header = {"op": "predict", "id": 1, "columnar": True, "params": None, "tensors": specs}
    head = json.dumps(header, separators=(",", ":")).encode()
    payload = b"".join(buffers)
    return W._PREFIX.pack(len(head), len(payload)) + head + payload


def json_request(table):
    split = {"columns": list(table.columns), "data": table.to_numpy().tolist()}
    return json.dumps({"dataframe_split": split}).encode()


def frame_answer(predictions):
    columnar, named = W.encode_output(predictions)
    specs, buffers = [], []
    for name, value in named:
        spec, bufs = W.encode_array(name, value)
        specs.append(spec)
        buffers.extend(bufs)
    head = json.dumps({"op": "result", "id": 1, "columnar": columnar, "tensors": specs},
                      separators=(",", ":")).encode()
    payload = b"".join(bytes(b) for b in buffers)
    return W._PREFIX.pack(len(head), len(payload)) + head + payload


def frame_parse(frame, served):
    header_len, _payload_len = W._PREFIX.unpack_from(frame)
    body = memoryview(bytearray(frame))[W._PREFIX.size:]
    header = json.loads(bytes(body[:header_len]))
    return served.model_input(header, body[header_len:])


# ---- measuring ---------------------------------------------------------------------------------


def timed(fn, seconds):
    """Per-call latencies in microseconds over about `seconds`."""
    for _ in range(20):
        fn()
    samples = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e6)
    return samples


def summary(samples):
    samples = sorted(samples)
    return statistics.median(samples), samples[int(0.99 * (len(samples) - 1))]


def start_frame_worker(model_dir):
    parent, child = socket.socketpair()
    script = open(WORKER).read()
    proc = subprocess.Popen([sys.executable, "-u", "-c", script, str(child.fileno())],
                            pass_fds=[child.fileno()], stderr=subprocess.DEVNULL)
    child.close()
    assert W.recv_frame(parent)[0]["op"] == "ready"
    W.send_frame(parent, {"op": "load", "id": 0, "path": model_dir})
    assert W.recv_frame(parent)[0]["op"] == "loaded"
    return proc, parent


def start_json_worker(model_dir):
    parent, child = socket.socketpair()
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--json-worker",
                             str(child.fileno()), model_dir], pass_fds=[child.fileno()],
                            stderr=subprocess.DEVNULL)
    child.close()
    assert recv_exact(parent, 2) == b"ok"
    return proc, parent


def frame_call(sock, request):
    sock.sendall(request)
    header, payload = W.recv_frame(sock)
    spec = header["tensors"][0]
    return np.frombuffer(payload, dtype="<i8", count=spec["shape"][0])


def json_call(sock, request):
    sock.sendall(LEN.pack(len(request)) + request)
    answer = recv_exact(sock, LEN.unpack(recv_exact(sock, 4))[0])
    return json.loads(bytes(answer))["predictions"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--json-worker", nargs=2, metavar=("FD", "MODEL_DIR"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json_worker:
        json_worker(int(args.json_worker[0]), args.json_worker[1])
        return

    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    iris = load_iris(as_frame=True)
    features = iris.data
    model = LogisticRegression(max_iter=1000).fit(features, iris.target)
    workdir = tempfile.mkdtemp(prefix="cairn-framing-bench-")
    model_dir = os.path.join(workdir, "iris")
    mlflow.sklearn.save_model(model, model_dir, pip_requirements=["mlflow"],
                              signature=infer_signature(features, model.predict(features)))
    pyfunc = mlflow.pyfunc.load_model(model_dir)
    served = W.Served(pyfunc)
    schema = pyfunc.metadata.get_input_schema()

    frame_proc, frame_sock = start_frame_worker(model_dir)
    json_proc, json_sock = start_json_worker(model_dir)
    rng = np.random.default_rng(0)
    rows = [("1 row", 1), ("1000 rows", 1000)]
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"mlflow {mlflow.__version__}; {args.seconds:g} s per measurement; "
          "latencies in microseconds, median / p99")
    print(f"{'table':<10} {'what':<22} {'frames':>18} {'JSON':>18} {'JSON/frames':>12}")
    try:
        for label, n in rows:
            table = features.iloc[rng.integers(0, len(features), n)].reset_index(drop=True)
            predictions = model.predict(table)
            freq, jreq = frame_request(table), json_request(table)
            fans, jans = frame_answer(predictions), json_answer(predictions)
            assert (frame_parse(freq, served).to_numpy() == json_parse(jreq.decode(), schema)
                    .to_numpy()).all()
            assert list(frame_call(frame_sock, freq)) == json_call(json_sock, jreq) == list(
                predictions)

            def row(what, f, j):
                fm, fp = summary(timed(f, args.seconds))
                jm, jp = summary(timed(j, args.seconds))
                print(f"{label:<10} {what:<22} {fm:>8.1f} / {fp:>7.1f} {jm:>8.1f} / {jp:>7.1f} "
                      f"{jm / fm:>11.1f}x")

            print(f"{label:<10} {'request bytes':<22} {len(freq):>18} {len(jreq):>18} "
                  f"{len(jreq) / len(freq):>11.1f}x")
            print(f"{label:<10} {'response bytes':<22} {len(fans):>18} {len(jans):>18} "
                  f"{len(jans) / len(fans):>11.1f}x")
            row("codec: parse request", lambda: frame_parse(freq, served),
                lambda: json_parse(jreq.decode(), schema))
            row("codec: write answer", lambda: frame_answer(predictions),
                lambda: json_answer(predictions))
            row("round trip", lambda: frame_call(frame_sock, freq),
                lambda: json_call(json_sock, jreq))
            pm, pp = summary(timed(lambda: pyfunc.predict(table), args.seconds))
            print(f"{label:<10} {'(pyfunc predict alone)':<22} {pm:>8.1f} / {pp:>7.1f}")
    finally:
        for sock, proc in ((frame_sock, frame_proc), (json_sock, json_proc)):
            sock.close()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
