"""MLflow 3 GenAI evaluation datasets: the official `mlflow.genai.datasets` API and raw HTTP
against /api/3.0/mlflow/datasets/... and /ajax-api/3.0/mlflow/datasets/..., with MLflow's JSON
shapes (tags, schema, profile and records are JSON text inside the JSON), its merge semantics
(records keyed by their inputs), and hostile input.

Every expectation that is not marked cairn_only was taken from the reference server's answers;
those tests pass against both targets. Where the reference answers a malformed request with a
500 (a Python exception), Cairn answers 400 and the test is Cairn-only.
"""

from __future__ import annotations

import base64
import json
import uuid

import mlflow
import pytest
import requests
from mlflow.exceptions import MlflowException
from mlflow.genai.datasets import (
    add_dataset_to_experiments,
    create_dataset,
    delete_dataset,
    delete_dataset_tag,
    get_dataset,
    remove_dataset_from_experiments,
    search_datasets,
    set_dataset_tags,
)

from helpers import API, assert_error

API3 = "/api/3.0/mlflow"
AJAX3 = "/ajax-api/3.0/mlflow"

DATASET_KEYS = {"dataset_id", "name", "tags", "digest", "created_time", "last_update_time"}


def ok(resp):
    assert resp.status_code == 200, f"{resp.status_code} {resp.text[:500]}"
    return resp.json()


def error(resp, status, code):
    assert resp.status_code == status, f"{resp.status_code} {resp.text[:500]}"
    body = resp.json()
    assert body["error_code"] == code, body
    return body["message"]


def name(prefix="ds"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def experiment(http, base_url):
    return ok(http.post(base_url + API + "/experiments/create",
                        json={"name": name("ds-exp")}))["experiment_id"]


def create(http, base_url, body, prefix=API3):
    return http.post(base_url + prefix + "/datasets/create", json=body)


def upsert(http, base_url, dataset_id, records):
    return http.post(f"{base_url}{API3}/datasets/{dataset_id}/records",
                     json={"records": json.dumps(records)})


def records_of(http, base_url, dataset_id, **params):
    body = ok(http.get(f"{base_url}{API3}/datasets/{dataset_id}/records", params=params))
    return json.loads(body["records"]), body.get("next_page_token")


# -- the official client -----------------------------------------------------------------------

def test_official_client_creates_merges_reads_and_deletes(experiment):
    ds = create_dataset(name=name(), experiment_id=[experiment], tags={"team": "x", "n": "1"})
    assert ds.dataset_id.startswith("d-")
    assert ds.experiment_ids == [experiment]
    assert ds.tags["team"] == "x" and ds.tags["n"] == "1"
    assert len(ds.digest) == 8

    ds.merge_records([{"inputs": {"q": "hi"}, "expectations": {"a": "hello"}},
                      {"inputs": {"q": "bye"}, "outputs": "ciao", "tags": {"k": "v"}}])
    # Same inputs: merged into the first record (expectations key by key), not a new one.
    ds.merge_records([{"inputs": {"q": "hi"}, "expectations": {"b": 2}}])
    rows = sorted(ds.to_df().to_dict(orient="records"), key=lambda r: r["inputs"]["q"])
    assert [r["inputs"] for r in rows] == [{"q": "bye"}, {"q": "hi"}]
    assert rows[1]["expectations"] == {"a": "hello", "b": 2}
    assert rows[1]["outputs"] == {}
    assert rows[0]["outputs"] == "ciao"
    assert rows[0]["tags"]["k"] == "v"
    assert rows[1]["source_type"] == "HUMAN" and rows[0]["source_type"] == "CODE"
    assert all(r["dataset_record_id"].startswith("dr-") for r in rows)

    got = get_dataset(dataset_id=ds.dataset_id)
    assert json.loads(got.profile) == {"num_records": 2}
    assert json.loads(got.schema) == {"inputs": {"q": "string"}, "outputs": "string",
                                      "expectations": {"a": "string", "b": "integer"},
                                      "version": "1.0"}
    assert get_dataset(name=ds.name).dataset_id == ds.dataset_id

    set_dataset_tags(dataset_id=ds.dataset_id, tags={"team": "y", "extra": 3, "gone": None})
    delete_dataset_tag(dataset_id=ds.dataset_id, key="n")
    tags = get_dataset(dataset_id=ds.dataset_id).tags
    assert tags["team"] == "y" and tags["extra"] == "3"
    assert "n" not in tags and "gone" not in tags

    removed = ds.delete_records([rows[0]["dataset_record_id"]])
    assert removed == 1
    assert json.loads(get_dataset(dataset_id=ds.dataset_id).profile) == {"num_records": 1}

    other = mlflow.create_experiment(name("ds-exp"))
    assert sorted(add_dataset_to_experiments(ds.dataset_id, [other]).experiment_ids) == sorted(
        [experiment, other])
    assert remove_dataset_from_experiments(ds.dataset_id, [experiment]).experiment_ids == [other]
    assert [d.dataset_id for d in search_datasets(experiment_ids=[other])] == [ds.dataset_id]
    assert search_datasets(experiment_ids=[experiment]) == []

    delete_dataset(dataset_id=ds.dataset_id)
    with pytest.raises(MlflowException) as e:
        get_dataset(dataset_id=ds.dataset_id)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_official_client_searches_by_name_tag_and_time(experiment):
    prefix = name("srch")
    made = [create_dataset(name=f"{prefix}-{i}", experiment_id=[experiment],
                           tags={"parity": "even" if i % 2 == 0 else "odd"}) for i in range(4)]
    found = search_datasets(experiment_ids=[experiment], order_by=["name ASC"])
    assert [d.name for d in found] == [d.name for d in made]
    assert [d.name for d in search_datasets(filter_string=f"name = '{prefix}-2'")] == [
        f"{prefix}-2"]
    like = search_datasets(filter_string=f"name LIKE '{prefix}-%' AND tags.parity = 'odd'",
                           order_by=["name DESC"])
    assert [d.name for d in like] == [f"{prefix}-3", f"{prefix}-1"]
    listed = search_datasets(filter_string=f"name IN ('{prefix}-0', '{prefix}-3')",
                             order_by=["name"])
    assert [d.name for d in listed] == [f"{prefix}-0", f"{prefix}-3"]
    later = search_datasets(experiment_ids=[experiment],
                            filter_string=f"created_time >= {made[0].created_time}")
    assert len(later) == 4
    # Paged through the client (max_results below the number of matches).
    paged = search_datasets(experiment_ids=[experiment], max_results=3)
    assert len(paged) == 3


# -- raw HTTP: shapes --------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", [API3, AJAX3])
def test_create_and_get_answer_mlflows_json(http, base_url, experiment, prefix):
    n = name()
    body = ok(create(http, base_url, {"name": n, "experiment_ids": [experiment],
                                      "tags": json.dumps({"b": "2", "a": "1"})}, prefix))
    d = body["dataset"]
    assert set(d) == DATASET_KEYS | {"experiment_ids"}
    assert d["name"] == n and d["experiment_ids"] == [experiment]
    assert d["tags"] == '{"b": "2", "a": "1"}'  # JSON text, in the order given
    assert isinstance(d["created_time"], int) and d["created_time"] == d["last_update_time"]
    got = ok(http.get(f"{base_url}{prefix}/datasets/{d['dataset_id']}"))["dataset"]
    assert set(got) == DATASET_KEYS  # experiment ids are not part of a get
    assert got["tags"] == d["tags"] and got["digest"] == d["digest"]
    assert ok(http.get(f"{base_url}{prefix}/datasets/{d['dataset_id']}/experiment-ids")) == {
        "experiment_ids": [experiment]}


def test_mlflow_user_tag_names_the_creator_and_updater(http, base_url):
    d = ok(create(http, base_url, {"name": name(), "tags": json.dumps({"mlflow.user": "ann"})}))[
        "dataset"]
    assert d["created_by"] == "ann" and d["last_updated_by"] == "ann"
    ok(upsert(http, base_url, d["dataset_id"],
              [{"inputs": {"x": 1}, "tags": {"mlflow.user": "bob"}}]))
    got = ok(http.get(f"{base_url}{API3}/datasets/{d['dataset_id']}"))["dataset"]
    assert got["created_by"] == "ann" and got["last_updated_by"] == "bob"
    # An upsert without a user clears last_updated_by, as MLflow's store does.
    ok(upsert(http, base_url, d["dataset_id"], [{"inputs": {"x": 2}}]))
    got = ok(http.get(f"{base_url}{API3}/datasets/{d['dataset_id']}"))["dataset"]
    assert "last_updated_by" not in got


def test_upsert_merges_by_inputs_and_records_read_as_mlflow_writes_them(http, base_url):
    d = ok(create(http, base_url, {"name": name()}))["dataset"]
    did = d["dataset_id"]
    counts = ok(upsert(http, base_url, did, [
        {"inputs": {"q": "a", "n": 1}, "outputs": {"text": "x"}, "expectations": {"e1": 1},
         "tags": {"t1": "v"}, "source": {"source_type": "trace",
                                         "source_data": {"trace_id": "tr-1"}}},
        {"inputs": {"q": "b"}, "outputs": None},
        # The first record again (keys in another order) within the same call.
        {"inputs": {"n": 1, "q": "a"}, "expectations": {"e2": [1, 2]}},
    ]))
    assert counts == {"inserted_count": 2, "updated_count": 1}
    records, token = records_of(http, base_url, did)
    assert token is None
    by_q = {r["inputs"]["q"]: r for r in records}
    a, b = by_q["a"], by_q["b"]
    assert a["inputs"] == {"q": "a", "n": 1}
    assert a["outputs"] == {"text": "x"}
    assert a["expectations"] == {"e1": 1, "e2": [1, 2]}
    assert a["tags"] == {"t1": "v"}
    assert a["source"] == {"source_type": "TRACE", "source_data": {"trace_id": "tr-1"}}
    assert a["source_id"] == "tr-1" and a["source_type"] == "TRACE"
    assert a["dataset_id"] == did and a["dataset_record_id"].startswith("dr-")
    assert isinstance(a["created_time"], int) and a["last_update_time"] >= a["created_time"]
    assert "outputs" not in b and "expectations" not in b and b["tags"] == {}
    assert "source" not in b and "source_type" not in b

    # Outputs given again replace the stored ones; null clears them.
    ok(upsert(http, base_url, did, [{"inputs": {"q": "a", "n": 1}, "outputs": None}]))
    records, _ = records_of(http, base_url, did)
    assert "outputs" not in {r["inputs"]["q"]: r for r in records}["a"]

    got = ok(http.get(f"{base_url}{API3}/datasets/{did}"))["dataset"]
    assert json.loads(got["profile"]) == {"num_records": 2}
    assert json.loads(got["schema"]) == {
        "inputs": {"q": "string", "n": "integer"}, "outputs": {"text": "string"},
        "expectations": {"e1": "integer", "e2": "array"}, "version": "1.0"}
    assert got["digest"] != d["digest"] or got["last_update_time"] == d["last_update_time"]


def test_records_page_with_a_cursor(http, base_url):
    did = ok(create(http, base_url, {"name": name()}))["dataset"]["dataset_id"]
    ok(upsert(http, base_url, did, [{"inputs": {"i": i}} for i in range(5)]))
    seen, token, pages = [], None, 0
    while True:
        params = {"max_results": 2}
        if token:
            params["page_token"] = token
        page, token = records_of(http, base_url, did, **params)
        seen += [r["inputs"]["i"] for r in page]
        pages += 1
        if not token:
            break
    assert sorted(seen) == [0, 1, 2, 3, 4] and pages == 3
    # Through the client too (it pages by 1000).
    assert len(get_dataset(dataset_id=did).to_df()) == 5


def test_delete_records_counts_and_updates_the_profile(http, base_url):
    did = ok(create(http, base_url, {"name": name()}))["dataset"]["dataset_id"]
    ok(upsert(http, base_url, did, [{"inputs": {"i": i}} for i in range(2)]))
    records, _ = records_of(http, base_url, did)
    ids = [r["dataset_record_id"] for r in records]
    url = f"{base_url}{API3}/datasets/{did}/records"
    assert ok(http.delete(url, json={"dataset_record_ids": [ids[0], "dr-missing"]})) == {
        "deleted_count": 1}
    assert ok(http.get(f"{base_url}{API3}/datasets/{did}"))["dataset"]["profile"] == (
        '{"num_records": 1}')
    assert ok(http.delete(url, json={"dataset_record_ids": [ids[1]]})) == {"deleted_count": 1}
    assert ok(http.get(f"{base_url}{API3}/datasets/{did}"))["dataset"]["profile"] == "null"
    assert ok(http.delete(url, json={"dataset_record_ids": ["dr-missing"]})) == {
        "deleted_count": 0}


def test_tags_keep_the_order_they_were_set_in(http, base_url):
    did = ok(create(http, base_url, {"name": name(), "tags": json.dumps({"z": "1", "a": "2"})}))[
        "dataset"]["dataset_id"]
    url = f"{base_url}{API3}/datasets/{did}"
    assert ok(http.patch(url + "/tags", json={"tags": json.dumps({"m": 1, "z": "9"})})) == {}
    assert ok(http.get(url))["dataset"]["tags"] == '{"z": "9", "a": "2", "m": "1"}'
    assert ok(http.delete(url + "/tags/a")) == {}
    assert ok(http.delete(url + "/tags/never-set")) == {}
    assert ok(http.get(url))["dataset"]["tags"] == '{"z": "9", "m": "1"}'


def test_search_pages_and_orders_over_get_and_post(http, base_url, experiment):
    prefix = name("pg")
    ids = [ok(create(http, base_url, {"name": f"{prefix}-{i}", "experiment_ids": [experiment]}))[
        "dataset"]["dataset_id"] for i in range(5)]
    url = base_url + API3 + "/datasets/search"
    body = ok(http.post(url, json={"experiment_ids": [experiment], "max_results": 2,
                                   "order_by": ["name ASC"]}))
    assert [d["name"] for d in body["datasets"]] == [f"{prefix}-0", f"{prefix}-1"]
    token = body["next_page_token"]
    body = ok(http.get(url, params={"experiment_ids": [experiment], "max_results": 2,
                                    "order_by": "name ASC", "page_token": token}))
    assert [d["name"] for d in body["datasets"]] == [f"{prefix}-2", f"{prefix}-3"]
    last = ok(http.post(url, json={"experiment_ids": [experiment], "max_results": 2,
                                   "order_by": ["name ASC"], "page_token": body["next_page_token"]}))
    assert [d["name"] for d in last["datasets"]] == [f"{prefix}-4"]
    assert "next_page_token" not in last
    # Default order: newest first.
    newest = ok(http.post(url, json={"experiment_ids": [experiment]}))["datasets"]
    assert sorted(d["dataset_id"] for d in newest) == sorted(ids)
    times = [d["created_time"] for d in newest]
    assert times == sorted(times, reverse=True)
    assert ok(http.post(url, json={"filter_string": f"name = '{prefix}-none'"})) == {}
    # String attributes compare with < and > too.
    above = ok(http.post(url, json={"experiment_ids": [experiment], "order_by": ["name"],
                                    "filter_string": f"name > '{prefix}-2'"}))["datasets"]
    assert [d["name"] for d in above] == [f"{prefix}-3", f"{prefix}-4"]


def test_add_and_remove_experiments(http, base_url, experiment):
    did = ok(create(http, base_url, {"name": name()}))["dataset"]["dataset_id"]
    url = f"{base_url}{API3}/datasets/{did}"
    d = ok(http.post(url + "/add-experiments", json={"experiment_ids": [experiment]}))["dataset"]
    assert d["dataset_id"] == did and "experiment_ids" not in d
    ok(http.post(url + "/add-experiments", json={"experiment_ids": [experiment]}))
    assert ok(http.get(url + "/experiment-ids")) == {"experiment_ids": [experiment]}
    ok(http.post(url + "/remove-experiments", json={"experiment_ids": [experiment, "12345"]}))
    assert ok(http.get(url + "/experiment-ids")) == {}
    msg = error(http.post(url + "/add-experiments", json={"experiment_ids": ["987654321"]}),
                404, "RESOURCE_DOES_NOT_EXIST")
    assert msg == "No Experiment with id=987654321"
    msg = error(http.post(f"{base_url}{API3}/datasets/d-missing/add-experiments",
                          json={"experiment_ids": [experiment]}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert msg == "Dataset 'd-missing' not found"


# -- raw HTTP: errors and hostile input --------------------------------------------------------

def test_missing_datasets(http, base_url):
    msg = error(http.get(f"{base_url}{API3}/datasets/d-missing"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert msg == "Evaluation dataset with id 'd-missing' not found"
    msg = error(http.patch(f"{base_url}{API3}/datasets/d-missing/tags",
                           json={"tags": json.dumps({"a": "b"})}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert msg == "Could not find evaluation dataset with ID d-missing"
    # Deleting what is not there succeeds, as in MLflow.
    assert ok(http.delete(f"{base_url}{API3}/datasets/d-missing")) == {}
    assert ok(http.delete(f"{base_url}{API3}/datasets/d-missing/tags/k")) == {}
    assert ok(http.get(f"{base_url}{API3}/datasets/d-missing/experiment-ids")) == {}
    for weird in ["d-%27%3B%20DROP%20TABLE", "..%2F..%2Fetc", "%00", "x" * 2000]:
        assert http.get(f"{base_url}{API3}/datasets/{weird}").status_code in (404, 400)


def test_required_and_typed_parameters(http, base_url):
    msg = error(create(http, base_url, {}), 400, "INVALID_PARAMETER_VALUE")
    assert "name" in msg
    error(create(http, base_url, {"name": 5}), 400, "INVALID_PARAMETER_VALUE")
    error(create(http, base_url, {"name": name(), "experiment_ids": "1"}), 400,
          "INVALID_PARAMETER_VALUE")
    did = ok(create(http, base_url, {"name": name()}))["dataset"]["dataset_id"]
    error(http.post(f"{base_url}{API3}/datasets/{did}/records", json={}), 400,
          "INVALID_PARAMETER_VALUE")
    error(http.patch(f"{base_url}{API3}/datasets/{did}/tags", json={}), 400,
          "INVALID_PARAMETER_VALUE")
    error(upsert(http, base_url, did, [{"inputs": {"a": 1}, "source": {"source_type": "bogus"}}]),
          400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("max_results", [-1, 50001])
def test_search_max_results_bounds(http, base_url, max_results):
    msg = error(http.post(base_url + API3 + "/datasets/search", json={"max_results": max_results}),
                400, "INVALID_PARAMETER_VALUE")
    assert msg.startswith(f"Invalid value {max_results} for parameter 'max_results' supplied.")


def test_search_rejects_a_bad_page_token(http, base_url):
    error(http.post(base_url + API3 + "/datasets/search", json={"page_token": "!!not-base64!!"}),
          400, "INVALID_PARAMETER_VALUE")


BAD_DATASET_FILTERS = [
    ("nope = 'x'", "Invalid attribute key 'nope' specified. Valid keys are: "),
    ("foo.a = 'x'", "Invalid identifier token 'foo' specified"),
    ("tags.a > 'x'", "Invalid comparator for tag: >"),
    ("created_time LIKE 1", "Invalid comparator for numeric attribute: LIKE"),
    ("created_time > 'x'",
     "Expected numeric value type for numeric attribute: created_time. Found 'x'"),
    ("created_time > 1.5", "Invalid value for numeric attribute 'created_time': '1.5'"),
    ("created_by IN ('a')",
     "Only ['name'] attributes support comparison with a list of quoted string values."),
    ("name NOT IN ('a')", "List values for 'name' are only supported with the IN comparator."),
    ("tags.a IS NULL", "Invalid comparator for tag: IS NULL"),
    ("name = 1", "Expected a quoted string value for attributes. Got value 1"),
    ("tags.a = 1", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"),
    ("attributes.name = 'x'", "Invalid identifier token 'attributes' specified"),
]


@pytest.mark.parametrize("filter_string,message", BAD_DATASET_FILTERS)
def test_bad_search_filters_are_worded_as_mlflow(http, base_url, filter_string, message):
    got = error(http.post(base_url + API3 + "/datasets/search",
                          json={"filter_string": filter_string}), 400, "INVALID_PARAMETER_VALUE")
    assert got.startswith(message), got


@pytest.mark.cairn_only
@pytest.mark.parametrize("records", [
    "not json", "{}", "[1]", '[{"inputs": [1, 2]}]', '[{"inputs": {}, "expectations": 3}]',
    '[{"inputs": {}, "tags": "x"}]', '[{"inputs": {}, "source": "x"}]',
    '[{"inputs": {}, "source": {"source_type": "CODE", "other": 1}}]',
    "[" * 100000 + "]" * 100000,
])
def test_malformed_records_are_invalid_not_server_errors(http, base_url, records):
    # The reference answers these with a 500 (a Python exception in its store).
    did = ok(create(http, base_url, {"name": name()}))["dataset"]["dataset_id"]
    assert_error(http.post(f"{base_url}{API3}/datasets/{did}/records", json={"records": records}),
                 400, "INVALID_PARAMETER_VALUE")
    assert records_of(http, base_url, did)[0] == []


@pytest.mark.cairn_only
def test_malformed_tags_and_page_tokens_are_invalid(http, base_url):
    # The reference answers these with a 500.
    assert_error(create(http, base_url, {"name": name(), "tags": "not json"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(create(http, base_url, {"name": name(), "tags": "[1]"}), 400,
                 "INVALID_PARAMETER_VALUE")
    did = ok(create(http, base_url, {"name": name()}))["dataset"]["dataset_id"]
    assert_error(http.get(f"{base_url}{API3}/datasets/{did}/records",
                          params={"page_token": "garbage!"}), 400, "INVALID_PARAMETER_VALUE")
    token = base64.b64encode(b"notanumber:dr-1").decode()
    assert_error(http.get(f"{base_url}{API3}/datasets/{did}/records",
                          params={"page_token": token}), 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.cairn_only
def test_sizes_are_bounded(http, base_url):
    # The reference stores any size.
    assert_error(create(http, base_url, {"name": "n" * 256}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(create(http, base_url, {"name": name(), "tags": json.dumps({"k" * 256: "v"})}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(create(http, base_url, {"name": name(), "tags": json.dumps({"k": "v" * 5001})}),
                 400, "INVALID_PARAMETER_VALUE")
    did = ok(create(http, base_url, {"name": name()}))["dataset"]["dataset_id"]
    assert_error(upsert(http, base_url, did, [{"inputs": {"i": i}} for i in range(10001)]), 400,
                 "INVALID_PARAMETER_VALUE")
    big = http.post(f"{base_url}{API3}/datasets/{did}/records",
                    json={"records": json.dumps([{"inputs": {"x": "y" * (17 << 20)}}])})
    assert big.status_code == 413
    # A page larger than 1000 records is served in pages of 1000.
    ok(upsert(http, base_url, did, [{"inputs": {"i": i}} for i in range(1001)]))
    page, token = records_of(http, base_url, did, max_results=5000)
    assert len(page) == 1000 and token


@pytest.mark.cairn_only
def test_upserting_into_a_missing_dataset_is_not_found(http, base_url):
    # The reference inserts orphan records and answers 200.
    assert_error(upsert(http, base_url, "d-missing", [{"inputs": {"a": 1}}]), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(http.get(f"{base_url}{API3}/datasets/d-missing/records"), 404,
                 "RESOURCE_DOES_NOT_EXIST")


def test_writes_need_json_content_type(http, base_url):
    r = http.post(base_url + API3 + "/datasets/create", data="name=x",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400


def test_datasets_of_different_names_are_independent(base_url):
    a = create_dataset(name=name())
    b = create_dataset(name=name())
    a.merge_records([{"inputs": {"q": 1}}])
    assert len(get_dataset(dataset_id=b.dataset_id).to_df()) == 0
    assert len(get_dataset(dataset_id=a.dataset_id).to_df()) == 1
    requests.delete(f"{base_url}{API3}/datasets/{a.dataset_id}", timeout=30)
    requests.delete(f"{base_url}{API3}/datasets/{b.dataset_id}", timeout=30)


# -- tenants and roles (Cairn's security; the reference has neither) ---------------------------

@pytest.mark.cairn_only
def test_datasets_belong_to_a_tenant_and_need_the_tracking_roles(tmp_path):
    import subprocess

    from server_process import ServerProcess, cairn_binary, metadata_args

    data = tmp_path / "data"
    data.mkdir()
    out = subprocess.run([str(cairn_binary()), "admin", "bootstrap", "--data-dir", str(data),
                          *metadata_args(data)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    admin = out.stdout.strip().splitlines()[-1]
    proc = ServerProcess("cairn", data, extra_args=("--auth", "token"), workers=1).start()
    try:
        url = proc.url

        def headers(token):
            return {"Authorization": f"Bearer {token}"}

        def token(principal, tenant, role):
            r = requests.post(f"{url}/api/v1/tokens", headers=headers(admin), timeout=30,
                              json={"principal": principal, "tenant": tenant, "roles": [role]})
            assert r.status_code == 200, r.text
            return r.json()["token"]

        for tenant in ("team-a", "team-b"):
            r = requests.post(f"{url}/api/v1/tenants", headers=headers(admin), timeout=30,
                              json={"name": tenant})
            assert r.status_code == 200, r.text
        editor = token("ed", "team-a", "editor")
        viewer = token("vi", "team-a", "viewer")
        other = token("ob", "team-b", "admin")

        created = requests.post(f"{url}{API3}/datasets/create", headers=headers(editor),
                                json={"name": "shared-name"}, timeout=30)
        did = ok(created)["dataset"]["dataset_id"]
        ok(requests.post(f"{url}{API3}/datasets/{did}/records", headers=headers(editor),
                         json={"records": json.dumps([{"inputs": {"q": 1}}])}, timeout=30))
        # A viewer reads but cannot write.
        ok(requests.get(f"{url}{API3}/datasets/{did}", headers=headers(viewer), timeout=30))
        ok(requests.get(f"{url}{API3}/datasets/{did}/records", headers=headers(viewer),
                        timeout=30))
        assert requests.post(f"{url}{API3}/datasets/create", headers=headers(viewer),
                             json={"name": "x"}, timeout=30).status_code == 403
        assert requests.delete(f"{url}{API3}/datasets/{did}", headers=headers(viewer),
                               timeout=30).status_code == 403
        # Another tenant sees nothing of it, even as its admin, and may reuse the name.
        assert_error(requests.get(f"{url}{API3}/datasets/{did}", headers=headers(other),
                                  timeout=30), 404, "RESOURCE_DOES_NOT_EXIST")
        assert_error(requests.get(f"{url}{API3}/datasets/{did}/records", headers=headers(other),
                                  timeout=30), 404, "RESOURCE_DOES_NOT_EXIST")
        assert ok(requests.post(f"{url}{API3}/datasets/search", headers=headers(other), json={},
                                timeout=30)) == {}
        ok(requests.delete(f"{url}{API3}/datasets/{did}", headers=headers(other), timeout=30))
        ok(requests.get(f"{url}{API3}/datasets/{did}", headers=headers(viewer), timeout=30))
        ok(requests.post(f"{url}{API3}/datasets/create", headers=headers(other),
                         json={"name": "shared-name"}, timeout=30))
    finally:
        assert proc.stop() == 0, proc.log_tail()
