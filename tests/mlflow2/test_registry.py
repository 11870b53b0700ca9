"""The model registry through the MLflow 2.x client, stages included."""

import mlflow
import pytest
from mlflow.exceptions import MlflowException


@pytest.fixture
def source_run(client, unique):
    """A run with a (placeholder) model directory, as a model version's source."""
    exp_id = client.create_experiment(f"{unique}-exp")
    run_id = client.create_run(exp_id).info.run_id
    return run_id, f"{client.get_run(run_id).info.artifact_uri}/model"


def new_versions(client, name, source_run, n):
    run_id, source = source_run
    return [client.create_model_version(name, source, run_id=run_id) for _ in range(n)]


def stages(client, name):
    return {mv.version: mv.current_stage
            for mv in client.search_model_versions(f"name = '{name}'")}


def test_registered_model_and_versions(client, unique, source_run):
    rm = client.create_registered_model(unique, tags={"team": "a"}, description="first")
    assert rm.name == unique
    assert rm.description == "first"
    assert rm.tags == {"team": "a"}
    assert rm.creation_timestamp > 0

    run_id, source = source_run
    mv1 = client.create_model_version(unique, source, run_id=run_id, tags={"k": "v"},
                                      description="v1")
    mv2 = client.create_model_version(unique, source, run_id=run_id)
    assert (mv1.version, mv2.version) == ("1", "2")
    assert mv1.current_stage == "None"
    assert mv1.status == "READY"
    assert mv1.source == source
    assert mv1.run_id == run_id
    assert mv1.tags == {"k": "v"}
    assert mv1.description == "v1"

    got = client.get_model_version(unique, "1")
    assert (got.name, got.version, got.run_id) == (unique, "1", run_id)
    rm = client.get_registered_model(unique)
    assert {v.version for v in rm.latest_versions} == {"2"}

    client.update_registered_model(unique, description="second")
    assert client.get_registered_model(unique).description == "second"
    client.update_model_version(unique, "2", description="v2")
    assert client.get_model_version(unique, "2").description == "v2"

    assert client.get_model_version_download_uri(unique, "1") == source


def test_duplicate_and_missing_registered_model(client, unique):
    client.create_registered_model(unique)
    with pytest.raises(MlflowException) as e:
        client.create_registered_model(unique)
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as e:
        client.get_registered_model(unique + "-missing")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        client.get_model_version(unique, "7")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_stage_transitions(client, unique, source_run):
    client.create_registered_model(unique)
    new_versions(client, unique, source_run, 3)

    mv = client.transition_model_version_stage(unique, "1", "Staging")
    assert mv.current_stage == "Staging"
    client.transition_model_version_stage(unique, "1", "Production")
    client.transition_model_version_stage(unique, "2", "Production")
    # Without archive_existing_versions, two versions can share a stage.
    assert stages(client, unique) == {"1": "Production", "2": "Production", "3": "None"}

    client.transition_model_version_stage(unique, "3", "Production",
                                          archive_existing_versions=True)
    assert stages(client, unique) == {"1": "Archived", "2": "Archived", "3": "Production"}

    # Stage names are case-insensitive on the way in and canonical on the way out.
    mv = client.transition_model_version_stage(unique, "2", "staging")
    assert mv.current_stage == "Staging"
    client.transition_model_version_stage(unique, "1", "None")
    assert stages(client, unique) == {"1": "None", "2": "Staging", "3": "Production"}

    with pytest.raises(MlflowException) as e:
        client.transition_model_version_stage(unique, "1", "Shipping")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_archive_existing_versions_only_touches_the_target_stage(client, unique, source_run):
    client.create_registered_model(unique)
    new_versions(client, unique, source_run, 4)
    client.transition_model_version_stage(unique, "1", "Staging")
    client.transition_model_version_stage(unique, "2", "Staging")
    client.transition_model_version_stage(unique, "3", "Production")
    client.transition_model_version_stage(unique, "4", "Staging",
                                          archive_existing_versions=True)
    assert stages(client, unique) == {"1": "Archived", "2": "Archived", "3": "Production",
                                      "4": "Staging"}


def test_get_latest_versions_per_stage(client, unique, source_run):
    client.create_registered_model(unique)
    new_versions(client, unique, source_run, 4)
    client.transition_model_version_stage(unique, "1", "Production")
    client.transition_model_version_stage(unique, "2", "Production")
    client.transition_model_version_stage(unique, "3", "Staging")

    def latest(stages=None):
        return {(mv.version, mv.current_stage)
                for mv in client.get_latest_versions(unique, stages=stages)}

    assert latest() == {("2", "Production"), ("3", "Staging"), ("4", "None")}
    assert latest(["Production"]) == {("2", "Production")}
    assert latest(["production", "Staging"]) == {("2", "Production"), ("3", "Staging")}
    assert latest(["Archived"]) == set()
    assert latest(["None"]) == {("4", "None")}


def test_aliases(client, unique, source_run):
    client.create_registered_model(unique)
    new_versions(client, unique, source_run, 2)
    client.set_registered_model_alias(unique, "champion", "1")
    client.set_registered_model_alias(unique, "challenger", "2")
    assert client.get_model_version_by_alias(unique, "champion").version == "1"
    assert client.get_registered_model(unique).aliases == {"champion": "1", "challenger": "2"}
    assert client.get_model_version(unique, "2").aliases == ["challenger"]

    # Moving an alias takes it off its old version.
    client.set_registered_model_alias(unique, "champion", "2")
    assert sorted(client.get_model_version(unique, "2").aliases) == ["challenger", "champion"]
    assert client.get_model_version(unique, "1").aliases == []

    client.delete_registered_model_alias(unique, "challenger")
    assert client.get_registered_model(unique).aliases == {"champion": "2"}
    with pytest.raises(MlflowException):
        client.get_model_version_by_alias(unique, "challenger")


def test_tags(client, unique, source_run):
    client.create_registered_model(unique)
    new_versions(client, unique, source_run, 1)
    client.set_registered_model_tag(unique, "owner", "ml")
    client.set_registered_model_tag(unique, "drop", "me")
    client.delete_registered_model_tag(unique, "drop")
    assert client.get_registered_model(unique).tags == {"owner": "ml"}

    client.set_model_version_tag(unique, "1", "validated", "true")
    client.set_model_version_tag(unique, "1", "drop", "me")
    client.delete_model_version_tag(unique, "1", "drop")
    assert client.get_model_version(unique, "1").tags == {"validated": "true"}


def test_search(client, unique, source_run):
    names = [f"{unique}-{i}" for i in range(3)]
    for i, name in enumerate(names):
        client.create_registered_model(name, tags={"i": str(i)})
        new_versions(client, name, source_run, i + 1)

    found = client.search_registered_models(f"name LIKE '{unique}-%'", order_by=["name DESC"])
    assert [rm.name for rm in found] == names[::-1]
    assert [rm.name for rm in client.search_registered_models(f"name = '{names[1]}'")] \
        == [names[1]]
    tagged = client.search_registered_models(f"name LIKE '{unique}-%' AND tags.i = '2'")
    assert [rm.name for rm in tagged] == [names[2]]
    page = client.search_registered_models(f"name LIKE '{unique}-%'", max_results=2,
                                           order_by=["name ASC"])
    assert [rm.name for rm in page] == names[:2] and page.token
    rest = client.search_registered_models(f"name LIKE '{unique}-%'", max_results=2,
                                           order_by=["name ASC"], page_token=page.token)
    assert [rm.name for rm in rest] == names[2:]

    versions = client.search_model_versions(f"name = '{names[2]}'")
    assert sorted(mv.version for mv in versions) == ["1", "2", "3"]
    run_id, _ = source_run
    by_run = client.search_model_versions(f"run_id = '{run_id}'")
    assert sorted((mv.name, mv.version) for mv in by_run) == [
        (names[0], "1"), (names[1], "1"), (names[1], "2"),
        (names[2], "1"), (names[2], "2"), (names[2], "3")]
    ordered = client.search_model_versions(f"name = '{names[2]}'",
                                           order_by=["version_number DESC"])
    assert [mv.version for mv in ordered] == ["3", "2", "1"]


def test_rename(client, unique, source_run):
    client.create_registered_model(unique)
    new_versions(client, unique, source_run, 2)
    client.transition_model_version_stage(unique, "2", "Production")
    client.set_registered_model_alias(unique, "live", "2")

    # The 2.x MlflowClient drops the renamed model the server answers with.
    client.rename_registered_model(unique, unique + "-new")
    assert client.get_registered_model(unique + "-new").name == unique + "-new"
    with pytest.raises(MlflowException) as e:
        client.get_registered_model(unique)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert stages(client, unique + "-new") == {"1": "None", "2": "Production"}
    assert client.get_model_version_by_alias(unique + "-new", "live").version == "2"
    assert [mv.version for mv in client.get_latest_versions(unique + "-new", ["Production"])] \
        == ["2"]


def test_delete_version_and_model(client, unique, source_run):
    client.create_registered_model(unique)
    new_versions(client, unique, source_run, 2)
    client.set_registered_model_alias(unique, "gone", "1")
    client.delete_model_version(unique, "1")
    with pytest.raises(MlflowException) as e:
        client.get_model_version(unique, "1")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "gone" not in client.get_registered_model(unique).aliases
    # Version numbers are never reused.
    assert new_versions(client, unique, source_run, 1)[0].version == "3"

    client.delete_registered_model(unique)
    with pytest.raises(MlflowException) as e:
        client.get_registered_model(unique)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.search_model_versions(f"name = '{unique}'") == []


def test_register_model_from_run_uri(client, unique, source_run):
    run_id, _ = source_run
    mv = mlflow.register_model(f"runs:/{run_id}/model", unique)
    assert (mv.name, mv.version, mv.run_id) == (unique, "1", run_id)
    # A second registration of an existing model adds a version.
    assert mlflow.register_model(f"runs:/{run_id}/model", unique).version == "2"


def test_search_model_versions_by_tag(client, unique, source_run):
    client.create_registered_model(unique)
    new_versions(client, unique, source_run, 3)
    client.set_model_version_tag(unique, "2", "validated", "yes")
    found = client.search_model_versions(f"name = '{unique}' AND tags.validated = 'yes'")
    assert [mv.version for mv in found] == ["2"]


def test_copy_model_version(client, unique, source_run):
    client.create_registered_model(unique)
    new_versions(client, unique, source_run, 1)
    client.transition_model_version_stage(unique, "1", "Staging")
    copied = client.copy_model_version(f"models:/{unique}/Staging", unique + "-prod")
    assert (copied.name, copied.version) == (unique + "-prod", "1")
    assert copied.run_id == source_run[0]
    assert client.get_model_version(unique + "-prod", "1").current_stage == "None"
