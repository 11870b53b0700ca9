"""Serving ONNX models through the real server: models trained here on data that ships with
scikit-learn, converted with skl2onnx (logistic regression, random forest, MLP) or built with the
onnx package in the shape PyTorch's exporter writes, logged and registered with
mlflow.onnx.log_model, deployed, and scored over the Open Inference Protocol V2 (driven by
Triton's own client, tritonclient[http]) and MLflow's /invocations. Answers are checked against
onnxruntime-python on the same file and against the original estimator. Then the hard cases:
malformed, mistyped, mis-shaped and oversized input, a model that cannot load, a deployed version
that must not be deleted, a version swap under load, a delete under load, and a restart.
"""

from __future__ import annotations

import threading
import time

import mlflow
import mlflow.onnx
import numpy as np
import onnx
import onnxruntime
import pytest
import requests
import tritonclient.http as triton
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import to_onnx
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

pytestmark = pytest.mark.cairn_only

DEPLOY_TIMEOUT_S = 60


# -- helpers ----------------------------------------------------------------------------------


def register_onnx(base_url: str, name: str, model: onnx.ModelProto, example: np.ndarray | None):
    # log_model moves large initializers to an external data file in the proto it is given: log
    # a copy so the caller's model stays whole (the served copy then has external data, which
    # the server must load too).
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    mlflow.set_tracking_uri(base_url)
    with mlflow.start_run():
        mlflow.onnx.log_model(copy, name="model", registered_model_name=name,
                              input_example=example)


def deploy(base_url: str, body: dict, expect: str = "READY") -> dict:
    resp = requests.post(f"{base_url}/api/v1/deployments/create", json=body, timeout=30)
    assert resp.status_code == 200, resp.text
    return wait_state(base_url, resp.json()["deployment_id"], expect)


def wait_state(base_url: str, deployment: str, expect: str = "READY") -> dict:
    deadline = time.monotonic() + DEPLOY_TIMEOUT_S
    while True:
        status = requests.get(f"{base_url}/api/v1/deployments/{deployment}/status",
                              timeout=30).json()
        if status["state"] in ("READY", "FAILED"):
            assert status["state"] == expect, status
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.02)


def ort_run(model: onnx.ModelProto, feeds: dict) -> dict:
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


def invoke(base_url: str, name: str, body, content_type="application/json"):
    data = body if isinstance(body, (bytes, str)) else None
    return requests.post(f"{base_url}/endpoints/{name}/invocations", data=data,
                         json=None if data is not None else body,
                         headers={"Content-Type": content_type}, timeout=60)


def v2_infer(base_url: str, name: str, body: dict):
    return requests.post(f"{base_url}/v2/models/{name}/infer", json=body, timeout=60)


def triton_client(base_url: str) -> triton.InferenceServerClient:
    return triton.InferenceServerClient(url=base_url.removeprefix("http://"))


def mlp_graph(seed: int = 3) -> onnx.ModelProto:
    """A 30-64-2 MLP as torch.onnx.export writes nn.Sequential(Linear, ReLU, Linear): Gemm with
    transB=1 on [out, in] weights, a symbolic batch dimension, input/output names of the
    exporter's kind."""
    rng = np.random.default_rng(seed)
    w1 = rng.normal(scale=0.2, size=(64, 30)).astype(np.float32)
    b1 = rng.normal(scale=0.1, size=(64,)).astype(np.float32)
    w2 = rng.normal(scale=0.2, size=(2, 64)).astype(np.float32)
    b2 = rng.normal(scale=0.1, size=(2,)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["input", "0.weight", "0.bias"], ["/0/Gemm_output_0"],
                          alpha=1.0, beta=1.0, transB=1),
         helper.make_node("Relu", ["/0/Gemm_output_0"], ["/1/Relu_output_0"]),
         helper.make_node("Gemm", ["/1/Relu_output_0", "2.weight", "2.bias"], ["output"],
                          alpha=1.0, beta=1.0, transB=1)],
        "main_graph",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch_size", 30])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch_size", 2])],
        [numpy_helper.from_array(w1, "0.weight"), numpy_helper.from_array(b1, "0.bias"),
         numpy_helper.from_array(w2, "2.weight"), numpy_helper.from_array(b2, "2.bias")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="pytorch", producer_version="2.5.0")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    return x.astype(np.float32), y


@pytest.fixture(scope="module")
def cancer():
    x, y = load_breast_cancer(return_X_y=True)
    return x.astype(np.float32), y


@pytest.fixture(scope="module")
def logreg(base_url, iris):
    x, y = iris
    estimator = LogisticRegression(max_iter=1000).fit(x, y)
    model = to_onnx(estimator, x[:1], options={id(estimator): {"zipmap": False}})
    name = "onnx-logreg"
    register_onnx(base_url, name, model, x[:2])
    status = deploy(base_url, {"model_name": name, "version": 1, "name": "logreg"})
    return estimator, model, status


# -- models and protocols ---------------------------------------------------------------------


def test_logistic_regression_over_v2_and_invocations(base_url, logreg, iris):
    estimator, model, status = logreg
    x, _ = iris
    assert status["runtime"] == "onnx" and status["replicas"]["ready"] == 1
    expected = ort_run(model, {"X": x})
    np.testing.assert_array_equal(expected["label"], estimator.predict(x))

    body = {"id": "req-1", "inputs": [{"name": "X", "shape": list(x.shape), "datatype": "FP32",
                                       "data": x.tolist()}]}
    resp = v2_infer(base_url, "logreg", body)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert answer["id"] == "req-1" and answer["model_name"] == "logreg"
    assert answer["model_version"] == "1"
    outputs = {o["name"]: o for o in answer["outputs"]}
    assert outputs["label"]["datatype"] == "INT64" and outputs["label"]["shape"] == [150]
    np.testing.assert_array_equal(outputs["label"]["data"], expected["label"])
    assert outputs["probabilities"]["datatype"] == "FP32"
    probabilities = np.asarray(outputs["probabilities"]["data"], dtype=np.float32).reshape(150, 3)
    np.testing.assert_array_equal(probabilities, expected["probabilities"])
    np.testing.assert_allclose(probabilities, estimator.predict_proba(x), rtol=1e-4, atol=1e-5)

    # A large batch (over 256 KiB of JSON) is parsed and run on the inference pool, not on the
    # I/O thread; the answer is the same.
    many = np.tile(x, (80, 1))
    resp = v2_infer(base_url, "logreg", {"inputs": [
        {"name": "X", "shape": list(many.shape), "datatype": "FP32",
         "data": many.ravel().tolist()}]})
    assert resp.status_code == 200, resp.text
    labels = {o["name"]: o for o in resp.json()["outputs"]}["label"]["data"]
    np.testing.assert_array_equal(labels, np.tile(expected["label"], 80))

    # MLflow scoring: a dict of tensors, a list of rows, a table and CSV.
    resp = invoke(base_url, "logreg", {"inputs": {"X": x[:5].tolist()}})
    assert resp.status_code == 200, resp.text
    np.testing.assert_array_equal(resp.json()["predictions"]["label"], expected["label"][:5])
    resp = invoke(base_url, "logreg", {"instances": x[:5].tolist()})
    np.testing.assert_array_equal(resp.json()["predictions"]["label"], expected["label"][:5])
    columns = ["a", "b", "c", "d"]
    resp = invoke(base_url, "logreg",
                  {"dataframe_split": {"columns": columns, "data": x[:3].tolist()}})
    assert resp.status_code == 200, resp.text
    records = resp.json()["predictions"]
    assert [r["label"] for r in records] == expected["label"][:3].tolist()
    # Python's json.dumps writes a missing value as NaN (not JSON); MLflow's client sends that.
    resp = invoke(base_url, "logreg",
                  b'{"dataframe_split": {"columns": ["a", "b", "c", "d"], '
                  b'"data": [[NaN, 3.5, 1.4, 0.2]]}}')
    assert resp.status_code == 200, resp.text
    csv = "a,b,c,d\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in x[:3])
    resp = invoke(base_url, "logreg", csv, content_type="text/csv")
    assert resp.status_code == 200, resp.text
    assert [r["label"] for r in resp.json()["predictions"]] == expected["label"][:3].tolist()


def test_tritonclient_drives_the_v2_endpoint(base_url, logreg, iris):
    _, model, _ = logreg
    x, _ = iris
    client = triton_client(base_url)
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("logreg")
    assert not client.is_model_ready("logreg", "7")
    metadata = client.get_model_metadata("logreg")
    assert metadata["platform"] == "onnx_onnxv1" and metadata["versions"] == ["1"]
    assert metadata["inputs"] == [{"name": "X", "datatype": "FP32", "shape": [-1, 4]}]
    server = client.get_server_metadata()
    assert "binary_tensor_data" in server["extensions"]

    expected = ort_run(model, {"X": x[:16]})
    for binary in (False, True):
        tensor = triton.InferInput("X", [16, 4], "FP32")
        tensor.set_data_from_numpy(x[:16], binary_data=binary)
        wanted = [triton.InferRequestedOutput("label", binary_data=binary),
                  triton.InferRequestedOutput("probabilities", binary_data=binary)]
        result = client.infer("logreg", [tensor], outputs=wanted, request_id=f"b{binary}")
        label = result.as_numpy("label")
        assert label.dtype == np.int64
        np.testing.assert_array_equal(label, expected["label"])
        np.testing.assert_array_equal(result.as_numpy("probabilities"), expected["probabilities"])
    # Asking for one output returns only that one.
    tensor = triton.InferInput("X", [2, 4], "FP32")
    tensor.set_data_from_numpy(x[:2])
    result = client.infer("logreg", [tensor],
                          outputs=[triton.InferRequestedOutput("probabilities")])
    assert result.as_numpy("label") is None
    assert result.as_numpy("probabilities").shape == (2, 3)


def test_random_forest_with_zipmap_and_sklearn_mlp(base_url, cancer):
    x, y = cancer
    forest = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0).fit(x, y)
    forest_onnx = to_onnx(forest, x[:1])  # default ZipMap: probabilities as a sequence of maps
    register_onnx(base_url, "onnx-forest", forest_onnx, None)
    mlp = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(x / 1000, y)
    mlp_onnx = to_onnx(mlp, x[:1] / 1000, options={id(mlp): {"zipmap": False}})
    register_onnx(base_url, "onnx-mlp", mlp_onnx, None)
    deploy(base_url, {"model_name": "onnx-forest", "version": 1, "name": "forest"})
    deploy(base_url, {"model_name": "onnx-mlp", "version": 1, "name": "mlp"})

    rows = x[:40]
    expected = ort_run(forest_onnx, {"X": rows})
    resp = v2_infer(base_url, "forest", {"inputs": [
        {"name": "X", "shape": [40, 30], "datatype": "FP32", "data": rows.ravel().tolist()}]})
    assert resp.status_code == 200, resp.text
    outputs = {o["name"]: o for o in resp.json()["outputs"]}
    np.testing.assert_array_equal(outputs["output_label"]["data"], expected["output_label"])
    np.testing.assert_array_equal(outputs["output_label"]["data"], forest.predict(rows))
    # The ZipMap comes back as a [rows, classes] tensor, classes in key order.
    assert outputs["output_probability"]["shape"] == [40, 2]
    zipped = np.array([[m[k] for k in sorted(m)] for m in expected["output_probability"]],
                      dtype=np.float32)
    np.testing.assert_array_equal(
        np.asarray(outputs["output_probability"]["data"], dtype=np.float32).reshape(40, 2), zipped)

    scaled = (x[:40] / 1000).astype(np.float32)
    expected = ort_run(mlp_onnx, {"X": scaled})
    resp = invoke(base_url, "mlp", {"inputs": scaled.tolist()})
    assert resp.status_code == 200, resp.text
    predictions = resp.json()["predictions"]
    np.testing.assert_array_equal(predictions["label"], expected["label"])
    np.testing.assert_array_equal(np.asarray(predictions["probabilities"], dtype=np.float32),
                                  expected["probabilities"])
    np.testing.assert_array_equal(predictions["label"], mlp.predict(scaled))


def test_pytorch_exported_mlp(base_url, cancer):
    x, _ = cancer
    model = mlp_graph()
    register_onnx(base_url, "torch-mlp", model, None)
    deploy(base_url, {"model_name": "torch-mlp", "version": 1, "name": "torch-mlp",
                      "options": {"intra_op_threads": 1, "graph_optimization": "extended"}})
    rows = (x[:8] / 1000).astype(np.float32)
    expected = ort_run(model, {"input": rows})["output"]
    client = triton_client(base_url)
    tensor = triton.InferInput("input", [8, 30], "FP32")
    tensor.set_data_from_numpy(rows, binary_data=True)
    result = client.infer("torch-mlp", [tensor])
    np.testing.assert_array_equal(result.as_numpy("output"), expected)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("body, fragment", [
    (b"{not json", None),
    (b'{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}]}',
     "X"),
    (b'{"inputs": [{"name": "X", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}',
     "X"),
    (b'{"inputs": [{"name": "X", "shape": [2, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}',
     "X"),
    (b'{"inputs": [{"name": "Y", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}',
     None),
    (b'{"inputs": []}', "X"),
    (b'{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": ["a", 2, 3, 4]}]}',
     "X"),
    (b"[" * 20000, None),
])
def test_v2_rejects_bad_input_with_protocol_errors(base_url, logreg, body, fragment):
    resp = requests.post(f"{base_url}/v2/models/logreg/infer", data=body, timeout=30)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert isinstance(error, str) and error
    if fragment:
        assert fragment in error


def test_invocations_rejects_bad_input(base_url, logreg):
    resp = invoke(base_url, "logreg", b'{"dataframe_split": ', )
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "BAD_REQUEST"
    resp = invoke(base_url, "logreg", {"dataframe_split": {"columns": ["a", "b"],
                                                           "data": [[1, 2]]}})
    assert resp.status_code == 400 and "column" in resp.json()["message"]
    resp = invoke(base_url, "logreg", {"instances": [[1, 2, 3, 4], [1, 2]]})
    assert resp.status_code == 400
    resp = invoke(base_url, "logreg", b"a,b,c,d\n1,2,x,4\n", content_type="text/csv")
    assert resp.status_code == 400
    resp = invoke(base_url, "logreg", b"\x00\x01", content_type="application/x-parquet")
    assert resp.status_code == 415
    resp = invoke(base_url, "nope", {"instances": [[1, 2, 3, 4]]})
    assert resp.status_code == 404
    resp = v2_infer(base_url, "nope", {"inputs": []})
    assert resp.status_code == 404 and "error" in resp.json()
    resp = requests.post(f"{base_url}/v2/models/logreg/versions/9/infer", json={"inputs": []},
                         timeout=30)
    assert resp.status_code == 404


def test_oversized_bodies_are_refused_and_the_endpoint_keeps_serving(base_url, logreg, iris):
    x, _ = iris
    big = b'{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [' + \
        b"1.0," * (50 * 1024 * 1024 // 4) + b"1.0]}]}"
    try:
        resp = requests.post(f"{base_url}/v2/models/logreg/infer", data=big, timeout=120)
        assert resp.status_code == 413
        assert "error" in resp.json()
    except requests.ConnectionError:
        pass  # the server may close the connection once the limit is passed
    resp = v2_infer(base_url, "logreg", {"inputs": [
        {"name": "X", "shape": [1, 4], "datatype": "FP32", "data": x[0].tolist()}]})
    assert resp.status_code == 200


def test_a_model_that_cannot_load_fails_with_the_reason(base_url, tmp_path):
    broken = onnx.ModelProto()
    broken.ir_version = 8
    broken.graph.name = "empty"
    broken.graph.node.add().op_type = "NoSuchOperator"
    broken.opset_import.add().version = 17
    register_onnx(base_url, "onnx-broken", broken, None)
    status = deploy(base_url, {"model_name": "onnx-broken", "version": 1}, expect="FAILED")
    assert "ONNX Runtime" in status["reason"] and status["replicas"]["ready"] == 0
    resp = v2_infer(base_url, status["name"], {"inputs": []})
    assert resp.status_code == 503
    # Bad specs are refused before anything is stored.
    for body, code in [({"model_name": "onnx-broken", "version": 99}, 404),
                       ({"model_name": "no-such-model", "version": 1}, 404),
                       ({"model_name": "onnx-broken"}, 400),
                       ({"model_name": "onnx-broken", "version": 1, "name": "Bad Name"}, 400),
                       ({"model_name": "onnx-broken", "version": 1,
                         "deployment_config": {"replicas": 0}}, 400)]:
        resp = requests.post(f"{base_url}/api/v1/deployments/create", json=body, timeout=30)
        assert resp.status_code == code, (body, resp.text)
    resp = requests.post(f"{base_url}/api/v1/deployments/create", data=b"{",
                         headers={"Content-Type": "application/json"}, timeout=30)
    assert resp.status_code == 400


def test_cuda_without_a_gpu_fails_with_a_clear_reason(base_url, logreg):
    status = deploy(base_url, {"model_name": "onnx-logreg", "version": 1, "name": "logreg-cuda",
                               "device": "cuda"}, expect="FAILED")
    assert "CUDA" in status["reason"] or "cuda" in status["reason"]


# -- lifecycle --------------------------------------------------------------------------------


def test_deployed_version_cannot_be_deleted(base_url, logreg):
    client = mlflow.MlflowClient(tracking_uri=base_url)
    with pytest.raises(mlflow.exceptions.MlflowException) as info:
        client.delete_model_version("onnx-logreg", "1")
    assert "logreg" in str(info.value)
    assert client.get_model_version("onnx-logreg", "1").version == "1"
    # The version's lineage names the deployments serving it.
    lineage = requests.get(f"{base_url}/api/v1/models/onnx-logreg/versions/1/lineage",
                           timeout=30).json()
    assert "logreg" in [d["name"] for d in lineage["deployments"]]


def test_scale_update_and_metrics(base_url, iris):
    x, y = iris
    first = LogisticRegression(max_iter=1000, C=0.01).fit(x, y)
    second = LogisticRegression(max_iter=1000, C=10).fit(x, y)
    for estimator in (first, second):
        register_onnx(base_url, "onnx-swap",
                      to_onnx(estimator, x[:1], options={id(estimator): {"zipmap": False}}),
                      None)
    deploy(base_url, {"model_name": "onnx-swap", "version": 1, "name": "swap"})

    body = {"inputs": [{"name": "X", "shape": [150, 4], "datatype": "FP32",
                        "data": x.ravel().tolist()}]}
    failures: list = []
    versions: set = set()
    stop = threading.Event()

    def load():
        with requests.Session() as session:
            while not stop.is_set():
                resp = session.post(f"{base_url}/v2/models/swap/infer", json=body, timeout=60)
                if resp.status_code != 200:
                    failures.append(resp.text)
                else:
                    versions.add(resp.json()["model_version"])

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        resp = requests.put(f"{base_url}/api/v1/deployments/swap/scale", json={"replicas": 2},
                            timeout=30)
        assert resp.status_code == 200 and resp.json()["replicas"]["desired"] == 2
        deadline = time.monotonic() + DEPLOY_TIMEOUT_S
        while requests.get(f"{base_url}/api/v1/deployments/swap/status",
                           timeout=30).json()["replicas"]["ready"] != 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        resp = requests.put(f"{base_url}/api/v1/deployments/swap", json={"version": 2},
                            timeout=30)
        assert resp.status_code == 200, resp.text
        deadline = time.monotonic() + DEPLOY_TIMEOUT_S
        while "2" not in versions:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    status = requests.get(f"{base_url}/api/v1/deployments/swap/status", timeout=30).json()
    assert status["model_version"] == "2" and status["state"] == "READY"
    assert status["replicas"]["ready"] == 2

    metrics = requests.get(f"{base_url}/metrics", timeout=30).text
    assert 'cairn_predictions_total{code="200",deployment="swap",version="2"}' in metrics or \
        'cairn_predictions_total{deployment="swap",version="2",code="200"}' in metrics, \
        [line for line in metrics.splitlines() if "swap" in line][:10]
    assert 'cairn_deployment_replicas{deployment="swap"}' in metrics


def test_delete_under_load_fails_no_accepted_request(base_url, iris):
    x, y = iris
    estimator = LogisticRegression(max_iter=1000).fit(x, y)
    register_onnx(base_url, "onnx-drain",
                  to_onnx(estimator, x[:1], options={id(estimator): {"zipmap": False}}), None)
    deploy(base_url, {"model_name": "onnx-drain", "version": 1, "name": "drain"})
    body = {"instances": x.tolist()}
    codes: list = []
    stop = threading.Event()

    def load():
        with requests.Session() as session:
            while not stop.is_set():
                codes.append(session.post(f"{base_url}/endpoints/drain/invocations",
                                          json=body, timeout=60).status_code)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    resp = requests.delete(f"{base_url}/api/v1/deployments/drain", timeout=60)
    assert resp.status_code == 200 and resp.json()["state"] == "DELETED"
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    assert 200 in codes and set(codes) <= {200, 404}, sorted(set(codes))
    names = [d["name"] for d in requests.get(f"{base_url}/api/v1/deployments",
                                             timeout=30).json()["deployments"]]
    assert "drain" not in names
    # The version is free to delete now.
    mlflow.MlflowClient(tracking_uri=base_url).delete_model_version("onnx-drain", "1")


def test_restart_restores_deployments_and_keeps_the_prediction_log(server_factory, iris):
    x, y = iris
    server = server_factory()
    estimator = LogisticRegression(max_iter=1000).fit(x, y)
    model = to_onnx(estimator, x[:1], options={id(estimator): {"zipmap": False}})
    register_onnx(server.url, "onnx-restart", model, None)
    deploy(server.url, {"model_name": "onnx-restart", "version": 1, "name": "kept",
                        "deployment_config": {"replicas": 2}})
    resp = invoke(server.url, "kept", {"instances": x[:4].tolist()}, )
    assert resp.status_code == 200
    deadline = time.monotonic() + 30
    while not requests.get(f"{server.url}/api/v1/deployments/kept/predictions",
                           timeout=30).json()["predictions"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert server.stop() == 0

    server.restart()
    # Back to READY by itself: no request is needed to bring it up.
    status = wait_state(server.url, "kept")
    assert status["replicas"]["ready"] == 2 and status["model_version"] == "1"
    resp = invoke(server.url, "kept", {"instances": x[:4].tolist()})
    assert resp.status_code == 200
    np.testing.assert_array_equal(resp.json()["predictions"]["label"], estimator.predict(x[:4]))
    # The log is written behind the answers: wait for the second one.
    deadline = time.monotonic() + 30
    while len(requests.get(f"{server.url}/api/v1/deployments/kept/predictions",
                           timeout=30).json()["predictions"]) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    page = requests.get(f"{server.url}/api/v1/deployments/kept/predictions?max_results=1",
                        timeout=30).json()
    assert len(page["predictions"]) == 1 and "next_page_token" in page
    older = requests.get(f"{server.url}/api/v1/deployments/kept/predictions",
                         params={"page_token": page["next_page_token"]}, timeout=30).json()
    assert older["predictions"] and older["predictions"][0]["protocol"] == "invocations"
    assert older["predictions"][0]["inputs"] == {"instances": x[:4].tolist()}
