"""`cairn serve`: one model served as `mlflow models serve` serves it, from a local MLflow model
folder (a scikit-learn model, through the Python runtime) and from models:/ on a tracking server
(an ONNX model, fetched through the server's artifact proxy). Scored over /invocations and V2,
checked against the estimator; SIGTERM stops it cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import mlflow
import mlflow.onnx
import mlflow.sklearn
import numpy as np
import pytest
import requests
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from server_process import cairn_binary, free_port

pytestmark = pytest.mark.cairn_only


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True, as_frame=True)
    return x, y, LogisticRegression(max_iter=1000).fit(x, y)


def start_serve(*args: str, tmp_path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(tmp_path / f"serve-{port}.log", "wb")
    proc = subprocess.Popen([str(cairn_binary()), "serve", "--port", str(port), *args],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "CAIRN_PYTHON": sys.executable})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{url}/ping", timeout=2).status_code == 200:
                return proc, url
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError((tmp_path / f"serve-{port}.log").read_text())
        time.sleep(0.1)


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_serve_a_local_sklearn_folder(iris, tmp_path):
    x, _, estimator = iris
    folder = tmp_path / "model"
    mlflow.sklearn.save_model(estimator, folder, input_example=x.iloc[:2],
                              serialization_format="cloudpickle")
    proc, url = start_serve("--model-uri", str(folder), "--name", "iris", tmp_path=tmp_path)
    try:
        resp = requests.post(f"{url}/invocations",
                             json={"dataframe_split": x.iloc[:5].to_dict(orient="split")},
                             timeout=60)
        assert resp.status_code == 200, resp.text
        assert resp.json()["predictions"] == estimator.predict(x.iloc[:5]).tolist()
        assert requests.get(f"{url}/health", timeout=10).status_code == 200
        assert requests.get(f"{url}/v2/models/iris/ready", timeout=10).json()["ready"] is True
        assert "cairn_predictions_total" in requests.get(f"{url}/metrics", timeout=10).text
    finally:
        assert stop(proc) == 0


def test_serve_models_uri_from_a_tracking_server(base_url, iris, tmp_path):
    x, y, _ = iris
    features = x.to_numpy(dtype=np.float32)
    estimator = LogisticRegression(max_iter=1000).fit(features, y)
    model = to_onnx(estimator, features[:1], options={id(estimator): {"zipmap": False}})
    mlflow.set_tracking_uri(base_url)
    with mlflow.start_run():
        mlflow.onnx.log_model(model, name="model", registered_model_name="served-iris")
    mlflow.MlflowClient(base_url).set_registered_model_alias("served-iris", "prod", "1")
    proc, url = start_serve("--model-uri", "models:/served-iris@prod", "--tracking-uri", base_url,
                            tmp_path=tmp_path)
    try:
        resp = requests.post(f"{url}/v2/models/model/infer", json={"inputs": [
            {"name": "X", "shape": [3, 4], "datatype": "FP32",
             "data": features[:3].ravel().tolist()}]}, timeout=60)
        assert resp.status_code == 200, resp.text
        outputs = {o["name"]: o for o in resp.json()["outputs"]}
        assert outputs["label"]["data"] == estimator.predict(features[:3]).tolist()
        resp = requests.post(f"{url}/invocations", json={"instances": features[:3].tolist()},
                             timeout=60)
        assert resp.json()["predictions"]["label"] == estimator.predict(features[:3]).tolist()
    finally:
        assert stop(proc) == 0


def test_serve_refuses_what_it_cannot_serve(tmp_path):
    binary = str(cairn_binary())
    missing = subprocess.run([binary, "serve", "--model-uri", str(tmp_path / "nothing"),
                              "--port", str(free_port())], capture_output=True, timeout=60)
    assert missing.returncode == 1 and b"MLmodel" in missing.stderr
    no_tracking = subprocess.run([binary, "serve", "--model-uri", "models:/x/1", "--tracking-uri",
                                  "", "--port", str(free_port())], capture_output=True,
                                 timeout=60)
    assert no_tracking.returncode == 1 and b"tracking" in no_tracking.stderr
    usage = subprocess.run([binary, "serve"], capture_output=True, timeout=60)
    assert usage.returncode == 2
