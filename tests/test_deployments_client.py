"""The Python client (clients/python), its MLflow deployments plugin and the `mlflow deployments`
CLI against the real server: iris classifiers trained with scikit-learn, converted with skl2onnx,
logged and registered with mlflow.onnx.log_model, deployed, scored, rescaled, moved to another
version and deleted. Answers are checked against onnxruntime-python run on the same ONNX model.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import mlflow
import mlflow.onnx
import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
import requests
from mlflow.deployments import PredictionsResponse, get_deploy_client
from mlflow.exceptions import MlflowException
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

try:
    import cairn_client  # noqa: F401
except ImportError:  # not installed in this venv: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients" / "python"))

from cairn_client import CairnError, Client

pytestmark = pytest.mark.cairn_only

DEPLOY_TIMEOUT_S = 120
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def deployments_api(base_url) -> str:
    """The server's URL, once it answers the deployments API."""
    resp = requests.get(f"{base_url}/api/v1/deployments", timeout=30)
    assert resp.status_code == 200, resp.text
    return base_url


# -- models -----------------------------------------------------------------------------------


@dataclass
class Version:
    version: str
    session: onnxruntime.InferenceSession

    def expected(self, x: np.ndarray) -> dict[str, np.ndarray]:
        names = [o.name for o in self.session.get_outputs()]
        return dict(zip(names, self.session.run(names, {"float_input": x})))


@dataclass
class Registered:
    name: str
    versions: dict[str, Version]


def iris_onnx(c: float, outputs: tuple[str, ...]) -> onnx.ModelProto:
    """A LogisticRegression on iris as ONNX: input float_input [N, 4], outputs among label
    (int64 [N]) and probabilities (float32 [N, 3])."""
    iris = load_iris()
    clf = LogisticRegression(C=c, max_iter=500).fit(iris.data, iris.target)
    model = convert_sklearn(clf, initial_types=[("float_input", FloatTensorType([None, 4]))],
                            options={id(clf): {"zipmap": False}},
                            target_opset={"": 17, "ai.onnx.ml": 3})
    kept = [o for o in model.graph.output if o.name in outputs]
    del model.graph.output[:]
    model.graph.output.extend(kept)
    onnx.checker.check_model(model)
    return model


def register(base_url: str, name: str, models: list[onnx.ModelProto]) -> Registered:
    """Logs each model with mlflow.onnx.log_model as the next version of `name`."""
    mlflow.set_tracking_uri(base_url)
    try:
        exp_id = mlflow.MlflowClient().create_experiment(f"deploy-{name}")
        versions = {}
        for model in models:
            with mlflow.start_run(experiment_id=exp_id):
                info = mlflow.onnx.log_model(model, name="model", registered_model_name=name,
                                             pip_requirements=["onnx", "onnxruntime"])
            version = str(info.registered_model_version)
            session = onnxruntime.InferenceSession(model.SerializeToString(),
                                                   providers=["CPUExecutionProvider"])
            versions[version] = Version(version, session)
        return Registered(name, versions)
    finally:
        mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def iris_models(deployments_api) -> Registered:
    """`iris-<id>`: versions 1 and 2 (different regularisation) with both outputs; alias
    `champion` on version 2."""
    reg = register(deployments_api, f"iris-{uuid.uuid4().hex[:8]}",
                   [iris_onnx(1.0, ("label", "probabilities")),
                    iris_onnx(0.05, ("label", "probabilities"))])
    assert sorted(reg.versions) == ["1", "2"]
    mlflow.MlflowClient(tracking_uri=deployments_api).set_registered_model_alias(
        reg.name, "champion", "2")
    return reg


@pytest.fixture(scope="module")
def label_model(deployments_api) -> Registered:
    """`iris-label-<id>` version 1: one output, label. MLflow's ONNX flavor answers a DataFrame
    input with a DataFrame of the outputs flattened to one column each, which only works when
    every output has one value per row; the DataFrame paths use this model."""
    return register(deployments_api, f"iris-label-{uuid.uuid4().hex[:8]}",
                    [iris_onnx(1.0, ("label",))])


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return load_iris().data.astype(np.float32)


@pytest.fixture
def endpoint() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def cairn(deployments_api):
    with Client(deployments_api) as c:
        yield c


def assert_predictions(columns: dict, expected: dict[str, np.ndarray]):
    assert set(columns) == set(expected), columns.keys()
    np.testing.assert_array_equal(np.asarray(columns["label"]), expected["label"])
    if "probabilities" in expected:
        np.testing.assert_allclose(np.asarray(columns["probabilities"], dtype=np.float32),
                                   expected["probabilities"], rtol=1e-5, atol=1e-6)


def records_to_columns(records: list) -> dict:
    """A DataFrame answer (`predictions` as records) as column name -> values."""
    assert isinstance(records, list) and records and isinstance(records[0], dict), records
    return {k: [row[k] for row in records] for k in records[0]}


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


# -- Client -----------------------------------------------------------------------------------


def test_client_deploy_predict_scale_delete(cairn, iris_models, x, endpoint):
    v1 = iris_models.versions["1"]
    status = cairn.deploy_model(model_name=iris_models.name, version="1", name=endpoint,
                                options={"log_predictions": True}, timeout=DEPLOY_TIMEOUT_S)
    assert status["state"] == "READY" and status["name"] == endpoint
    assert (status["model_name"], status["model_version"]) == (iris_models.name, "1")
    assert status["runtime"] == "onnx" and status["device"] == "cpu"
    assert status["endpoints"]["invocations"] == f"/endpoints/{endpoint}/invocations"
    assert status["deployment_id"]
    assert cairn.status(status["deployment_id"])["name"] == endpoint

    # MLflow scoring: a dict of arrays (inputs) and a list of rows (instances).
    expected = v1.expected(x)
    assert_predictions(cairn.predict(endpoint, {"float_input": x}), expected)
    assert_predictions(cairn.predict(endpoint, x[:7].tolist()), v1.expected(x[:7]))

    # V2: typed tensors back, with the model's dtypes and shapes.
    out = cairn.infer(endpoint, {"float_input": x})
    assert out["label"].dtype == np.int64 and out["label"].shape == (150,)
    assert out["probabilities"].dtype == np.float32 and out["probabilities"].shape == (150, 3)
    np.testing.assert_array_equal(out["label"], expected["label"])
    np.testing.assert_allclose(out["probabilities"], expected["probabilities"], rtol=1e-5,
                               atol=1e-6)

    assert endpoint in [d["name"] for d in cairn.list_deployments()]

    scaled = cairn.scale(endpoint, replicas=2)
    assert scaled["replicas"]["desired"] == 2
    wait_for(lambda: cairn.status(endpoint)["replicas"]["ready"] == 2, what="2 ready replicas")
    bounds = cairn.scale(endpoint, min=1, max=3)
    assert (bounds["replicas"]["min"], bounds["replicas"]["max"]) == (1, 3)
    assert_predictions(cairn.predict(endpoint, {"float_input": x[:3]}), v1.expected(x[:3]))

    # The prediction log pages through what was scored.
    page = wait_for(lambda: cairn.predictions(endpoint, max_results=2)["predictions"],
                    what="logged predictions")
    assert 1 <= len(page) <= 2
    for record in page:
        assert {"request_id", "timestamp_ms", "latency_us", "model_version", "status_code",
                "inputs", "outputs"} <= set(record)
        assert record["model_version"] == "1" and record["status_code"] == 200

    deleted = cairn.delete(endpoint)
    assert deleted["state"] == "DELETED"
    with pytest.raises(CairnError) as info:
        cairn.status(endpoint)
    assert (info.value.status_code, info.value.error_code) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_client_dataframe_scoring(cairn, label_model, x, endpoint):
    cairn.deploy_model(model_name=label_model.name, version="1", name=endpoint,
                       timeout=DEPLOY_TIMEOUT_S)
    try:
        expected = label_model.versions["1"].expected(x)
        df = pd.DataFrame(x.astype(np.float64), columns=FEATURES)
        assert_predictions(records_to_columns(cairn.predict(endpoint, df)), expected)
        records = cairn.predict(endpoint, df.head(4), input_format="dataframe_records")
        assert_predictions(records_to_columns(records), label_model.versions["1"].expected(x[:4]))
        csv = df.head(5).to_csv(index=False)
        assert_predictions(records_to_columns(cairn.predict_csv(endpoint, csv)),
                           label_model.versions["1"].expected(x[:5]))
    finally:
        cairn.delete(endpoint)


def test_client_deploy_by_alias_then_update(cairn, iris_models, x, endpoint):
    status = cairn.deploy_model(model_name=iris_models.name, alias="champion", name=endpoint,
                                timeout=DEPLOY_TIMEOUT_S)
    try:
        assert status["model_version"] == "2"
        assert_predictions(cairn.predict(endpoint, {"float_input": x}),
                           iris_models.versions["2"].expected(x))
        updated = cairn.update(endpoint, version="1", timeout=DEPLOY_TIMEOUT_S)
        assert updated["state"] == "READY" and updated["model_version"] == "1"
        assert_predictions(cairn.predict(endpoint, {"float_input": x}),
                           iris_models.versions["1"].expected(x))
        updated = cairn.update(endpoint, alias="champion", timeout=DEPLOY_TIMEOUT_S)
        assert updated["model_version"] == "2"
    finally:
        cairn.delete(endpoint)


def test_client_errors(cairn, iris_models, endpoint):
    with pytest.raises(CairnError) as info:
        cairn.status(f"missing-{endpoint}")
    assert (info.value.status_code, info.value.error_code) == (404, "RESOURCE_DOES_NOT_EXIST")
    with pytest.raises(CairnError) as info:
        cairn.deploy_model(model_name=iris_models.name, version="1", name="Not_A_DNS_Label!")
    assert (info.value.status_code, info.value.error_code) == (400, "INVALID_PARAMETER_VALUE")
    # A version that does not exist: refused at once, or FAILED while loading.
    with pytest.raises(CairnError) as info:
        cairn.deploy_model(model_name=iris_models.name, version="99", name=endpoint,
                           timeout=DEPLOY_TIMEOUT_S)
    assert info.value.status_code in (400, 404) or info.value.error_code == "DEPLOYMENT_FAILED"
    with pytest.raises(CairnError) as info:
        cairn.predict(f"missing-{endpoint}", {"float_input": [[1.0, 2.0, 3.0, 4.0]]})
    assert info.value.status_code == 404
    try:
        cairn.delete(endpoint)  # in case the failed deployment was kept
    except CairnError as e:
        assert e.status_code == 404, e


# -- MLflow deployments plugin ----------------------------------------------------------------


def test_mlflow_deploy_client(deployments_api, iris_models, label_model, x, endpoint,
                              monkeypatch):
    deploy = get_deploy_client(f"cairn:/{deployments_api}")
    created = deploy.create_deployment(endpoint, f"models:/{label_model.name}/1",
                                       config={"log_predictions": "true"})
    assert created["name"] == endpoint and created["flavor"] == "onnx"
    assert created["state"] == "READY"
    assert deploy.get_deployment(endpoint)["model_name"] == label_model.name
    assert endpoint in [d["name"] for d in deploy.list_deployments()]

    response = deploy.predict(endpoint, pd.DataFrame(x.astype(np.float64), columns=FEATURES))
    assert isinstance(response, PredictionsResponse)
    frame = response.get_predictions()
    np.testing.assert_array_equal(frame["label"].to_numpy(),
                                  label_model.versions["1"].expected(x)["label"])

    # The bare target name finds the server through CAIRN_URL.
    monkeypatch.setenv("CAIRN_URL", deployments_api)
    assert endpoint in [d["name"] for d in get_deploy_client("cairn").list_deployments()]

    rescaled = deploy.update_deployment(endpoint, config={"replicas": "2"})
    assert rescaled["replicas"]["desired"] == 2
    deploy.delete_deployment(endpoint)
    deploy.delete_deployment(endpoint)  # deleting again is not an error
    with pytest.raises(MlflowException) as info:
        deploy.get_deployment(endpoint)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    # Moving a deployment to the version an alias points at.
    deploy.create_deployment(endpoint, f"models:/{iris_models.name}/1")
    try:
        moved = deploy.update_deployment(endpoint, model_uri=f"models:/{iris_models.name}"
                                                             "@champion")
        assert moved["model_version"] == "2"
        response = deploy.predict(endpoint, {"inputs": {"float_input": x.tolist()}})
        assert_predictions(response["predictions"], iris_models.versions["2"].expected(x))
    finally:
        deploy.delete_deployment(endpoint)


def test_mlflow_deployments_cli(deployments_api, label_model, x, endpoint, tmp_path):
    target = f"cairn:/{deployments_api}"

    def cli(*args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "mlflow", "deployments", *args],
                             capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert out.returncode == 0, f"mlflow deployments {args[0]} failed:\n{out.stderr}"
        return out.stdout

    model_uri = f"models:/{label_model.name}/1"
    assert f"onnx deployment {endpoint} is created" in cli(
        "create", "-t", target, "--name", endpoint, "-m", model_uri, "-C", "replicas=1")
    try:
        assert "state: READY" in cli("get", "-t", target, "--name", endpoint)
        assert endpoint in cli("list", "-t", target)

        rows = pd.DataFrame(x[:10].astype(np.float64), columns=FEATURES)
        (tmp_path / "input.json").write_text(json.dumps(rows.to_dict(orient="records")))
        cli("predict", "-t", target, "--name", endpoint, "-I", str(tmp_path / "input.json"),
            "-O", str(tmp_path / "output.json"))
        answer = json.loads((tmp_path / "output.json").read_text())
        assert_predictions(records_to_columns(answer["predictions"]),
                           label_model.versions["1"].expected(x[:10]))

        assert f"Deployment {endpoint} is updated (with flavor onnx)" in cli(
            "update", "-t", target, "--name", endpoint, "-C", "replicas=2")
        assert Client(deployments_api).status(endpoint)["replicas"]["desired"] == 2
    finally:
        assert f"Deployment {endpoint} is deleted" in cli("delete", "-t", target, "--name",
                                                          endpoint)
