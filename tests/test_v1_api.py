"""Cairn's own model management API under /api/v1 and the `cairn models` CLI built on it."""

import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import mlflow
import mlflow.sklearn
import pytest
import requests
from sklearn.linear_model import LinearRegression

from helpers import API, ARTIFACTS, assert_error, now_ms
from server_process import cairn_binary

pytestmark = pytest.mark.cairn_only

V1 = "/api/v1"


def mlflow_call(http, base_url, method, path, body=None, params=None):
    r = http.request(method, base_url + API + path, json=body, params=params, timeout=60)
    assert r.status_code == 200, f"{method} {path}: {r.status_code} {r.text[:500]}"
    return r.json()


def v1(http, base_url, method, path, body=None, params=None, headers=None):
    return http.request(method, base_url + V1 + path, json=body, params=params,
                        headers=headers, timeout=60)


def relative(uri: str) -> str:
    assert uri.startswith("mlflow-artifacts:/"), uri
    return uri[len("mlflow-artifacts:/"):].lstrip("/")


def upload(http, base_url, uri: str, files: dict[str, bytes]):
    for rel, content in files.items():
        r = http.put(f"{base_url}{ARTIFACTS}/{relative(uri)}/{rel}", data=content, timeout=60)
        assert r.status_code == 200, r.text


def listing(http, base_url, uri: str) -> list[str]:
    r = http.get(base_url + ARTIFACTS, params={"path": relative(uri)}, timeout=60)
    assert r.status_code == 200, r.text
    return sorted(f["path"] for f in r.json().get("files", []))


MODEL_FILES = {"MLmodel": b"flavors:\n  python_function: {}\n", "model.bin": b"\x00\x01weights"}


@pytest.fixture
def run(http, base_url):
    """A finished run with params, metrics, tags, a dataset and model files at "model"."""
    exp_name = f"v1-{uuid.uuid4().hex[:10]}"
    exp = mlflow_call(http, base_url, "POST", "/experiments/create", {"name": exp_name})
    info = mlflow_call(http, base_url, "POST", "/runs/create", {
        "experiment_id": exp["experiment_id"], "start_time": now_ms(), "run_name": "trainer",
        "tags": [{"key": "owner", "value": "ml-team"}]})["run"]["info"]
    run_id = info["run_id"]
    t = now_ms()
    mlflow_call(http, base_url, "POST", "/runs/log-batch", {
        "run_id": run_id,
        "params": [{"key": "alpha", "value": "0.5"}, {"key": "depth", "value": "4"}],
        "metrics": [{"key": "acc", "value": 0.7, "timestamp": t, "step": 0},
                    {"key": "acc", "value": 0.9, "timestamp": t, "step": 1},
                    {"key": "loss", "value": 0.25, "timestamp": t, "step": 1}]})
    mlflow_call(http, base_url, "POST", "/runs/log-inputs", {
        "run_id": run_id,
        "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
                      "dataset": {"name": "iris", "digest": "d1g3st", "source_type": "local",
                                  "source": '{"uri": "/data/iris.csv"}'}}]})
    upload(http, base_url, info["artifact_uri"] + "/model", MODEL_FILES)
    mlflow_call(http, base_url, "POST", "/runs/update",
                {"run_id": run_id, "status": "FINISHED", "end_time": now_ms()})
    return SimpleNamespace(run_id=run_id, experiment_id=exp["experiment_id"],
                           experiment_name=exp_name, artifact_uri=info["artifact_uri"])


@pytest.fixture
def logged_model(http, base_url, run):
    """An MLflow 3 logged model of the run, named "lm", with its files uploaded."""
    model = mlflow_call(http, base_url, "POST", "/logged-models", {
        "experiment_id": run.experiment_id, "name": "lm", "source_run_id": run.run_id,
        "model_type": "classifier", "params": [{"key": "alpha", "value": "0.5"}],
        "tags": [{"key": "stage", "value": "candidate"}]})["model"]["info"]
    upload(http, base_url, model["artifact_uri"], MODEL_FILES)
    mlflow_call(http, base_url, "PATCH", f"/logged-models/{model['model_id']}",
                {"model_id": model["model_id"], "status": "LOGGED_MODEL_READY"})
    mlflow_call(http, base_url, "POST", "/runs/outputs",
                {"run_id": run.run_id, "models": [{"model_id": model["model_id"], "step": 0}]})
    return SimpleNamespace(model_id=model["model_id"], artifact_uri=model["artifact_uri"])


@pytest.fixture
def name():
    return f"v1-model-{uuid.uuid4().hex[:10]}"


def register(http, base_url, name, source, **extra):
    r = v1(http, base_url, "POST", "/models/register", {"name": name, "source": source, **extra})
    assert r.status_code == 201, r.text
    return r.json()["model_version"]


VERSION_FIELDS = {
    "name", "version", "creation_timestamp", "last_updated_timestamp", "user_id",
    "current_stage", "description", "source", "storage_location", "run_id", "run_link",
    "model_id", "status", "status_message", "tags", "aliases"}


# -- register ----------------------------------------------------------------------------------


def test_register_from_run_logged_model_and_uri(http, base_url, run, logged_model, name):
    start = now_ms()
    v = register(http, base_url, name, {"run_id": run.run_id, "artifact_path": "model"},
                 description="from the run", tags={"team": "core", "ticket": "42"})
    assert set(v) == VERSION_FIELDS
    assert v["name"] == name
    assert v["version"] == 1 and isinstance(v["version"], int)
    assert v["source"] == f"runs:/{run.run_id}/model"
    assert v["storage_location"] == run.artifact_uri + "/model"
    assert v["run_id"] == run.run_id
    assert v["model_id"] == ""
    assert v["status"] == "READY"
    assert v["current_stage"] == "None"
    assert v["description"] == "from the run"
    assert v["tags"] == {"team": "core", "ticket": "42"}
    assert v["aliases"] == []
    assert start - 1000 <= v["creation_timestamp"] <= now_ms() + 1000

    # The registered model was created on first use and MLflow's API sees the version.
    mv = mlflow_call(http, base_url, "GET", "/model-versions/get",
                     {"name": name, "version": "1"})["model_version"]
    assert mv["source"] == v["source"] and mv["run_id"] == run.run_id
    # MLflow's get-download-uri answers a runs:/ source as it is; Cairn reads from the location.
    assert mlflow_call(http, base_url, "GET", "/model-versions/get-download-uri",
                       {"name": name, "version": "1"})["artifact_uri"] == v["source"]

    by_model = register(http, base_url, name, {"logged_model_id": logged_model.model_id},
                        tags=[{"key": "k", "value": "v"}])
    assert by_model["version"] == 2
    assert by_model["source"] == f"models:/{logged_model.model_id}"
    assert by_model["model_id"] == logged_model.model_id
    assert by_model["run_id"] == run.run_id
    assert by_model["storage_location"] == logged_model.artifact_uri
    assert by_model["tags"] == {"k": "v"}

    # A run artifact path that names a model the run logged resolves to that logged model.
    by_name = register(http, base_url, name, {"run_id": run.run_id, "artifact_path": "lm"})
    assert by_name["version"] == 3
    assert by_name["model_id"] == logged_model.model_id
    assert by_name["storage_location"] == logged_model.artifact_uri

    by_uri = register(http, base_url, name, {"artifact_uri": run.artifact_uri + "/model"})
    assert by_uri["version"] == 4
    assert by_uri["source"] == by_uri["storage_location"] == run.artifact_uri + "/model"
    assert by_uri["run_id"] == ""

    external = register(http, base_url, name, {"artifact_uri": "s3://bucket/models/m1"})
    assert external["storage_location"] == "s3://bucket/models/m1"
    assert [v["version"] for v in v1(http, base_url, "GET", f"/models/{name}/versions")
            .json()["versions"]] == [5, 4, 3, 2, 1]


def test_register_errors(http, base_url, run, logged_model, name):
    register(http, base_url, name, {"artifact_uri": "s3://bucket/ok"})
    bad_requests = [
        ({"source": {"artifact_uri": "s3://b/x"}}, "INVALID_PARAMETER_VALUE"),
        ({"name": "", "source": {"artifact_uri": "s3://b/x"}}, "INVALID_PARAMETER_VALUE"),
        ({"name": "x" * 257, "source": {"artifact_uri": "s3://b/x"}}, "INVALID_PARAMETER_VALUE"),
        ({"name": name}, "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": {}}, "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": "s3://b/x"}, "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": {"run_id": run.run_id}}, "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": {"artifact_uri": "s3://b/x",
                                   "logged_model_id": logged_model.model_id}},
         "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": {"run_id": run.run_id, "artifact_path": "model",
                                   "artifact_uri": "s3://b/x"}}, "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": {"run_id": run.run_id, "artifact_path": "../../x"}},
         "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": {"artifact_uri": run.artifact_uri + "/../../x"}},
         "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": {"artifact_uri": run.artifact_uri + "/%2e%2e/%2e%2e/x"}},
         "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": {"artifact_uri": "/etc/passwd"}}, "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": {"artifact_uri": "s3://b/x"}, "tags": "nope"},
         "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": {"artifact_uri": "s3://b/x"}, "tags": {"k": "v" * 100_001}},
         "INVALID_PARAMETER_VALUE"),
        ({"name": name, "source": {"artifact_uri": 7}}, "INVALID_PARAMETER_VALUE"),
    ]
    for body, code in bad_requests:
        assert_error(v1(http, base_url, "POST", "/models/register", body), 400, code)
    not_found = [
        {"run_id": "0" * 32, "artifact_path": "model"},
        {"logged_model_id": "m-" + "0" * 32},
    ]
    for source in not_found:
        r = v1(http, base_url, "POST", "/models/register", {"name": name, "source": source})
        assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")

    r = http.post(base_url + V1 + "/models/register",
                  data=json.dumps({"name": name, "source": {"artifact_uri": "s3://b/x"}}),
                  headers={"Content-Type": "text/plain"}, timeout=30)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = http.post(base_url + V1 + "/models/register", data=b'{"name": ',
                  headers={"Content-Type": "application/json"}, timeout=30)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")

    # None of the refused calls created anything.
    versions = v1(http, base_url, "GET", f"/models/{name}/versions").json()["versions"]
    assert [v["version"] for v in versions] == [1]
    for other in ("", "x" * 257):
        assert mlflow_call(http, base_url, "GET", "/registered-models/search",
                           {"filter": f"name = '{other}'"}).get("registered_models", []) == []
    assert v1(http, base_url, "GET", "/models/register").status_code in (404, 405)
    r = v1(http, base_url, "GET", f"/models/{name}/no-such-thing")
    assert_error(r, 404, "ENDPOINT_NOT_FOUND")


# -- list versions -----------------------------------------------------------------------------


def test_list_versions_pages_newest_first(http, base_url, name):
    for i in range(5):
        register(http, base_url, name, {"artifact_uri": f"s3://bucket/m{i}"})

    def page(max_results=None, token=None):
        params = {}
        if max_results is not None:
            params["max_results"] = max_results
        if token is not None:
            params["page_token"] = token
        r = v1(http, base_url, "GET", f"/models/{quote(name, safe='')}/versions", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) <= {"versions", "next_page_token"}
        return [v["version"] for v in body["versions"]], body.get("next_page_token")

    assert page() == ([5, 4, 3, 2, 1], None)
    first, token = page(2)
    assert first == [5, 4] and token
    # A version registered between two page requests neither repeats nor skips one.
    register(http, base_url, name, {"artifact_uri": "s3://bucket/m-late"})
    second, token = page(2, token)
    assert second == [3, 2] and token
    third, token = page(2, token)
    assert third == [1] and token is None
    assert page(1000) == ([6, 5, 4, 3, 2, 1], None)

    # Deleted versions are not listed.
    assert v1(http, base_url, "DELETE", f"/models/{name}/versions/4").status_code == 200
    assert page()[0] == [6, 5, 3, 2, 1]

    for params in ({"max_results": 0}, {"max_results": 1001}, {"max_results": "abc"},
                   {"max_results": -1}, {"page_token": "not-a-token"}, {"page_token": "-5"}):
        r = v1(http, base_url, "GET", f"/models/{name}/versions", params=params)
        assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert_error(v1(http, base_url, "GET", f"/models/{name}-missing/versions"),
                 404, "RESOURCE_DOES_NOT_EXIST")


def test_names_needing_percent_encoding(http, base_url):
    odd = f"team a #{uuid.uuid4().hex[:6]}?x=1&y=%2F"
    register(http, base_url, odd, {"artifact_uri": "s3://bucket/odd"})
    r = v1(http, base_url, "GET", f"/models/{quote(odd, safe='')}/versions")
    assert r.status_code == 200, r.text
    assert [(v["name"], v["version"]) for v in r.json()["versions"]] == [(odd, 1)]


# -- promote -----------------------------------------------------------------------------------


def test_promote_stage_and_alias(http, base_url, name):
    for i in range(3):
        register(http, base_url, name, {"artifact_uri": f"s3://bucket/p{i}"})

    def stages():
        versions = v1(http, base_url, "GET", f"/models/{name}/versions").json()["versions"]
        return {v["version"]: (v["current_stage"], sorted(v["aliases"])) for v in versions}

    start = now_ms()
    r = v1(http, base_url, "POST", f"/models/{name}/promote", {"version": 1, "stage": "Production"})
    assert r.status_code == 200, r.text
    promotion = r.json()["promotion"]
    assert promotion["name"] == name
    assert promotion["version"] == 1
    assert promotion["target"] == "stage:Production"
    assert isinstance(promotion["principal"], str) and promotion["principal"]
    assert start - 1000 <= promotion["timestamp"] <= now_ms() + 1000
    assert "previous_version" not in promotion

    # Without archive_previous both stay in Production; with it the earlier holders move.
    r = v1(http, base_url, "POST", f"/models/{name}/promote",
           {"version": "2", "stage": "production"})
    assert r.json()["promotion"]["target"] == "stage:Production"
    assert stages() == {3: ("None", []), 2: ("Production", []), 1: ("Production", [])}
    r = v1(http, base_url, "POST", f"/models/{name}/promote",
           {"version": 3, "stage": "Production", "archive_previous": True})
    assert r.status_code == 200, r.text
    assert r.json()["promotion"]["previous_version"] in (1, 2)
    assert stages() == {3: ("Production", []), 2: ("Archived", []), 1: ("Archived", [])}

    # Aliases: moving one records the version it pointed at and can archive that version.
    r = v1(http, base_url, "POST", f"/models/{name}/promote", {"version": 1, "alias": "champion"})
    promotion = r.json()["promotion"]
    assert promotion["target"] == "alias:champion" and "previous_version" not in promotion
    r = v1(http, base_url, "POST", f"/models/{name}/promote", {"version": 2, "alias": "champion"})
    assert r.json()["promotion"]["previous_version"] == 1
    assert stages()[2] == ("Archived", ["champion"]) and stages()[1] == ("Archived", [])
    v1(http, base_url, "POST", f"/models/{name}/promote", {"version": 3, "stage": "Staging"})
    r = v1(http, base_url, "POST", f"/models/{name}/promote",
           {"version": 3, "alias": "champion", "archive_previous": True})
    assert r.json()["promotion"]["previous_version"] == 2
    assert stages() == {3: ("Staging", ["champion"]), 2: ("Archived", []), 1: ("Archived", [])}

    # MLflow's API sees the same state.
    by_alias = mlflow_call(http, base_url, "GET", "/registered-models/alias",
                           {"name": name, "alias": "champion"})["model_version"]
    assert by_alias["version"] == "3"
    assert mlflow_call(http, base_url, "GET", "/model-versions/get",
                       {"name": name, "version": "3"})["model_version"]["current_stage"] == \
        "Staging"


def test_promote_errors_change_nothing(http, base_url, name):
    for i in range(2):
        register(http, base_url, name, {"artifact_uri": f"s3://bucket/e{i}"})
    v1(http, base_url, "POST", f"/models/{name}/promote", {"version": 1, "stage": "Production"})
    v1(http, base_url, "POST", f"/models/{name}/promote", {"version": 1, "alias": "best"})
    before = v1(http, base_url, "GET", f"/models/{name}/versions").json()

    bad = [
        {"version": 2},
        {"version": 2, "stage": "Staging", "alias": "x"},
        {"version": 2, "stage": "Prod"},
        {"version": 2, "stage": ""},
        {"version": 2, "alias": "v1"},
        {"version": 2, "alias": "latest"},
        {"version": 2, "alias": "has space"},
        {"version": 2, "stage": "Archived", "archive_previous": True},
        {"version": "abc", "stage": "Staging"},
        {"version": 2.5, "stage": "Staging"},
        {"stage": "Staging"},
        {"version": 2, "stage": "Staging", "archive_previous": "yes"},
    ]
    for body in bad:
        r = v1(http, base_url, "POST", f"/models/{name}/promote", body)
        assert r.status_code == 400, (body, r.status_code, r.text[:300])
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE", (body, r.text)
    for path, body in [(f"/models/{name}/promote", {"version": 9, "stage": "Staging",
                                                    "archive_previous": True}),
                       (f"/models/{name}/promote", {"version": 9, "alias": "best",
                                                    "archive_previous": True}),
                       (f"/models/{name}-missing/promote", {"version": 1, "stage": "Staging"})]:
        assert_error(v1(http, base_url, "POST", path, body), 404, "RESOURCE_DOES_NOT_EXIST")
    assert v1(http, base_url, "GET", f"/models/{name}/versions").json() == before


# -- lineage -----------------------------------------------------------------------------------


def test_lineage(http, base_url, run, logged_model, name):
    register(http, base_url, name, {"run_id": run.run_id, "artifact_path": "model"})
    register(http, base_url, name, {"logged_model_id": logged_model.model_id})
    register(http, base_url, name, {"artifact_uri": "s3://bucket/external"})

    r = v1(http, base_url, "GET", f"/models/{name}/versions/1/lineage")
    assert r.status_code == 200, r.text
    lineage = r.json()
    assert lineage["model_version"]["version"] == 1
    assert lineage["deployments"] == []
    assert "logged_model" not in lineage
    got = lineage["run"]
    assert got["run_id"] == run.run_id
    assert got["run_name"] == "trainer"
    assert got["status"] == "FINISHED"
    assert got["end_time"] >= got["start_time"] > 0
    assert got["experiment"] == {"experiment_id": run.experiment_id, "name": run.experiment_name}
    assert got["params"] == {"alpha": "0.5", "depth": "4"}
    assert got["metrics"] == {"acc": 0.9, "loss": 0.25}  # the latest value by step
    assert got["tags"]["owner"] == "ml-team"
    assert got["datasets"] == [{"name": "iris", "digest": "d1g3st", "source_type": "local",
                                "source": '{"uri": "/data/iris.csv"}', "context": "training"}]

    lineage = v1(http, base_url, "GET", f"/models/{name}/versions/2/lineage").json()
    assert lineage["run"]["run_id"] == run.run_id
    model = lineage["logged_model"]
    assert model["model_id"] == logged_model.model_id
    assert model["name"] == "lm"
    assert model["experiment_id"] == run.experiment_id
    assert model["source_run_id"] == run.run_id
    assert model["artifact_uri"] == logged_model.artifact_uri
    assert model["status"] == "LOGGED_MODEL_READY"
    assert model["model_type"] == "classifier"
    assert model["params"] == {"alpha": "0.5"}
    assert model["tags"]["stage"] == "candidate"

    lineage = v1(http, base_url, "GET", f"/models/{name}/versions/3/lineage").json()
    assert "run" not in lineage and "logged_model" not in lineage
    assert lineage["model_version"]["source"] == "s3://bucket/external"

    assert_error(v1(http, base_url, "GET", f"/models/{name}/versions/9/lineage"),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(v1(http, base_url, "GET", f"/models/{name}-missing/versions/1/lineage"),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(v1(http, base_url, "GET", f"/models/{name}/versions/abc/lineage"),
                 400, "INVALID_PARAMETER_VALUE")


# -- delete ------------------------------------------------------------------------------------


def test_delete_version_keeps_the_runs_and_logged_models_artifacts(http, base_url, tmp_path,
                                                                   name):
    """Versions registered with the MLflow client from a run's folder and from a logged model
    point at files the run and the model own: deleting the versions leaves them downloadable."""
    src = tmp_path / "model"
    src.mkdir()
    for rel, content in MODEL_FILES.items():
        (src / rel).write_bytes(content)
    mlflow.set_experiment(f"v1-delete-{uuid.uuid4().hex[:10]}")
    with mlflow.start_run() as active:
        mlflow.log_artifacts(str(src), artifact_path="model")
        mlflow.log_text("keep me", "notes/readme.txt")
        info = mlflow.sklearn.log_model(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]),
                                        name="lm", pip_requirements=["scikit-learn"])
    run_id = active.info.run_id
    by_run = mlflow.register_model(f"runs:/{run_id}/model", name)
    by_model = mlflow.register_model(info.model_uri, name)
    assert (int(by_run.version), int(by_model.version)) == (1, 2)

    for version in (by_run.version, by_model.version):
        r = v1(http, base_url, "DELETE", f"/models/{name}/versions/{version}")
        assert r.status_code == 200 and r.json() == {}, r.text
    assert v1(http, base_url, "GET", f"/models/{name}/versions").json()["versions"] == []

    local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model",
                                                     dst_path=str(tmp_path / "run")))
    assert {p.name: p.read_bytes() for p in local.iterdir()} == MODEL_FILES
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/readme.txt") == "keep me"
    model = mlflow.sklearn.load_model(info.model_uri)
    assert model.predict([[2.0]])[0] == pytest.approx(2.0)


def test_delete_version_removes_files_only_it_uses(http, base_url, name):
    """Files uploaded for versions alone, outside every experiment's artifact location, go with
    the last version that uses them."""
    # Not a tenant-shaped top-level name: those are reserved for tenant folders.
    base = f"mlflow-artifacts:/v1.uploads/{uuid.uuid4().hex[:10]}"
    upload(http, base_url, base + "/model", MODEL_FILES)
    upload(http, base_url, base + "/second", {"MLmodel": b"flavors: {}\n",
                                              "weights/w.bin": b"\x01" * 1000})
    upload(http, base_url, base + "/notes", {"readme.txt": b"keep me"})
    register(http, base_url, name, {"artifact_uri": base + "/model"})
    register(http, base_url, name, {"artifact_uri": base + "/second"})
    register(http, base_url, name, {"artifact_uri": base + "/model/"})  # shares version 1's
    assert listing(http, base_url, base + "/second") == ["MLmodel", "weights"]

    r = v1(http, base_url, "DELETE", f"/models/{name}/versions/2")
    assert r.status_code == 200 and r.json() == {}
    assert listing(http, base_url, base + "/second") == []
    assert listing(http, base_url, base + "/second/weights") == []
    assert requests.get(f"{base_url}{ARTIFACTS}/{relative(base)}/second/MLmodel",
                        timeout=30).status_code == 404
    # Files another live version uses, and files no version names, stay.
    assert v1(http, base_url, "DELETE", f"/models/{name}/versions/1").status_code == 200
    assert listing(http, base_url, base + "/model") == ["MLmodel", "model.bin"]
    assert v1(http, base_url, "DELETE", f"/models/{name}/versions/3").status_code == 200
    assert listing(http, base_url, base + "/model") == []
    assert listing(http, base_url, base + "/notes") == ["readme.txt"]

    # The versions are gone from both APIs and their numbers are not reused.
    for version in ("1", "2", "3"):
        r = http.get(base_url + API + "/model-versions/get",
                     params={"name": name, "version": version}, timeout=30)
        assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    assert v1(http, base_url, "GET", f"/models/{name}/versions").json()["versions"] == []
    assert register(http, base_url, name, {"artifact_uri": "s3://bucket/next"})["version"] == 4

    assert_error(v1(http, base_url, "DELETE", f"/models/{name}/versions/2"),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(v1(http, base_url, "DELETE", f"/models/{name}-missing/versions/1"),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(v1(http, base_url, "DELETE", f"/models/{name}/versions/abc"),
                 400, "INVALID_PARAMETER_VALUE")


def test_delete_version_keeps_a_runs_files_registered_through_v1(http, base_url, run, name):
    register(http, base_url, name, {"run_id": run.run_id, "artifact_path": "model"})
    register(http, base_url, name, {"artifact_uri": run.artifact_uri + "/model"})
    register(http, base_url, name, {"artifact_uri": run.artifact_uri})
    for version in (1, 2, 3):
        assert v1(http, base_url, "DELETE", f"/models/{name}/versions/{version}").status_code == 200
    assert listing(http, base_url, run.artifact_uri + "/model") == ["MLmodel", "model.bin"]
    # Even once the run's experiment is deleted: a deleted experiment can be restored.
    register(http, base_url, name, {"artifact_uri": run.artifact_uri + "/model"})
    mlflow_call(http, base_url, "POST", "/experiments/delete",
                {"experiment_id": run.experiment_id})
    assert v1(http, base_url, "DELETE", f"/models/{name}/versions/4").status_code == 200
    assert listing(http, base_url, run.artifact_uri + "/model") == ["MLmodel", "model.bin"]


def test_v1_is_scoped_to_the_workspace(http, base_url, name):
    a, b = {"X-MLFLOW-WORKSPACE": "v1-team-a"}, {"X-MLFLOW-WORKSPACE": "v1-team-b"}
    r = v1(http, base_url, "POST", "/models/register",
           {"name": name, "source": {"artifact_uri": "s3://bucket/a"}}, headers=a)
    assert r.status_code == 201, r.text
    for headers in (b, None):
        for method, path, body in [
            ("GET", f"/models/{name}/versions", None),
            ("GET", f"/models/{name}/versions/1/lineage", None),
            ("POST", f"/models/{name}/promote", {"version": 1, "stage": "Production"}),
            ("DELETE", f"/models/{name}/versions/1", None),
        ]:
            r = v1(http, base_url, method, path, body, headers=headers)
            assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    versions = v1(http, base_url, "GET", f"/models/{name}/versions", headers=a).json()["versions"]
    assert [(v["version"], v["current_stage"]) for v in versions] == [(1, "None")]


# -- OpenAPI document --------------------------------------------------------------------------


def resolve(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        assert part in node, f"dangling $ref {ref}"
        node = node[part]
    return node


def walk_refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from walk_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_refs(value)


def test_openapi_document(http, base_url):
    r = http.get(base_url + V1 + "/openapi.json", timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert re.fullmatch(r"3\.0\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    expected = {
        "/api/v1/models/register": {"post"},
        "/api/v1/models/{name}/versions": {"get"},
        "/api/v1/models/{name}/promote": {"post"},
        "/api/v1/models/{name}/versions/{version}": {"delete"},
        "/api/v1/models/{name}/versions/{version}/lineage": {"get"},
        "/api/v1/openapi.json": {"get"},
    }
    for path, methods in expected.items():
        assert path in doc["paths"], path
        assert methods <= set(doc["paths"][path]), (path, set(doc["paths"][path]))

    operation_ids = set()
    for path, item in doc["paths"].items():
        assert path.startswith("/api/v1/")
        templated = set(re.findall(r"\{([^}]+)\}", path))
        for method, op in item.items():
            assert method in {"get", "post", "put", "patch", "delete"}, method
            assert op["operationId"] not in operation_ids
            operation_ids.add(op["operationId"])
            assert op["responses"], (path, method)
            for status in op["responses"]:
                assert re.fullmatch(r"[1-5]\d\d|default", status), (path, method, status)
            params = [resolve(doc, p["$ref"]) if "$ref" in p else p
                      for p in op.get("parameters", [])]
            in_path = {p["name"] for p in params if p["in"] == "path"}
            assert in_path == templated, (path, method, in_path)
            assert all(p["required"] for p in params if p["in"] == "path")
    for ref in walk_refs(doc):
        resolve(doc, ref)

    # The documented shapes match what the server sends.
    schemas = doc["components"]["schemas"]
    assert set(schemas["ModelVersion"]["required"]) == VERSION_FIELDS
    assert set(schemas["ModelVersion"]["properties"]) == VERSION_FIELDS
    assert {"name", "version", "target", "principal", "timestamp"} <= set(
        schemas["Promotion"]["required"])
    assert schemas["Error"]["required"] == ["error_code", "message"]


# -- the CLI -----------------------------------------------------------------------------------


def cli(*args, server=None, env=None, timeout=60):
    full_env = dict(os.environ)
    full_env.pop("CAIRN_SERVER", None)
    full_env.update(env or {})
    cmd = [str(cairn_binary()), "models", *args]
    if server:
        cmd += ["--server", server]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)


def table(stdout: str) -> list[dict[str, str]]:
    """Parses an aligned table: column starts come from the header line."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    rows = []
    for line in lines[1:]:
        if line.startswith("More versions:"):
            continue
        cells = [line[s:e].strip() for s, e in zip(starts, starts[1:] + [len(line)])]
        rows.append(dict(zip(names, cells)))
    return rows


def test_cli_end_to_end(http, base_url, run, name):
    r = cli("register", "--name", name, "--run-id", run.run_id, "--artifact-path", "model",
            "--description", "first cut", "--tag", "team=core", "--tag", "ticket=42",
            server=base_url)
    assert r.returncode == 0, r.stderr
    rows = table(r.stdout)
    assert len(rows) == 1
    assert rows[0]["NAME"] == name and rows[0]["VERSION"] == "1"
    assert rows[0]["STAGE"] == "None" and rows[0]["STATUS"] == "READY"
    assert rows[0]["SOURCE"] == f"runs:/{run.run_id}/model"

    r = cli("register", "--name", name, "--artifact-uri", run.artifact_uri + "/model", "--json",
            server=base_url)
    assert r.returncode == 0, r.stderr
    v2 = json.loads(r.stdout)["model_version"]
    assert v2["version"] == 2 and v2["storage_location"] == run.artifact_uri + "/model"
    v1_tags = mlflow_call(http, base_url, "GET", "/model-versions/get",
                          {"name": name, "version": "1"})["model_version"]["tags"]
    assert {t["key"]: t["value"] for t in v1_tags} == {"team": "core", "ticket": "42"}

    # The server may also come from $CAIRN_SERVER.
    r = cli("register", "--name", name, "--artifact-uri", "s3://bucket/third", "--json",
            env={"CAIRN_SERVER": base_url})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["model_version"]["version"] == 3

    r = cli("versions", name, server=base_url)
    assert r.returncode == 0, r.stderr
    rows = table(r.stdout)
    assert [row["VERSION"] for row in rows] == ["3", "2", "1"]
    assert {"STAGE", "ALIASES", "STATUS", "SOURCE"} <= set(rows[0])

    r = cli("versions", name, "--max-results", "2", server=base_url)
    assert r.returncode == 0, r.stderr
    assert [row["VERSION"] for row in table(r.stdout)] == ["3", "2"]
    token = re.search(r"--page-token (\S+)", r.stdout).group(1)
    r = cli("versions", name, "--max-results", "2", "--page-token", token, "--json",
            server=base_url)
    page = json.loads(r.stdout)
    assert [v["version"] for v in page["versions"]] == [1] and "next_page_token" not in page

    r = cli("promote", name, "--version", "1", "--stage", "Production", server=base_url)
    assert r.returncode == 0, r.stderr
    row = table(r.stdout)[0]
    assert row["NAME"] == name and row["VERSION"] == "1" and row["TARGET"] == "stage:Production"
    r = cli("promote", name, "--version", "2", "--stage", "Production", "--archive-previous",
            "--json", server=base_url)
    promotion = json.loads(r.stdout)["promotion"]
    assert promotion["target"] == "stage:Production" and promotion["previous_version"] == 1
    r = cli("promote", name, "--version", "3", "--alias", "champion", server=base_url)
    assert r.returncode == 0, r.stderr
    assert table(r.stdout)[0]["TARGET"] == "alias:champion"
    rows = {row["VERSION"]: row for row in table(cli("versions", name, server=base_url).stdout)}
    assert rows["1"]["STAGE"] == "Archived"
    assert rows["2"]["STAGE"] == "Production"
    assert "champion" in rows["3"]["ALIASES"]

    r = cli("delete", name, "--version", "2", server=base_url)
    assert r.returncode == 0, r.stderr
    assert "2" in r.stdout and name in r.stdout
    r = cli("versions", name, "--json", server=base_url)
    assert [v["version"] for v in json.loads(r.stdout)["versions"]] == [3, 1]
    assert listing(http, base_url, run.artifact_uri + "/model") == ["MLmodel", "model.bin"]


def test_cli_errors_and_exit_codes(base_url, name):
    # Errors from the server: exit 1 and the envelope on stderr.
    r = cli("versions", name, server=base_url)
    assert r.returncode == 1
    assert r.stdout == ""
    assert "RESOURCE_DOES_NOT_EXIST" in r.stderr and name in r.stderr
    r = cli("register", "--name", name, "--artifact-uri", "s3://bucket/x", server=base_url)
    assert r.returncode == 0, r.stderr
    for args in (("promote", name, "--version", "1", "--stage", "Bogus"),
                 ("promote", name, "--version", "1", "--alias", "v7"),
                 ("register", "--name", name, "--artifact-uri", "s3://b/../x")):
        r = cli(*args, server=base_url)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert "INVALID_PARAMETER_VALUE" in r.stderr, (args, r.stderr)
    for args in (("delete", name, "--version", "7"),
                 ("promote", name, "--version", "7", "--stage", "Staging")):
        r = cli(*args, server=base_url)
        assert r.returncode == 1, (args, r.stderr)
        assert "RESOURCE_DOES_NOT_EXIST" in r.stderr
    r = cli("versions", name, "--json", server=base_url)
    assert [v["version"] for v in json.loads(r.stdout)["versions"]] == [1]
    assert json.loads(r.stdout)["versions"][0]["current_stage"] == "None"

    # Usage errors: exit 2, nothing sent.
    for args in (("register", "--artifact-uri", "s3://b/x"),
                 ("promote", name, "--version", "1"),
                 ("promote", name, "--version", "1", "--stage", "Staging", "--alias", "a"),
                 ("versions",),
                 ("versions", name, "--max-results", "0"),
                 ("frobnicate",)):
        r = cli(*args, server=base_url)
        assert r.returncode == 2, (args, r.returncode, r.stdout, r.stderr)
        assert r.stderr.strip()

    # No server listening: exit 1 with a readable message, quickly.
    started = time.monotonic()
    r = cli("versions", name, "--timeout", "5", server="http://127.0.0.1:9")
    assert r.returncode == 1
    assert "error" in r.stderr.lower()
    assert time.monotonic() - started < 30
    r = cli("versions", name, "--json", server=base_url)
    assert len(json.loads(r.stdout)["versions"]) == 1
