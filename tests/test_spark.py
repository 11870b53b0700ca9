"""A Spark ML pipeline trained in local mode, logged and registered through the official client,
then loaded back from the registry by version and by alias.

Spark runs in this process's JVM (one session for the module, local mode, bound to 127.0.0.1,
no UI). The module is skipped only when no Java runtime can be started.
"""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import mlflow
import mlflow.spark
import numpy as np
import pyspark
import pytest
from sklearn.datasets import load_iris


def java_runtime() -> str | None:
    """The java executable Spark would start, if it runs."""
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    if shutil.which("java"):
        candidates.append(shutil.which("java"))
    for java in candidates:
        try:
            if subprocess.run([java, "-version"], capture_output=True,
                              timeout=60).returncode == 0:
                return java
        except (OSError, subprocess.TimeoutExpired):
            continue
    return None


pytestmark = pytest.mark.skipif(
    java_runtime() is None,
    reason="Spark needs a Java runtime: no working `java` on PATH or in $JAVA_HOME "
           "(scripts/install.sh installs openjdk-17-jre-headless)")

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
PIP_REQUIREMENTS = [f"pyspark=={pyspark.__version__}"]


@pytest.fixture(scope="module")
def spark(spark_session):
    """One Spark JVM for the whole test session (conftest.py): a second JVM in the same process
    after the first one stopped cannot be reached by py4j."""
    return spark_session


@pytest.fixture(scope="module")
def iris(spark):
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = FEATURES
    pdf = X.assign(label=y.astype("float64"))
    return X, spark.createDataFrame(pdf)


@pytest.fixture(scope="module")
def trained(iris):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import DecisionTreeClassifier
    from pyspark.ml.feature import VectorAssembler

    X, df = iris
    params = {"maxDepth": 4, "seed": 7, "impurity": "gini"}
    pipeline = Pipeline(stages=[VectorAssembler(inputCols=FEATURES, outputCol="features"),
                                DecisionTreeClassifier(labelCol="label", **params)])
    model = pipeline.fit(df)
    predictions = model.transform(df).select("label", "prediction").toPandas()
    accuracy = float((predictions["label"] == predictions["prediction"]).mean())
    return model, params, predictions["prediction"].to_numpy(), accuracy


@pytest.fixture(scope="module")
def registered(base_url, trained):
    """Logs and registers the pipeline once: (registered model name, run id)."""
    model, params, _, accuracy = trained
    mlflow.set_tracking_uri(base_url)
    client = mlflow.MlflowClient(base_url)
    exp_id = client.create_experiment(f"spark-{uuid.uuid4().hex[:10]}")
    name = f"spark-iris-{uuid.uuid4().hex[:8]}"
    try:
        with mlflow.start_run(experiment_id=exp_id) as run:
            mlflow.log_params(params)
            mlflow.log_metric("train_accuracy", accuracy)
            info = mlflow.spark.log_model(model, artifact_path="model",
                                          registered_model_name=name,
                                          pip_requirements=PIP_REQUIREMENTS)
    finally:
        mlflow.set_tracking_uri(None)
    assert str(info.registered_model_version) == "1"
    return name, run.info.run_id


def test_spark_model_logged_and_registered(client, registered, trained, tmp_path):
    name, run_id = registered
    _, params, _, accuracy = trained
    assert accuracy > 0.9

    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {k: str(v) for k, v in params.items()}
    assert set(run.data.metrics) == {"train_accuracy"}
    assert run.data.metrics["train_accuracy"] == pytest.approx(accuracy, rel=1e-12)

    mv = client.get_model_version(name, "1")
    assert mv.status == "READY"
    assert mv.run_id == run_id
    assert mv.current_stage == "None"
    # The Spark flavor writes the model into the run's artifacts and registers that path.
    assert mv.source == f"{run.info.artifact_uri}/model"
    assert client.get_model_version_download_uri(name, "1") == mv.source
    files = {f.path for f in client.list_artifacts(run_id, "model")}
    assert {"model/MLmodel", "model/sparkml"} <= files

    local = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/1",
                                                     dst_path=str(tmp_path / "model")))
    mlmodel = (local / "MLmodel").read_text()
    assert "spark:" in mlmodel and "python_function:" in mlmodel
    assert f"pyspark_version: {pyspark.__version__}" in mlmodel
    assert (local / "sparkml" / "metadata").is_dir()
    assert (local / "sparkml" / "stages").is_dir()


def test_spark_model_loads_by_version_and_alias(client, registered, trained, iris, spark):
    name, _ = registered
    X, df = iris
    _, _, expected, _ = trained

    as_pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/1")
    np.testing.assert_array_equal(np.asarray(as_pyfunc.predict(X), dtype="float64"), expected)

    client.set_registered_model_alias(name, "champion", "1")
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    native = mlflow.spark.load_model(f"models:/{name}@champion")
    again = native.transform(df).select("prediction").toPandas()["prediction"].to_numpy()
    np.testing.assert_array_equal(again, expected)
    by_alias = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    sample = X.sample(n=25, random_state=3)
    np.testing.assert_array_equal(np.asarray(by_alias.predict(sample), dtype="float64"),
                                  expected[sample.index.to_numpy()])
