"""MLflow 3 trace metrics (QueryTraceMetrics, POST /api/3.0/mlflow/traces/metrics), as the web
UI's experiment overview page asks for them: trace counts by status, latency averages and
percentiles, token usage sums, each over time buckets, and span costs.

Traces are logged with the official client at fixed times and latencies, with token usage on an
LLM span (the client rolls it up into the mlflow.trace.tokenUsage metadata), so every value is
exact. Neither server computes a cost for spans that carry none, so span cost metrics answer no
data points on both (span counts and latencies: tests/test_trace_spans.py).
"""

import uuid

import mlflow
import pytest
from mlflow.entities import SpanType

from helpers import assert_error

PATH = "/api/3.0/mlflow/traces/metrics"
DAY_MS = 86_400_000
BASE_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
DAY0 = "2026-01-01T00:00:00+00:00"
DAY1 = "2026-01-02T00:00:00+00:00"
START_MS = BASE_MS
END_MS = BASE_MS + 2 * DAY_MS - 1

# name, start offset (ms), latency (ms), status, token usage of its LLM span
TRACES = [
    ("chat", 1 * 3_600_000, 100, "OK", {"input_tokens": 10, "output_tokens": 5,
                                        "total_tokens": 15}),
    ("chat", 2 * 3_600_000, 200, "OK", {"input_tokens": 20, "output_tokens": 10,
                                        "total_tokens": 30, "cache_read_input_tokens": 4}),
    ("chat", 3 * 3_600_000, 400, "ERROR", None),
    ("tool", DAY_MS + 3_600_000, 1000, "OK", {"input_tokens": 30, "output_tokens": 15,
                                              "total_tokens": 45, "cache_read_input_tokens": 6,
                                              "cache_creation_input_tokens": 8}),
    # After end_time_ms: counted only without a time range.
    ("late", 5 * DAY_MS, 50, "OK", {"input_tokens": 1000, "output_tokens": 1,
                                    "total_tokens": 1001}),
]


def _log_trace(name, offset_ms, latency_ms, status, usage):
    start_ns = (BASE_MS + offset_ms) * 1_000_000
    root = mlflow.start_span_no_context(name, span_type=SpanType.AGENT, start_time_ns=start_ns,
                                        inputs={"q": name})
    if usage is not None:
        llm = mlflow.start_span_no_context("llm", span_type=SpanType.CHAT_MODEL, parent_span=root,
                                           start_time_ns=start_ns + 1_000_000)
        llm.set_attribute("mlflow.chat.tokenUsage", usage)
        llm.end(end_time_ns=start_ns + 2_000_000)
    root.end(outputs={"a": 1}, status=status, end_time_ns=start_ns + latency_ms * 1_000_000)


@pytest.fixture(scope="module")
def exp_id(base_url):
    mlflow.set_tracking_uri(base_url)
    exp = mlflow.set_experiment(f"trace-metrics-{uuid.uuid4().hex[:8]}").experiment_id
    import os
    previous = os.environ.get("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING")
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
    try:
        for trace in TRACES:
            _log_trace(*trace)
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", None)
        else:
            os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = previous
    infos = mlflow.search_traces(locations=[exp], return_type="list")
    assert len(infos) == len(TRACES)
    return exp


def query(http, base_url, exp_id, metric, aggregations, view="TRACES", api="api", **fields):
    body = {"experiment_ids": [exp_id], "view_type": view, "metric_name": metric,
            "aggregations": aggregations, **fields}
    resp = http.post(f"{base_url}/{api}/3.0/mlflow/traces/metrics", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json().get("data_points", [])


RANGE = {"start_time_ms": START_MS, "end_time_ms": END_MS}
DAILY = {"time_interval_seconds": 86400, **RANGE}


@pytest.mark.parametrize("api", ["api", "ajax-api"])
def test_trace_count_by_day_and_status(http, base_url, exp_id, api):
    points = query(http, base_url, exp_id, "trace_count", [{"aggregation_type": "COUNT"}],
                   api=api, dimensions=["trace_status"], **DAILY)
    assert points == [
        {"metric_name": "trace_count", "dimensions": {"time_bucket": DAY0, "trace_status": "ERROR"},
         "values": {"COUNT": 1}},
        {"metric_name": "trace_count", "dimensions": {"time_bucket": DAY0, "trace_status": "OK"},
         "values": {"COUNT": 2}},
        {"metric_name": "trace_count", "dimensions": {"time_bucket": DAY1, "trace_status": "OK"},
         "values": {"COUNT": 1}},
    ]


def test_trace_count_totals_and_names(http, base_url, exp_id):
    count = [{"aggregation_type": "COUNT"}]
    assert query(http, base_url, exp_id, "trace_count", count) == [
        {"metric_name": "trace_count", "values": {"COUNT": 5}}]
    assert query(http, base_url, exp_id, "trace_count", count, **RANGE) == [
        {"metric_name": "trace_count", "values": {"COUNT": 4}}]
    by_name = query(http, base_url, exp_id, "trace_count", count, dimensions=["trace_name"],
                    **RANGE)
    assert [(p["dimensions"]["trace_name"], p["values"]["COUNT"]) for p in by_name] == [
        ("chat", 3), ("tool", 1)]
    # max_results bounds the grouped rows.
    assert len(query(http, base_url, exp_id, "trace_count", count, dimensions=["trace_name"],
                     max_results=1, **RANGE)) == 1
    # Only '=' filters; status and tags (the trace name tag included).
    assert query(http, base_url, exp_id, "trace_count", count,
                 filters=['trace.status = "ERROR"'])[0]["values"] == {"COUNT": 1}
    assert query(http, base_url, exp_id, "trace_count", count,
                 filters=["trace.tag.mlflow.traceName = 'chat'"], **RANGE)[0]["values"] == {
                     "COUNT": 3}


def test_latency_average_and_percentiles(http, base_url, exp_id):
    aggs = [{"aggregation_type": "AVG"},
            {"aggregation_type": "PERCENTILE", "percentile_value": 50},
            {"aggregation_type": "PERCENTILE", "percentile_value": 90},
            {"aggregation_type": "PERCENTILE", "percentile_value": 99}]
    points = query(http, base_url, exp_id, "latency", aggs, **RANGE)
    assert len(points) == 1 and "dimensions" not in points[0]
    # [100, 200, 400, 1000], interpolated linearly between closest ranks.
    assert points[0]["values"] == pytest.approx(
        {"AVG": 425.0, "P50.0": 300.0, "P90.0": 820.0, "P99.0": 982.0})

    daily = query(http, base_url, exp_id, "latency", aggs, **DAILY)
    assert [p["dimensions"] for p in daily] == [{"time_bucket": DAY0}, {"time_bucket": DAY1}]
    assert daily[0]["values"] == pytest.approx(
        {"AVG": 700 / 3, "P50.0": 200.0, "P90.0": 360.0, "P99.0": 396.0})
    assert daily[1]["values"] == pytest.approx(
        {"AVG": 1000.0, "P50.0": 1000.0, "P90.0": 1000.0, "P99.0": 1000.0})

    extremes = query(http, base_url, exp_id, "latency",
                     [{"aggregation_type": "MIN"}, {"aggregation_type": "MAX"}],
                     dimensions=["trace_name"], **RANGE)
    assert [(p["dimensions"]["trace_name"], p["values"]) for p in extremes] == [
        ("chat", {"MIN": 100, "MAX": 400}), ("tool", {"MIN": 1000, "MAX": 1000})]


@pytest.mark.parametrize("metric,total,avg", [
    ("input_tokens", 60, 20),
    ("output_tokens", 30, 10),
    ("total_tokens", 90, 30),
    ("cache_read_input_tokens", 10, 5),
    ("cache_creation_input_tokens", 8, 8),
])
def test_token_usage(http, base_url, exp_id, metric, total, avg):
    assert query(http, base_url, exp_id, metric, [{"aggregation_type": "SUM"}], **RANGE) == [
        {"metric_name": metric, "values": {"SUM": total}}]
    assert query(http, base_url, exp_id, metric, [{"aggregation_type": "AVG"}], **RANGE) == [
        {"metric_name": metric, "values": {"AVG": avg}}]
    daily = query(http, base_url, exp_id, metric, [{"aggregation_type": "SUM"}], **DAILY)
    assert sum(p["values"]["SUM"] for p in daily) == total
    assert all(set(p["dimensions"]) == {"time_bucket"} for p in daily)


def test_input_token_percentiles_by_day(http, base_url, exp_id):
    points = query(http, base_url, exp_id, "input_tokens",
                   [{"aggregation_type": "PERCENTILE", "percentile_value": 50}], **DAILY)
    assert points == [
        {"metric_name": "input_tokens", "dimensions": {"time_bucket": DAY0},
         "values": {"P50.0": 15.0}},
        {"metric_name": "input_tokens", "dimensions": {"time_bucket": DAY1},
         "values": {"P50.0": 30.0}},
    ]


def test_span_cost_has_no_data_points(http, base_url, exp_id):
    assert query(http, base_url, exp_id, "total_cost", [{"aggregation_type": "SUM"}],
                 view="SPANS", dimensions=["span_model_name"], **DAILY) == []


def test_empty_and_unknown_experiments(http, base_url, exp_id):
    count = [{"aggregation_type": "COUNT"}]
    # An aggregate without grouping answers one row, even over no traces.
    assert query(http, base_url, "987654321", "trace_count", count) == [
        {"metric_name": "trace_count", "values": {"COUNT": 0}}]
    assert query(http, base_url, exp_id, "latency", [{"aggregation_type": "AVG"}],
                 start_time_ms=0, end_time_ms=1) == []
    assert query(http, base_url, exp_id, "trace_count", count, max_results=0) == []
    assert query(http, base_url, exp_id, "trace_count", count, max_results=10**12,
                 page_token="ignored") == [{"metric_name": "trace_count", "values": {"COUNT": 5}}]


BASE_BODY = {"view_type": "TRACES", "metric_name": "trace_count",
             "aggregations": [{"aggregation_type": "COUNT"}]}


def _without(key):
    return {k: v for k, v in BASE_BODY.items() if k != key}


@pytest.mark.parametrize("body,code", [
    (_without("view_type"), "INVALID_PARAMETER_VALUE"),
    (_without("metric_name"), "INVALID_PARAMETER_VALUE"),
    (_without("aggregations"), "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "metric_name": "nope"}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "metric_name": 5}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "aggregations": [{"aggregation_type": "SUM"}]}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "aggregations": {"aggregation_type": "COUNT"}}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "aggregations": []}, "BAD_REQUEST"),
    ({**BASE_BODY, "dimensions": ["span_name"]}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "dimensions": "trace_status"}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "time_interval_seconds": 60}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "time_interval_seconds": "abc", "start_time_ms": 0, "end_time_ms": 1},
     "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "max_results": "x"}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "page_token": 5}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "filters": 'trace.status = "OK"'}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "filters": ['span.name = "x"']}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "filters": ["foo = 1"]}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "filters": ["trace.status = OK"]}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "filters": ['trace.status != "OK"']}, "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "filters": ['trace.status = "OK" AND trace.status = "OK"']},
     "INVALID_PARAMETER_VALUE"),
    ({**BASE_BODY, "filters": ['trace.tag = "v"']}, "INVALID_PARAMETER_VALUE"),
])
def test_malformed_requests(http, base_url, exp_id, body, code):
    resp = http.post(base_url + PATH, json={"experiment_ids": [exp_id], **body})
    assert_error(resp, 400, code)


@pytest.mark.parametrize("body", [{**BASE_BODY}, {**BASE_BODY, "experiment_ids": [1]},
                                  {**BASE_BODY, "experiment_ids": ["abc"]}])
def test_malformed_experiment_ids(http, base_url, body):
    resp = http.post(base_url + PATH, json=body)
    assert_error(resp, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.cairn_only
@pytest.mark.parametrize("body", [
    # The reference reads unknown enum names as the first value, and answers 500 for these
    # percentile mistakes; Cairn says what is wrong.
    {**BASE_BODY, "view_type": "FOO"},
    {**BASE_BODY, "aggregations": [{"aggregation_type": "MEDIAN"}]},
    {**BASE_BODY, "aggregations": [{}]},
    {**BASE_BODY, "metric_name": "latency", "aggregations": [{"aggregation_type": "PERCENTILE"}]},
    {**BASE_BODY, "metric_name": "latency",
     "aggregations": [{"aggregation_type": "PERCENTILE", "percentile_value": 101}]},
    {**BASE_BODY, "metric_name": "latency",
     "aggregations": [{"aggregation_type": "AVG", "percentile_value": 5}]},
])
def test_cairn_rejects_what_the_reference_misreads(http, base_url, exp_id, body):
    resp = http.post(base_url + PATH, json={"experiment_ids": [exp_id], **body})
    assert_error(resp, 400, "INVALID_PARAMETER_VALUE")


def test_get_is_not_the_metrics_query(http, base_url):
    # GET traces/metrics is GetTraceInfoV3 for a trace named "metrics".
    assert_error(http.get(base_url + PATH), 404, "RESOURCE_DOES_NOT_EXIST")
