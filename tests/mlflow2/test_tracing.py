"""Tracing through the MLflow 2.x client: the deprecated V2 trace calls (start, end, get info,
search, tags, delete), with the spans uploaded as traces.json through the artifact service."""

import mlflow
import pytest
import requests
from mlflow.entities import SpanType
from mlflow.exceptions import MlflowException
from mlflow.tracing.processor.mlflow import MlflowSpanProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

V2 = "/api/2.0/mlflow/traces"

# A client-side incompatibility, not a server one: the opentelemetry-sdk of the 2.x venv (1.4x)
# sets state in SimpleSpanProcessor.__init__ that MLflow 2.22's subclass never initialises, so
# every span end fails and nothing is exported. Initialise the base class too.
_mlflow_processor_init = MlflowSpanProcessor.__init__


def _processor_init(self, span_exporter, *args, **kwargs):
    SimpleSpanProcessor.__init__(self, span_exporter)
    _mlflow_processor_init(self, span_exporter, *args, **kwargs)


MlflowSpanProcessor.__init__ = _processor_init


@pytest.fixture(autouse=True)
def _sync_trace_logging(monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")


@mlflow.trace(span_type=SpanType.TOOL)
def double(x):
    return x * 2


@mlflow.trace
def add(a, b):
    with mlflow.start_span(name="inner") as span:
        span.set_inputs({"a": a})
        span.set_outputs(a)
    return double(a) + b


@mlflow.trace
def boom():
    raise ValueError("kaboom")


def test_traces_round_trip(client, unique):
    exp = mlflow.set_experiment(unique).experiment_id
    assert add(2, 1) == 5
    with pytest.raises(ValueError):
        boom()

    traces = client.search_traces(experiment_ids=[exp])
    assert len(traces) == 2
    ok = next(t for t in traces if t.info.status.value == "OK")
    err = next(t for t in traces if t.info.status.value == "ERROR")
    assert sorted(s.name for s in ok.data.spans) == ["add", "double", "inner"]
    root = next(s for s in ok.data.spans if s.parent_id is None)
    assert root.inputs == {"a": 2, "b": 1} and root.outputs == 5
    assert [s.name for s in err.data.spans] == ["boom"]
    assert ok.info.experiment_id == exp
    assert ok.info.execution_time_ms >= 0

    trace = mlflow.get_trace(ok.info.request_id)
    assert trace.info.request_id == ok.info.request_id
    assert trace.info.tags["mlflow.traceName"] == "add"
    assert sorted(s.name for s in trace.data.spans) == ["add", "double", "inner"]

    client.set_trace_tag(ok.info.request_id, "team", "search")
    assert client.get_trace(ok.info.request_id).info.tags["team"] == "search"
    found = client.search_traces(experiment_ids=[exp], filter_string="tags.team = 'search'")
    assert [t.info.request_id for t in found] == [ok.info.request_id]
    client.delete_trace_tag(ok.info.request_id, "team")
    assert "team" not in client.get_trace(ok.info.request_id).info.tags

    assert client.delete_traces(exp, request_ids=[err.info.request_id]) == 1
    assert [t.info.request_id for t in client.search_traces(experiment_ids=[exp])] == [
        ok.info.request_id]


def test_v2_trace_calls_raw(base_url, unique):
    exp = mlflow.set_experiment(unique).experiment_id
    r = requests.post(base_url + V2, json={
        "experiment_id": exp, "timestamp_ms": 1700000000000,
        "request_metadata": [{"key": "m", "value": "1"}],
        "tags": [{"key": "mlflow.traceName", "value": "nm"}, {"key": "t", "value": "x"}]})
    assert r.status_code == 200, r.text
    info = r.json()["trace_info"]
    rid = info["request_id"]
    assert len(rid) == 32
    assert info["experiment_id"] == exp
    assert info["timestamp_ms"] == 1700000000000
    assert info["status"] == "IN_PROGRESS"
    assert {"key": "m", "value": "1"} in info["request_metadata"]
    tags = {t["key"]: t["value"] for t in info["tags"]}
    assert tags["t"] == "x" and tags["mlflow.traceName"] == "nm"
    assert tags["mlflow.artifactLocation"].endswith(f"/traces/{rid}/artifacts")

    r = requests.patch(f"{base_url}{V2}/{rid}", json={
        "timestamp_ms": 1700000001500, "status": "OK",
        "request_metadata": [{"key": "m2", "value": "2"}], "tags": [{"key": "t2", "value": "y"}]})
    assert r.status_code == 200, r.text
    info = r.json()["trace_info"]
    assert info["execution_time_ms"] == 1500 and info["status"] == "OK"
    assert {"key": "m2", "value": "2"} in info["request_metadata"]
    assert {"key": "m", "value": "1"} in info["request_metadata"]

    r = requests.get(f"{base_url}{V2}/{rid}/info")
    assert r.status_code == 200 and r.json()["trace_info"]["execution_time_ms"] == 1500
    r = requests.get(base_url + V2, params={"experiment_ids": [exp], "max_results": 5})
    assert [t["request_id"] for t in r.json()["traces"]] == [rid]
    r = requests.get(f"{base_url}/api/3.0/mlflow/traces/{rid}")
    assert r.json()["trace"]["trace_info"]["execution_duration"] == "1.500s"

    def error(resp, status, code):
        assert resp.status_code == status, resp.text
        assert resp.json()["error_code"] == code

    error(requests.get(base_url + V2), 400, "INVALID_PARAMETER_VALUE")
    error(requests.get(base_url + V2, params={"experiment_ids": [exp], "max_results": 501}), 400,
          "INVALID_PARAMETER_VALUE")
    error(requests.post(base_url + V2, json={"experiment_id": "99999", "timestamp_ms": 1}), 404,
          "RESOURCE_DOES_NOT_EXIST")
    error(requests.post(base_url + V2, json={"experiment_id": exp, "timestamp_ms": "abc"}), 400,
          "INVALID_PARAMETER_VALUE")
    error(requests.post(base_url + V2, json={"experiment_id": exp, "timestamp_ms": 1,
                                             "tags": [{"value": "x"}]}),
          400, "INVALID_PARAMETER_VALUE")
    error(requests.patch(f"{base_url}{V2}/nope", json={"timestamp_ms": 1, "status": "OK"}), 404,
          "RESOURCE_DOES_NOT_EXIST")
    error(requests.get(f"{base_url}{V2}/nope/info"), 404, "RESOURCE_DOES_NOT_EXIST")

    with pytest.raises(MlflowException):
        mlflow.MlflowClient().get_trace("nope")
