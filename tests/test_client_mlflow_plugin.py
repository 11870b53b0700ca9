"""Unit tests of the MLflow deployments plugin of the Python client (target `cairn`).

Like test_client_unit.py they run against the scripted fake of fake_cairn.py: they check how
MLflow finds the plugin (the `mlflow.deployments` entry point of clients/python), how target
URIs, model URIs and config are parsed, and how the plugin's calls map onto Cairn requests.
The end-to-end runs against the real server are in test_deployments_client.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.deployments import PredictionsResponse, get_deploy_client
from mlflow.exceptions import MlflowException

try:
    import cairn_client  # noqa: F401
except ImportError:  # not installed in this venv: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients" / "python"))

from cairn_client import mlflow_plugin
from cairn_client.mlflow_plugin import (CairnDeploymentClient, parse_config, parse_model_uri,
                                        parse_target_uri)
from fake_cairn import FakeServer, Reply, status

D = "/api/v1/deployments"


@pytest.fixture(autouse=True)
def _mlflow_client_state(monkeypatch):
    """Replaces conftest's fixture of the same name: no Cairn server, no ambient settings."""
    for name in ("CAIRN_URL", "CAIRN_WORKSPACE", "CAIRN_TOKEN", "MLFLOW_TRACKING_URI",
                 "MLFLOW_WORKSPACE", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    mlflow.set_tracking_uri(None)
    yield
    mlflow.set_tracking_uri(None)


@pytest.fixture
def fake():
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def deploy(fake) -> CairnDeploymentClient:
    return get_deploy_client(f"cairn:/{fake.url}")


# -- discovery and URIs -----------------------------------------------------------------------


def test_mlflow_finds_the_plugin_through_its_entry_point():
    from mlflow.deployments.interface import plugin_store

    assert "cairn" in plugin_store.registry, (
        "the `cairn` deployments target is not registered: install clients/python "
        "(scripts/install.sh does, from requirements-dev.txt)")
    assert plugin_store["cairn"] is mlflow_plugin
    assert isinstance(get_deploy_client("cairn:/http://h:1"), CairnDeploymentClient)
    assert "models:/<name>@<alias>" in mlflow_plugin.target_help()


def test_target_uri_forms(monkeypatch):
    assert parse_target_uri("cairn:/http://h:5000") == ("http://h:5000", None)
    assert parse_target_uri("cairn:/https://h/prefix") == ("https://h/prefix", None)
    assert parse_target_uri("cairn:http://h:1") == ("http://h:1", None)
    assert parse_target_uri("cairn://h:5000") == ("http://h:5000", None)
    assert parse_target_uri("cairn:/h:5000") == ("http://h:5000", None)
    assert parse_target_uri("cairn:/http://h:1?workspace=team-a") == ("http://h:1", "team-a")
    # Bare `cairn`: CAIRN_URL, else an http(s) tracking URI, else the local default.
    assert parse_target_uri("cairn") == ("http://127.0.0.1:5000", None)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
    assert parse_target_uri("cairn")[0] == "http://127.0.0.1:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking:5000")
    assert parse_target_uri("cairn")[0] == "http://tracking:5000"
    monkeypatch.setenv("CAIRN_URL", "http://cairn:8080")
    assert parse_target_uri("cairn")[0] == "http://cairn:8080"
    for bad in ("other:/http://h:1", "cairn:/ftp://h"):
        with pytest.raises(MlflowException):
            parse_target_uri(bad)


def test_workspace_and_token_from_uri_and_environment(fake, monkeypatch):
    fake.on("GET", D, {"deployments": []})
    monkeypatch.setenv("MLFLOW_WORKSPACE", "from-env")
    monkeypatch.setenv("CAIRN_TOKEN", "tok")
    get_deploy_client(f"cairn:/{fake.url}").list_deployments()
    get_deploy_client(f"cairn:/{fake.url}?workspace=from-uri").list_deployments()
    assert [r.headers["x-mlflow-workspace"] for r in fake.requests] == ["from-env", "from-uri"]
    assert {r.headers["authorization"] for r in fake.requests} == {"Bearer tok"}


def test_model_uris():
    assert parse_model_uri("models:/iris/3") == ("iris", "3", None)
    assert parse_model_uri("models:/iris@champion") == ("iris", None, "champion")
    assert parse_model_uri("models:/my model/12/") == ("my model", "12", None)
    for bad in ("runs:/abc/model", "models:/iris", "models:/iris/latest", "models:/iris@",
                "/tmp/model", "models:/iris/Production"):
        with pytest.raises(MlflowException) as info:
            parse_model_uri(bad)
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_config_from_cli_strings():
    parts = parse_config({
        "replicas": "2", "cpu": "1", "memory": "2Gi", "min_replicas": "1", "max_replicas": "3",
        "target_concurrency": "4", "runtime": "onnx", "device": "cpu",
        "intra_op_threads": "2", "log_predictions": "false", "backpressure": "yes",
        "options": '{"graph_optimization": "basic"}', "wait": "0", "timeout": "12.5"})
    assert parts == {
        "runtime": "onnx", "device": "cpu", "wait": False, "timeout": 12.5,
        "deployment_config": {"replicas": 2, "cpu": "1", "memory": "2Gi",
                              "autoscaling": {"min": 1, "max": 3, "target_concurrency": 4}},
        "options": {"graph_optimization": "basic", "intra_op_threads": 2,
                    "log_predictions": False, "backpressure": True}}
    assert parse_config({"deployment_config": {"replicas": 1}, "replicas": 4}) == {
        "deployment_config": {"replicas": 4}}
    assert parse_config(None) == {}
    for bad in ({"replica": "1"}, {"replicas": "two"}, {"log_predictions": "maybe"},
                {"options": "[1]"}):
        with pytest.raises(MlflowException):
            parse_config(bad)


# -- deployment calls -------------------------------------------------------------------------


def test_create_deployment(fake, deploy):
    fake.on("POST", f"{D}/create", status("iris", "LOADING"))
    fake.on("GET", f"{D}/d-iris/status", status("iris", "READY"))
    result = deploy.create_deployment("iris", "models:/iris/1", flavor="onnx",
                                      config={"replicas": "2", "log_predictions": "true"})
    assert result["name"] == "iris" and result["flavor"] == "onnx"
    assert result["state"] == "READY"
    assert fake.requests[0].body == {
        "model_name": "iris", "version": "1", "name": "iris", "runtime": "onnx",
        "deployment_config": {"replicas": 2}, "options": {"log_predictions": True}}


def test_create_deployment_errors_are_mlflow_exceptions(fake, deploy):
    fake.on("POST", f"{D}/create",
            Reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no iris v9"}))
    with pytest.raises(MlflowException) as info:
        deploy.create_deployment("iris", "models:/iris/9")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST" and "no iris v9" in str(info.value)

    fake.on("POST", f"{D}/create", status("iris", "LOADING"))
    fake.on("GET", f"{D}/d-iris/status", status("iris", "FAILED", reason="bad model"))
    with pytest.raises(MlflowException) as info:
        deploy.create_deployment("iris", "models:/iris@champion")
    assert info.value.error_code == "INVALID_STATE" and "bad model" in str(info.value)

    with pytest.raises(MlflowException):
        deploy.create_deployment("iris", "models:/iris/1", flavor="sklearn")
    with pytest.raises(MlflowException):
        deploy.create_deployment("iris", "models:/iris/1", flavor="onnx",
                                 config={"runtime": "python"})
    with pytest.raises(MlflowException):
        deploy.create_deployment("iris", "models:/iris/1", endpoint="other")


def test_update_deployment_rescales_or_moves_the_version(fake, deploy):
    fake.on("PUT", f"{D}/iris/scale", status("iris"))
    fake.on("PUT", f"{D}/iris", status("iris", "READY", "1"))
    fake.on("GET", f"{D}/d-iris/status", status("iris", "READY", "2"))
    assert deploy.update_deployment("iris", config={"replicas": "3"})["flavor"] == "onnx"
    assert deploy.update_deployment("iris", config={"min_replicas": 1, "max_replicas": 4})
    result = deploy.update_deployment("iris", model_uri="models:/iris/2",
                                      config={"replicas": "2", "intra_op_threads": "2"})
    assert result["model_version"] == "2"
    assert [(r.method, r.path, r.body) for r in fake.requests if r.method == "PUT"] == [
        ("PUT", f"{D}/iris/scale", {"replicas": 3}),
        ("PUT", f"{D}/iris/scale", {"autoscaling": {"min": 1, "max": 4}}),
        ("PUT", f"{D}/iris/scale", {"replicas": 2}),
        ("PUT", f"{D}/iris", {"model_name": "iris", "version": "2",
                              "options": {"intra_op_threads": 2}}),
    ]
    with pytest.raises(MlflowException):
        deploy.update_deployment("iris")
    with pytest.raises(MlflowException):
        deploy.update_deployment("iris", flavor="onnx")


def test_get_list_delete(fake, deploy):
    fake.on("GET", f"{D}/iris/status", status("iris"))
    fake.on("GET", D, {"deployments": [status("iris"), status("py", runtime="python")]})
    fake.on("DELETE", f"{D}/iris", {"deployment_id": "d-iris", "state": "DELETED"})
    fake.on("DELETE", f"{D}/gone",
            Reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "gone"}))
    assert deploy.get_deployment("iris")["name"] == "iris"
    listed = deploy.list_deployments()
    assert [(d["name"], d["flavor"]) for d in listed] == [("iris", "onnx"),
                                                          ("py", "python_function")]
    assert deploy.delete_deployment("iris") is None
    assert deploy.delete_deployment("gone") is None  # idempotent
    fake.on("DELETE", f"{D}/busy", Reply(409, {"error_code": "RESOURCE_CONFLICT",
                                                "message": "busy"}))
    with pytest.raises(MlflowException) as info:
        deploy.delete_deployment("busy")
    assert info.value.error_code == "RESOURCE_CONFLICT"


def test_predict_returns_a_predictions_response(fake, deploy):
    fake.on("POST", "/endpoints/iris/invocations", {"predictions": [0, 2]})
    response = deploy.predict("iris", pd.DataFrame({"a": [1.0, 2.0]}))
    assert isinstance(response, PredictionsResponse)
    assert response["predictions"] == [0, 2]
    assert response.get_predictions(predictions_format="ndarray").tolist() == [0, 2]
    assert json.loads(response.to_json()) == {"predictions": [0, 2]}
    assert fake.requests[0].body == {"dataframe_split": {"columns": ["a"], "data": [[1.0], [2.0]]}}
    assert deploy.predict(endpoint="iris", inputs={"inputs": [[1]]})["predictions"] == [0, 2]
    with pytest.raises(MlflowException):
        deploy.predict("iris", [1], endpoint="other")


def test_what_cairn_does_not_offer_raises_clear_errors(deploy):
    for call in (lambda: deploy.explain("iris", pd.DataFrame()),
                 lambda: deploy.predict_stream("iris", {}),
                 lambda: deploy.create_endpoint("e"), lambda: deploy.update_endpoint("e"),
                 lambda: deploy.delete_endpoint("e"), lambda: deploy.list_endpoints(),
                 lambda: deploy.get_endpoint("e"),
                 lambda: mlflow_plugin.run_local("iris", "models:/iris/1")):
        with pytest.raises(MlflowException) as info:
            call()
        assert info.value.error_code == "NOT_IMPLEMENTED"


def test_cli_create_and_help_in_a_fresh_interpreter(fake, tmp_path):
    """`mlflow deployments` finds the target through the installed entry point."""
    fake.on("POST", f"{D}/create", status("iris", "READY"))
    fake.on("GET", f"{D}/d-iris/status", status("iris", "READY"))
    cli = [sys.executable, "-m", "mlflow", "deployments"]
    out = subprocess.run([*cli, "create", "-t", f"cairn:/{fake.url}", "--name", "iris",
                          "-m", "models:/iris/1", "-C", "replicas=2"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "onnx deployment iris is created" in out.stdout
    assert fake.calls("POST")[0].body["deployment_config"] == {"replicas": 2}
    out = subprocess.run([*cli, "help", "-t", "cairn"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0 and "cairn:/http://host:port" in out.stdout, out.stderr
