"""Unit tests of the Python client (clients/python, `cairn_client.Client`).

They run against the scripted in-process fake of fake_cairn.py, not the real server: what they
check is the client's side of the protocol (URLs, headers, JSON encoding of DataFrames, arrays
and V2 tensors, decoding of answers, status polling, error envelopes). The real server is driven
by the same client in test_deployments_client.py.
"""

from __future__ import annotations

import math
import socket
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

try:
    import cairn_client
except ImportError:  # not installed in this venv: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients" / "python"))
    import cairn_client

from cairn_client import CairnError, Client
from fake_cairn import FakeServer, Reply, status

D = "/api/v1/deployments"


@pytest.fixture(autouse=True)
def _mlflow_client_state():
    """Replaces conftest's fixture of the same name: these tests need no Cairn server."""
    yield


@pytest.fixture
def fake():
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def client(fake):
    with Client(fake.url) as c:
        yield c


# -- connection, headers, errors --------------------------------------------------------------


def test_token_and_workspace_headers(fake):
    fake.on("GET", D, {"deployments": []})
    with Client(fake.url + "/", workspace="team-a", token="s3cret") as c:
        assert c.list_deployments() == []
    (req,) = fake.requests
    assert req.headers["authorization"] == "Bearer s3cret"
    assert req.headers["x-mlflow-workspace"] == "team-a"
    assert req.path == D  # the trailing slash of the URL is not doubled


def test_no_auth_or_workspace_header_by_default(fake, client):
    fake.on("GET", D, {"deployments": [status()]})
    assert [d["name"] for d in client.list_deployments()] == ["iris-v1"]
    assert "authorization" not in fake.requests[0].headers
    assert "x-mlflow-workspace" not in fake.requests[0].headers


def test_url_must_be_http():
    with pytest.raises(ValueError):
        Client("127.0.0.1:5000")


def test_error_envelope_becomes_cairn_error(fake, client):
    fake.on("GET", f"{D}/nope/status",
            Reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no deployment nope"}))
    with pytest.raises(CairnError) as info:
        client.status("nope")
    e = info.value
    assert (e.status_code, e.error_code, e.message) == (404, "RESOURCE_DOES_NOT_EXIST",
                                                        "no deployment nope")
    assert "404" in str(e) and "RESOURCE_DOES_NOT_EXIST" in str(e)


def test_error_without_envelope(fake, client):
    fake.on("GET", D, Reply(502, b"bad gateway", "text/plain"))
    with pytest.raises(CairnError) as info:
        client.list_deployments()
    assert (info.value.status_code, info.value.error_code) == (502, "HTTP_502")
    assert info.value.message == "bad gateway"


def test_v2_error_shape(fake, client):
    fake.on("POST", "/v2/models/m/infer", Reply(400, {"error": "unknown input 'x'"}))
    with pytest.raises(CairnError) as info:
        client.infer("m", {"x": np.zeros(1, np.float32)})
    assert info.value.status_code == 400 and info.value.message == "unknown input 'x'"


def test_unreachable_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        with Client(f"http://127.0.0.1:{port}", timeout=5) as c, \
                pytest.raises(CairnError) as info:
            c.list_deployments()
    assert info.value.status_code is None and info.value.error_code == "CONNECTION_ERROR"


# -- deployments ------------------------------------------------------------------------------


def test_deploy_model_sends_the_spec_body_and_waits_for_ready(fake, client):
    fake.on("POST", f"{D}/create", status("iris", "PENDING"))
    fake.on("GET", f"{D}/d-iris/status", status("iris", "PENDING"), status("iris", "LOADING"),
            status("iris", "READY"))
    result = client.deploy_model(
        model_name="iris", version=3, name="iris", runtime="onnx", device="cpu",
        deployment_config={"replicas": 2, "autoscaling": {"min": 1, "max": 3}},
        options={"intra_op_threads": 1, "log_predictions": True})
    assert result["state"] == "READY"
    create = fake.calls("POST")[0]
    assert create.path == f"{D}/create"
    assert create.headers["content-type"] == "application/json"
    assert create.body == {
        "model_name": "iris", "version": "3", "name": "iris", "runtime": "onnx", "device": "cpu",
        "deployment_config": {"replicas": 2, "autoscaling": {"min": 1, "max": 3}},
        "options": {"intra_op_threads": 1, "log_predictions": True}}
    assert len(fake.calls("GET", f"{D}/d-iris/status")) == 3


def test_deploy_model_by_alias_without_waiting(fake, client):
    fake.on("POST", f"{D}/create", status("iris-champion", "PENDING"))
    result = client.deploy_model(model_name="iris", alias="champion", wait=False)
    assert result["state"] == "PENDING"
    assert fake.requests[0].body == {"model_name": "iris", "alias": "champion"}
    assert len(fake.requests) == 1


def test_deploy_model_failed_raises_the_reason(fake, client):
    fake.on("POST", f"{D}/create", status("iris", "LOADING"))
    fake.on("GET", f"{D}/d-iris/status",
            status("iris", "FAILED", reason="model has no onnx flavor"))
    with pytest.raises(CairnError) as info:
        client.deploy_model(model_name="iris", version="1")
    assert info.value.error_code == "DEPLOYMENT_FAILED"
    assert "model has no onnx flavor" in info.value.message


def test_deploy_model_times_out(fake, client):
    fake.on("POST", f"{D}/create", status("iris", "LOADING"))
    fake.on("GET", f"{D}/d-iris/status", status("iris", "LOADING"))
    start = time.monotonic()
    with pytest.raises(CairnError) as info:
        client.deploy_model(model_name="iris", version="1", timeout=0.5)
    assert info.value.error_code == "DEADLINE_EXCEEDED" and "LOADING" in info.value.message
    assert time.monotonic() - start < 5


def test_deploy_model_takes_version_or_alias_not_both(fake, client):
    with pytest.raises(ValueError):
        client.deploy_model(model_name="iris", version="1", alias="champion")
    assert fake.requests == []


def test_names_are_one_path_segment(fake, client):
    fake.on("GET", f"{D}/a%20b%2Fc/status", status("x"))
    assert client.status("a b/c")["name"] == "x"
    with pytest.raises(ValueError):
        client.status("")


def test_scale_bodies(fake, client):
    fake.on("PUT", f"{D}/iris/scale", status("iris"))
    client.scale("iris", replicas=2)
    client.scale("iris", min=1, max=4)
    client.scale("iris", replicas=3, max=5)
    assert [r.body for r in fake.requests] == [
        {"replicas": 2}, {"autoscaling": {"min": 1, "max": 4}},
        {"replicas": 3, "autoscaling": {"max": 5}}]
    with pytest.raises(ValueError):
        client.scale("iris")


def test_update_waits_until_the_new_version_serves(fake, client):
    fake.on("PUT", f"{D}/iris", status("iris", "READY", "1"))
    fake.on("GET", f"{D}/d-iris/status", status("iris", "READY", "1"),
            status("iris", "LOADING", "1"), status("iris", "READY", "2"))
    result = client.update("iris", version=2)
    assert result["model_version"] == "2"
    assert fake.calls("PUT")[0].body == {"version": "2"}
    assert len(fake.calls("GET")) == 3


def test_update_by_alias_waits_for_the_aliased_version(fake, client):
    fake.on("PUT", f"{D}/iris", status("iris", "READY", "1"))
    fake.on("GET", "/api/2.0/mlflow/registered-models/alias",
            {"model_version": {"name": "iris", "version": "5"}})
    fake.on("GET", f"{D}/d-iris/status", status("iris", "READY", "1"),
            status("iris", "READY", "5"))
    assert client.update("iris", alias="champion")["model_version"] == "5"
    assert fake.calls("PUT")[0].body == {"alias": "champion"}
    (alias,) = fake.calls("GET", "/api/2.0/mlflow/registered-models/alias")
    assert alias.query == {"name": ["iris"], "alias": ["champion"]}


def test_update_without_wait_and_settings(fake, client):
    fake.on("PUT", f"{D}/iris", status("iris", "LOADING"))
    client.update("iris", wait=False, options={"predict_timeout_ms": 5})
    assert fake.requests[0].body == {"options": {"predict_timeout_ms": 5}}
    with pytest.raises(ValueError):
        client.update("iris")


def test_delete_and_list(fake, client):
    fake.on("DELETE", f"{D}/iris", {"deployment_id": "d-iris", "state": "DELETED"})
    fake.on("GET", D, {"deployments": [status("a"), status("b")]})
    assert client.delete("iris") == {"deployment_id": "d-iris", "state": "DELETED"}
    assert [d["name"] for d in client.list_deployments()] == ["a", "b"]


def test_prediction_log_paging(fake, client):
    page = {"predictions": [{"request_id": "r1", "status_code": 200}],
            "next_page_token": "t2"}
    fake.on("GET", f"{D}/iris/predictions", page)
    assert client.predictions("iris") == page
    client.predictions("iris", max_results=5, page_token="t2")
    assert [r.query for r in fake.requests] == [
        {"max_results": ["100"]}, {"max_results": ["5"], "page_token": ["t2"]}]


# -- MLflow scoring ---------------------------------------------------------------------------


INVOCATIONS = "/endpoints/iris/invocations"


def test_predict_dataframe_as_dataframe_split(fake, client):
    fake.on("POST", INVOCATIONS, {"predictions": [0, 1]})
    df = pd.DataFrame({"a": [1.5, math.nan], "b": [1, 2], "c": ["x", "y"]}, index=[10, 20])
    assert client.predict("iris", df) == [0, 1]
    (req,) = fake.requests
    assert req.body == {"dataframe_split": {"columns": ["a", "b", "c"],
                                            "data": [[1.5, 1, "x"], [None, 2, "y"]]}}


def test_predict_dict_of_arrays_as_inputs(fake, client):
    fake.on("POST", INVOCATIONS, {"predictions": {"label": [1]}})
    result = client.predict("iris", {"x": np.array([[1, 2]], dtype=np.float32),
                                     "n": np.int64(3), "l": [1, 2]}, params={"k": 1})
    assert result == {"label": [1]}
    assert fake.requests[0].body == {"inputs": {"x": [[1.0, 2.0]], "n": 3, "l": [1, 2]},
                                     "params": {"k": 1}}


def test_predict_array_list_and_ready_made_payloads(fake, client):
    fake.on("POST", INVOCATIONS, {"predictions": []})
    client.predict("iris", np.arange(4, dtype=np.int32).reshape(2, 2))
    client.predict("iris", [[1, 2], [3, 4]])
    client.predict("iris", {"dataframe_records": [{"a": 1}]})
    client.predict("iris", {"instances": [1], "params": {"p": "v"}})
    client.predict("iris", pd.DataFrame({"a": [1]}), input_format="dataframe_records")
    client.predict("iris", [[1, 2]], input_format="inputs")
    assert [r.body for r in fake.requests] == [
        {"inputs": [[0, 1], [2, 3]]},
        {"instances": [[1, 2], [3, 4]]},
        {"dataframe_records": [{"a": 1}]},
        {"instances": [1], "params": {"p": "v"}},
        {"dataframe_records": [{"a": 1}]},
        {"inputs": [[1, 2]]},
    ]


def test_predict_rejects_what_it_cannot_send(client):
    with pytest.raises(TypeError):
        client.predict("iris", 42)
    with pytest.raises(ValueError):
        client.predict("iris", [1], input_format="csv")


def test_predict_csv(fake, client):
    fake.on("POST", INVOCATIONS, {"predictions": [2]})
    assert client.predict_csv("iris", "a,b\n1,2\n") == [2]
    (req,) = fake.requests
    assert req.headers["content-type"] == "text/csv" and req.body == b"a,b\n1,2\n"


# -- Open Inference Protocol V2 ---------------------------------------------------------------


def test_infer_encodes_typed_flat_tensors_and_decodes_outputs(fake, client):
    fake.on("POST", "/v2/models/iris/infer", {
        "model_name": "iris", "outputs": [
            {"name": "probabilities", "datatype": "FP32", "shape": [2, 3],
             "data": [0.5, 0.25, 0.25, 0.1, 0.2, 0.7]},
            {"name": "label", "datatype": "INT64", "shape": [2], "data": [0, 2]},
            {"name": "ok", "datatype": "BOOL", "shape": [2, 1], "data": [True, False]},
            {"name": "names", "datatype": "BYTES", "shape": [2], "data": ["setosa", "virginica"]},
            {"name": "half", "datatype": "FP16", "shape": [1], "data": [1.5]},
        ]})
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    out = client.infer("iris", {"x": x, "ids": np.array([7, 8], dtype=np.int64),
                                "flags": np.array([True, False]),
                                "words": np.array(["a", "b"]), "u8": np.zeros((1, 2), np.uint8)},
                       outputs=["label", "probabilities"])
    (req,) = fake.requests
    assert req.body["inputs"] == [
        {"name": "x", "shape": [2, 4], "datatype": "FP32", "data": list(range(8))},
        {"name": "ids", "shape": [2], "datatype": "INT64", "data": [7, 8]},
        {"name": "flags", "shape": [2], "datatype": "BOOL", "data": [True, False]},
        {"name": "words", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]},
        {"name": "u8", "shape": [1, 2], "datatype": "UINT8", "data": [0, 0]},
    ]
    assert req.body["outputs"] == [{"name": "label"}, {"name": "probabilities"}]
    assert out["probabilities"].dtype == np.float32 and out["probabilities"].shape == (2, 3)
    np.testing.assert_array_equal(out["probabilities"][1], np.float32([0.1, 0.2, 0.7]))
    assert out["label"].dtype == np.int64 and out["label"].tolist() == [0, 2]
    assert out["ok"].dtype == np.bool_ and out["ok"].shape == (2, 1)
    assert out["names"].dtype == object and out["names"].tolist() == ["setosa", "virginica"]
    assert out["half"].dtype == np.float16


def test_infer_by_version_path(fake, client):
    fake.on("POST", "/v2/models/iris/versions/2/infer", {"outputs": []})
    assert client.infer("iris", {"x": [1.0]}, version="2") == {}
    assert fake.requests[0].body["inputs"][0]["datatype"] == "FP64"
    with pytest.raises(ValueError):
        client.infer("iris", {})


def test_package_exports():
    assert cairn_client.Client is Client and cairn_client.CairnError is CairnError
    assert cairn_client.__version__
