"""POST /graphql: the queries the MLflow web UI sends, and malformed or hostile ones.

Runs against Cairn and the reference server (CAIRN_TEST_TARGET=mlflow). The reference reports an
error as a bare string, Cairn as GraphQL's {"message", "locations", "path"}; the tests compare
messages only.
"""

from __future__ import annotations

import math

import pytest

import mlflow
from mlflow import MlflowClient

RUN_FIELDS = """
  info { runName status runUuid experimentId artifactUri endTime lifecycleStage startTime userId }
  experiment { experimentId name tags { key value } artifactLocation lifecycleStage lastUpdateTime }
  modelVersions { status version name source }
  data { metrics { key value step timestamp } params { key value } tags { key value } }
  inputs {
    datasetInputs { dataset { digest name profile schema source sourceType } tags { key value } }
    modelInputs { modelId }
  }
  outputs { modelOutputs { modelId step } }
"""

GET_RUN = """
query GetRun($data: MlflowGetRunInput!) @component(name: "MLflow.ExperimentRunTracking") {
  mlflowGetRun(input: $data) { apiError { helpUrl code message } run { %s } }
}""" % RUN_FIELDS


def _messages(errors) -> list[str]:
    return [e if isinstance(e, str) else e["message"] for e in errors or []]


@pytest.fixture(scope="module")
def logged(base_url):
    client = MlflowClient(base_url)
    experiment_id = client.create_experiment(f"graphql-{id(client)}")
    run = client.create_run(experiment_id, run_name="gql")
    for step in range(5):
        client.log_metric(run.info.run_id, "loss", 1.0 / (step + 1), step=step)
    client.log_metric(run.info.run_id, "nan", math.nan)
    client.log_param(run.info.run_id, "alpha", "0.5")
    client.set_tag(run.info.run_id, "team", "gql")
    client.set_terminated(run.info.run_id)
    running = client.create_run(experiment_id, run_name="still-running")
    return {"experiment_id": experiment_id, "run_id": run.info.run_id,
            "running_id": running.info.run_id}


def _post(http, base_url, query, variables=None, **extra):
    body = {"query": query, "variables": variables or {}, **extra}
    response = http.post(f"{base_url}/graphql", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_get_run_answers_the_ui_query(http, base_url, logged):
    out = _post(http, base_url, GET_RUN, {"data": {"runId": logged["run_id"]}})
    assert out["errors"] is None
    run = out["data"]["mlflowGetRun"]["run"]
    assert out["data"]["mlflowGetRun"]["apiError"] is None
    assert run["info"]["runUuid"] == logged["run_id"]
    assert run["info"]["status"] == "FINISHED"
    assert run["info"]["startTime"].isdigit()  # LongString: a decimal string
    assert run["experiment"]["experimentId"] == logged["experiment_id"]
    assert run["experiment"]["tags"] == []
    metrics = {m["key"]: m for m in run["data"]["metrics"]}
    assert metrics["loss"]["step"] == "4" and metrics["loss"]["value"] == pytest.approx(0.2)
    assert metrics["nan"]["value"] is None  # NaN has no GraphQL Float form
    assert run["data"]["params"] == [{"key": "alpha", "value": "0.5"}]
    assert {"key": "team", "value": "gql"} in run["data"]["tags"]
    # Unset protobuf fields read as their defaults, never null: the UI calls .find on them.
    assert run["inputs"] == {"datasetInputs": [], "modelInputs": []}
    assert run["outputs"] == {"modelOutputs": []}
    assert run["modelVersions"] == []


def test_search_runs_as_query_and_mutation(http, base_url, logged):
    query = "query SearchRuns($data: MlflowSearchRunsInput!) { mlflowSearchRuns(input: $data) " \
            "{ runs { info { runUuid runName } } nextPageToken } }"
    for operation in (query, query.replace("query SearchRuns", "mutation SearchRuns")):
        out = _post(http, base_url, operation,
                    {"data": {"experimentIds": [logged["experiment_id"]], "maxResults": 10,
                              "orderBy": ["attributes.start_time"]}})
        assert out["errors"] is None
        names = [r["info"]["runName"] for r in out["data"]["mlflowSearchRuns"]["runs"]]
        assert names == ["gql", "still-running"]


def test_experiment_and_metric_history_queries(http, base_url, logged):
    out = _post(http, base_url, """
      query Q($e: MlflowGetExperimentInput!, $m: MlflowGetMetricHistoryBulkIntervalInput!) {
        exp: mlflowGetExperiment(input: $e) { experiment { experimentId name creationTime } }
        hist: mlflowGetMetricHistoryBulkInterval(input: $m) {
          __typename metrics { key step value runId } apiError { code message } }
      }""", {"e": {"experimentId": logged["experiment_id"]},
             "m": {"runIds": [logged["run_id"]], "metricKey": "loss", "maxResults": 100}})
    assert out["errors"] is None
    assert out["data"]["exp"]["experiment"]["experimentId"] == logged["experiment_id"]
    hist = out["data"]["hist"]
    assert hist["__typename"] == "MlflowGetMetricHistoryBulkIntervalResponse"
    assert [m["step"] for m in hist["metrics"]] == ["0", "1", "2", "3", "4"]
    assert {m["runId"] for m in hist["metrics"]} == {logged["run_id"]}


def test_fragments_and_aliases(http, base_url, logged):
    out = _post(http, base_url, """
      query Other { test(inputString: "other") { output } }
      query Q($id: String!) {
        a: mlflowGetRun(input: {runId: $id}) { run { ...Info } }
        b: mlflowGetRun(input: {runId: $id}) { run { ... on MlflowRunExtension { info { runName } } } }
      }
      fragment Info on MlflowRunExtension { info { status id: runUuid } }""",
                {"id": logged["run_id"]}, operationName="Q")
    assert out["errors"] is None
    assert out["data"]["a"] == {"run": {"info": {"status": "FINISHED", "id": logged["run_id"]}}}
    assert out["data"]["b"] == {"run": {"info": {"runName": "gql"}}}


@pytest.mark.cairn_only
def test_skip_and_include_directives(http, base_url, logged):
    # The reference's schema declares only @component, so it refuses GraphQL's standard ones.
    out = _post(http, base_url, """
      query Q($id: String!, $withData: Boolean!) {
        mlflowGetRun(input: {runId: $id}) { run { data @include(if: $withData) { params { key } }
                                                  info @skip(if: $withData) { runName } } } }""",
                {"id": logged["run_id"], "withData": False})
    assert out == {"data": {"mlflowGetRun": {"run": {"info": {"runName": "gql"}}}},
                   "errors": None}


def test_missing_run_is_a_field_error(http, base_url, logged):
    out = _post(http, base_url, GET_RUN, {"data": {"runId": "f" * 32}})
    assert out["data"] == {"mlflowGetRun": None}
    assert _messages(out["errors"]) == [f"Run with id={'f' * 32} not found"]


@pytest.mark.parametrize("query,variables,message", [
    ("{ nope }", {}, "Cannot query field 'nope' on type 'Query'."),
    ("{ mlflowGetRun(input: {runId: \"x\"}) }", {},
     "Field 'mlflowGetRun' of type 'MlflowGetRunResponse' must have a selection of subfields. "
     "Did you mean 'mlflowGetRun { ... }'?"),
    (GET_RUN, {}, "Variable '$data' of required type 'MlflowGetRunInput!' was not provided."),
    ("{ test(inputString: \"hi\") { output } ...Missing }", {}, "Unknown fragment 'Missing'."),
])
def test_invalid_queries_are_refused(http, base_url, query, variables, message):
    out = _post(http, base_url, query, variables)
    assert out["data"] is None
    assert _messages(out["errors"]) == [message]


def test_echo_fields(http, base_url):
    out = _post(http, base_url, '{ test(inputString: "hello") { output } }')
    assert out == {"data": {"test": {"output": "hello"}}, "errors": None}
    out = _post(http, base_url, 'mutation { testMutation(inputString: "m") { output } }')
    assert out["errors"] is None  # the reference answers null here: its resolver is misnamed


def test_query_limits(http, base_url):
    aliases = " ".join(f"a{i}: test(inputString: \"x\") {{ output }}" for i in range(11))
    out = _post(http, base_url, "{ " + aliases + " }")
    assert out["data"] is None
    assert "at most 10 root fields, got 11 root fields" in _messages(out["errors"])[0]
    # Eleven levels of selections: refused by size before any field is looked up.
    deep = "{ " + "a { " * 10 + "b" + " }" * 10 + " }"
    out = _post(http, base_url, deep)
    assert out["data"] is None
    assert _messages(out["errors"]) == ["Query exceeds maximum depth of 10"]


@pytest.mark.cairn_only
def test_malformed_bodies_get_clear_errors(http, base_url):
    # The reference answers these with an HTML 500; Cairn answers GraphQL's syntax error or 400.
    out = _post(http, base_url, "{ mlflowGetRun(")
    assert out["data"] is None
    assert out["errors"][0]["message"] == "Syntax Error: Expected Name, found <EOF>."
    assert out["errors"][0]["locations"] == [{"line": 1, "column": 16}]
    for body in (b"not json", b"[]", b'{"query": 5}', b'{"query": "{ test { output } }", '
                                                       b'"variables": [1]}'):
        response = http.post(f"{base_url}/graphql", data=body,
                             headers={"Content-Type": "application/json"})
        assert response.status_code == 400, body
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    response = http.post(f"{base_url}/graphql", data=b"{" * 2_000_000,
                         headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    nested = "{ test(inputString: " + "[" * 5000 + "]" * 5000 + ") { output } }"
    out = _post(http, base_url, nested)
    assert out["data"] is None and "Syntax Error" in out["errors"][0]["message"]
    response = http.get(f"{base_url}/graphql", params={"query": '{ test(inputString: "g") '
                                                               '{ output } }'})
    assert response.json()["data"] == {"test": {"output": "g"}}
