"""MLflow 3 assessments (feedback and expectations on traces) and trace links, through the
official client (mlflow.log_feedback, log_expectation, get_assessment, update_assessment,
override_feedback, delete_assessment, MlflowClient.link_traces_to_run) and raw HTTP.
"""

import json
import uuid

import mlflow
import pytest
import requests
from mlflow.entities import AssessmentSource, AssessmentSourceType
from mlflow.entities.assessment import AssessmentError, Expectation, Feedback
from mlflow.exceptions import MlflowException
from mlflow.genai.scorers import scorer

from helpers import assert_error

V3 = "/api/3.0/mlflow/traces"
V2 = "/api/2.0/mlflow/traces"


@pytest.fixture(autouse=True)
def _sync_trace_logging(monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")


@mlflow.trace
def answer(question):
    return question.upper()


def new_trace(unique, experiment=None):
    """A finished trace in a fresh experiment (or `experiment`); returns (experiment, trace id)."""
    exp = experiment or mlflow.set_experiment(unique).experiment_id
    mlflow.set_experiment(experiment_id=exp)
    answer("hi")
    return exp, mlflow.get_last_active_trace_id()


def raw_trace(base_url, unique, headers=None):
    """A trace created over raw HTTP (StartTraceV3) in a fresh experiment."""
    r = requests.post(base_url + "/api/2.0/mlflow/experiments/create", json={"name": unique},
                      headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    exp = r.json()["experiment_id"]
    trace_id = "tr-" + uuid.uuid4().hex
    info = {"trace_id": trace_id, "request_time": "2025-01-01T00:00:00Z", "state": "OK",
            "trace_location": {"type": "MLFLOW_EXPERIMENT",
                               "mlflow_experiment": {"experiment_id": exp}}}
    r = requests.post(base_url + V3, json={"trace": {"trace_info": info}}, headers=headers,
                      timeout=30)
    assert r.status_code == 200, r.text
    return exp, trace_id


def feedback_body(**extra):
    body = {"assessment_name": "quality", "feedback": {"value": True},
            "source": {"source_type": "HUMAN", "source_id": "alice"}}
    body.update(extra)
    return {"assessment": body}


def test_feedback_and_expectations_through_the_client(base_url, unique):
    exp, trace_id = new_trace(unique)
    human = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="alice")
    fb = mlflow.log_feedback(trace_id=trace_id, name="correct", value=True, source=human,
                             rationale="matches", metadata={"k": "v"})
    assert fb.assessment_id and fb.valid is not False
    judge = AssessmentSource(source_type=AssessmentSourceType.LLM_JUDGE, source_id="gpt")
    scored = mlflow.log_feedback(trace_id=trace_id, name="score", value=0.75, source=judge)
    failed = mlflow.log_feedback(trace_id=trace_id, name="judge", source=judge,
                                 error=AssessmentError(error_code="TIMEOUT",
                                                       error_message="too slow"))
    exp_dict = mlflow.log_expectation(trace_id=trace_id, name="expected",
                                      value={"answer": "HI", "sources": [1, 2]}, source=human)
    exp_str = mlflow.log_expectation(trace_id=trace_id, name="expected_text", value="HI")

    got = mlflow.get_assessment(trace_id, fb.assessment_id)
    assert isinstance(got, Feedback)
    assert got.name == "correct" and got.value is True and got.rationale == "matches"
    assert got.source.source_type == "HUMAN" and got.source.source_id == "alice"
    assert got.metadata == {"k": "v"} and got.trace_id == trace_id
    assert got.create_time_ms == fb.create_time_ms
    assert mlflow.get_assessment(trace_id, scored.assessment_id).value == 0.75
    err = mlflow.get_assessment(trace_id, failed.assessment_id)
    assert err.error.error_code == "TIMEOUT" and err.error.error_message == "too slow"
    assert err.value is None
    e = mlflow.get_assessment(trace_id, exp_dict.assessment_id)
    assert isinstance(e, Expectation) and e.value == {"answer": "HI", "sources": [1, 2]}
    assert mlflow.get_assessment(trace_id, exp_str.assessment_id).value == "HI"

    # The trace carries its assessments, in get and in search.
    trace = mlflow.get_trace(trace_id)
    names = sorted(a.name for a in trace.info.assessments)
    assert names == ["correct", "expected", "expected_text", "judge", "score"]
    found = mlflow.search_traces(locations=[exp], return_type="list")
    assert len(found) == 1 and len(found[0].info.assessments) == 5

    # Update: name, value, rationale and metadata (merged); source and create time kept.
    updated = mlflow.update_assessment(
        trace_id, fb.assessment_id,
        Feedback(name="correctness", value=False, rationale="no", metadata={"k2": "v2"}))
    assert updated.name == "correctness" and updated.value is False
    got = mlflow.get_assessment(trace_id, fb.assessment_id)
    assert got.name == "correctness" and got.value is False and got.rationale == "no"
    assert got.metadata == {"k": "v", "k2": "v2"}
    assert got.source.source_id == "alice" and got.create_time_ms == fb.create_time_ms
    assert got.last_update_time_ms >= fb.last_update_time_ms
    e2 = mlflow.update_assessment(trace_id, exp_str.assessment_id,
                                  Expectation(name="expected_text", value=["a", "b"]))
    assert mlflow.get_assessment(trace_id, e2.assessment_id).value == ["a", "b"]

    # Override: a new valid assessment; the original is invalid until the override goes.
    over = mlflow.override_feedback(trace_id=trace_id, assessment_id=scored.assessment_id,
                                    value=0.9, rationale="human says")
    assert over.overrides == scored.assessment_id
    assert mlflow.get_assessment(trace_id, scored.assessment_id).valid is False
    assert mlflow.get_assessment(trace_id, over.assessment_id).valid is True
    mlflow.delete_assessment(trace_id, over.assessment_id)
    assert mlflow.get_assessment(trace_id, scored.assessment_id).valid is True
    with pytest.raises(MlflowException) as exc:
        mlflow.get_assessment(trace_id, over.assessment_id)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    # Deleting the trace deletes its assessments.
    mlflow.MlflowClient().delete_traces(exp, trace_ids=[trace_id])
    with pytest.raises(MlflowException):
        mlflow.get_assessment(trace_id, fb.assessment_id)


def test_rest_shapes_and_update_mask(base_url, unique):
    _, trace_id = raw_trace(base_url, unique)
    url = f"{base_url}{V3}/{trace_id}/assessments"
    r = requests.post(url, json=feedback_body(metadata={"a": "1"}, span_id="s1",
                                              rationale="why"), timeout=30)
    assert r.status_code == 200, r.text
    a = r.json()["assessment"]
    assert a["assessment_id"].startswith("a-") and a["trace_id"] == trace_id
    assert a["assessment_name"] == "quality" and a["feedback"] == {"value": True}
    assert a["source"] == {"source_type": "HUMAN", "source_id": "alice"}
    assert a["span_id"] == "s1" and a["rationale"] == "why" and a["metadata"] == {"a": "1"}
    assert a["valid"] is True and a["create_time"].endswith("Z")
    aid = a["assessment_id"]

    r = requests.post(url, json={"assessment": {
        "assessment_name": "gt", "source": {"source_type": "CODE"},
        "expectation": {"serialized_value": {"serialization_format": "JSON_FORMAT",
                                             "value": '{"x": [1, 2]}'}}}}, timeout=30)
    assert r.status_code == 200, r.text
    e = r.json()["assessment"]
    assert e["expectation"]["serialized_value"]["serialization_format"] == "JSON_FORMAT"
    assert json.loads(e["expectation"]["serialized_value"]["value"]) == \
        {"x": [1, 2]}

    r = requests.get(f"{url}/{aid}", timeout=30)
    assert r.status_code == 200 and r.json()["assessment"]["assessment_id"] == aid

    r = requests.patch(f"{url}/{aid}", json={
        "assessment": {"assessment_name": "renamed", "rationale": "ignored"},
        "update_mask": "assessmentName"}, timeout=30)
    assert r.status_code == 200, r.text
    got = r.json()["assessment"]
    assert got["assessment_name"] == "renamed" and got["rationale"] == "why"
    assert got["feedback"] == {"value": True}

    # A feedback value on an expectation (and the converse) is refused.
    r = requests.patch(f"{url}/{e['assessment_id']}", json={
        "assessment": {"feedback": {"value": 1}}, "update_mask": "feedback"}, timeout=30)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = requests.patch(f"{url}/{aid}", json={
        "assessment": {"expectation": {"value": 1}}, "update_mask": "expectation"}, timeout=30)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")

    # Delete is idempotent.
    for _ in range(2):
        r = requests.delete(f"{url}/{aid}", timeout=30)
        assert r.status_code == 200, r.text
    assert_error(requests.get(f"{url}/{aid}", timeout=30), 404, "RESOURCE_DOES_NOT_EXIST")


def test_missing_and_malformed_input(base_url, unique):
    _, trace_id = raw_trace(base_url, unique)
    url = f"{base_url}{V3}/{trace_id}/assessments"
    missing = f"{base_url}{V3}/tr-{uuid.uuid4().hex}/assessments"
    assert_error(requests.post(missing, json=feedback_body(), timeout=30), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(requests.get(missing + "/a-123", timeout=30), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(requests.get(url + "/a-123", timeout=30), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(requests.patch(url + "/a-123", json={
        "assessment": {"assessment_name": "x"}, "update_mask": "assessmentName"}, timeout=30),
        404, "RESOURCE_DOES_NOT_EXIST")
    # Overriding an assessment the trace does not have.
    assert_error(requests.post(url, json=feedback_body(overrides="a-nope"), timeout=30), 404,
                 "RESOURCE_DOES_NOT_EXIST")

    # An unknown source type reads as unspecified (proto3 JSON parsing drops unknown enums).
    r = requests.post(url, json={"assessment": {"assessment_name": "x", "feedback": {"value": 1},
                                                "source": {"source_type": "ROBOT"}}}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["assessment"]["source"]["source_type"] == "SOURCE_TYPE_UNSPECIFIED"
    # So does a time that is not a timestamp: the server's time is used.
    r = requests.post(url, json={"assessment": {"assessment_name": "x", "feedback": {"value": 1},
                                                "create_time": "yesterday"}}, timeout=30)
    assert r.status_code == 200 and r.json()["assessment"]["create_time"].startswith("20")
    for body in ({}, {"assessment": {"assessment_name": "x"}},
                 {"assessment": {"assessment_name": "x", "expectation": {"serialized_value": {
                     "serialization_format": "YAML", "value": "a: 1"}}}},
                 {"assessment": "not an object"},
                 {"assessment": {"assessment_name": ["x"], "feedback": {"value": 1}}}):
        r = requests.post(url, json=body, timeout=30)
        assert r.status_code == 400, (body, r.text)
        assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = requests.post(url, data="{not json", headers={"Content-Type": "application/json"},
                      timeout=30)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = requests.patch(url + "/a-123", json={"assessment": {"assessment_name": "x"}}, timeout=30)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.cairn_only
def test_hostile_and_oversized_input_is_refused(base_url, unique):
    # The reference stores whatever it is given (and fails with 500 on some of it).
    _, trace_id = raw_trace(base_url, unique)
    url = f"{base_url}{V3}/{trace_id}/assessments"
    big = "x" * ((1 << 20) + 1)
    for body in (feedback_body(assessment_name="n" * 5000),
                 feedback_body(rationale=big),
                 {"assessment": {"assessment_name": "x", "feedback": {"value": big}}},
                 feedback_body(metadata={f"k{i}": "v" for i in range(1001)}),
                 feedback_body(assessment_id="../../etc/passwd"),
                 feedback_body(overrides="a' OR 1=1 --"),
                 {"assessment": {"assessment_name": "x", "feedback": {"value": 1},
                                 "expectation": {"value": 2}}},
                 {"assessment": {"assessment_name": "x", "issue": {"issue_name": "i"}}}):
        assert_error(requests.post(url, json=body, timeout=60), 400, "INVALID_PARAMETER_VALUE")
    r = requests.post(url, data=b"{" + b" " * (9 << 20) + b"}",
                      headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 413, r.text
    assert_error(requests.get(f"{base_url}{V3}/{'x' * 300}/assessments/a-1", timeout=30), 400,
                 "INVALID_PARAMETER_VALUE")
    # A chosen id is kept; choosing it again is refused.
    r = requests.post(url, json=feedback_body(assessment_id="a-mine"), timeout=30)
    assert r.status_code == 200 and r.json()["assessment"]["assessment_id"] == "a-mine"
    assert_error(requests.post(url, json=feedback_body(assessment_id="a-mine"), timeout=30), 400,
                 "RESOURCE_ALREADY_EXISTS")


def test_link_traces_to_run_then_search_by_run(base_url, unique):
    exp, t1 = new_trace(unique)
    _, t2 = new_trace(unique, exp)
    _, t3 = new_trace(unique, exp)
    with mlflow.start_run(experiment_id=exp) as run:
        pass
    client = mlflow.MlflowClient()
    client.link_traces_to_run([t1, t2], run.info.run_id)
    client.link_traces_to_run([t1], run.info.run_id)  # again: kept once
    found = mlflow.search_traces(locations=[exp], filter_string=f"run_id = '{run.info.run_id}'",
                                 return_type="list")
    assert sorted(t.info.trace_id for t in found) == sorted([t1, t2])
    assert t3 not in [t.info.trace_id for t in found]

    url = base_url + V2 + "/link-to-run"
    r = requests.post(url, json={"trace_ids": [f"tr-{i}" for i in range(101)],
                                 "run_id": run.info.run_id}, timeout=30)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert_error(requests.post(url, json={"run_id": run.info.run_id}, timeout=30), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(requests.post(url, json={"trace_ids": [t1]}, timeout=30), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(requests.post(url, json={"trace_ids": "tr-1", "run_id": "r"}, timeout=30), 400,
                 "INVALID_PARAMETER_VALUE")
    assert requests.post(url, json={"trace_ids": [], "run_id": "r"}, timeout=30).status_code \
        in (200, 400)


def test_link_prompts_to_trace(base_url, unique):
    _, trace_id = raw_trace(base_url, unique)
    url = base_url + V2 + "/link-prompts"
    r = requests.post(url, json={"trace_id": trace_id,
                                 "prompt_versions": [{"name": "p", "version": "1"}]}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {}
    r = requests.post(url, json={"trace_id": "tr-" + uuid.uuid4().hex,
                                 "prompt_versions": [{"name": "p", "version": "1"}]}, timeout=30)
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(requests.post(url, json={"trace_id": trace_id}, timeout=30), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(requests.post(url, json={"prompt_versions": []}, timeout=30), 400,
                 "INVALID_PARAMETER_VALUE")


@pytest.mark.cairn_only
def test_assessments_are_tenant_scoped(base_url, unique):
    team_a = {"X-MLFLOW-WORKSPACE": "asmt-a"}
    team_b = {"X-MLFLOW-WORKSPACE": "asmt-b"}
    _, trace_id = raw_trace(base_url, unique, headers=team_a)
    url = f"{base_url}{V3}/{trace_id}/assessments"
    r = requests.post(url, json=feedback_body(), headers=team_a, timeout=30)
    assert r.status_code == 200, r.text
    aid = r.json()["assessment"]["assessment_id"]
    assert_error(requests.get(f"{url}/{aid}", headers=team_b, timeout=30), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(requests.post(url, json=feedback_body(), headers=team_b, timeout=30), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert requests.delete(f"{url}/{aid}", headers=team_b, timeout=30).status_code == 200
    assert requests.get(f"{url}/{aid}", headers=team_a, timeout=30).status_code == 200
    r = requests.get(f"{base_url}{V3}/{trace_id}", headers=team_a, timeout=30)
    assert [a["assessment_id"] for a in r.json()["trace"]["trace_info"]["assessments"]] == [aid]


@pytest.mark.cairn_only
def test_reading_needs_read_and_writing_needs_write(server_factory, tmp_path):
    from test_security import auth, bootstrap, make_token
    data = tmp_path / "secured"
    admin = bootstrap(data)
    proc = server_factory(data_dir=data, extra_args=("--auth", "token"))
    url = proc.url
    r = requests.post(f"{url}/api/v1/tenants", headers=auth(admin), json={"name": "team-a"})
    assert r.status_code == 200, r.text
    viewer = make_token(url, admin, "viewer-bot", "team-a", ["viewer"])
    editor = make_token(url, admin, "editor-bot", "team-a", ["editor"])
    _, trace_id = raw_trace(url, "rbac", headers=auth(editor))
    base = f"{url}{V3}/{trace_id}/assessments"
    r = requests.post(base, json=feedback_body(), headers=auth(editor), timeout=30)
    assert r.status_code == 200, r.text
    aid = r.json()["assessment"]["assessment_id"]
    assert requests.get(f"{base}/{aid}", headers=auth(viewer), timeout=30).status_code == 200
    assert requests.get(f"{base}/{aid}", timeout=30).status_code == 401
    for method, path, body in (
            ("POST", base, feedback_body()),
            ("PATCH", f"{base}/{aid}", {"assessment": {"assessment_name": "x"},
                                         "update_mask": "assessmentName"}),
            ("DELETE", f"{base}/{aid}", None),
            ("POST", f"{url}{V2}/link-to-run", {"trace_ids": [trace_id], "run_id": "r"}),
            ("POST", f"{url}{V2}/link-prompts", {"trace_id": trace_id, "prompt_versions": [
                {"name": "p", "version": "1"}]})):
        r = requests.request(method, path, json=body, headers=auth(viewer), timeout=30)
        assert_error(r, 403, "PERMISSION_DENIED")
        r = requests.request(method, path, json=body, headers=auth(editor), timeout=30)
        assert r.status_code == 200, (method, path, r.text)


def test_assessment_metrics_view(base_url, unique):
    exp, t1 = new_trace(unique)
    _, t2 = new_trace(unique, exp)
    mlflow.log_feedback(trace_id=t1, name="correct", value=True)
    mlflow.log_feedback(trace_id=t2, name="correct", value=False)
    mlflow.log_feedback(trace_id=t1, name="score", value=0.5)
    replaced = mlflow.log_feedback(trace_id=t2, name="score", value=1)
    mlflow.override_feedback(trace_id=t2, assessment_id=replaced.assessment_id, value=0.0)
    mlflow.log_expectation(trace_id=t1, name="expected", value="HI")

    def query(metric, aggregations, dimensions=(), filters=()):
        r = requests.post(base_url + "/api/3.0/mlflow/traces/metrics", json={
            "experiment_ids": [exp], "view_type": "ASSESSMENTS", "metric_name": metric,
            "aggregations": [{"aggregation_type": a} for a in aggregations],
            "dimensions": list(dimensions), "filters": list(filters)}, timeout=30)
        assert r.status_code == 200, r.text
        return [(p.get("dimensions", {}), p["values"]) for p in r.json().get("data_points", [])]

    # Overridden assessments are not counted.
    assert query("assessment_count", ["COUNT"], ["assessment_name"]) == [
        ({"assessment_name": "correct"}, {"COUNT": 2}),
        ({"assessment_name": "expected"}, {"COUNT": 1}),
        ({"assessment_name": "score"}, {"COUNT": 2})]
    assert query("assessment_value", ["AVG", "MAX"], ["assessment_name"]) == [
        ({"assessment_name": "correct"}, {"AVG": 0.5, "MAX": 1.0}),
        ({"assessment_name": "score"}, {"AVG": 0.25, "MAX": 0.5})]
    assert query("assessment_count", ["COUNT"], ["assessment_value"],
                 ["assessment.name = 'correct'"]) == [
        ({"assessment_value": "false"}, {"COUNT": 1}),
        ({"assessment_value": "true"}, {"COUNT": 1})]
    assert query("assessment_count", ["COUNT"], filters=["assessment.type = 'expectation'"]) == [
        ({}, {"COUNT": 1})]


@scorer
def is_upper(outputs):
    return outputs == outputs.upper()


def test_genai_evaluate_logs_feedback_and_links_traces(base_url, unique):
    # mlflow.genai.evaluate: a run, a trace per row linked to it, feedback from each scorer.
    mlflow.set_experiment(unique)
    result = mlflow.genai.evaluate(data=[{"inputs": {"question": "hi"}},
                                         {"inputs": {"question": "yo"}}],
                                   predict_fn=answer, scorers=[is_upper])
    assert result.metrics["is_upper/mean"] == 1.0, result.metrics
    traces = mlflow.search_traces(run_id=result.run_id, return_type="list")
    assert len(traces) == 2
    for t in traces:
        assert [a.name for a in t.info.assessments] == ["is_upper"]
        assert t.info.assessments[0].value is True


def test_feedback_logged_inside_the_active_trace_travels_with_it(base_url, unique):
    # The client keeps assessments of the active trace in memory and sends them with the trace.
    exp = mlflow.set_experiment(unique).experiment_id

    @mlflow.trace
    def graded(question):
        mlflow.log_feedback(trace_id=mlflow.get_active_trace_id(), name="inline", value=0.5,
                            rationale="during the call")
        return question

    graded("hi")
    trace_id = mlflow.get_last_active_trace_id()
    trace = mlflow.get_trace(trace_id)
    assert [(a.name, a.value, a.rationale) for a in trace.info.assessments] == [
        ("inline", 0.5, "during the call")]
    aid = trace.info.assessments[0].assessment_id
    assert mlflow.get_assessment(trace_id, aid).value == 0.5
    found = mlflow.search_traces(locations=[exp], return_type="list")
    assert [a.assessment_id for a in found[0].info.assessments] == [aid]


def test_search_traces_by_feedback_and_expectation(base_url, unique):
    exp, t1 = new_trace(unique)
    _, t2 = new_trace(unique, exp)
    _, t3 = new_trace(unique, exp)
    mlflow.log_feedback(trace_id=t1, name="correct", value=True)
    mlflow.log_feedback(trace_id=t2, name="correct", value=False)
    mlflow.log_feedback(trace_id=t1, name="score", value=0.9)
    low = mlflow.log_feedback(trace_id=t2, name="score", value=0.7)
    mlflow.override_feedback(trace_id=t2, assessment_id=low.assessment_id, value=0.2)
    mlflow.log_expectation(trace_id=t3, name="expected", value="HI")

    def ids(text):
        found = mlflow.search_traces(locations=[exp], filter_string=text, return_type="list")
        return sorted(t.info.trace_id for t in found)

    assert ids("feedback.correct = 'true'") == [t1]
    assert ids("feedback.correct != 'true'") == [t2]
    assert ids("feedback.score > 0.5") == [t1]  # the overridden 0.7 does not count
    assert ids("feedback.score <= 0.5") == [t2]
    assert ids("feedback.correct IS NULL") == [t3]
    assert ids("feedback.correct IS NOT NULL") == sorted([t1, t2])
    assert ids("expectation.expected = 'HI'") == [t3]
    assert ids("feedback.correct = 'true' AND trace.status = 'OK'") == [t1]
    assert ids("feedback.nothing = 'x'") == []

    url = base_url + V3 + "/search"
    for text in ("feedback.score > 'x'", "feedback.correct = 1", "feedback. = 'a'"):
        r = requests.post(url, json={"locations": [{"type": "MLFLOW_EXPERIMENT",
                                                    "mlflow_experiment": {"experiment_id": exp}}],
                                     "filter": text}, timeout=30)
        assert_error(r, 400, "INVALID_PARAMETER_VALUE")


def test_deleting_the_run_deletes_the_assessments_it_logged(base_url, unique):
    mlflow.set_experiment(unique)
    result = mlflow.genai.evaluate(data=[{"inputs": {"question": "hi"}}], predict_fn=answer,
                                   scorers=[is_upper])
    trace = mlflow.search_traces(run_id=result.run_id, return_type="list")[0]
    assert trace.info.assessments[0].metadata["mlflow.assessment.sourceRunId"] == result.run_id
    mlflow.log_feedback(trace_id=trace.info.trace_id, name="human", value=True)
    mlflow.MlflowClient().delete_run(result.run_id)
    after = mlflow.get_trace(trace.info.trace_id)
    assert [a.name for a in after.info.assessments] == ["human"]
