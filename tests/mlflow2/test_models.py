"""Models through the MLflow 2.x client: sklearn flavour, pyfunc loading, autologging."""

import json

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

# Writing the requirements by hand skips the client's slow requirement inference.
PIP_REQUIREMENTS = ["scikit-learn", "numpy", "pandas"]


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def logged(base_url, iris):
    """A classifier logged once for the module: (run_id, expected predictions)."""
    X, y = iris
    model = LogisticRegression(max_iter=500).fit(X, y)
    mlflow.set_tracking_uri(base_url)
    mlflow.set_experiment("mlflow2-models")
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, artifact_path="model",
                                        pip_requirements=PIP_REQUIREMENTS,
                                        input_example=X.head(3))
    assert info.model_uri == f"runs:/{run.info.run_id}/model"
    mlflow.set_tracking_uri(None)
    return run.info.run_id, model.predict(X)


def test_log_model_records_the_model(client, logged):
    run_id, _ = logged
    paths = {f.path for f in client.list_artifacts(run_id, "model")}
    assert {"model/MLmodel", "model/model.pkl", "model/requirements.txt"} <= paths
    # The 2.x client records the model in the run's mlflow.log-model.history tag.
    history = json.loads(client.get_run(run_id).data.tags["mlflow.log-model.history"])
    assert [(m["run_id"], m["artifact_path"]) for m in history] == [(run_id, "model")]
    assert "sklearn" in history[0]["flavors"]


def test_load_from_run_uri(logged, iris):
    run_id, expected = logged
    X, _ = iris
    pyfunc = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    np.testing.assert_array_equal(pyfunc.predict(X), expected)
    sk = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
    np.testing.assert_array_equal(sk.predict(X), expected)


def test_load_from_stage_and_alias(client, logged, iris, unique):
    run_id, expected = logged
    X, _ = iris
    v1 = mlflow.register_model(f"runs:/{run_id}/model", unique)
    v2 = mlflow.register_model(f"runs:/{run_id}/model", unique)
    assert (v1.version, v2.version) == ("1", "2")
    client.transition_model_version_stage(unique, "1", "Production")
    client.transition_model_version_stage(unique, "2", "Production",
                                          archive_existing_versions=True)
    client.set_registered_model_alias(unique, "champion", "1")

    for uri in (f"models:/{unique}/Production", f"models:/{unique}@champion",
                f"models:/{unique}/1", f"models:/{unique}/latest"):
        model = mlflow.pyfunc.load_model(uri)
        np.testing.assert_array_equal(model.predict(X), expected, err_msg=uri)

    # Production now means version 2; loading it downloads version 2's files.
    latest = client.get_latest_versions(unique, ["Production"])
    assert [mv.version for mv in latest] == ["2"]
    assert mlflow.pyfunc.load_model(f"models:/{unique}/Production").metadata.run_id == run_id


def test_log_model_with_registered_model_name(logged, iris, unique, client):
    X, y = iris
    model = LogisticRegression(max_iter=200).fit(X, y)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, artifact_path="clf",
                                        pip_requirements=PIP_REQUIREMENTS,
                                        registered_model_name=unique)
    mv = client.get_model_version(unique, "1")
    assert mv.status == "READY"
    assert mv.run_id == info.run_id
    loaded = mlflow.sklearn.load_model(f"models:/{unique}/1")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_sklearn_autolog(client, iris, unique):
    X, y = iris
    mlflow.set_experiment(unique)
    mlflow.sklearn.autolog(log_input_examples=False, log_model_signatures=True,
                           silent=True)
    with mlflow.start_run() as run:
        model = LogisticRegression(max_iter=300, C=0.5).fit(X, y)
    mlflow.sklearn.autolog(disable=True)

    got = client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params["C"] == "0.5"
    assert got.data.params["max_iter"] == "300"
    assert got.data.metrics["training_accuracy_score"] > 0.9
    assert "training_f1_score" in got.data.metrics
    assert got.data.tags["estimator_name"] == "LogisticRegression"
    assert got.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"

    # The training set is recorded as the run's input.
    contexts = {tag.value for ds in got.inputs.dataset_inputs for tag in ds.tags
                if tag.key == "mlflow.data.context"}
    assert "train" in contexts

    paths = {f.path for f in client.list_artifacts(run.info.run_id, "model")}
    assert "model/MLmodel" in paths
    loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_evaluate_classifier(client, logged, iris, unique):
    run_id, _ = logged
    X, y = iris
    mlflow.set_experiment(unique)
    with mlflow.start_run() as run:
        result = mlflow.evaluate(f"runs:/{run_id}/model", X.assign(label=y), targets="label",
                                 model_type="classifier", evaluators=["default"])
    got = client.get_run(run.info.run_id)
    assert got.data.metrics["accuracy_score"] == pytest.approx(result.metrics["accuracy_score"])
    assert got.data.metrics["example_count"] == len(X)
    artifacts = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"confusion_matrix.png", "per_class_metrics.csv"} <= artifacts
