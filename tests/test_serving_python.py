"""The python runtime through the real server: MLflow models that only mlflow.pyfunc can serve
(scikit-learn pickled with cloudpickle, XGBoost, a Spark ML pipeline, custom PythonModels),
trained here on data shipped with scikit-learn, registered with the official client, deployed
with the deployments API and scored through /invocations and the V2 protocol. Answers are checked
against the trained models' own predictions.

The custom models also check how the server lives with Python failing: an exception in predict,
a worker that exits mid-request, a model whose load imports a missing module, and a deployment
deleted while requests keep coming. The server starts its Python workers with the interpreter
running these tests ($CAIRN_PYTHON, see server_process.py).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import mlflow
import mlflow.pyfunc
import mlflow.spark
import mlflow.sklearn
import mlflow.xgboost
import numpy as np
import pandas as pd
import pytest
import requests
import sklearn
import xgboost
from mlflow.models import infer_signature
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier

pytestmark = pytest.mark.cairn_only

DEPLOY_TIMEOUT_S = 180  # a worker's imports and the model's load, on a busy machine
RESTART_TIMEOUT_S = 60
SPARK_DEPLOY_TIMEOUT_S = 420  # the worker starts its own JVM
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
PIP_SKLEARN = [f"scikit-learn=={sklearn.__version__}", "cloudpickle"]
PIP_XGBOOST = [f"xgboost=={xgboost.__version__}"]


# -- the deployments API ----------------------------------------------------------------------


class Deployments:
    """Creates deployments through the HTTP API, scores them, and deletes what it created."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()
        self.created: list[str] = []

    def create(self, model_name: str, version: str, name: str, **extra) -> requests.Response:
        body = {"model_name": model_name, "version": version, "name": name, **extra}
        resp = self.http.post(f"{self.url}/api/v1/deployments/create", json=body, timeout=60)
        if resp.status_code == 200:
            self.created.append(name)
        return resp

    def status(self, name: str) -> dict | None:
        resp = self.http.get(f"{self.url}/api/v1/deployments/{name}/status", timeout=30)
        if resp.status_code == 404:
            return None
        assert resp.status_code == 200, resp.text
        return resp.json()

    def wait(self, name: str, timeout: float, done=lambda s: s["state"] in ("READY", "FAILED"),
             what: str = "READY or FAILED") -> dict:
        """Polls the status until `done(status)`; returns that status."""
        def reached():
            status = self.status(name)
            return status if status is not None and done(status) else None

        return wait_for(reached, timeout, f"deployment {name} {what}",
                        last=lambda: self.status(name))

    def deploy(self, model_name: str, version: str, name: str | None = None,
               timeout: float = DEPLOY_TIMEOUT_S, **extra) -> dict:
        """Creates the deployment and waits until it is READY."""
        name = name or endpoint_name()
        resp = self.create(model_name, version, name, **extra)
        assert resp.status_code == 200, resp.text
        assert resp.json()["state"] in ("PENDING", "LOADING", "READY"), resp.text
        status = self.wait(name, timeout)
        assert status["state"] == "READY", status
        return status

    def delete(self, name: str) -> requests.Response:
        return self.http.delete(f"{self.url}/api/v1/deployments/{name}", timeout=120)

    def names(self) -> list[str]:
        resp = self.http.get(f"{self.url}/api/v1/deployments", timeout=30)
        assert resp.status_code == 200, resp.text
        return [d["name"] for d in resp.json()["deployments"]]

    def invoke(self, name: str, body=None, csv: str | None = None,
               session: requests.Session | None = None) -> requests.Response:
        http = session or self.http
        url = f"{self.url}/endpoints/{name}/invocations"
        if csv is not None:
            return http.post(url, data=csv.encode(), headers={"Content-Type": "text/csv"},
                             timeout=120)
        return http.post(url, data=json.dumps(body),
                         headers={"Content-Type": "application/json"}, timeout=120)

    def infer(self, name: str, body: dict) -> requests.Response:
        return self.http.post(f"{self.url}/v2/models/{name}/infer", json=body, timeout=120)

    def cleanup(self):
        for name in self.created:
            self.delete(name)
        self.created.clear()
        self.http.close()


def wait_for(predicate, timeout: float, what: str, last=None):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = f"; last seen: {last()}" if last is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{seen}")
        time.sleep(0.2)


def endpoint_name(prefix: str = "py") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def deployments(base_url):
    api = Deployments(base_url)
    yield api
    api.cleanup()


@pytest.fixture(scope="module")
def experiment_id(base_url) -> str:
    return mlflow.MlflowClient(base_url).create_experiment(f"serving-python-{uuid.uuid4().hex}")


def split_body(frame: pd.DataFrame) -> dict:
    """dataframe_split with Python's own float repr (pandas' to_json rounds to 10 digits)."""
    return {"dataframe_split": {"columns": [str(c) for c in frame.columns],
                                "data": frame.to_numpy(dtype=object).tolist()}}


def records_body(frame: pd.DataFrame) -> dict:
    return {"dataframe_records": frame.to_dict(orient="records")}


def v2_columns(frame: pd.DataFrame, datatype: str = "FP64") -> dict:
    """Each column of the frame as a V2 input of shape [rows]."""
    return {"inputs": [{"name": str(c), "datatype": datatype, "shape": [len(frame)],
                        "data": frame[c].tolist()} for c in frame.columns]}


def predictions(resp: requests.Response):
    assert resp.status_code == 200, resp.text
    return resp.json()["predictions"]


def process_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# -- scikit-learn -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = FEATURES
    return X, y


@dataclass
class SklearnModel:
    name: str
    model: RandomForestClassifier


@pytest.fixture(scope="module")
def forest(base_url, experiment_id, iris) -> SklearnModel:
    """A random forest on iris, as version 1 (pyfunc predict: int labels) and version 2
    (pyfunc predict_proba: float probabilities) of one registered model."""
    X, y = iris
    clf = RandomForestClassifier(n_estimators=12, max_depth=4, random_state=0).fit(X, y)
    name = f"py-forest-{uuid.uuid4().hex[:8]}"
    mlflow.set_tracking_uri(base_url)
    with mlflow.start_run(experiment_id=experiment_id):
        for predict_fn in ("predict", "predict_proba"):
            info = mlflow.sklearn.log_model(
                clf, name=f"forest-{predict_fn}", registered_model_name=name,
                input_example=X.head(5), serialization_format="cloudpickle",
                pyfunc_predict_fn=predict_fn, pip_requirements=PIP_SKLEARN)
    assert str(info.registered_model_version) == "2"
    return SklearnModel(name, clf)


def test_sklearn_forest_labels(deployments, forest, iris):
    X, _ = iris
    status = deployments.deploy(forest.name, "1")
    assert status["runtime"] == "python"  # runtime auto: no onnx flavor
    assert status["replicas"]["ready"] == 1
    name = status["name"]
    expected = forest.model.predict(X)
    assert expected.dtype == np.int64

    split = predictions(deployments.invoke(name, split_body(X)))
    assert split == expected.tolist()
    assert all(type(p) is int for p in split), split[:5]  # labels stay integers

    sample = X.sample(n=20, random_state=1)
    assert predictions(deployments.invoke(name, records_body(sample))) == \
        forest.model.predict(sample).tolist()

    csv = X.iloc[::7].to_csv(index=False)
    assert predictions(deployments.invoke(name, csv=csv)) == \
        forest.model.predict(pd.read_csv(io.StringIO(csv))).tolist()

    # V2: a column-based signature takes each column as a 1-D input.
    meta = deployments.http.get(f"{deployments.url}/v2/models/{name}", timeout=30).json()
    assert meta["platform"] == "mlflow_pyfunc" and meta["versions"] == ["1"]
    assert [(i["name"], i["datatype"], i["shape"]) for i in meta["inputs"]] == \
        [(f, "FP64", [-1]) for f in FEATURES]
    resp = deployments.infer(name, v2_columns(X))
    assert resp.status_code == 200, resp.text
    (output,) = resp.json()["outputs"]
    assert output["datatype"] == "INT64" and output["shape"] == [len(X)]
    assert output["data"] == expected.tolist()

    # Wrong input over V2 is the client's error, named.
    missing = v2_columns(X[FEATURES[:3]])
    resp = deployments.infer(name, missing)
    assert resp.status_code == 400 and FEATURES[3] in resp.json()["error"], resp.text


def test_sklearn_forest_probabilities(deployments, forest, iris):
    X, _ = iris
    name = deployments.deploy(forest.name, "2")["name"]
    expected = forest.model.predict_proba(X)
    assert expected.dtype == np.float64

    # float64 travels as raw bytes to the server and as shortest round-trip text to us: exact.
    got = np.asarray(predictions(deployments.invoke(name, split_body(X))), dtype=np.float64)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)

    resp = deployments.infer(name, v2_columns(X.head(10)))
    assert resp.status_code == 200, resp.text
    (output,) = resp.json()["outputs"]
    assert output["datatype"] == "FP64" and output["shape"] == [10, 3]
    np.testing.assert_array_equal(np.asarray(output["data"]).reshape(10, 3), expected[:10])


# -- XGBoost ----------------------------------------------------------------------------------


def test_xgboost_regressor(base_url, experiment_id, deployments):
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = xgboost.XGBRegressor(n_estimators=25, max_depth=3, learning_rate=0.2, n_jobs=1,
                                 random_state=0).fit(X, y)
    expected = model.get_booster().predict(xgboost.DMatrix(X))
    assert expected.dtype == np.float32
    name = f"py-xgb-{uuid.uuid4().hex[:8]}"
    mlflow.set_tracking_uri(base_url)
    with mlflow.start_run(experiment_id=experiment_id):
        mlflow.xgboost.log_model(model, name="model", registered_model_name=name,
                                 input_example=X.head(3), pip_requirements=PIP_XGBOOST)
    status = deployments.deploy(name, "1")
    assert status["runtime"] == "python"

    got = predictions(deployments.invoke(status["name"], split_body(X)))
    # float32 answers, printed as the floats they are: equal once read back as float32.
    np.testing.assert_array_equal(np.asarray(got, dtype=np.float32), expected)

    resp = deployments.infer(status["name"], v2_columns(X.head(8)))
    assert resp.status_code == 200, resp.text
    (output,) = resp.json()["outputs"]
    assert output["datatype"] == "FP32" and output["shape"] == [8]
    np.testing.assert_array_equal(np.asarray(output["data"], dtype=np.float32), expected[:8])


# -- custom models ----------------------------------------------------------------------------

# Models from code: mlflow copies the file into the model, so the worker needs nothing of this
# module. `load_log` (model_config) gets the pid of every process that loads the model.
FLAGGED_MODEL = '''
import os

import mlflow
import pandas as pd


class Flagged(mlflow.pyfunc.PythonModel):
    """y = 2x and the worker's pid; flag 1 raises, flag 2 kills the worker."""

    def load_context(self, context):
        with open(context.model_config["load_log"], "a") as log:
            log.write(f"{os.getpid()}\\n")

    def predict(self, context, model_input, params=None):
        flag = model_input["flag"]
        if (flag == 1).any():
            raise ValueError("flag 1 makes this model fail (cairn-test)")
        if (flag == 2).any():
            os._exit(1)
        return pd.DataFrame({"y": model_input["x"] * 2.0, "pid": os.getpid()},
                            index=model_input.index)


mlflow.models.set_model(Flagged())
'''

MISSING_IMPORT_MODEL = '''
import mlflow


class NeedsMissingModule(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        import cairn_test_no_such_module  # noqa: F401

    def predict(self, context, model_input, params=None):
        return model_input


mlflow.models.set_model(NeedsMissingModule())
'''


@dataclass
class CustomModel:
    name: str
    source: str
    run_id: str
    load_log: Path
    client: mlflow.MlflowClient

    def new_version(self) -> str:
        """Another version of the same files: a model the server has not loaded yet."""
        # A models:/<model_id> source needs its model_id, as MLflow's server requires.
        model_id = self.source.removeprefix("models:/") if self.source.startswith(
            "models:/m-") else None
        return str(self.client.create_model_version(self.name, self.source, self.run_id,
                                                    model_id=model_id).version)

    def loads_by(self, pid: int) -> int:
        return Counter(self.load_log.read_text().split())[str(pid)]


def log_code_model(base_url: str, experiment_id: str, code: str, folder: Path, name: str,
                   signature, model_config: dict | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model_code.py"
    path.write_text(code)
    mlflow.set_tracking_uri(base_url)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        info = mlflow.pyfunc.log_model(name="model", python_model=str(path),
                                       registered_model_name=name, signature=signature,
                                       model_config=model_config,
                                       pip_requirements=[f"mlflow=={mlflow.__version__}"])
    return info, run.info.run_id


@pytest.fixture(scope="module")
def flagged(base_url, experiment_id, tmp_path_factory) -> CustomModel:
    folder = tmp_path_factory.mktemp("flagged")
    load_log = folder / "loads.txt"
    load_log.touch()
    signature = infer_signature(pd.DataFrame({"x": [1.0], "flag": [0]}),
                                pd.DataFrame({"y": [2.0], "pid": [1]}))
    name = f"py-flagged-{uuid.uuid4().hex[:8]}"
    log_code_model(base_url, experiment_id, FLAGGED_MODEL, folder, name, signature,
                   {"load_log": str(load_log)})
    client = mlflow.MlflowClient(base_url)
    v1 = client.get_model_version(name, "1")
    return CustomModel(name, v1.source, v1.run_id, load_log, client)


def flagged_request(flag: int, x: float = 1.5) -> dict:
    return {"dataframe_split": {"columns": ["x", "flag"], "data": [[x, flag]]}}


def flagged_ok(deployments: Deployments, name: str, x: float = 1.5,
               session: requests.Session | None = None) -> int:
    """Scores one good row and returns the pid of the worker that answered."""
    (row,) = predictions(deployments.invoke(name, flagged_request(0, x), session=session))
    assert row["y"] == 2 * x, row
    assert type(row["pid"]) is int, row
    return row["pid"]


def test_model_exception_fails_the_request_only(deployments, flagged):
    name = deployments.deploy(flagged.name, flagged.new_version())["name"]
    pid = flagged_ok(deployments, name)

    resp = deployments.invoke(name, flagged_request(1))
    assert resp.status_code == 500, resp.text
    error = resp.json()
    assert error["error_code"] == "INTERNAL_ERROR"
    assert "ValueError: flag 1 makes this model fail (cairn-test)" in error["message"]

    v2 = deployments.infer(name, {"inputs": [
        {"name": "x", "datatype": "FP64", "shape": [1], "data": [1.0]},
        {"name": "flag", "datatype": "INT64", "shape": [1], "data": [1]}]})
    assert v2.status_code == 500, v2.text
    assert "flag 1 makes this model fail (cairn-test)" in v2.json()["error"]

    # The worker lives on: the same process answers the next request.
    assert flagged_ok(deployments, name, x=4.0) == pid
    assert deployments.status(name)["replicas"]["ready"] == 1


def test_worker_exit_fails_the_request_then_recovers(deployments, flagged):
    name = deployments.deploy(flagged.name, flagged.new_version())["name"]
    pid = flagged_ok(deployments, name)

    resp = deployments.invoke(name, flagged_request(2))
    assert resp.status_code == 503, resp.text
    assert resp.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert str(pid) in resp.json()["message"], resp.text

    def answered():
        resp = deployments.invoke(name, flagged_request(0))
        if resp.status_code == 503:  # the worker is being replaced
            return None
        return predictions(resp)[0]["pid"]

    new_pid = wait_for(answered, RESTART_TIMEOUT_S, "a prediction after the worker restarted")
    assert new_pid != pid
    assert not process_alive(pid)
    assert flagged.loads_by(new_pid) == 1  # the model was loaded again in the new worker
    status = deployments.wait(name, RESTART_TIMEOUT_S,
                              lambda s: s["state"] == "READY" and s["replicas"]["ready"] == 1,
                              "READY with its replica ready")
    assert status["reason"] == ""


def test_missing_module_fails_the_deployment(base_url, experiment_id, deployments,
                                             tmp_path):
    name = f"py-missing-{uuid.uuid4().hex[:8]}"
    signature = infer_signature(pd.DataFrame({"x": [1.0]}), pd.DataFrame({"x": [1.0]}))
    log_code_model(base_url, experiment_id, MISSING_IMPORT_MODEL, tmp_path / "missing", name,
                   signature)
    endpoint = endpoint_name()
    resp = deployments.create(name, "1", endpoint)
    assert resp.status_code == 200, resp.text
    status = deployments.wait(endpoint, DEPLOY_TIMEOUT_S)
    assert status["state"] == "FAILED", status
    assert "No module named 'cairn_test_no_such_module'" in status["reason"], status
    assert status["replicas"]["ready"] == 0

    resp = deployments.invoke(endpoint, {"dataframe_split": {"columns": ["x"], "data": [[1.0]]}})
    assert resp.status_code == 503 and "FAILED" in resp.json()["message"], resp.text


def test_same_version_twice_loads_once(deployments, flagged):
    version = flagged.new_version()
    first = deployments.deploy(flagged.name, version)["name"]
    second = deployments.deploy(flagged.name, version)["name"]
    pid = flagged_ok(deployments, first)
    # One worker loaded that version once, and serves both endpoints.
    assert flagged_ok(deployments, second) == pid
    assert flagged.loads_by(pid) == 1

    # Deleting one endpoint keeps the shared instance for the other.
    assert deployments.delete(first).status_code == 200
    assert flagged_ok(deployments, second) == pid
    assert process_alive(pid)


def test_delete_under_load(deployments, flagged):
    name = deployments.deploy(flagged.name, flagged.new_version())["name"]
    pid = flagged_ok(deployments, name)
    threads_n = 4
    stop = threading.Event()
    deleting = threading.Event()  # set just before the DELETE is sent
    results: list[list[tuple[int, bool, str]]] = [[] for _ in range(threads_n)]
    errors: list[BaseException] = []

    def client(i: int):
        try:
            with requests.Session() as session:
                while not stop.is_set():
                    resp = deployments.invoke(name, flagged_request(0, float(i)),
                                              session=session)
                    # Answered before the DELETE went out: it must have been served.
                    before = not deleting.is_set()
                    results[i].append((resp.status_code, before, resp.text[:300]))
                    if resp.status_code == 404 and sum(
                            1 for r in results[i] if r[0] == 404) >= 3:
                        return
        except BaseException as e:  # noqa: BLE001 - reported by the test thread
            errors.append(e)

    workers = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(threads_n)]
    for t in workers:
        t.start()
    try:
        wait_for(lambda: all(sum(1 for r in rs if r[0] == 200) >= 3 for rs in results),
                 DEPLOY_TIMEOUT_S, "every client to be answered three times")
        deleting.set()
        resp = deployments.delete(name)
        assert resp.status_code == 200, resp.text
        assert resp.json()["state"] == "DELETED"
        for t in workers:
            t.join(timeout=60)
    finally:
        stop.set()
        for t in workers:
            t.join(timeout=60)
    assert not errors, errors
    codes = Counter(code for rs in results for code, _, _ in rs)
    failed = [r for rs in results for r in rs if r[0] not in (200, 404)]
    assert not failed, f"answers other than 200 and 404: {failed[:5]} (all: {codes})"
    # Nothing answered before the delete began was refused; the endpoint is gone after it.
    assert not [r for rs in results for r in rs if r[0] == 404 and r[1]]
    assert all(rs[-1][0] == 404 for rs in results), codes
    assert name not in deployments.names()
    assert deployments.status(name) is None
    # The deployment's worker is let go.
    wait_for(lambda: not process_alive(pid), 30, f"worker {pid} to exit after the delete")


# -- Spark ML ---------------------------------------------------------------------------------


def java_works() -> bool:
    java = shutil.which("java")
    if os.environ.get("JAVA_HOME"):
        java = str(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    if java is None:
        return False
    try:
        return subprocess.run([java, "-version"], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.timeout(900)
def test_spark_pipeline(base_url, experiment_id, deployments, spark_session, iris):
    import pyspark
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import DecisionTreeClassifier
    from pyspark.ml.feature import VectorAssembler

    X, y = iris
    frame = spark_session.createDataFrame(X.assign(label=y.astype("float64")))
    pipeline = Pipeline(stages=[VectorAssembler(inputCols=FEATURES, outputCol="features"),
                                DecisionTreeClassifier(labelCol="label", maxDepth=4, seed=7)])
    model = pipeline.fit(frame)
    expected = model.transform(frame).select("prediction").toPandas()["prediction"].to_numpy()
    name = f"py-spark-{uuid.uuid4().hex[:8]}"
    mlflow.set_tracking_uri(base_url)
    with mlflow.start_run(experiment_id=experiment_id):
        mlflow.spark.log_model(model, artifact_path="model", registered_model_name=name,
                               pip_requirements=[f"pyspark=={pyspark.__version__}"])

    status = deployments.deploy(name, "1", runtime="python", timeout=SPARK_DEPLOY_TIMEOUT_S)
    assert status["runtime"] == "python"
    got = predictions(deployments.invoke(status["name"], split_body(X)))
    np.testing.assert_array_equal(np.asarray(got, dtype=np.float64), expected)
    sample = X.sample(n=15, random_state=2)
    got = predictions(deployments.invoke(status["name"], records_body(sample)))
    np.testing.assert_array_equal(np.asarray(got, dtype=np.float64),
                                  expected[sample.index.to_numpy()])
    assert deployments.delete(status["name"]).status_code == 200
