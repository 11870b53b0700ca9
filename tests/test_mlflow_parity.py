"""Registry and tracking answers that must read exactly as the reference `mlflow server` writes
them: version sources, download URIs, the JSON shape of models and versions, alias errors, the
`mlflow.modelVersions` tag of logged models, search error wording, bulk metric history and
relative artifact locations.

Every expectation here was taken from MLflow 3.17's answers; the module passes against both
targets.
"""

import json
import os
import uuid
from types import SimpleNamespace

import pytest

from helpers import API, now_ms

AJAX_API = "/ajax-api/2.0/mlflow"
RM = "/registered-models"
MV = "/model-versions"

VERSION_KEYS = {"name", "version", "creation_timestamp", "last_updated_timestamp",
                "current_stage", "description", "source", "run_id", "status", "run_link"}
MODEL_KEYS = {"name", "creation_timestamp", "last_updated_timestamp"}


def call(http, base_url, method, path, body=None, params=None):
    # MLflow serves the bulk metric routes under /ajax-api only.
    prefix = AJAX_API if path.startswith("/metrics/get-history-bulk") else API
    return http.request(method, base_url + prefix + path, json=body, params=params, timeout=60)


def ok(resp):
    assert resp.status_code == 200, f"{resp.status_code} {resp.text[:500]}"
    return resp.json()


def error(resp, status, code):
    assert resp.status_code == status, f"{resp.status_code} {resp.text[:500]}"
    body = resp.json()
    assert body["error_code"] == code, body
    return body["message"]


@pytest.fixture(scope="module")
def run(http, base_url):
    exp = ok(call(http, base_url, "POST", "/experiments/create",
                  {"name": f"parity-{uuid.uuid4().hex}"}))["experiment_id"]
    info = ok(call(http, base_url, "POST", "/runs/create",
                   {"experiment_id": exp, "start_time": now_ms()}))["run"]["info"]
    return SimpleNamespace(experiment_id=exp, run_id=info["run_id"],
                           artifact_uri=info["artifact_uri"])


@pytest.fixture
def model(http, base_url):
    name = f"parity-{uuid.uuid4().hex[:12]}"
    ok(call(http, base_url, "POST", RM + "/create", {"name": name}))
    return name


def create_version(http, base_url, body):
    return call(http, base_url, "POST", MV + "/create", body)


def download_uri(http, base_url, name, version):
    return ok(call(http, base_url, "GET", MV + "/get-download-uri",
                   params={"name": name, "version": version}))["artifact_uri"]


# -- 1, 2: version sources and download URIs -------------------------------------------------


def test_sources_whose_run_lives_elsewhere_are_kept_as_sent(http, base_url, run, model):
    elsewhere = uuid.uuid4().hex
    remote = f"runs:/{elsewhere}/model"
    v = ok(create_version(http, base_url, {"name": model, "source": remote,
                                           "run_id": elsewhere}))["model_version"]
    assert (v["version"], v["source"], v["run_id"]) == ("1", remote, elsewhere)

    own = f"runs:/{run.run_id}/model"
    v = ok(create_version(http, base_url, {"name": model, "source": own,
                                           "run_id": run.run_id}))["model_version"]
    assert (v["source"], v["run_id"]) == (own, run.run_id)

    # s3 (and other remote) sources: the run_id is not looked up at all.
    ghost = uuid.uuid4().hex
    v = ok(create_version(http, base_url, {"name": model, "source": "s3://bucket/path/m",
                                           "run_id": ghost}))["model_version"]
    assert (v["source"], v["run_id"]) == ("s3://bucket/path/m", ghost)
    v = ok(create_version(http, base_url, {"name": model, "source": "gs://b/x"}))["model_version"]
    assert (v["source"], v["run_id"]) == ("gs://b/x", "")

    # A models:/<name>/<version> source is kept and inherits that version's run_id.
    v = ok(create_version(http, base_url, {"name": model,
                                           "source": f"models:/{model}/1"}))["model_version"]
    assert (v["version"], v["source"], v["run_id"]) == ("5", f"models:/{model}/1", elsewhere)

    # Artifacts of this server's own run.
    inside = run.artifact_uri + "/model"
    v = ok(create_version(http, base_url, {"name": model, "source": inside,
                                           "run_id": run.run_id}))["model_version"]
    assert v["source"] == inside

    expected = {"1": remote, "2": own, "3": "s3://bucket/path/m", "4": "gs://b/x",
                "5": remote, "6": inside}
    for version, uri in expected.items():
        assert download_uri(http, base_url, model, version) == uri, version


def test_source_checks_word_their_errors_as_mlflow(http, base_url, run, model):
    own = f"runs:/{run.run_id}/model"
    for body in ({"name": model, "source": own},
                 {"name": model, "source": own, "run_id": uuid.uuid4().hex}):
        message = error(create_version(http, base_url, body), 400, "INVALID_PARAMETER_VALUE")
        assert message == (f"Invalid model version source: '{own}'. The run_id request parameter "
                           "must identify the resource that contains the source.")
    message = error(create_version(http, base_url, {"name": model, "source": "models:/m-abc"}),
                    400, "INVALID_PARAMETER_VALUE")
    assert message == ("Invalid model version source: 'models:/m-abc'. The model_id request "
                       "parameter must identify the resource that contains the source.")
    for body in ({"name": model, "source": "/tmp/x"},
                 {"name": model, "source": "/tmp/x", "run_id": run.run_id}):
        message = error(create_version(http, base_url, body), 400, "INVALID_PARAMETER_VALUE")
        assert message == (
            "Invalid model version source: '/tmp/x'. To use a local path as a model version "
            "source, the run_id request parameter has to be specified and the local path has to "
            "be contained within the artifact directory of the run specified by the run_id.")
    message = error(create_version(http, base_url, {"name": model,
                                                    "source": f"models://h/{model}/1"}),
                    400, "INVALID_PARAMETER_VALUE")
    assert message == (f"Invalid model version source: 'models://h/{model}/1'. Registered model "
                       "sources must use the active model registry.")
    assert call(http, base_url, "GET", MV + "/search",
                params={"filter": f"name = '{model}'"}).json() == {}


def test_registered_model_sources_are_pinned_and_checked(http, base_url, run, model):
    own = f"runs:/{run.run_id}/model"
    ok(create_version(http, base_url, {"name": model, "source": own, "run_id": run.run_id}))
    ok(call(http, base_url, "POST", RM + "/alias",
            {"name": model, "alias": "champ", "version": "1"}))
    v = ok(create_version(http, base_url, {"name": model,
                                           "source": f"models:/{model}@champ"}))["model_version"]
    assert (v["source"], v["run_id"]) == (f"models:/{model}/1", run.run_id)
    assert download_uri(http, base_url, model, "2") == own
    message = error(create_version(http, base_url, {"name": model,
                                                    "source": f"models:/{model}/1",
                                                    "run_id": uuid.uuid4().hex}),
                    400, "INVALID_PARAMETER_VALUE")
    assert message == (f"Invalid model version source: 'models:/{model}/1'. The run_id and "
                       "model_id request parameters must match the referenced model version.")


def test_client_registers_a_run_kept_elsewhere(client, model):
    elsewhere = uuid.uuid4().hex
    mv = client.create_model_version(model, f"runs:/{elsewhere}/m", run_id=elsewhere)
    assert (mv.source, mv.run_id) == (f"runs:/{elsewhere}/m", elsewhere)
    assert client.get_model_version_download_uri(model, mv.version) == f"runs:/{elsewhere}/m"


# -- 3: the JSON shape ----------------------------------------------------------------------


def test_models_and_versions_have_mlflows_keys(http, base_url, run):
    name = f"parity-{uuid.uuid4().hex[:12]}"
    created = ok(call(http, base_url, "POST", RM + "/create",
                      {"name": name, "description": ""}))["registered_model"]
    assert set(created) == MODEL_KEYS
    got = ok(call(http, base_url, "GET", RM + "/get", params={"name": name}))["registered_model"]
    assert set(got) == MODEL_KEYS

    v = ok(create_version(http, base_url, {"name": name, "source": "s3://b/1",
                                           "description": ""}))["model_version"]
    assert set(v) == VERSION_KEYS
    assert (v["description"], v["run_id"], v["run_link"], v["status"], v["current_stage"]) == (
        "", "", "", "READY", "None")
    v = ok(create_version(http, base_url, {"name": name, "source": "s3://b/2",
                                           "run_id": run.run_id, "description": "d",
                                           "run_link": ""}))["model_version"]
    assert set(v) == VERSION_KEYS
    assert (v["description"], v["run_id"], v["run_link"]) == ("d", run.run_id, "")

    got = ok(call(http, base_url, "GET", MV + "/get",
                  params={"name": name, "version": "1"}))["model_version"]
    assert set(got) == VERSION_KEYS
    assert (got["description"], got["run_id"], got["run_link"]) == ("", "", "")

    got = ok(call(http, base_url, "GET", RM + "/get", params={"name": name}))["registered_model"]
    assert set(got) == MODEL_KEYS | {"latest_versions"}
    assert [set(v) for v in got["latest_versions"]] == [VERSION_KEYS]

    found = ok(call(http, base_url, "GET", RM + "/search",
                    params={"filter": f"name = '{name}'"}))
    assert set(found) == {"registered_models"}
    assert [set(m) for m in found["registered_models"]] == [MODEL_KEYS | {"latest_versions"}]
    found = ok(call(http, base_url, "GET", MV + "/search",
                    params={"filter": f"name = '{name}'"}))
    assert set(found) == {"model_versions"}
    assert [set(v) for v in found["model_versions"]] == [VERSION_KEYS, VERSION_KEYS]
    assert [v["version"] for v in found["model_versions"]] == ["2", "1"]


# -- 4: aliases --------------------------------------------------------------------------------


def test_unknown_alias_is_invalid_and_deleting_it_is_a_no_op(http, base_url, model):
    r = call(http, base_url, "GET", RM + "/alias", params={"name": model, "alias": "nope"})
    assert error(r, 400, "INVALID_PARAMETER_VALUE") == "Registered model alias nope not found."
    r = call(http, base_url, "DELETE", RM + "/alias", {"name": model, "alias": "nope"})
    assert ok(r) == {}
    ghost = model + "-ghost"
    for method, params, body in (("GET", {"name": ghost, "alias": "nope"}, None),
                                 ("DELETE", None, {"name": ghost, "alias": "nope"})):
        r = call(http, base_url, method, RM + "/alias", body, params)
        assert error(r, 404, "RESOURCE_DOES_NOT_EXIST") == (
            f"Registered Model with name={ghost} not found")
    r = create_version(http, base_url, {"name": model, "source": f"models:/{model}@nope"})
    assert error(r, 400, "INVALID_PARAMETER_VALUE") == "Registered model alias nope not found."


# -- 5: logged models --------------------------------------------------------------------------


def test_registering_a_logged_model_tags_it(client, model):
    exp = client.create_experiment(f"parity-lm-{uuid.uuid4().hex}")
    run = client.create_run(exp)
    lm = client.create_logged_model(exp, name="lm", source_run_id=run.info.run_id)
    source = f"models:/{lm.model_id}"
    v1 = client.create_model_version(model, source, run_id=run.info.run_id, model_id=lm.model_id)
    v2 = client.create_model_version(model, "s3://b/copy", model_id=lm.model_id)
    assert (v1.source, v1.run_id, v2.run_id) == (source, run.info.run_id, run.info.run_id)
    tag = client.get_logged_model(lm.model_id).tags["mlflow.modelVersions"]
    assert tag == f'[{{"name": "{model}", "version": 1}}, {{"name": "{model}", "version": 2}}]'
    assert client.get_model_version_download_uri(model, "1") == lm.artifact_location

    import mlflow
    other = model + "-fluent"
    mlflow.register_model(source, other)
    tag = json.loads(client.get_logged_model(lm.model_id).tags["mlflow.modelVersions"])
    assert tag[:3] == [{"name": model, "version": 1}, {"name": model, "version": 2},
                       {"name": other, "version": 1}]


def test_search_logged_models_filters_by_dataset(http, base_url, client):
    exp = client.create_experiment(f"parity-ds-{uuid.uuid4().hex}")
    run = client.create_run(exp).info.run_id
    for name, dataset in (("a", ("ds1", "d1")), ("b", ("ds2", "d2")), ("c", None)):
        lm = client.create_logged_model(exp, name=name, source_run_id=run)
        if dataset:
            ok(call(http, base_url, "POST", "/runs/log-metric",
                    {"run_id": run, "key": "acc", "value": 0.9 if name == "a" else 0.4,
                     "timestamp": now_ms(), "step": 0, "model_id": lm.model_id,
                     "dataset_name": dataset[0], "dataset_digest": dataset[1]}))

    def names(datasets, filter_string=None):
        found = client.search_logged_models(experiment_ids=[exp], datasets=datasets,
                                            filter_string=filter_string)
        return sorted(m.name for m in found)

    assert names(None) == ["a", "b", "c"]
    assert names([{"dataset_name": "ds1", "dataset_digest": "d1"}]) == ["a"]
    assert names([{"dataset_name": "ds1", "dataset_digest": "other"}]) == []
    assert names([{"dataset_name": "ds1", "dataset_digest": "d1"},
                  {"dataset_name": "ds2", "dataset_digest": "d2"}]) == ["a", "b"]
    # MLflow's server reads a dataset without a digest as "logged without a digest", which no
    # metric with a dataset is (a dataset name needs a digest).
    assert names([{"dataset_name": "ds1"}]) == []
    assert names([{"dataset_name": "ds2", "dataset_digest": "d2"}], "metrics.acc > 0.5") == []
    assert names([{"dataset_name": "ds1", "dataset_digest": "d1"}], "metrics.acc > 0.5") == ["a"]
    assert names(None, "metrics.acc > 0.5") == ["a"]
    r = call(http, base_url, "POST", "/logged-models/search",
             {"experiment_ids": [exp], "datasets": [{"dataset_digest": "d1"}]})
    assert error(r, 400, "INVALID_PARAMETER_VALUE") == (
        "`dataset_name` in the `datasets` clause must be specified.")


# -- 6: search filter errors -------------------------------------------------------------------

# (what, filter, the start of MLflow's message). Where MLflow goes on to print a Python set, its
# order varies from process to process, so only the part before it is compared.
BAD_FILTERS = [
    ("runs", "tags.a > 'x'", "Invalid comparator '>' not one of "),
    ("runs", "params.a > 'x'", "Invalid comparator '>' not one of "),
    ("runs", "attributes.status > 'x'", "Invalid comparator '>' not one of "),
    ("runs", "metrics.a = 'x'", "Expected numeric value type for metric. Found 'x'"),
    ("runs", "foo.a = 1", "Invalid entity type 'foo'. Valid values are "),
    ("runs", "params.a = 1",
     "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1"),
    ("runs", "attributes.nope = 'x'", "Invalid attribute key 'nope' specified. Valid keys are "),
    ("runs", "tags.a LIKE 1",
     "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"),
    ("runs", "attributes.start_time = 'x'",
     "Expected numeric value type for numeric attribute: start_time. Found 'x'"),
    ("runs", "run_name IN ('a')",
     "Only ['run_id'] attributes support comparison with a list of quoted string values."),
    ("runs", "datasets.name = 1",
     "Expected a quoted string value for dataset attributes. Got value 1"),
    # The value is judged before the comparator.
    ("runs", "metrics.a LIKE 'x'", "Expected numeric value type for metric. Found 'x'"),
    ("runs", "metrics.a ILIKE 'x'", "Expected numeric value type for metric. Found 'x'"),
    ("runs", "metrics.a LIKE 1", "Invalid comparator 'LIKE' not one of '{"),
    ("runs", "attributes.start_time LIKE 'x'",
     "Expected numeric value type for numeric attribute: start_time. Found 'x'"),
    ("runs", "params.a > 1",
     "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1"),
    # `~` and other runs of comparison characters are comparators no search takes.
    ("runs", "metrics.a ~ 1", "Invalid comparator '~' not one of '{"),
    ("runs", "metrics.a ~ 'x'", "Expected numeric value type for metric. Found 'x'"),
    ("runs", "params.a ~ 'x'", "Invalid comparator '~' not one of '{"),
    ("runs", "tags.a !~ 'x'", "Invalid comparator '!~' not one of '{"),
    ("runs", "metrics.a == 1", "Invalid comparator '==' not one of '{"),
    ("runs", "attributes.run_name ~ 'x'", "Invalid comparator '~' not one of '{"),
    ("runs", "metrics.a = 1 ~", "Invalid clause(s) in filter string: '~'"),
    ("runs", "~", "Invalid clause(s) in filter string: '~'"),
    ("experiments", "name ~ 'x'", "Invalid comparator '~' not one of "),
    ("experiments", "tags.a ~ 'x'", "Invalid comparator for tag: ~"),
    ("experiments", "creation_time LIKE 'x'",
     "Expected numeric value type for numeric attribute: creation_time. Found 'x'"),
    ("experiments", "name > 'x'", "Invalid comparator '>' not one of "),
    ("experiments", "tags.a > 'x'", "Invalid comparator for tag: >"),
    ("experiments", "nope = 'x'", "Invalid attribute key 'nope' specified. Valid keys are "),
    ("experiments", "creation_time = 'x'",
     "Expected numeric value type for numeric attribute: creation_time. Found 'x'"),
    ("model_versions", "name > 'x'", "Invalid comparator for attribute: >"),
    ("model_versions", "run_id > 'x'", "Invalid comparator for attribute: >"),
    ("model_versions", "tags.a > 'x'", "Invalid comparator for tag: >"),
    ("model_versions", "nope = 'x'", "Invalid attribute key 'nope' specified. Valid keys are "),
    ("model_versions", "version_number = 'x'",
     "Invalid value for numeric attribute 'version_number': 'x'"),
    ("model_versions", "name = 1", "Only the '{'"),
    ("model_versions", "metrics.a = 1",
     "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')"),
    ("registered_models", "name > 'x'", "Invalid comparator for attribute: >"),
    ("registered_models", "tags.a > 'x'", "Invalid comparator for tag: >"),
    ("registered_models", "nope = 'x'", "Invalid attribute key 'nope' specified. Valid keys are "),
    ("registered_models", "metrics.a = 1",
     "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')"),
    ("registered_models", "tags.a = 1",
     "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"),
    ("logged_models", "name > 'x'",
     "Invalid comparison operator for attributes.name: '>'. Expected one of "
     "('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN')."),
    ("logged_models", "params.a > 'x'",
     "Invalid comparison operator for params.a: '>'. Expected one of "
     "('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN')."),
    ("logged_models", "name ~ 'x'",
     "Invalid comparison operator for attributes.name: '~'. Expected one of "
     "('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN')."),
    ("logged_models", "foo.a = 1",
     "Invalid entity type: 'foo'. Expected one of ['attributes', 'metrics', 'params', 'tags']."),
]


def search(http, base_url, what, filter_string):
    if what == "runs":
        return call(http, base_url, "POST", "/runs/search",
                    {"experiment_ids": ["0"], "filter": filter_string})
    if what == "experiments":
        return call(http, base_url, "POST", "/experiments/search",
                    {"max_results": 10, "filter": filter_string})
    if what == "model_versions":
        return call(http, base_url, "GET", MV + "/search", params={"filter": filter_string})
    if what == "registered_models":
        return call(http, base_url, "GET", RM + "/search", params={"filter": filter_string})
    return call(http, base_url, "POST", "/logged-models/search",
                {"experiment_ids": ["0"], "filter": filter_string})


@pytest.mark.parametrize("what,filter_string,message", BAD_FILTERS)
def test_bad_search_filters_are_worded_as_mlflow(http, base_url, what, filter_string, message):
    got = error(search(http, base_url, what, filter_string), 400, "INVALID_PARAMETER_VALUE")
    assert got.startswith(message), got


def test_run_tags_come_back_in_the_order_they_were_first_set(http, base_url, run):
    """MLflow answers a run's tags in insertion order (its SQL store reads them by rowid): the
    creation tags as given (mlflow.runName after them), then each new key as it was first set;
    changing a value keeps its place."""
    exp = run.experiment_id
    info = ok(call(http, base_url, "POST", "/runs/create", {
        "experiment_id": exp, "tags": [{"key": "zeta", "value": "1"},
                                       {"key": "alpha", "value": "2"}]}))["run"]["info"]
    rid = info["run_id"]
    for key in ("mid", "beta", "zz", "aa"):
        ok(call(http, base_url, "POST", "/runs/set-tag", {"run_id": rid, "key": key, "value": "v"}))
    ok(call(http, base_url, "POST", "/runs/log-batch", {
        "run_id": rid, "tags": [{"key": "yy", "value": "1"}, {"key": "bb", "value": "1"}]}))
    ok(call(http, base_url, "POST", "/runs/set-tag",
            {"run_id": rid, "key": "alpha", "value": "changed"}))
    ok(call(http, base_url, "POST", "/runs/delete-tag", {"run_id": rid, "key": "mid"}))
    ok(call(http, base_url, "POST", "/runs/set-tag", {"run_id": rid, "key": "mid", "value": "v"}))
    expected = ["zeta", "alpha", "mlflow.runName", "beta", "zz", "aa", "yy", "bb", "mid"]
    got = ok(call(http, base_url, "GET", "/runs/get", params={"run_id": rid}))["run"]["data"]
    assert [t["key"] for t in got["tags"]] == expected
    found = ok(call(http, base_url, "POST", "/runs/search", {
        "experiment_ids": [exp], "filter": f"attributes.run_id = '{rid}'"}))["runs"][0]["data"]
    assert [t["key"] for t in found["tags"]] == expected
    # A run name given as a tag keeps the tag's place.
    named = ok(call(http, base_url, "POST", "/runs/create", {
        "experiment_id": exp, "tags": [{"key": "b", "value": "1"},
                                       {"key": "mlflow.runName", "value": "n"},
                                       {"key": "a", "value": "2"}]}))["run"]
    assert [t["key"] for t in named["data"]["tags"]] == ["b", "mlflow.runName", "a"]


# -- 7: bulk metric history --------------------------------------------------------------------

# Irregular steps, timestamps out of step order, and a step logged twice.
HISTORIES = [
    [(0, 1000, 1.0), (3, 1001, 0.5), (7, 999, 0.25), (8, 1500, 2.0), (20, 1600, -1.0),
     (21, 1601, 3.0), (50, 1700, 0.0), (50, 1650, 9.0), (51, 1800, 1.5), (100, 1900, 7.0)],
    [(5, 2000, 1.0), (6, 2001, 2.0), (1000, 2002, 3.0)],
    [(2, 10, 1.0)],
]


@pytest.fixture(scope="module")
def histories(http, base_url, run):
    runs = []
    for points in HISTORIES:
        info = ok(call(http, base_url, "POST", "/runs/create",
                       {"experiment_id": run.experiment_id, "start_time": now_ms()}))["run"]["info"]
        ok(call(http, base_url, "POST", "/runs/log-batch", {
            "run_id": info["run_id"],
            "metrics": [{"key": "loss", "step": s, "timestamp": t, "value": v}
                        for s, t, v in points]}))
        runs.append((info["run_id"], points))
    return runs


def as_metric(run_id, point):
    step, timestamp, value = point
    return {"key": "loss", "value": value, "timestamp": timestamp, "step": step,
            "run_id": run_id}


def mlflow_sample(points, max_results):
    """MLflow's SQL store: NTILE(max_results) over (step, timestamp, value), the first point of
    each bucket, then the last point (replacing the last sample when full)."""
    rows = sorted(points)
    n = len(rows)
    if n == 0:
        return []
    size, larger = divmod(n, max_results)
    out, start = [], 0
    for bucket in range(max_results):
        if start >= n:
            break
        out.append(rows[start])
        start += size + (1 if bucket < larger else 0)
    if out[-1] != rows[-1]:
        if len(out) >= max_results:
            out[-1] = rows[-1]
        else:
            out.append(rows[-1])
    return out


@pytest.mark.parametrize("max_results", [1, 2, 3, 4, 7, 50])
def test_bulk_interval_samples_the_steps_mlflow_samples(http, base_url, histories, max_results):
    ids = [run_id for run_id, _ in histories]
    got = ok(call(http, base_url, "GET", "/metrics/get-history-bulk-interval",
                  params={"run_ids": ids, "metric_key": "loss", "max_results": max_results}))
    expected = [as_metric(run_id, p) for run_id, points in histories
                for p in mlflow_sample(points, max_results)]
    assert got == {"metrics": expected}

    ranged = ok(call(http, base_url, "GET", "/metrics/get-history-bulk-interval",
                     params={"run_ids": ids[0], "metric_key": "loss", "start_step": 3,
                             "end_step": 51, "max_results": max_results}))
    inside = [p for p in histories[0][1] if 3 <= p[0] <= 51]
    assert ranged == {"metrics": [as_metric(ids[0], p)
                                  for p in mlflow_sample(inside, max_results)]}


def test_bulk_interval_errors_are_worded_as_mlflow(http, base_url, histories):
    r = call(http, base_url, "GET", "/metrics/get-history-bulk-interval",
             params={"run_ids": histories[0][0], "metric_key": "loss", "start_step": 9,
                     "end_step": 2})
    assert error(r, 400, "INVALID_PARAMETER_VALUE") == (
        "end_step must be greater than start_step. Found start_step=9 and end_step=2.")


@pytest.mark.parametrize("max_results", [None, 1, 5, 12, 1000])
def test_bulk_history_is_ordered_by_run_then_time(http, base_url, histories, max_results):
    ids = [run_id for run_id, _ in histories]
    params = {"run_id": ids + [uuid.uuid4().hex], "metric_key": "loss"}
    if max_results is not None:
        params["max_results"] = max_results
    got = ok(call(http, base_url, "GET", "/metrics/get-history-bulk", params=params))
    expected = [as_metric(run_id, (s, t, v))
                for run_id, points in sorted(histories)
                for t, s, v in sorted((t, s, v) for s, t, v in points)]
    assert got == {"metrics": expected[:max_results or len(expected)]}


def test_bulk_history_errors_are_worded_as_mlflow(http, base_url, histories):
    r = call(http, base_url, "GET", "/metrics/get-history-bulk", params={"metric_key": "loss"})
    assert error(r, 400, "INVALID_PARAMETER_VALUE") == (
        "GetMetricHistoryBulk request must specify at least one run_id.")
    r = call(http, base_url, "GET", "/metrics/get-history-bulk",
             params={"run_id": histories[0][0]})
    assert error(r, 400, "INVALID_PARAMETER_VALUE") == (
        "GetMetricHistoryBulk request must specify a metric_key.")


# -- 8: relative artifact locations ------------------------------------------------------------


@pytest.mark.parametrize("location,relative", [("rel/path", "rel/path"), ("./x", "x"),
                                               ("a//./b/", "a/b")])
def test_relative_artifact_location_is_made_absolute(http, base_url, server, location, relative):
    name = f"parity-loc-{uuid.uuid4().hex}"
    exp = ok(call(http, base_url, "POST", "/experiments/create",
                  {"name": name, "artifact_location": location}))["experiment_id"]
    got = ok(call(http, base_url, "GET", "/experiments/get",
                  params={"experiment_id": exp}))["experiment"]["artifact_location"]
    assert got == os.path.join(os.path.realpath(server.data_dir), relative)


def test_relative_file_uri_artifact_location_is_made_absolute(http, base_url, server):
    exp = ok(call(http, base_url, "POST", "/experiments/create",
                  {"name": f"parity-loc-{uuid.uuid4().hex}", "artifact_location": "file:rel"}))
    got = ok(call(http, base_url, "GET", "/experiments/get",
                  params={"experiment_id": exp["experiment_id"]}))["experiment"]
    assert got["artifact_location"] == "file://" + os.path.join(
        os.path.realpath(server.data_dir), "rel")
