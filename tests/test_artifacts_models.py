"""Artifacts, datasets, models, autologging and logged models through the official client."""

import os
from pathlib import Path

import mlflow
import mlflow.data
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeRegressor

# Writing requirements lists by hand skips the client's slow requirement inference.
PIP_REQUIREMENTS = ["scikit-learn", "numpy", "pandas"]


@pytest.fixture
def exp_id(client, unique):
    return client.create_experiment(f"art-{unique}")


def make_tree(root: Path) -> dict[str, bytes]:
    """A directory tree with nested folders, binary content and names with spaces."""
    rng = np.random.default_rng(7)
    files = {
        "readme.txt": b"hello cairn\n",
        "file with spaces.txt": b"spaces in the name\n",
        "data/values.csv": b"a,b\n1,2\n3,4\n",
        "data/blob.bin": bytes(range(256)) * 64 + rng.bytes(300_000) + b"\x00" * 1000,
        "data/deeper/nested/leaf.json": b'{"k": [1, 2, 3]}',
        "data/deeper/empty.txt": b"",
        "dir with space/inner file.txt": b"inner",
    }
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


# -- artifacts ---------------------------------------------------------------------------------


def test_log_artifacts_list_and_download(client, exp_id, tmp_path):
    src = tmp_path / "src"
    files = make_tree(src)
    run_id = client.create_run(exp_id).info.run_id
    client.log_artifacts(run_id, str(src))
    client.log_artifact(run_id, str(src / "readme.txt"), artifact_path="copies/of readme")

    root = {f.path: f for f in client.list_artifacts(run_id)}
    assert set(root) == {"readme.txt", "file with spaces.txt", "data", "dir with space",
                         "copies"}
    assert root["data"].is_dir and root["copies"].is_dir
    assert not root["readme.txt"].is_dir
    assert root["readme.txt"].file_size == len(files["readme.txt"])

    data = {f.path: f for f in client.list_artifacts(run_id, "data")}
    assert set(data) == {"data/values.csv", "data/blob.bin", "data/deeper"}
    assert data["data/blob.bin"].file_size == len(files["data/blob.bin"])
    assert data["data/deeper"].is_dir

    nested = [f.path for f in client.list_artifacts(run_id, "data/deeper/nested")]
    assert nested == ["data/deeper/nested/leaf.json"]
    assert client.list_artifacts(run_id, "does/not/exist") == []

    # Whole tree.
    dst = Path(client.download_artifacts(run_id, "", dst_path=str(tmp_path / "all")))
    expected = dict(files)
    expected["copies/of readme/readme.txt"] = files["readme.txt"]
    assert read_tree(dst) == expected

    # One directory and one file.
    sub = Path(client.download_artifacts(run_id, "data", dst_path=str(tmp_path / "sub")))
    assert read_tree(sub) == {k[len("data/"):]: v for k, v in files.items()
                              if k.startswith("data/")}
    one = Path(mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="file with spaces.txt", dst_path=str(tmp_path / "one")))
    assert one.read_bytes() == files["file with spaces.txt"]
    blob = Path(mlflow.artifacts.download_artifacts(
        artifact_uri=f"runs:/{run_id}/data/blob.bin", dst_path=str(tmp_path / "blob")))
    assert blob.read_bytes() == files["data/blob.bin"]


def test_fluent_artifact_helpers(exp_id, tmp_path):
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run() as run:
        mlflow.log_text("some text\nsecond line", "notes/note.txt")
        mlflow.log_dict({"a": 1, "b": [1, 2]}, "config/config.json")
        path = tmp_path / "x.bin"
        path.write_bytes(b"\x00\x01\x02")
        mlflow.log_artifact(str(path))
    uri = run.info.artifact_uri
    assert mlflow.artifacts.load_text(f"{uri}/notes/note.txt") == "some text\nsecond line"
    assert mlflow.artifacts.load_dict(f"{uri}/config/config.json") == {"a": 1, "b": [1, 2]}
    names = {f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id)}
    assert names == {"notes", "config", "x.bin"}


def test_artifact_overwrite(client, exp_id, tmp_path):
    run_id = client.create_run(exp_id).info.run_id
    path = tmp_path / "f.txt"
    path.write_text("first")
    client.log_artifact(run_id, str(path))
    path.write_text("second, longer")
    client.log_artifact(run_id, str(path))
    out = Path(client.download_artifacts(run_id, "f.txt", dst_path=str(tmp_path / "dl")))
    assert out.read_text() == "second, longer"


# -- datasets ----------------------------------------------------------------------------------


def test_log_input_dataset(exp_id):
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(df, source="s3://bucket/train.csv", name="train-set",
                                      targets="y")
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training", tags={"split": "a"})
        mlflow.log_input(mlflow.data.from_pandas(df.head(1), source="s3://bucket/eval.csv",
                                                 name="eval-set"), context="evaluation")

    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    by_name = {i.dataset.name: i for i in inputs}
    assert set(by_name) == {"train-set", "eval-set"}
    train = by_name["train-set"]
    assert train.dataset.digest == dataset.digest
    assert train.dataset.source_type == "s3"
    assert "s3://bucket/train.csv" in train.dataset.source
    assert train.dataset.schema and "x" in train.dataset.schema
    tags = {t.key: t.value for t in train.tags}
    assert tags["mlflow.data.context"] == "training"
    assert tags["split"] == "a"
    eval_tags = {t.key: t.value for t in by_name["eval-set"].tags}
    assert eval_tags["mlflow.data.context"] == "evaluation"

    # The same dataset logged again is not duplicated.
    with mlflow.start_run(run_id=run.info.run_id):
        mlflow.log_input(dataset, context="training", tags={"split": "a"})
    again = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert sum(1 for i in again if i.dataset.name == "train-set") == 1


# -- models ------------------------------------------------------------------------------------


def test_sklearn_log_and_load_model(client, exp_id, tmp_path):
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=300).fit(X, y)
    expected = model.predict(X)

    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run() as run:
        mlflow.log_param("max_iter", 300)
        mlflow.log_metric("train_accuracy", float((expected == y).mean()))
        info = mlflow.sklearn.log_model(model, name="model", input_example=X.head(3),
                                        pip_requirements=PIP_REQUIREMENTS)
    run_id = run.info.run_id
    assert info.model_id and info.model_id.startswith("m-")

    logged = client.get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.READY
    assert logged.source_run_id == run_id
    assert logged.experiment_id == exp_id
    assert logged.name == "model"
    assert logged.params.get("max_iter") == "300"
    assert any(m.key == "train_accuracy" for m in logged.metrics)

    outputs = mlflow.get_run(run_id).outputs
    assert [o.model_id for o in outputs.model_outputs] == [info.model_id]

    by_run = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    by_id = mlflow.pyfunc.load_model(f"models:/{info.model_id}")
    np.testing.assert_array_equal(by_run.predict(X), expected)
    np.testing.assert_array_equal(by_id.predict(X), expected)
    native = mlflow.sklearn.load_model(info.model_uri)
    np.testing.assert_array_equal(native.predict(X), expected)

    local = Path(mlflow.artifacts.download_artifacts(f"models:/{info.model_id}",
                                                     dst_path=str(tmp_path / "m")))
    assert (local / "MLmodel").is_file()
    assert "sklearn" in (local / "MLmodel").read_text()

    found = mlflow.search_logged_models(experiment_ids=[exp_id], output_format="list")
    assert [m.model_id for m in found] == [info.model_id]


def test_sklearn_autolog(client, exp_id):
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    mlflow.set_experiment(experiment_id=exp_id)
    mlflow.sklearn.autolog(log_input_examples=False, log_model_signatures=True,
                           log_datasets=False, silent=True)
    try:
        with mlflow.start_run() as run:
            model = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    fetched = client.get_run(run.info.run_id)
    assert fetched.data.params["max_depth"] == "3"
    assert fetched.data.params["random_state"] == "0"
    assert "training_r2_score" in fetched.data.metrics
    assert "training_mean_squared_error" in fetched.data.metrics
    assert fetched.data.tags.get("estimator_name") == "DecisionTreeRegressor"

    models = client.search_logged_models(
        [exp_id], filter_string=f"source_run_id = '{run.info.run_id}'")
    assert len(models) == 1
    assert models[0].status == LoggedModelStatus.READY
    loaded = mlflow.pyfunc.load_model(f"models:/{models[0].model_id}")
    np.testing.assert_allclose(loaded.predict(X.head(20)), model.predict(X.head(20)))


def test_linear_model_predictions_round_trip(exp_id):
    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X, y)
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="linear", pip_requirements=PIP_REQUIREMENTS)
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))


# -- logged models through the client ----------------------------------------------------------


def test_logged_model_lifecycle(client, exp_id):
    run_id = client.create_run(exp_id).info.run_id
    model = client.create_logged_model(exp_id, name="lm", source_run_id=run_id,
                                       tags={"team": "core", "drop": "me"},
                                       params={"alpha": "0.1"}, model_type="classifier")
    assert model.model_id.startswith("m-")
    assert model.status == LoggedModelStatus.PENDING
    assert model.name == "lm"
    assert model.model_type == "classifier"
    assert model.source_run_id == run_id
    assert model.artifact_location

    client.log_model_params(model.model_id, {f"p{i}": str(i) for i in range(150)})
    client.set_logged_model_tags(model.model_id, {"stage": "candidate", "team": "ml"})
    client.delete_logged_model_tag(model.model_id, "drop")
    finalized = client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert finalized.status == LoggedModelStatus.READY

    got = client.get_logged_model(model.model_id)
    assert got.status == LoggedModelStatus.READY
    assert got.tags.get("team") == "ml"
    assert got.tags.get("stage") == "candidate"
    assert "drop" not in got.tags
    assert got.params["alpha"] == "0.1"
    assert got.params["p149"] == "149"
    assert len(got.params) == 151


def test_logged_model_failed_status(client, exp_id):
    model = client.create_logged_model(exp_id, name="broken")
    client.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED)
    assert client.get_logged_model(model.model_id).status == LoggedModelStatus.FAILED


def test_get_unknown_logged_model(client):
    with pytest.raises(MlflowException) as e:
        client.get_logged_model("m-0123456789abcdef0123456789abcdef")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_logged_models(client, exp_id, unique):
    ids = {}
    for i, name in enumerate(["alpha", "beta", "gamma", "delta"]):
        m = client.create_logged_model(exp_id, name=name, params={"i": str(i)},
                                       tags={"kind": "odd" if i % 2 else "even"})
        if i != 3:
            client.finalize_logged_model(m.model_id, LoggedModelStatus.READY)
        ids[name] = m.model_id
    other = client.create_experiment(f"lm-other-{unique}")
    client.create_logged_model(other, name="alpha")

    def names(**kw):
        return [m.name for m in client.search_logged_models([exp_id], **kw)]

    assert sorted(names()) == ["alpha", "beta", "delta", "gamma"]
    assert names(filter_string="name = 'beta'") == ["beta"]
    assert sorted(names(filter_string="tags.kind = 'odd'")) == ["beta", "delta"]
    assert sorted(names(filter_string="params.i = '2'")) == ["gamma"]
    assert names(filter_string="name LIKE 'g%' AND tags.kind = 'even'") == ["gamma"]
    assert names(order_by=[{"field_name": "name", "ascending": True}]) == [
        "alpha", "beta", "delta", "gamma"]
    assert names(order_by=[{"field_name": "creation_timestamp", "ascending": False}]) == [
        "delta", "gamma", "beta", "alpha"]

    # Paging.
    seen, token = [], None
    for _ in range(10):
        page = client.search_logged_models(
            [exp_id], max_results=3, page_token=token,
            order_by=[{"field_name": "name", "ascending": False}])
        seen.extend(m.name for m in page)
        token = page.token
        if not token:
            break
    assert seen == ["gamma", "delta", "beta", "alpha"]

    # Across experiments, through the fluent API.
    both = mlflow.search_logged_models(experiment_ids=[exp_id, other],
                                       filter_string="name = 'alpha'", output_format="list")
    assert len(both) == 2
    df = mlflow.search_logged_models(experiment_ids=[exp_id])
    assert isinstance(df, pd.DataFrame)
    assert set(df["model_id"]) == set(ids.values())


def test_search_logged_models_bad_filter(client, exp_id):
    with pytest.raises(MlflowException) as e:
        client.search_logged_models([exp_id], filter_string="name = 'x' OR name = 'y'")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
