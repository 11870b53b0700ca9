"""The model registry through the official client: register, stages, aliases, search, loading."""

import time
from pathlib import Path

import mlflow
import mlflow.sklearn
import numpy as np
import pytest
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from helpers import assert_mlflow_error

# Writing requirements lists by hand skips the client's slow requirement inference.
PIP_REQUIREMENTS = ["scikit-learn", "numpy", "pandas"]


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def logged(base_url, iris):
    """One scikit-learn model logged once for the module: (run_id, model_id, predictions)."""
    X, y = iris
    model = LogisticRegression(max_iter=500).fit(X, y)
    mlflow.set_tracking_uri(base_url)
    client = mlflow.MlflowClient(base_url)
    exp_id = client.create_experiment(f"registry-client-{time.time_ns()}")
    with mlflow.start_run(experiment_id=exp_id) as run:
        info = mlflow.sklearn.log_model(model, name="model", pip_requirements=PIP_REQUIREMENTS)
    mlflow.set_tracking_uri(None)
    return run.info.run_id, info.model_id, model.predict(X)


def new_model(client, name, versions=0, logged=None, **kwargs):
    """Creates a registered model with `versions` versions of the module's logged model."""
    client.create_registered_model(name, **kwargs)
    run_id, model_id, _ = logged if logged else (None, None, None)
    out = []
    for _ in range(versions):
        out.append(client.create_model_version(name, f"models:/{model_id}", run_id=run_id,
                                               model_id=model_id))
    return out


def stages(client, name):
    return {mv.version: mv.current_stage
            for mv in client.search_model_versions(f"name = '{name}'")}


# -- the scikit-learn flow end to end ----------------------------------------------------------


def test_sklearn_log_register_alias_and_load(client, unique, iris, tmp_path):
    X, y = iris
    model = LogisticRegression(max_iter=500, C=0.5).fit(X, y)
    expected = model.predict(X)
    name = f"iris-{unique}"
    exp_id = client.create_experiment(f"rc-{unique}")

    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_params({"C": 0.5, "max_iter": 500})
        mlflow.log_metric("train_accuracy", float((expected == y).mean()))
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name,
                                        pip_requirements=PIP_REQUIREMENTS)
    run_id = run.info.run_id
    assert str(info.registered_model_version) == "1"

    v1 = client.get_model_version(name, "1")
    assert v1.status == "READY"
    assert v1.current_stage == "None"
    assert v1.run_id == run_id
    assert v1.source == f"models:/{info.model_id}"

    # A second version from the run's URI: the client resolves it to the same logged model.
    v2 = mlflow.register_model(f"runs:/{run_id}/model", name)
    assert v2.version == "2"
    assert v2.status == "READY"
    assert v2.source == f"models:/{info.model_id}"
    assert v2.run_id == run_id

    # The download URI of both is where the logged model's files are.
    artifact_uri = client.get_logged_model(info.model_id).artifact_location
    assert client.get_model_version_download_uri(name, "1") == artifact_uri
    assert client.get_model_version_download_uri(name, "2") == artifact_uri

    client.set_registered_model_alias(name, "champion", "2")
    by_alias = client.get_model_version_by_alias(name, "champion")
    assert by_alias.version == "2"
    assert by_alias.aliases == ["champion"]
    assert client.get_registered_model(name).aliases == {"champion": "2"}

    champion = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    np.testing.assert_array_equal(champion.predict(X), expected)
    native = mlflow.sklearn.load_model(f"models:/{name}/1")
    np.testing.assert_array_equal(native.predict(X), expected)
    np.testing.assert_array_equal(native.predict_proba(X), model.predict_proba(X))

    local = Path(mlflow.artifacts.download_artifacts(f"models:/{name}@champion",
                                                     dst_path=str(tmp_path / "champion")))
    assert (local / "MLmodel").is_file()
    assert "sklearn" in (local / "MLmodel").read_text()
    assert (local / "model.skops").is_file() or (local / "model.pkl").is_file()


# -- registered models -------------------------------------------------------------------------


def test_registered_model_create_get_update_delete(client, unique, logged):
    name = f"crud-{unique}"
    created = client.create_registered_model(name, tags={"team": "core", "drop": "me"},
                                             description="first")
    assert created.name == name
    assert created.description == "first"
    assert created.tags == {"team": "core", "drop": "me"}
    assert created.creation_timestamp > 0

    with pytest.raises(MlflowException) as e:
        client.create_registered_model(name)
    assert_mlflow_error(e, "RESOURCE_ALREADY_EXISTS")

    updated = client.update_registered_model(name, description="second")
    assert updated.description == "second"
    assert updated.last_updated_timestamp >= created.last_updated_timestamp

    client.set_registered_model_tag(name, "team", "ml")
    client.set_registered_model_tag(name, "empty", "")
    client.delete_registered_model_tag(name, "drop")
    got = client.get_registered_model(name)
    assert got.description == "second"
    assert got.tags == {"team": "ml", "empty": ""}

    client.delete_registered_model(name)
    with pytest.raises(MlflowException) as e:
        client.get_registered_model(name)
    assert_mlflow_error(e, "RESOURCE_DOES_NOT_EXIST")
    # The name is free again.
    assert client.create_registered_model(name).name == name


def test_rename_moves_versions_and_aliases(client, unique, logged):
    name, new_name = f"old-{unique}", f"new-{unique}"
    new_model(client, name, versions=2, logged=logged, tags={"k": "v"})
    client.set_registered_model_alias(name, "prod", "2")
    client.set_model_version_tag(name, "1", "vt", "x")

    client.rename_registered_model(name, new_name)

    with pytest.raises(MlflowException) as e:
        client.get_registered_model(name)
    assert_mlflow_error(e, "RESOURCE_DOES_NOT_EXIST")
    got = client.get_registered_model(new_name)
    assert got.tags == {"k": "v"}
    assert got.aliases == {"prod": "2"}
    versions = client.search_model_versions(f"name = '{new_name}'")
    assert sorted(v.version for v in versions) == ["1", "2"]
    assert all(v.name == new_name for v in versions)
    assert client.get_model_version(new_name, "1").tags == {"vt": "x"}
    assert client.get_model_version_by_alias(new_name, "prod").version == "2"
    assert client.search_model_versions(f"name = '{name}'") == []

    # The next version continues the numbering under the new name.
    run_id, model_id, _ = logged
    mv = client.create_model_version(new_name, f"models:/{model_id}", run_id=run_id,
                                     model_id=model_id)
    assert mv.version == "3"


def test_search_registered_models_filters_order_and_paging(client, unique, target):
    prefix = f"srch-{unique}"
    names = [f"{prefix}-{c}" for c in ("d", "a", "e", "c", "b")]
    for i, name in enumerate(names):
        client.create_registered_model(name, tags={"team": "red" if i % 2 else "blue",
                                                   "idx": str(i)})

    def search(filter_string=None, **kw):
        f = f"name LIKE '{prefix}-%'"
        if filter_string:
            f += " AND " + filter_string
        return [m.name for m in client.search_registered_models(filter_string=f, **kw)]

    ordered = sorted(names)
    assert search() == ordered  # name ascending by default
    assert search(order_by=["name DESC"]) == ordered[::-1]
    assert search("tags.team = 'red'") == [f"{prefix}-a", f"{prefix}-c"]
    assert search("tags.team = 'blue' AND tags.idx != '0'") == [f"{prefix}-b", f"{prefix}-e"]
    assert search("tags.team LIKE 'bl%'") == [f"{prefix}-b", f"{prefix}-d", f"{prefix}-e"]
    assert search(f"name = '{prefix}-c'") == [f"{prefix}-c"]
    assert search("name LIKE '%-a'") == [f"{prefix}-a"]
    assert search(f"name ILIKE '{prefix.upper()}-B'") == [f"{prefix}-b"]
    assert search("tags.team = 'green'") == []
    assert [m.name for m in client.search_registered_models(
        filter_string=f"name = '{prefix}-c'")] == [f"{prefix}-c"]

    # Update order ("timestamp" is the reference's older name for last_updated_timestamp).
    time.sleep(0.01)
    client.update_registered_model(f"{prefix}-c", description="touched")
    assert search(order_by=["last_updated_timestamp DESC"])[0] == f"{prefix}-c"
    assert search(order_by=["timestamp DESC"])[0] == f"{prefix}-c"
    assert search(order_by=["last_updated_timestamp ASC"])[-1] == f"{prefix}-c"
    if target == "cairn":  # the reference cannot order registered models by creation time
        assert search(order_by=["creation_timestamp ASC"]) == names
        assert search(order_by=["creation_timestamp DESC"]) == names[::-1]

    # Paging: opaque tokens, no repeats, no gaps, no token after the last page.
    seen, token, pages = [], None, 0
    while True:
        page = client.search_registered_models(filter_string=f"name LIKE '{prefix}-%'",
                                               max_results=2, page_token=token,
                                               order_by=["name DESC"])
        pages += 1
        assert len(page) <= 2
        seen.extend(m.name for m in page)
        token = page.token
        if not token:
            break
        assert pages < 10
    assert seen == ordered[::-1]
    assert pages == 3

    with pytest.raises(MlflowException) as e:
        client.search_registered_models(filter_string="name = 'x' OR name = 'y'")
    assert_mlflow_error(e, "INVALID_PARAMETER_VALUE")
    with pytest.raises(MlflowException) as e:
        client.search_registered_models(order_by=["no_such_key"])
    assert_mlflow_error(e, "INVALID_PARAMETER_VALUE")


def test_delete_registered_model_cascades(client, unique, logged):
    name = f"cascade-{unique}"
    new_model(client, name, versions=2, logged=logged)
    client.set_registered_model_alias(name, "a", "1")
    client.set_model_version_tag(name, "2", "t", "v")
    client.delete_registered_model(name)

    for call in (lambda: client.get_model_version(name, "1"),
                 lambda: client.get_model_version_by_alias(name, "a"),
                 lambda: client.get_latest_versions(name)):
        with pytest.raises(MlflowException) as e:
            call()
        assert_mlflow_error(e, "RESOURCE_DOES_NOT_EXIST")
    assert client.search_model_versions(f"name = '{name}'") == []

    # Recreated under the same name, it starts from scratch.
    new_model(client, name, versions=1, logged=logged)
    fresh = client.get_model_version(name, "1")
    assert fresh.tags == {} and fresh.aliases == []
    assert client.get_registered_model(name).aliases == {}


# -- stages and latest versions ----------------------------------------------------------------


def test_stages_latest_versions_and_archiving(client, unique, logged):
    name = f"stages-{unique}"
    new_model(client, name, versions=4, logged=logged)

    client.transition_model_version_stage(name, "1", "Staging")
    mv = client.transition_model_version_stage(name, "2", "production")  # any case
    assert mv.current_stage == "Production"
    client.transition_model_version_stage(name, "3", "Production")
    assert stages(client, name) == {"1": "Staging", "2": "Production", "3": "Production",
                                    "4": "None"}

    def latest(*wanted):
        return {mv.current_stage: mv.version
                for mv in client.get_latest_versions(name, list(wanted) or None)}

    assert latest("Production") == {"Production": "3"}
    assert latest("Staging") == {"Staging": "1"}
    assert latest("Staging", "Production") == {"Staging": "1", "Production": "3"}
    assert latest() == {"None": "4", "Staging": "1", "Production": "3"}

    # archive_existing_versions moves the other holders of the *same* stage only.
    mv = client.transition_model_version_stage(name, "4", "Production",
                                               archive_existing_versions=True)
    assert mv.current_stage == "Production"
    assert stages(client, name) == {"1": "Staging", "2": "Archived", "3": "Archived",
                                    "4": "Production"}
    assert latest() == {"Staging": "1", "Production": "4", "Archived": "3"}
    assert latest("Archived") == {"Archived": "3"}

    client.transition_model_version_stage(name, "1", "None")
    assert latest("Staging") == {}

    # A deleted version drops out of "latest".
    client.delete_model_version(name, "4")
    assert latest("Production") == {}
    assert latest() == {"None": "1", "Archived": "3"}

    with pytest.raises(MlflowException) as e:
        client.transition_model_version_stage(name, "1", "Shipped")
    assert_mlflow_error(e, "INVALID_PARAMETER_VALUE")
    with pytest.raises(MlflowException) as e:
        client.transition_model_version_stage(name, "99", "Staging")
    assert_mlflow_error(e, "RESOURCE_DOES_NOT_EXIST")
    assert stages(client, name) == {"1": "None", "2": "Archived", "3": "Archived"}


def test_stage_latest_and_version_uris_load(client, unique, logged, iris, tmp_path):
    X, _ = iris
    _, model_id, expected = logged
    name = f"uris-{unique}"
    new_model(client, name, versions=3, logged=logged)
    client.transition_model_version_stage(name, "2", "Production")
    client.set_registered_model_alias(name, "best", "1")

    for uri in (f"models:/{name}/Production", f"models:/{name}/production",
                f"models:/{name}/latest", f"models:/{name}/3", f"models:/{name}@best"):
        model = mlflow.pyfunc.load_model(uri)
        np.testing.assert_array_equal(model.predict(X), expected, err_msg=uri)
        assert model.metadata.model_id == model_id

    local = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/Production",
                                                     dst_path=str(tmp_path / "prod")))
    assert (local / "MLmodel").is_file()
    one = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/1/MLmodel",
                                                   dst_path=str(tmp_path / "one")))
    assert one.is_file() and one.name == "MLmodel"

    with pytest.raises(MlflowException):
        mlflow.pyfunc.load_model(f"models:/{name}/Staging")  # nothing in Staging
    with pytest.raises(MlflowException):
        mlflow.pyfunc.load_model(f"models:/{name}@missing")
    with pytest.raises(MlflowException):
        mlflow.pyfunc.load_model(f"models:/{name}/42")


# -- model versions ----------------------------------------------------------------------------


def test_model_version_update_tags_and_delete(client, unique, logged):
    name = f"mv-{unique}"
    run_id, model_id, _ = logged
    client.create_registered_model(name)
    mv = client.create_model_version(name, f"models:/{model_id}", run_id=run_id,
                                     model_id=model_id, tags={"a": "1", "b": "2"},
                                     description="v1 desc")
    assert mv.version == "1"
    assert mv.tags == {"a": "1", "b": "2"}
    assert mv.description == "v1 desc"
    assert mv.current_stage == "None"
    assert mv.status == "READY"

    updated = client.update_model_version(name, "1", description="changed")
    assert updated.description == "changed"
    client.set_model_version_tag(name, "1", "a", "one")
    client.set_model_version_tag(name, "1", "c", "3")
    client.delete_model_version_tag(name, "1", "b")
    got = client.get_model_version(name, "1")
    assert got.tags == {"a": "one", "c": "3"}
    assert got.description == "changed"
    assert got.last_updated_timestamp >= mv.last_updated_timestamp

    client.create_model_version(name, f"models:/{model_id}", run_id=run_id, model_id=model_id)
    client.set_registered_model_alias(name, "al", "1")
    client.delete_model_version(name, "1")
    with pytest.raises(MlflowException) as e:
        client.get_model_version(name, "1")
    assert_mlflow_error(e, "RESOURCE_DOES_NOT_EXIST")
    # Its alias went with it; the number is never reused.
    assert client.get_registered_model(name).aliases == {}
    with pytest.raises(MlflowException) as e:
        client.get_model_version_by_alias(name, "al")
    assert_mlflow_error(e, "INVALID_PARAMETER_VALUE")  # an unknown alias, as MLflow says
    assert client.create_model_version(name, f"models:/{model_id}", run_id=run_id,
                                       model_id=model_id).version == "3"
    assert sorted(v.version for v in client.search_model_versions(f"name = '{name}'")) == [
        "2", "3"]
    with pytest.raises(MlflowException) as e:
        client.delete_model_version(name, "1")
    assert_mlflow_error(e, "RESOURCE_DOES_NOT_EXIST")


def test_search_model_versions(client, unique, logged):
    run_id, model_id, _ = logged
    exp_id = client.create_experiment(f"smv-{unique}")
    other_run = client.create_run(exp_id).info.run_id
    a, b = f"smv-a-{unique}", f"smv-b-{unique}"
    for name in (a, b):
        client.create_registered_model(name)
    for name, env in ((a, "dev"), (a, "prod"), (b, "dev")):
        client.create_model_version(name, f"models:/{model_id}", run_id=run_id,
                                    model_id=model_id, tags={"env": env})
    other_source = client.get_run(other_run).info.artifact_uri + "/model"
    client.create_model_version(b, other_source, run_id=other_run)

    def found(filter_string, **kw):
        return sorted((mv.name, mv.version)
                      for mv in client.search_model_versions(filter_string, **kw))

    assert found(f"name = '{a}'") == [(a, "1"), (a, "2")]
    assert found(f"name = '{b}' AND run_id = '{other_run}'") == [(b, "2")]
    assert found(f"run_id = '{other_run}'") == [(b, "2")]
    assert found(f"name LIKE 'smv-%-{unique}' AND tags.env = 'dev'") == [(a, "1"), (b, "1")]
    assert found(f"name = '{a}' AND tags.env != 'dev'") == [(a, "2")]
    assert found(f"name = '{b}' AND source_path = '{other_source}'") == [(b, "2")]
    assert found(f"name = '{a}' AND tags.env = 'staging'") == []

    ordered = client.search_model_versions(f"name = '{a}'", order_by=["version_number DESC"])
    assert [mv.version for mv in ordered] == ["2", "1"]
    ordered = client.search_model_versions(f"name = '{a}'", order_by=["version_number ASC"])
    assert [mv.version for mv in ordered] == ["1", "2"]

    # Paging through the client's paged search.
    page = client.search_model_versions(f"name LIKE 'smv-%-{unique}'", max_results=3,
                                        order_by=["name ASC", "version_number ASC"])
    assert [(mv.name, mv.version) for mv in page] == [(a, "1"), (a, "2"), (b, "1")]
    assert page.token
    rest = client.search_model_versions(f"name LIKE 'smv-%-{unique}'", max_results=3,
                                        order_by=["name ASC", "version_number ASC"],
                                        page_token=page.token)
    assert [(mv.name, mv.version) for mv in rest] == [(b, "2")]
    assert not rest.token

    with pytest.raises(MlflowException) as e:
        client.search_model_versions("name = 'x' OR name = 'y'")
    assert_mlflow_error(e, "INVALID_PARAMETER_VALUE")


# -- aliases -----------------------------------------------------------------------------------


def test_aliases_set_move_get_delete(client, unique, logged):
    name = f"alias-{unique}"
    new_model(client, name, versions=3, logged=logged)
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "2")
    client.set_registered_model_alias(name, "Shadow_1-x", "2")
    assert client.get_registered_model(name).aliases == {
        "champion": "1", "challenger": "2", "Shadow_1-x": "2"}
    assert sorted(client.get_model_version(name, "2").aliases) == ["Shadow_1-x", "challenger"]

    # Setting an existing alias moves it.
    client.set_registered_model_alias(name, "champion", "3")
    assert client.get_model_version_by_alias(name, "champion").version == "3"
    assert client.get_model_version(name, "1").aliases == []
    assert client.get_model_version(name, "3").aliases == ["champion"]

    client.delete_registered_model_alias(name, "challenger")
    assert client.get_registered_model(name).aliases == {"champion": "3", "Shadow_1-x": "2"}
    with pytest.raises(MlflowException) as e:
        client.get_model_version_by_alias(name, "challenger")
    assert_mlflow_error(e, "INVALID_PARAMETER_VALUE")  # an unknown alias, as MLflow says

    for bad in ("v1", "V12", "latest", "Latest", "has space", "a/b", "x" * 256):
        with pytest.raises(MlflowException) as e:
            client.set_registered_model_alias(name, bad, "1")
        assert_mlflow_error(e, "INVALID_PARAMETER_VALUE")
    with pytest.raises(MlflowException) as e:
        client.set_registered_model_alias(name, "ghost", "9")
    assert_mlflow_error(e, "RESOURCE_DOES_NOT_EXIST")
    assert client.get_registered_model(name).aliases == {"champion": "3", "Shadow_1-x": "2"}
