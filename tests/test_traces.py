"""MLflow 3 tracing: @mlflow.trace through the official client, and the trace REST API raw.

Cairn keeps trace infos (StartTraceV3, GetTraceInfoV3, SearchTracesV3, tags, delete-traces) and
the spans the client sends over OTLP (tests/test_trace_spans.py).
"""

import time
import uuid

import mlflow
import pytest
from mlflow.entities import SpanType

from helpers import assert_error

V3 = "/api/3.0/mlflow/traces"
V2 = "/api/2.0/mlflow/traces"


@pytest.fixture(autouse=True)
def _sync_trace_logging(monkeypatch):
    # Export each trace before the traced call returns, so tests need not wait for a queue.
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")


@mlflow.trace(span_type=SpanType.TOOL)
def double(x):
    return x * 2


@mlflow.trace
def add(a, b):
    return double(a) + b


@mlflow.trace
def boom():
    raise ValueError("kaboom")


def new_experiment(unique):
    return mlflow.set_experiment(unique).experiment_id


def test_traced_calls_are_kept_with_their_spans(base_url, unique, target):
    exp = new_experiment(unique)
    for i in range(3):
        assert add(i, 10) == 2 * i + 10
    with pytest.raises(ValueError):
        boom()
    error_id = mlflow.get_last_active_trace_id()

    trace = mlflow.get_trace(error_id)
    assert trace.info.state.value == "ERROR"
    assert trace.info.experiment_id == exp
    assert trace.info.tags["mlflow.traceName"] == "boom"
    assert trace.info.tags["mlflow.artifactLocation"].endswith(f"/traces/{error_id}/artifacts")
    # The client sent the spans over OTLP, so they are in the tracking store.
    assert trace.info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert [s.name for s in trace.data.spans] == ["boom"]
    assert "kaboom" in trace.data.spans[0].status.description

    traces = mlflow.search_traces(locations=[exp], return_type="list")
    assert len(traces) == 4
    # Newest first.
    assert traces[0].info.trace_id == error_id
    times = [t.info.request_time for t in traces]
    assert times == sorted(times, reverse=True)
    ok = [t for t in traces if t.info.state.value == "OK"]
    assert len(ok) == 3
    for t in ok:
        names = sorted(s.name for s in t.data.spans)
        assert names == ["add", "double"]
        root = next(s for s in t.data.spans if s.parent_id is None)
        child = next(s for s in t.data.spans if s.parent_id is not None)
        assert root.name == "add" and child.span_type == SpanType.TOOL
        assert root.outputs == child.outputs + 10
        assert t.info.execution_duration is not None and t.info.execution_duration >= 0

    frame = mlflow.search_traces(locations=[exp])
    assert len(frame) == 4


def test_search_filters_match_the_reference_grammar(base_url, unique, target):
    exp = new_experiment(unique)
    add(1, 2)
    with pytest.raises(ValueError):
        boom()
    with mlflow.start_run() as run:
        add(3, 4)
    in_run = mlflow.get_last_active_trace_id()
    mlflow.MlflowClient().set_trace_tag(in_run, "team", "search")

    def ids(filter_string, **kw):
        return {t.info.trace_id for t in mlflow.search_traces(
            locations=[exp], filter_string=filter_string, return_type="list", **kw)}

    assert len(ids("trace.status = 'OK'")) == 2
    assert len(ids("attributes.status = 'ERROR'")) == 1
    assert len(ids("trace.status IN ('OK', 'ERROR')")) == 3
    assert len(ids("trace.name = 'add'")) == 2
    assert len(ids("trace.name LIKE 'bo%'")) == 1
    assert ids("tags.team = 'search'") == {in_run}
    assert ids(f"metadata.`mlflow.sourceRun` = '{run.info.run_id}'") == {in_run}
    assert ids(f"request_metadata.`mlflow.sourceRun` = '{run.info.run_id}'") == {in_run}
    assert ids("", run_id=run.info.run_id) == {in_run}
    assert ids(f"trace.request_id = '{in_run}'") == {in_run}
    assert len(ids("trace.timestamp_ms > 0 AND trace.execution_time_ms >= 0")) == 3
    assert len(ids(f"trace.timestamp_ms > {int(time.time() * 1000) + 60_000}")) == 0
    assert len(ids("tags.team IS NULL")) == 2

    with pytest.raises(mlflow.exceptions.MlflowException) as err:
        ids("trace.bogus = 1")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(mlflow.exceptions.MlflowException) as err:
        ids("trace.status > 'OK'")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    # Span filters (the spans are in the store): tests/test_trace_spans.py.
    assert len(ids("span.name = 'double'")) == 2


def test_search_pages_and_orders(base_url, unique, client):
    exp = new_experiment(unique)
    for i in range(5):
        add(i, 0)
    seen = []
    token = None
    while True:
        page = client.search_traces(locations=[exp], max_results=2, page_token=token,
                                    order_by=["timestamp_ms ASC"], include_spans=False)
        assert len(page) <= 2
        seen.extend(t.info.trace_id for t in page)
        token = page.token
        if not token:
            break
    assert len(seen) == 5 and len(set(seen)) == 5
    everything = client.search_traces(locations=[exp], order_by=["timestamp_ms ASC"],
                                      include_spans=False)
    assert seen == [t.info.trace_id for t in everything]
    by_duration = client.search_traces(locations=[exp], order_by=["execution_time_ms DESC"],
                                       include_spans=False)
    durations = [t.info.execution_duration for t in by_duration]
    assert durations == sorted(durations, reverse=True)


def test_trace_tags_and_deletion(base_url, unique, client):
    exp = new_experiment(unique)
    for i in range(4):
        add(i, 1)
    traces = client.search_traces(locations=[exp], order_by=["timestamp_ms ASC"],
                                  include_spans=False)
    ids = [t.info.trace_id for t in traces]

    client.set_trace_tag(ids[0], "k", "v1")
    client.set_trace_tag(ids[0], "k", "v2")
    assert client.get_trace(ids[0]).info.tags["k"] == "v2"
    client.delete_trace_tag(ids[0], "k")
    assert "k" not in client.get_trace(ids[0]).info.tags
    with pytest.raises(mlflow.exceptions.MlflowException) as err:
        client.delete_trace_tag(ids[0], "k")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    assert client.delete_traces(exp, trace_ids=[ids[3], "tr-" + "0" * 32]) == 1
    newest_kept = traces[2].info.request_time
    assert client.delete_traces(exp, max_timestamp_millis=newest_kept, max_traces=1) == 1
    left = [t.info.trace_id for t in client.search_traces(locations=[exp], include_spans=False)]
    assert sorted(left) == sorted(ids[1:3])
    with pytest.raises(mlflow.exceptions.MlflowException) as err:
        client.get_trace(ids[0]).info
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_async_export_keeps_every_trace(base_url, unique, monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "true")
    exp = new_experiment(unique)
    for i in range(20):
        add(i, i)
    mlflow.flush_trace_async_logging(terminate=False)
    traces = mlflow.search_traces(locations=[exp], return_type="list")
    assert len(traces) == 20
    assert all(len(t.data.spans) == 2 for t in traces)


# ---- Raw HTTP: shapes and bad input ----
# The reference stores whatever it is sent (a trace without a time, an unknown state, a trace
# id with slashes); Cairn validates, so these tests are Cairn's own.


@pytest.fixture
def exp_id(http, base_url):
    r = http.post(f"{base_url}/api/2.0/mlflow/experiments/create",
                  json={"name": f"traces-http-{uuid.uuid4().hex}"})
    assert r.status_code == 200, r.text
    return r.json()["experiment_id"]


def trace_info(exp_id, trace_id=None, **fields):
    info = {
        "trace_id": trace_id or "tr-" + uuid.uuid4().hex,
        "trace_location": {"type": "MLFLOW_EXPERIMENT",
                           "mlflow_experiment": {"experiment_id": exp_id}},
        "request_time": "2026-11-26T12:37:53.085Z",
        "execution_duration": "0.094s",
        "state": "OK",
        "trace_metadata": {"mlflow.user": "u"},
        "tags": {"mlflow.traceName": "t"},
    }
    info.update(fields)
    return info


def start(http, base_url, info, **kw):
    return http.post(base_url + V3, json={"trace": {"trace_info": info}}, **kw)


@pytest.mark.cairn_only
def test_start_and_get_round_trip_the_wire_shape(http, base_url, exp_id):
    info = trace_info(exp_id, client_request_id="req-1", request_preview='{"a": 1}',
                      response_preview="2", request_time="2026-11-26T13:37:53.085+01:00")
    r = start(http, base_url, info)
    assert r.status_code == 200, r.text
    got = r.json()["trace"]["trace_info"]
    assert got["trace_id"] == info["trace_id"]
    assert got["request_time"] == "2026-11-26T12:37:53.085Z"
    assert got["execution_duration"] == "0.094s"
    assert got["client_request_id"] == "req-1"
    assert got["request_preview"] == '{"a": 1}' and got["response_preview"] == "2"
    assert got["trace_metadata"]["mlflow.trace.infoFinalized"] == "true"
    assert got["tags"]["mlflow.artifactLocation"] == (
        f"mlflow-artifacts:/{exp_id}/traces/{info['trace_id']}/artifacts")
    r = http.get(f"{base_url}{V3}/{info['trace_id']}")
    assert r.status_code == 200
    assert r.json()["trace"]["trace_info"] == got

    # A second StartTrace for the same id replaces fields and merges tags.
    again = dict(info, state="ERROR", tags={"extra": "1"})
    r = start(http, base_url, again)
    assert r.status_code == 200, r.text
    got = r.json()["trace"]["trace_info"]
    assert got["state"] == "ERROR"
    assert got["tags"]["extra"] == "1" and got["tags"]["mlflow.traceName"] == "t"

    r = http.post(base_url + V3 + "/search", json={
        "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "999999"}}]})
    assert r.status_code == 200 and r.json() == {}


@pytest.mark.cairn_only
@pytest.mark.parametrize("fields", [
    {"request_time": "yesterday"},
    {"request_time": "2026-13-01T00:00:00Z"},
    {"request_time": 1700000000000},
    {"request_time": None},
    {"execution_duration": "5"},
    {"execution_duration": "1.1234567890s"},
    {"state": "DONE"},
    {"tags": ["a"]},
    {"trace_metadata": {"k": 1}},
    {"trace_location": {"type": "INFERENCE_TABLE"}},
    {"trace_location": {"type": "MLFLOW_EXPERIMENT"}},
    {"trace_id": ""},
    {"trace_id": "../../etc"},
    {"trace_id": "tr-a/b"},
    {"trace_id": ".."},
    {"trace_id": "x" * 300},
])
def test_start_rejects_malformed_trace_info(http, base_url, exp_id, fields):
    info = trace_info(exp_id)
    for key, value in fields.items():
        if value is None:
            del info[key]
        else:
            info[key] = value
    assert_error(start(http, base_url, info), 400, "INVALID_PARAMETER_VALUE")
    if "trace_id" not in fields:
        r = http.get(f"{base_url}{V3}/{info['trace_id']}")
        assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.cairn_only
def test_bad_requests_change_nothing(http, base_url, exp_id):
    r = http.post(base_url + V3, data="{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert_error(http.post(base_url + V3, json={}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(http.post(base_url + V3, json={"trace": {}}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(start(http, base_url, trace_info("424242")), 404, "RESOURCE_DOES_NOT_EXIST")
    huge = trace_info(exp_id, request_preview="x" * (17 << 20))
    r = start(http, base_url, huge)
    assert r.status_code == 413
    r = http.get(f"{base_url}{V3}/tr-{'0' * 32}")
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    assert r.json()["message"] == f"Trace with ID 'tr-{'0' * 32}' not found."
    assert_error(http.patch(f"{base_url}{V2}/tr-{'0' * 32}/tags", json={"key": "k", "value": "v"}),
                 404, "RESOURCE_DOES_NOT_EXIST")

    search = base_url + V3 + "/search"
    location = [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}}]
    for body in ({}, {"locations": location, "filter": "tags.x = "},
                 {"locations": location, "filter": "trace.status = 'OK' OR 1 = 1"},
                 {"locations": location, "filter": "trace.timestamp_ms > '; DROP TABLE traces"},
                 {"locations": location, "max_results": 0},
                 {"locations": location, "max_results": 50001},
                 {"locations": location, "page_token": "%%%"},
                 {"locations": location, "order_by": ["bogus DESC"]},
                 {"locations": location, "order_by": ["timestamp_ms", "timestamp_ms DESC"]}):
        assert_error(http.post(search, json=body), 400, "INVALID_PARAMETER_VALUE")

    delete = base_url + V2 + "/delete-traces"
    for body in ({"experiment_id": exp_id},
                 {"experiment_id": exp_id, "request_ids": ["tr-1"], "max_timestamp_millis": 5},
                 {"experiment_id": exp_id, "request_ids": ["tr-1"], "max_traces": 1},
                 {"experiment_id": exp_id, "max_timestamp_millis": 5, "max_traces": 0},
                 {"experiment_id": exp_id, "request_ids": ["../x"]},
                 {"request_ids": ["tr-1"]}):
        assert_error(http.post(delete, json=body), 400, "INVALID_PARAMETER_VALUE")

    # The experiment is still empty and the server still answers.
    r = http.post(search, json={"locations": location})
    assert r.status_code == 200 and r.json() == {}


@pytest.mark.cairn_only
def test_workspaces_do_not_see_each_others_traces(http, base_url, exp_id):
    info = trace_info(exp_id)
    assert start(http, base_url, info).status_code == 200
    other = {"X-MLFLOW-WORKSPACE": f"ws-{uuid.uuid4().hex[:8]}"}
    r = http.get(f"{base_url}{V3}/{info['trace_id']}", headers=other)
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    r = http.post(base_url + V2 + "/delete-traces", headers=other,
                  json={"experiment_id": exp_id, "request_ids": [info["trace_id"]]})
    assert r.status_code == 200 and r.json()["traces_deleted"] == 0
    assert http.get(f"{base_url}{V3}/{info['trace_id']}").status_code == 200


def test_a_fresh_server_keeps_the_first_trace_in_the_default_experiment(server_factory,
                                                                        monkeypatch):
    # Nothing has created an experiment yet: the trace goes to experiment 0, which must exist.
    fresh = server_factory()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", fresh.url)
    mlflow.set_tracking_uri(fresh.url)
    assert add(2, 3) == 7
    trace_id = mlflow.get_last_active_trace_id()
    trace = mlflow.MlflowClient(fresh.url).get_trace(trace_id)
    assert trace.info.experiment_id == "0"
    assert sorted(span.name for span in trace.data.spans) == ["add", "double"]
