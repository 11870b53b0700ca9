"""Spans kept on the server: OTLP POST /v1/traces, GET traces/get, traces/batchGet and POST
traces/batchGetInfos, through the official client (which exports each span over OTLP and reads
the trace back through traces/get) and raw HTTP, hostile input included.
"""

import json
import uuid

import mlflow
import pytest
from mlflow.entities import SpanType
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from helpers import assert_error

V3 = "/api/3.0/mlflow/traces"
PROTOBUF = {"Content-Type": "application/x-protobuf"}


@pytest.fixture(autouse=True)
def _sync_trace_logging(monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")


@mlflow.trace(span_type=SpanType.TOOL)
def lookup(x):
    return {"found": x, "items": [1, 2.5, True, None]}


@mlflow.trace
def agent(question):
    with mlflow.start_span(name="plan", span_type=SpanType.CHAIN) as span:
        span.set_inputs({"q": question})
        span.set_attribute("custom.n", 7)
        span.add_event(mlflow.entities.SpanEvent("thought", attributes={"k": "v"}))
        span.set_outputs("step")
    return lookup(question)["found"] + "!"


def new_experiment(unique):
    return mlflow.set_experiment(unique).experiment_id


def otlp_span(trace_hex, span_hex, parent_hex=None, name="s", start=1_700_000_000_000_000_000,
              end=1_700_000_001_000_000_000, code=1, attributes=None):
    span = {"traceId": trace_hex, "spanId": span_hex, "name": name,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(end),
            "attributes": attributes or [], "status": {"code": code}}
    if parent_hex:
        span["parentSpanId"] = parent_hex
    return span


def otlp_json(*spans):
    return {"resourceSpans": [{"resource": {"attributes": []},
                               "scopeSpans": [{"spans": list(spans)}]}]}


def test_client_spans_are_stored_and_read_back_from_the_server(base_url, unique, http):
    exp = new_experiment(unique)
    assert agent("tea") == "tea!"
    trace_id = mlflow.get_last_active_trace_id()

    trace = mlflow.get_trace(trace_id)
    assert trace.info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert trace.info.experiment_id == exp
    assert trace.info.state.value == "OK"
    spans = {s.name: s for s in trace.data.spans}
    assert sorted(spans) == ["agent", "lookup", "plan"]
    root = spans["agent"]
    assert root.parent_id is None and root.inputs == {"question": "tea"} and root.outputs == "tea!"
    assert spans["plan"].parent_id == root.span_id
    assert spans["plan"].span_type == SpanType.CHAIN
    assert spans["plan"].attributes["custom.n"] == 7
    assert spans["plan"].events[0].name == "thought"
    assert spans["plan"].events[0].attributes == {"k": "v"}
    assert spans["lookup"].outputs == {"found": "tea", "items": [1, 2.5, True, None]}
    assert spans["lookup"].span_type == SpanType.TOOL

    found = mlflow.search_traces(locations=[exp], return_type="list")
    assert [t.info.trace_id for t in found] == [trace_id]
    assert sorted(s.name for s in found[0].data.spans) == ["agent", "lookup", "plan"]

    # Raw GET traces/get: the OTel span messages in proto JSON.
    r = http.get(f"{base_url}{V3}/get", params={"trace_id": trace_id})
    assert r.status_code == 200, r.text
    body = r.json()["trace"]
    assert body["trace_info"]["trace_id"] == trace_id
    raw_root = next(s for s in body["spans"] if "parent_span_id" not in s)
    assert raw_root["name"] == "agent"
    assert raw_root["status"] == {"code": "STATUS_CODE_OK"}
    assert isinstance(raw_root["start_time_unix_nano"], int)
    attrs = {a["key"]: a["value"] for a in raw_root["attributes"]}
    assert attrs["mlflow.traceRequestId"] == {"string_value": trace_id}
    assert attrs["mlflow.spanInputs"] == {
        "kvlist_value": {"values": [{"key": "question", "value": {"string_value": "tea"}}]}}
    assert body["spans"][0]["name"] == "agent"  # the root first

    # The web UI reads the spans as traces.json from get-trace-artifact: served from the store.
    r = http.get(f"{base_url}/ajax-api/3.0/mlflow/get-trace-artifact",
                 params={"request_id": trace_id})
    assert r.status_code == 200, r.text
    data = json.loads(r.content)
    assert sorted(s["name"] for s in data["spans"]) == ["agent", "lookup", "plan"]
    stored_root = next(s for s in data["spans"] if s["parent_span_id"] is None)
    assert json.loads(stored_root["attributes"]["mlflow.spanInputs"]) == {"question": "tea"}
    assert stored_root["status"]["code"] == "STATUS_CODE_OK"


def test_batch_get_traces_and_infos(base_url, unique, http):
    exp = new_experiment(unique)
    agent("a")
    first = mlflow.get_last_active_trace_id()
    agent("b")
    second = mlflow.get_last_active_trace_id()

    r = http.get(f"{base_url}{V3}/batchGet", params={"trace_ids": [second, "tr-nope", first]})
    assert r.status_code == 200, r.text
    traces = r.json()["traces"]
    assert [t["trace_info"]["trace_id"] for t in traces] == [second, first]
    assert all(len(t["spans"]) == 3 for t in traces)
    r = http.get(f"{base_url}{V3}/batchGet", params={"trace_ids": ["tr-nope"]})
    assert r.status_code == 200 and r.json() == {}
    r = http.get(f"{base_url}{V3}/batchGet", params={"trace_ids": [first], "experiment_ids": ["0"]})
    assert r.status_code == 200 and r.json() == {}

    r = http.post(f"{base_url}{V3}/batchGetInfos", json={"trace_ids": [first, "tr-nope"]})
    assert r.status_code == 200, r.text
    infos = r.json()["trace_infos"]
    assert [i["trace_id"] for i in infos] == [first]
    assert "spans" not in infos[0]
    r = http.post(f"{base_url}{V3}/batchGetInfos",
                  json={"trace_ids": [first], "experiment_ids": [exp]})
    assert [i["trace_id"] for i in r.json()["trace_infos"]] == [first]
    r = http.post(f"{base_url}{V3}/batchGetInfos",
                  json={"trace_ids": [first], "experiment_ids": ["999999"]})
    assert r.status_code == 200 and r.json() == {}


def test_trace_read_errors(base_url, unique, http):
    exp = new_experiment(unique)
    assert_error(http.get(f"{base_url}{V3}/get"), 400, "INVALID_PARAMETER_VALUE")
    r = http.get(f"{base_url}{V3}/get", params={"trace_id": "tr-nope"})
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    assert r.json()["message"] == "Trace with ID tr-nope is not found."
    agent("x")
    trace_id = mlflow.get_last_active_trace_id()
    r = http.get(f"{base_url}{V3}/get", params={"trace_id": trace_id, "allow_partial": "maybe"})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert r.json()["message"] == "Invalid boolean value: maybe, must be 'true' or 'false'."

    # Spans kept in the artifact repository are not served here (the client reads them there).
    info_only = "tr-" + uuid.uuid4().hex
    r = http.post(f"{base_url}{V3}", json={"trace": {"trace_info": {
        "trace_id": info_only, "request_time": "2025-01-01T00:00:00Z", "state": "OK",
        "trace_location": {"type": "MLFLOW_EXPERIMENT",
                           "mlflow_experiment": {"experiment_id": exp}}}}})
    assert r.status_code == 200, r.text
    r = http.get(f"{base_url}{V3}/get", params={"trace_id": info_only})
    assert_error(r, 500, "INTERNAL_ERROR")
    assert r.json()["message"] == "Trace data not stored in tracking store"
    # A literal path, not trace id "get".
    assert_error(http.get(f"{base_url}{V3}/get", params={"trace_id": ""}), 400,
                 "INVALID_PARAMETER_VALUE")

    assert_error(http.get(f"{base_url}{V3}/batchGet"), 400, "INVALID_PARAMETER_VALUE")
    r = http.get(f"{base_url}{V3}/batchGet", params={"trace_ids": ["x"], "experiment_ids": ["abc"]})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert r.json()["message"] == "Invalid experiment ID 'abc'. Experiment ID must be a valid integer."
    assert_error(http.post(f"{base_url}{V3}/batchGetInfos", json={}), 400, "INVALID_PARAMETER_VALUE")
    r = http.post(f"{base_url}{V3}/batchGetInfos", json={"trace_ids": "x"})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert_error(http.post(f"{base_url}{V3}/batchGetInfos", json={"trace_ids": [1]}), 400,
                 "INVALID_PARAMETER_VALUE")



def test_batch_reads_are_capped(base_url, http, target):
    if target != "cairn":
        pytest.skip("Cairn-only limit: the reference reads any number of ids")
    ids = [f"tr-{i:032x}" for i in range(1001)]
    r = http.post(f"{base_url}{V3}/batchGetInfos", json={"trace_ids": ids})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = http.post(f"{base_url}{V3}/batchGetInfos", json={"trace_ids": ids[:1000]})
    assert r.status_code == 200 and r.json() == {}


def test_search_traces_by_span_fields_and_text(base_url, unique, client):
    exp = new_experiment(unique)
    agent("espresso")
    coffee = mlflow.get_last_active_trace_id()
    lookup("tea")
    tea = mlflow.get_last_active_trace_id()

    def ids(filter_string):
        found = client.search_traces(locations=[exp], filter_string=filter_string,
                                     include_spans=False)
        return {t.info.trace_id for t in found}

    assert ids("span.name = 'plan'") == {coffee}
    assert ids("span.name = 'lookup'") == {coffee, tea}
    assert ids("span.name != 'lookup'") == {coffee}
    assert ids("span.name IN ('plan', 'nothing')") == {coffee}
    assert ids("span.type = 'TOOL'") == {coffee, tea}
    assert ids("span.type = 'CHAIN' AND span.name = 'plan'") == {coffee}
    assert ids("span.status = 'OK'") == {coffee, tea}
    assert ids("span.status = 'ERROR'") == set()
    assert ids("span.name LIKE 'pl%'") == {coffee}
    assert ids("span.content LIKE '%espresso%'") == {coffee}
    assert ids("trace.text LIKE '%espresso%'") == {coffee}
    assert ids("trace.text ILIKE '%TEA%'") == {tea}
    assert ids("span.attributes.custom.n LIKE '%7%'") == {coffee}
    assert ids("span.name = 'plan' AND tags.`mlflow.traceName` = 'agent'") == {coffee}

    for bad in ("span.bogus = 'x'", "span.content = 'x'", "trace.text = 'x'",
                "span.attributes. = 'x'"):
        with pytest.raises(mlflow.exceptions.MlflowException) as err:
            ids(bad)
        assert err.value.error_code == "INVALID_PARAMETER_VALUE", bad


def test_otlp_protobuf_and_json_export(base_url, unique, http):
    exp = new_experiment(unique)
    trace_hex = uuid.uuid4().hex
    trace_id = "tr-" + trace_hex
    root_hex, child_hex = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
    inputs = {"key": "mlflow.spanInputs", "value": {"stringValue": json.dumps({"q": 1})}}
    outputs = {"key": "mlflow.spanOutputs", "value": {"stringValue": json.dumps("done")}}

    # The child first, as protobuf (what MLflow's client sends).
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes.fromhex(trace_hex)
    span.span_id = bytes.fromhex(child_hex)
    span.parent_span_id = bytes.fromhex(root_hex)
    span.name = "child"
    span.start_time_unix_nano = 1_700_000_000_500_000_000
    span.end_time_unix_nano = 1_700_000_000_600_000_000
    attr = span.attributes.add()
    attr.key = "n"
    attr.value.int_value = 5
    span.status.code = 1
    r = http.post(f"{base_url}/v1/traces", data=request.SerializeToString(),
                  headers={**PROTOBUF, "x-mlflow-experiment-id": exp})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-protobuf")
    assert r.content == b""

    # The trace exists already, in progress.
    r = http.get(f"{base_url}{V3}/{trace_id}")
    assert r.status_code == 200, r.text
    info = r.json()["trace"]["trace_info"]
    assert info["state"] == "IN_PROGRESS"
    assert info["tags"]["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert info["trace_location"]["mlflow_experiment"]["experiment_id"] == exp

    # Then the root, as OTLP JSON (hex ids).
    body = otlp_json(otlp_span(trace_hex, root_hex, name="root", attributes=[
        inputs, outputs,
        {"key": "mlflow.traceTag.team", "value": {"stringValue": json.dumps("search")}}]))
    body["resourceSpans"][0]["resource"]["attributes"] = [
        {"key": "service.name", "value": {"stringValue": "svc"}},
        {"key": "telemetry.sdk.name", "value": {"stringValue": "opentelemetry"}},
        {"key": "mlflow.trace.spansLocation", "value": {"stringValue": "ARTIFACT_REPO"}}]
    r = http.post(f"{base_url}/v1/traces", json=body, headers={"x-mlflow-experiment-id": exp})
    assert r.status_code == 200, r.text

    r = http.get(f"{base_url}{V3}/get", params={"trace_id": trace_id})
    assert r.status_code == 200, r.text
    trace = r.json()["trace"]
    info = trace["trace_info"]
    assert info["state"] == "OK"
    assert info["request_time"] == "2023-11-14T22:13:20Z"
    assert info["execution_duration"] == "1s"
    assert info["request_preview"] == '{"q": 1}'
    assert info["tags"]["service.name"] == "svc"
    assert info["tags"]["team"] == "search"
    assert info["tags"]["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert "telemetry.sdk.name" not in info["tags"]
    assert [s["name"] for s in trace["spans"]] == ["root", "child"]
    child = trace["spans"][1]
    assert {a["key"]: a["value"] for a in child["attributes"]}["n"] == {"int_value": 5}

    trace = mlflow.get_trace(trace_id)
    assert sorted(s.name for s in trace.data.spans) == ["child", "root"]
    assert trace.data.spans[0].inputs == {"q": 1}

    # Deleting the trace deletes its spans.
    r = http.post(f"{base_url}{V3}/delete-traces",
                  json={"experiment_id": exp, "request_ids": [trace_id]})
    assert r.json() == {"traces_deleted": 1}
    r = http.get(f"{base_url}{V3}/get", params={"trace_id": trace_id})
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")


def test_otlp_rejects_malformed_and_hostile_input(base_url, unique, http, target):
    exp = new_experiment(unique)
    url = f"{base_url}/v1/traces"
    hdr = {"x-mlflow-experiment-id": exp}

    def detail(r, status, text):
        assert r.status_code == status, r.text
        assert r.json() == {"detail": text}

    r = http.post(url, data=b"", headers={"Content-Type": "application/x-protobuf"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "x-mlflow-experiment-id"]
    detail(http.post(url, data=b"x", headers={**hdr, "Content-Type": "text/plain"}), 400,
           "Invalid Content-Type: text/plain. Expected: application/x-protobuf or application/json")
    detail(http.post(url, data=b"", headers={**hdr, **PROTOBUF}), 400,
           "Invalid OpenTelemetry format - no spans found")
    detail(http.post(url, data=b"\xff\xff\xff", headers={**hdr, **PROTOBUF}), 400,
           "Invalid OpenTelemetry format")
    detail(http.post(url, data=b"{", headers={**hdr, "Content-Type": "application/json"}), 400,
           "Invalid OpenTelemetry format")
    detail(http.post(url, data=b"{}", headers={**hdr, "Content-Type": "application/json"}), 400,
           "Invalid OpenTelemetry format - no spans found")
    detail(http.post(url, data=b"abc", headers={**hdr, **PROTOBUF, "Content-Encoding": "br"}), 400,
           "Unsupported Content-Encoding: br")
    trace_hex = uuid.uuid4().hex
    no_span_id = otlp_span(trace_hex, "")
    detail(http.post(url, json=otlp_json(no_span_id), headers=hdr), 422,
           "Cannot convert OpenTelemetry span to MLflow span")
    detail(http.post(url, json=otlp_json(otlp_span(trace_hex, "zz")), headers=hdr), 400,
           "Invalid OpenTelemetry format")
    # Truncated protobuf.
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes.fromhex(trace_hex)
    span.span_id = bytes(8)
    span.name = "n" * 100
    data = request.SerializeToString()
    detail(http.post(url, data=data[:-10], headers={**hdr, **PROTOBUF}), 400,
           "Invalid OpenTelemetry format")
    # Nothing was stored by any of these.
    r = http.get(f"{base_url}{V3}/tr-{trace_hex}")
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")

    # An unknown experiment for a new trace.
    r = http.post(url, json=otlp_json(otlp_span(uuid.uuid4().hex, "ab" * 8)),
                  headers={"x-mlflow-experiment-id": "987654321"})
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")

    if target == "cairn":
        # Cairn caps the body (the reference takes any size).
        big = b"\x0a" + b"\xff" * 17_000_000
        r = http.post(url, data=big, headers={**hdr, **PROTOBUF})
        assert r.status_code == 413
        # Attribute values nested deeper than protobuf's recursion limit.
        value = {"intValue": "1"}
        for _ in range(200):
            value = {"arrayValue": {"values": [value]}}
        deep = otlp_span(uuid.uuid4().hex, "cd" * 8,
                         attributes=[{"key": "deep", "value": value}])
        detail(http.post(url, json=otlp_json(deep), headers=hdr), 400,
               "Invalid OpenTelemetry format")


def test_calculate_filter_correlation(base_url, unique, http):
    exp = new_experiment(unique)

    @mlflow.trace
    def f(x):
        if x > 2:
            raise ValueError("x")
        return x

    for i in range(5):
        try:
            f(i)
        except ValueError:
            pass
    url = f"{base_url}{V3}/calculate-filter-correlation"

    def call(f1, f2, base=None, exps=(exp,)):
        body = {"experiment_ids": list(exps), "filter_string1": f1, "filter_string2": f2}
        if base is not None:
            body["base_filter"] = base
        return http.post(url, json=body)

    r = call("trace.status = 'OK'", "span.name = 'f'")
    assert r.status_code == 200, r.text
    assert r.json() == {"npmi": 0.0, "npmi_smoothed": pytest.approx(0.029747343394052793),
                        "filter1_count": 3, "filter2_count": 5, "joint_count": 3,
                        "total_count": 5}
    body = call("trace.status = 'OK'", "trace.status = 'ERROR'").json()
    assert body["npmi"] == -1.0
    assert body["npmi_smoothed"] == pytest.approx(-0.4668878040145734)
    assert call("trace.status = 'OK'", "span.name = 'zz'").json() == {
        "filter1_count": 3, "filter2_count": 0, "joint_count": 0, "total_count": 5}
    body = call("trace.status = 'OK'", "span.name = 'f'", base="trace.status = 'OK'").json()
    assert body == {"npmi": 1.0, "npmi_smoothed": 1.0, "filter1_count": 3, "filter2_count": 3,
                    "joint_count": 3, "total_count": 3}
    assert call("trace.status = 'OK'", "span.name = 'f'", exps=["99999"]).json() == {
        "filter1_count": 0, "filter2_count": 0, "joint_count": 0, "total_count": 0}

    assert_error(http.post(url, json={"experiment_ids": [exp], "filter_string1": "a"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(http.post(url, json={"filter_string1": "a", "filter_string2": "b"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(call("trace.bogus = 1", "span.name = 'f'"), 400, "INVALID_PARAMETER_VALUE")
    r = call("trace.status = 'OK'", "span.name = 'f'", exps=["abc"])
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert r.json()["message"] == (
        "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.")


def test_span_metrics(base_url, unique, http):
    exp = new_experiment(unique)
    agent("a")
    agent("b")
    lookup("c")
    url = f"{base_url}{V3}/metrics"

    def query(metric, aggs, dims=(), filters=()):
        r = http.post(url, json={"experiment_ids": [exp], "view_type": "SPANS",
                                 "metric_name": metric, "aggregations": aggs,
                                 "dimensions": list(dims), "filters": list(filters)})
        assert r.status_code == 200, r.text
        return r.json().get("data_points", [])

    count = [{"aggregation_type": "COUNT"}]
    assert query("span_count", count) == [
        {"metric_name": "span_count", "values": {"COUNT": 7.0}}]
    by_name = {p["dimensions"]["span_name"]: p["values"]["COUNT"]
               for p in query("span_count", count, dims=["span_name"])}
    assert by_name == {"agent": 2.0, "plan": 2.0, "lookup": 3.0}
    by_type = {p["dimensions"]["span_type"]: p["values"]["COUNT"]
               for p in query("span_count", count, dims=["span_type"])}
    assert by_type == {"UNKNOWN": 2.0, "CHAIN": 2.0, "TOOL": 3.0}
    assert query("span_count", count, filters=["span.name = 'plan'"])[0]["values"] == {
        "COUNT": 2.0}
    assert query("span_count", count, filters=["span.status = 'ERROR'"])[0]["values"] == {
        "COUNT": 0.0}
    assert query("span_count", count,
                 filters=["trace.tag.`mlflow.traceName` = 'lookup'"])[0]["values"] == {
        "COUNT": 1.0}
    latency = query("latency", [{"aggregation_type": "MAX"}], dims=["span_status"])
    assert [p["dimensions"] for p in latency] == [{"span_status": "OK"}]
    assert latency[0]["values"]["MAX"] >= 0
