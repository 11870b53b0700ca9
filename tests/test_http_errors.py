"""Raw HTTP: error codes, hostile input, protocol details (keep-alive, 100-continue, ...)."""

import http.client as httpclient
import json
import re
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from packaging.version import Version

from helpers import API, ARTIFACTS, RawConnection, assert_error, now_ms


def post(http, base_url, path, body):
    return http.post(base_url + API + path, json=body, timeout=30)


def get(http, base_url, path, params=None, **kw):
    return http.get(base_url + API + path, params=params, timeout=30, **kw)


@pytest.fixture
def exp_id(http, base_url):
    r = post(http, base_url, "/experiments/create", {"name": f"http-{uuid.uuid4().hex}"})
    assert r.status_code == 200, r.text
    return r.json()["experiment_id"]


@pytest.fixture
def run_id(http, base_url, exp_id):
    r = post(http, base_url, "/runs/create", {"experiment_id": exp_id, "start_time": now_ms()})
    assert r.status_code == 200, r.text
    return r.json()["run"]["info"]["run_id"]


def get_run(http, base_url, run_id):
    r = get(http, base_url, "/runs/get", {"run_id": run_id})
    assert r.status_code == 200, r.text
    return r.json()["run"]


def raw_request(server, method, path, body=None, headers=None):
    """Sends the path exactly as given (requests/urllib3 would normalise '..' away)."""
    conn = httpclient.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


# -- health and version ------------------------------------------------------------------------


def test_health(base_url):
    r = requests.get(base_url + "/health", timeout=10)
    assert r.status_code == 200
    assert r.text.strip() == "OK"


def test_version_is_bare_pep440(base_url):
    r = requests.get(base_url + "/version", timeout=10)
    assert r.status_code == 200
    text = r.text
    assert text == text.strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+([a-z0-9.+-]*)", text), text
    assert Version(text) >= Version("3.0.0")


# -- malformed and mistyped input --------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{bad json", b'{"run_id": ', b"[1, 2", b"\xff\xfe\x00",
                                  b'{"key": "m", "value": 1,}'])
def test_malformed_json(http, base_url, run_id, body):
    r = http.post(base_url + API + "/runs/log-metric", data=body,
                  headers={"Content-Type": "application/json"}, timeout=30)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("field, value", [
    ("step", "abc"),
    ("value", "abc"),
    ("timestamp", "yesterday"),
    ("key", ["a", "list"]),
    # The reference server coerces a bool to 1.0, accepts an out-of-range step and answers an
    # object value with 500; Cairn rejects all of them.
    pytest.param("value", True, marks=pytest.mark.cairn_only),
    pytest.param("step", 1.5e30, marks=pytest.mark.cairn_only),
    pytest.param("value", {"nested": 1}, marks=pytest.mark.cairn_only),
])
def test_wrong_field_types(http, base_url, run_id, field, value):
    body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": now_ms(), "step": 0}
    body[field] = value
    assert_error(post(http, base_url, "/runs/log-metric", body), 400, "INVALID_PARAMETER_VALUE")
    assert get_run(http, base_url, run_id)["data"].get("metrics", []) == []


def test_int64_fields_accept_strings_and_doubles_accept_nan(http, base_url, run_id):
    t = now_ms()
    r = post(http, base_url, "/runs/log-metric",
             {"run_id": run_id, "key": "m", "value": "NaN", "timestamp": str(t), "step": "7"})
    assert r.status_code == 200, r.text
    r = post(http, base_url, "/runs/log-metric",
             {"run_id": run_id, "key": "m", "value": 2.5, "timestamp": t, "step": 8,
              "some_future_field": {"ignored": True}})
    assert r.status_code == 200, r.text
    r = get(http, base_url, "/metrics/get-history", {"run_id": run_id, "metric_key": "m"})
    assert r.status_code == 200, r.text
    history = sorted(r.json()["metrics"], key=lambda m: m["step"])
    assert [(m["step"], m["timestamp"]) for m in history] == [(7, t), (8, t)]
    assert isinstance(history[0]["step"], int) and isinstance(history[0]["timestamp"], int)
    assert history[0]["value"] == "NaN"
    assert history[1]["value"] == 2.5


@pytest.mark.parametrize("path, body", [
    ("/runs/log-metric", {"value": 1, "timestamp": 1}),  # run_id and key missing
    ("/runs/log-metric", {"run_id": "RUN", "value": 1, "timestamp": 1}),
    ("/runs/log-metric", {"run_id": "RUN", "key": "m", "timestamp": 1}),
    ("/runs/log-metric", {"run_id": "RUN", "key": "m", "value": 1}),
    ("/runs/log-parameter", {"run_id": "RUN", "value": "v"}),
    ("/runs/set-tag", {"run_id": "RUN", "value": "v"}),
    ("/runs/log-batch", {"metrics": [{"key": "m", "value": 1, "timestamp": 1}]}),
    ("/runs/log-batch", {"run_id": "RUN", "metrics": [{"key": "m", "value": 1}]}),
    ("/runs/log-batch", {"run_id": "RUN", "params": [{"value": "v"}]}),
    ("/experiments/create", {}),
    ("/experiments/create", {"name": ""}),
    ("/experiments/update", {"experiment_id": "0"}),
    ("/experiments/set-experiment-tag", {"experiment_id": "0", "value": "v"}),
    ("/runs/delete", {}),
])
def test_missing_required_fields(http, base_url, run_id, path, body):
    body = json.loads(json.dumps(body).replace('"RUN"', json.dumps(run_id)))
    assert_error(post(http, base_url, path, body), 400, "INVALID_PARAMETER_VALUE")


def test_missing_query_parameter(http, base_url):
    assert_error(get(http, base_url, "/runs/get"), 400, "INVALID_PARAMETER_VALUE")
    assert_error(get(http, base_url, "/experiments/get-by-name"), 400, "INVALID_PARAMETER_VALUE")
    assert_error(get(http, base_url, "/metrics/get-history", {"run_id": "a" * 32}), 400,
                 "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_post_requires_json_content_type(http, base_url, content_type):
    name = f"ctype-{uuid.uuid4().hex}"
    headers = {"Content-Type": content_type} if content_type else {}
    r = requests.post(base_url + API + "/experiments/create", data=json.dumps({"name": name}),
                      headers=headers, timeout=30)
    if content_type is None:
        assert "Content-Type" not in r.request.headers
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert get(http, base_url, "/experiments/get-by-name",
               {"experiment_name": name}).status_code == 404


def test_json_content_type_with_charset(http, base_url):
    r = http.post(base_url + API + "/experiments/create",
                  data=json.dumps({"name": f"charset-{uuid.uuid4().hex}"}),
                  headers={"Content-Type": "application/json; charset=utf-8"}, timeout=30)
    assert r.status_code == 200, r.text


def test_bad_run_and_metric_keys(http, base_url, run_id):
    for key in ("../escape", "/abs", "a" * 251, "bad\nkey"):
        r = post(http, base_url, "/runs/log-metric",
                 {"run_id": run_id, "key": key, "value": 1, "timestamp": now_ms()})
        assert_error(r, 400, "INVALID_PARAMETER_VALUE")


def test_log_batch_limits(http, base_url, run_id):
    t = now_ms()
    too_many_metrics = [{"key": "m", "value": i, "timestamp": t, "step": i} for i in range(1001)]
    assert_error(post(http, base_url, "/runs/log-batch",
                      {"run_id": run_id, "metrics": too_many_metrics}),
                 400, "INVALID_PARAMETER_VALUE")
    too_many_params = [{"key": f"p{i}", "value": "v"} for i in range(101)]
    assert_error(post(http, base_url, "/runs/log-batch",
                      {"run_id": run_id, "params": too_many_params}),
                 400, "INVALID_PARAMETER_VALUE")
    too_many_tags = [{"key": f"t{i}", "value": "v"} for i in range(101)]
    assert_error(post(http, base_url, "/runs/log-batch", {"run_id": run_id, "tags": too_many_tags}),
                 400, "INVALID_PARAMETER_VALUE")
    data = get_run(http, base_url, run_id)["data"]
    assert "metrics" not in data and "params" not in data
    too_many_in_total = {"run_id": run_id, "metrics": too_many_metrics[:1000],
                         "params": too_many_params[:100]}
    assert_error(post(http, base_url, "/runs/log-batch", too_many_in_total),
                 400, "INVALID_PARAMETER_VALUE")
    data = get_run(http, base_url, run_id)["data"]
    assert "metrics" not in data and "params" not in data
    # Exactly at the limits is fine.
    for body in ({"metrics": too_many_metrics[:1000]},
                 {"params": too_many_params[:100], "tags": too_many_tags[:100]}):
        r = post(http, base_url, "/runs/log-batch", {"run_id": run_id, **body})
        assert r.status_code == 200, r.text
    data = get_run(http, base_url, run_id)["data"]
    assert len(data["params"]) == 100 and len(data["tags"]) >= 100


# -- unknown ids, conflicts, state -------------------------------------------------------------


def test_unknown_ids_are_404(http, base_url, exp_id):
    missing_run = uuid.uuid4().hex
    assert_error(get(http, base_url, "/runs/get", {"run_id": missing_run}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(get(http, base_url, "/experiments/get", {"experiment_id": "987654321"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(get(http, base_url, "/experiments/get-by-name",
                     {"experiment_name": f"nope-{uuid.uuid4().hex}"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(post(http, base_url, "/runs/log-metric",
                      {"run_id": missing_run, "key": "m", "value": 1, "timestamp": 1}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(post(http, base_url, "/runs/update", {"run_id": missing_run, "status": "KILLED"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(post(http, base_url, "/experiments/delete", {"experiment_id": "987654321"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(post(http, base_url, "/runs/create", {"experiment_id": "987654321"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(get(http, base_url, "/logged-models/m-" + uuid.uuid4().hex),
                 404, "RESOURCE_DOES_NOT_EXIST")


def test_duplicate_experiment_name(http, base_url):
    name = f"dup-{uuid.uuid4().hex}"
    assert post(http, base_url, "/experiments/create", {"name": name}).status_code == 200
    assert_error(post(http, base_url, "/experiments/create", {"name": name}),
                 400, "RESOURCE_ALREADY_EXISTS")


def test_param_value_change_rejected(http, base_url, run_id):
    r = post(http, base_url, "/runs/log-parameter", {"run_id": run_id, "key": "p", "value": "1"})
    assert r.status_code == 200
    r = post(http, base_url, "/runs/log-parameter", {"run_id": run_id, "key": "p", "value": "1"})
    assert r.status_code == 200
    assert_error(post(http, base_url, "/runs/log-parameter",
                      {"run_id": run_id, "key": "p", "value": "2"}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(post(http, base_url, "/runs/log-batch",
                      {"run_id": run_id, "params": [{"key": "p", "value": "3"}]}),
                 400, "INVALID_PARAMETER_VALUE")
    assert get_run(http, base_url, run_id)["data"]["params"] == [{"key": "p", "value": "1"}]


def test_writes_to_deleted_run_rejected(http, base_url, run_id):
    assert post(http, base_url, "/runs/delete", {"run_id": run_id}).status_code == 200
    t = now_ms()
    for path, body in [
        ("/runs/log-metric", {"run_id": run_id, "key": "m", "value": 1, "timestamp": t}),
        ("/runs/log-parameter", {"run_id": run_id, "key": "p", "value": "v"}),
        ("/runs/set-tag", {"run_id": run_id, "key": "t", "value": "v"}),
        ("/runs/log-batch", {"run_id": run_id, "metrics": [{"key": "m", "value": 1,
                                                            "timestamp": t}]}),
    ]:
        assert_error(post(http, base_url, path, body), 400, "INVALID_PARAMETER_VALUE")
    assert post(http, base_url, "/runs/restore", {"run_id": run_id}).status_code == 200
    r = post(http, base_url, "/runs/log-metric",
             {"run_id": run_id, "key": "m", "value": 1, "timestamp": t})
    assert r.status_code == 200, r.text


def test_create_run_in_deleted_experiment_rejected(http, base_url, exp_id):
    assert post(http, base_url, "/experiments/delete", {"experiment_id": exp_id}).status_code == 200
    assert_error(post(http, base_url, "/runs/create", {"experiment_id": exp_id}),
                 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.cairn_only
def test_oversized_body_rejected_with_413(server):
    """A body larger than the limit is refused from its Content-Length, before it is read."""
    conn = RawConnection(server.port)
    try:
        conn.send((f"POST {API}/runs/log-batch HTTP/1.1\r\n"
                   f"Host: 127.0.0.1:{server.port}\r\n"
                   "Content-Type: application/json\r\n"
                   "Content-Length: 1073741824\r\n\r\n").encode())
        try:
            conn.send(b"{" + b" " * 65536)
        except OSError:
            pass  # the server may already have answered and closed
        status, _, body = conn.read_response()
        assert status == 413, body[:300]
    finally:
        conn.close()
    assert requests.get(server.url + "/health", timeout=10).status_code == 200


# -- hostile filters ---------------------------------------------------------------------------

HOSTILE_FILTERS = [
    "params.p = 'a'; DROP TABLE runs; --",
    "params.p = 'a' OR 1=1",
    "params.p = '' OR '1'='1'",
    "attributes.run_id = '' UNION SELECT * FROM runs --'",
    "tags.t = 'x') OR (1=1",
    "metrics.m > 0 OR metrics.m < 0",
    "params.p = 'unterminated",
    "params.p = \"unterminated",
    "params.`p = 'x'",
    "metrics.m > 1 AND (metrics.m < 2)",
    "metrics.m >",
    "params.p IN ('a', 'b'",
    "\x00",
    "a" * 100_000,
    "(" * 100_000,
    "params.p = 'a' AND " * 5000 + "params.p = ",
]


def test_hostile_run_filters(http, base_url, exp_id, run_id, target):
    post(http, base_url, "/runs/log-parameter", {"run_id": run_id, "key": "p", "value": "a"})
    before = get_run(http, base_url, run_id)
    filters = list(HOSTILE_FILTERS)
    if target == "cairn":
        filters.append("AND AND AND")  # the reference ignores it and returns every run
    for f in filters:
        r = post(http, base_url, "/runs/search", {"experiment_ids": [exp_id], "filter": f})
        assert r.status_code == 400, (f[:80], r.status_code, r.text[:300])
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    # Well-formed but extreme filters may be refused or answered, never crash the server.
    for f in ["params.p = '" + "a" * 100_000 + "'", "metrics.m > 1e999999",
              "metrics.m < -1e999999", "params.p LIKE '" + "%_" * 20_000 + "'"]:
        r = post(http, base_url, "/runs/search", {"experiment_ids": [exp_id], "filter": f})
        assert r.status_code in (200, 400), r.text[:300]
        if r.status_code == 200:
            assert r.json().get("runs", []) == []

    assert requests.get(base_url + "/health", timeout=10).status_code == 200
    assert get_run(http, base_url, run_id) == before
    r = post(http, base_url, "/runs/search",
             {"experiment_ids": [exp_id], "filter": "params.p = 'a'"})
    assert [x["info"]["run_id"] for x in r.json()["runs"]] == [run_id]


def test_hostile_experiment_and_order_by_input(http, base_url, exp_id, target):
    count = len(post(http, base_url, "/experiments/search",
                     {"max_results": 50000, "view_type": "ALL"}).json()["experiments"])
    for f in ["name = 'x'; DELETE FROM experiments; --", "name = 'x' OR 1=1", "name = 'x",
              "name LIKE " + "(" * 50_000, "name = " + "'x' AND " * 20_000]:
        r = post(http, base_url, "/experiments/search", {"max_results": 10, "filter": f})
        assert r.status_code == 400, (f[:80], r.status_code, r.text[:300])
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    for order in ["name; DROP TABLE experiments", "name ASC, experiment_id", "name SIDEWAYS",
                  "x" * 100_000]:
        r = post(http, base_url, "/experiments/search", {"max_results": 10, "order_by": [order]})
        assert r.status_code == 400, ("experiments", order[:80], r.status_code, r.text[:300])
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        r = post(http, base_url, "/runs/search", {"experiment_ids": [exp_id], "order_by": [order]})
        assert r.status_code == 400, ("runs", order[:80], r.status_code, r.text[:300])
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    tokens = ["not-a-token", "%%%"]
    if target == "cairn":
        tokens.append("eyJvZmZzZXQiOiAtMX0=")  # {"offset": -1}; the reference accepts it
    for token in tokens:
        r = post(http, base_url, "/runs/search", {"experiment_ids": [exp_id], "page_token": token})
        assert r.status_code == 400, (token, r.status_code, r.text[:300])
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    after = len(post(http, base_url, "/experiments/search",
                     {"max_results": 50000, "view_type": "ALL"}).json()["experiments"])
    assert after == count


# -- artifact path traversal -------------------------------------------------------------------


def test_artifact_path_traversal(server, exp_id):
    secret = "TOP-SECRET-" + uuid.uuid4().hex
    inside_data = server.data_dir / "secret.txt"  # next to the metadata, outside artifacts
    outside = server.data_dir.parent / "outside-secret.txt"
    inside_data.write_text(secret)
    outside.write_text(secret)
    absolute_target = Path("/tmp") / f"cairn-traversal-{uuid.uuid4().hex}.txt"

    evil = "EVIL-" + uuid.uuid4().hex
    ok_path = f"{ARTIFACTS}/{exp_id}/ok/fine.txt"
    status, _, _ = raw_request(server, "PUT", ok_path, body=b"fine")
    assert status == 200

    attempts = [
        f"{ARTIFACTS}/../secret.txt",
        f"{ARTIFACTS}/{exp_id}/../../secret.txt",
        f"{ARTIFACTS}/{exp_id}/ok/../../../outside-secret.txt",
        f"{ARTIFACTS}/%2e%2e/secret.txt",
        f"{ARTIFACTS}/{exp_id}/%2e%2e/%2e%2e/secret.txt",
        f"{ARTIFACTS}/{exp_id}/%2E%2E/%2E%2E/%2E%2E/outside-secret.txt",
        f"{ARTIFACTS}/%252e%252e/secret.txt",
        f"{ARTIFACTS}/{exp_id}/%252e%252e/%252e%252e/secret.txt",
        f"{ARTIFACTS}/{exp_id}/..%2f..%2fsecret.txt",
        f"{ARTIFACTS}/{exp_id}/..%2F..%2F..%2Foutside-secret.txt",
        f"{ARTIFACTS}/{quote(str(inside_data))}",
        f"{ARTIFACTS}//{str(inside_data).lstrip('/')}",
        f"{ARTIFACTS}/%2F{quote(str(inside_data).lstrip('/'))}",
    ]
    # The reference server answers '//' in a path with a redirect to the path with one slash,
    # which lies inside its artifact root; Cairn rejects it.
    rejected = {400} if server.target == "cairn" else {400, 308}
    for path in attempts:
        status, _, body = raw_request(server, "GET", path)
        assert status in rejected, (path, status, body[:200])
        assert secret.encode() not in body
    write_attempts = attempts + [
        f"{ARTIFACTS}/{quote(str(absolute_target))}",
        f"{ARTIFACTS}//{str(absolute_target).lstrip('/')}",
        f"{ARTIFACTS}/%2F{quote(str(absolute_target).lstrip('/'))}",
    ]
    for path in write_attempts:
        status, _, body = raw_request(server, "PUT", path, body=evil.encode())
        assert status in rejected, (path, status, body[:200])
        status, _, body = raw_request(server, "DELETE", path)
        assert status in rejected, (path, status, body[:200])
    for query in ["..", "../..", f"{exp_id}/../..", "%2e%2e", "%252e%252e", f"{exp_id}/%2e%2e/..",
                  quote(str(server.data_dir)), quote(str(server.data_dir.parent))]:
        status, _, body = raw_request(server, "GET", f"{ARTIFACTS}?path={query}")
        assert status == 400, (query, status, body[:200])
        assert b"secret" not in body and b"meta.db" not in body and b"mlflow.db" not in body

    # Nothing was changed or created outside the artifact root.
    assert inside_data.read_text() == secret
    assert outside.read_text() == secret
    assert not absolute_target.exists()
    root = server.artifact_root.resolve()
    for path in server.data_dir.parent.rglob("*"):
        if path.is_file() and root not in path.resolve().parents:
            with open(path, "rb") as fh:
                assert evil.encode() not in fh.read(), f"traversal wrote {path}"
    status, _, body = raw_request(server, "GET", ok_path)
    assert (status, body) == (200, b"fine")


# -- routing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [
    ("GET", API + "/no/such/endpoint"),
    ("POST", API + "/runs/no-such-verb"),
    ("GET", "/api/9.0/mlflow/runs/get"),
    ("GET", "/nothing-here"),
])
def test_unknown_routes_are_404(base_url, target, method, path):
    r = requests.request(method, base_url + path, json={} if method == "POST" else None,
                         timeout=30)
    assert r.status_code == 404
    if target == "cairn":
        assert r.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_multipart_upload_not_implemented(http, base_url, run_id, exp_id):
    r = http.post(f"{base_url}/api/2.0/mlflow-artifacts/mpu/create/{exp_id}/{run_id}/artifacts",
                  json={"path": "big.bin", "num_parts": 3}, timeout=30)
    assert r.status_code == 501
    body = r.json()
    assert body["error_code"] == "NOT_IMPLEMENTED"
    assert body["message"] == ("Multipart upload is not supported for the current artifact "
                               "repository")


def test_otlp_traces_accept_an_export_without_spans(base_url, exp_id):
    # One empty ResourceSpans: nothing to store, an empty ExportTraceServiceResponse back
    # (OTLP errors: tests/test_trace_spans.py).
    r = requests.post(base_url + "/v1/traces", data=b"\x0a\x00",
                      headers={"Content-Type": "application/x-protobuf",
                               "x-mlflow-experiment-id": exp_id}, timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-protobuf")
    assert r.content == b""


@pytest.mark.cairn_only
def test_prometheus_metrics(base_url):
    requests.get(base_url + "/health", timeout=10)
    r = requests.get(base_url + "/metrics", timeout=10)
    assert r.status_code == 200
    assert "cairn_http_requests_total" in r.text


@pytest.mark.cairn_only
def test_workspace_header_isolates_tenants(base_url):
    name = f"tenant-{uuid.uuid4().hex}"

    def call(method, path, workspace=None, **kw):
        headers = {"X-MLFLOW-WORKSPACE": workspace} if workspace else {}
        return requests.request(method, base_url + API + path, headers=headers, timeout=30, **kw)

    r = call("POST", "/experiments/create", "team-a", json={"name": name})
    assert r.status_code == 200, r.text
    exp = r.json()["experiment_id"]
    assert call("GET", "/experiments/get-by-name", "team-a",
                params={"experiment_name": name}).status_code == 200
    for other in ("team-b", None):
        r = call("GET", "/experiments/get-by-name", other, params={"experiment_name": name})
        assert r.status_code == 404, (other, r.text)
        # Experiment ids are numbered per tenant, so the same id may name another tenant's
        # experiment; it must never resolve to this one.
        r = call("GET", "/experiments/get", other, params={"experiment_id": exp})
        assert r.status_code == 404 or r.json()["experiment"]["name"] != name, r.text
        found = call("POST", "/experiments/search", other,
                     json={"max_results": 1000, "filter": f"name = '{name}'"}).json()
        assert found.get("experiments", []) == []
    # The same name is free in another workspace.
    assert call("POST", "/experiments/create", "team-b", json={"name": name}).status_code == 200


@pytest.mark.cairn_only
def test_workspace_names_are_case_insensitive(base_url):
    name = f"case-{uuid.uuid4().hex}"

    def call(method, path, workspace, **kw):
        return requests.request(method, base_url + path, timeout=30,
                                headers={"X-MLFLOW-WORKSPACE": workspace}, **kw)

    r = call("POST", API + "/experiments/create", "Team-A", json={"name": name})
    assert r.status_code == 200, r.text
    exp = r.json()["experiment_id"]
    for spelling in ("team-a", "TEAM-A", "Team-A", "tEaM-a"):
        r = call("GET", API + "/experiments/get-by-name", spelling,
                 params={"experiment_name": name})
        assert r.status_code == 200, (spelling, r.text)
        assert r.json()["experiment"]["experiment_id"] == exp
        found = call("POST", API + "/experiments/search", spelling,
                     json={"max_results": 1000, "filter": f"name = '{name}'"}).json()
        assert [e["experiment_id"] for e in found["experiments"]] == [exp], spelling
    # One tenant, so the name is taken in every spelling.
    r = call("POST", API + "/experiments/create", "team-a", json={"name": name})
    assert r.status_code == 400 and r.json()["error_code"] == "RESOURCE_ALREADY_EXISTS", r.text

    # The same artifact folder too.
    run = call("POST", API + "/runs/create", "team-a",
               json={"experiment_id": exp}).json()["run"]["info"]
    rel = run["artifact_uri"][len("mlflow-artifacts:/"):].lstrip("/")
    assert call("PUT", f"{ARTIFACTS}/{rel}/note.txt", "TEAM-A", data=b"shared").status_code == 200
    r = call("GET", f"{ARTIFACTS}/{rel}/note.txt", "team-a")
    assert r.status_code == 200 and r.content == b"shared", r.text

    # "DEFAULT" is the default tenant, the one without a header.
    r = requests.post(base_url + API + "/experiments/create", json={"name": name + "-d"},
                      timeout=30)
    assert r.status_code == 200, r.text
    default_exp = r.json()["experiment_id"]
    r = call("GET", API + "/experiments/get-by-name", "DEFAULT",
             params={"experiment_name": name + "-d"})
    assert r.status_code == 200, r.text
    assert r.json()["experiment"]["experiment_id"] == default_exp


# -- request encodings -------------------------------------------------------------------------


def test_get_with_repeated_query_keys(http, base_url, exp_id):
    prefix = f"rep-{uuid.uuid4().hex[:10]}"
    for n in ("b", "a", "c"):
        post(http, base_url, "/experiments/create", {"name": f"{prefix}-{n}"})
    r = get(http, base_url, "/experiments/search", [
        ("max_results", "10"), ("filter", f"name LIKE '{prefix}-%'"),
        ("order_by", "name DESC"), ("order_by", "experiment_id ASC"), ("view_type", "ALL")])
    assert r.status_code == 200, r.text
    assert [e["name"] for e in r.json()["experiments"]] == [f"{prefix}-{n}" for n in "cba"]

    runs = []
    for i in range(2):
        rid = post(http, base_url, "/runs/create", {"experiment_id": exp_id}).json()["run"]["info"][
            "run_id"]
        for step in range(3):
            post(http, base_url, "/runs/log-metric",
                 {"run_id": rid, "key": "loss", "value": i + step, "timestamp": now_ms(),
                  "step": step})
        runs.append(rid)
    r = get(http, base_url, "/metrics/get-history-bulk-interval",
            [("run_ids", runs[0]), ("run_ids", runs[1]), ("metric_key", "loss"),
             ("max_results", "100")])
    assert r.status_code == 200, r.text
    points = r.json()["metrics"]
    assert {(p["run_id"], p["step"]) for p in points} == {(rid, s) for rid in runs
                                                          for s in range(3)}


def test_run_id_and_run_uuid_are_aliases(http, base_url, run_id):
    r = get(http, base_url, "/runs/get", {"run_uuid": run_id})
    assert r.status_code == 200, r.text
    info = r.json()["run"]["info"]
    assert info["run_id"] == run_id and info["run_uuid"] == run_id
    t = now_ms()
    for i, ids in enumerate([{"run_uuid": run_id}, {"run_id": run_id},
                             {"run_id": run_id, "run_uuid": run_id}]):
        r = post(http, base_url, "/runs/log-metric",
                 {**ids, "key": "alias", "value": i, "timestamp": t, "step": i})
        assert r.status_code == 200, r.text
    r = get(http, base_url, "/metrics/get-history", {"run_uuid": run_id, "metric_key": "alias"})
    assert r.status_code == 200, r.text
    assert sorted(m["step"] for m in r.json()["metrics"]) == [0, 1, 2]


def test_get_with_json_body_and_no_query(http, base_url, run_id):
    r = http.get(base_url + API + "/runs/get", data=json.dumps({"run_id": run_id}),
                 headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["run"]["info"]["run_id"] == run_id


def test_delete_with_json_body(http, base_url, exp_id):
    r = post(http, base_url, "/logged-models", {"experiment_id": exp_id, "name": "to-delete"})
    assert r.status_code == 200, r.text
    model_id = r.json()["model"]["info"]["model_id"]
    r = http.delete(base_url + API + f"/logged-models/{model_id}", json={"model_id": model_id},
                    timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert_error(get(http, base_url, f"/logged-models/{model_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    found = post(http, base_url, "/logged-models/search", {"experiment_ids": [exp_id]}).json()
    assert found.get("models", []) == []


def test_responses_use_snake_case_and_numbers(http, base_url, run_id):
    info = get_run(http, base_url, run_id)["info"]
    assert {"run_id", "experiment_id", "start_time", "lifecycle_stage", "artifact_uri"} <= set(info)
    assert isinstance(info["start_time"], int)
    assert info["status"] == "RUNNING"
    assert not any(re.search(r"[A-Z]", k) for k in info)


# -- connection handling -----------------------------------------------------------------------


def test_expect_100_continue(server):
    name = f"continue-{uuid.uuid4().hex}"
    body = json.dumps({"name": name}).encode()
    conn = RawConnection(server.port)
    try:
        conn.send((f"POST {API}/experiments/create HTTP/1.1\r\n"
                   f"Host: 127.0.0.1:{server.port}\r\n"
                   "Content-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n"
                   "Expect: 100-continue\r\n\r\n").encode())
        status, _, _ = conn.read_response()
        assert status == 100
        assert conn.buf == b""  # nothing but the interim response before the body is sent
        conn.send(body)
        status, _, payload = conn.read_response()
        assert status == 200, payload
        assert json.loads(payload)["experiment_id"]
    finally:
        conn.close()
    r = requests.get(server.url + API + "/experiments/get-by-name",
                     params={"experiment_name": name}, timeout=10)
    assert r.status_code == 200


def test_keep_alive(server, run_id):
    conn = httpclient.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        sockets = set()
        for i in range(20):
            body = json.dumps({"run_id": run_id, "key": "ka", "value": i, "timestamp": now_ms(),
                               "step": i})
            conn.request("POST", API + "/runs/log-metric", body=body,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.read() is not None
            assert (resp.getheader("Connection") or "").lower() != "close"
            sockets.add(id(conn.sock))
            conn.request("GET", f"{API}/runs/get?run_id={run_id}")
            resp = conn.getresponse()
            assert resp.status == 200
            json.loads(resp.read())
            sockets.add(id(conn.sock))
        assert len(sockets) == 1, "the server closed a keep-alive connection"
    finally:
        conn.close()


def test_pipelined_requests_on_one_connection(server, run_id):
    """Requests written back to back on one connection are answered in order."""
    conn = RawConnection(server.port)
    try:
        host = f"Host: 127.0.0.1:{server.port}\r\n"
        conn.send((f"GET {API}/runs/get?run_id={run_id} HTTP/1.1\r\n{host}\r\n"
                   f"GET {API}/experiments/get?experiment_id=987654321 HTTP/1.1\r\n{host}\r\n"
                   f"GET /health HTTP/1.1\r\n{host}\r\n").encode())
        status, _, body = conn.read_response()
        assert status == 200 and json.loads(body)["run"]["info"]["run_id"] == run_id
        status, _, body = conn.read_response()
        assert status == 404 and json.loads(body)["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        status, _, body = conn.read_response()
        assert status == 200 and body.strip() == b"OK"
    finally:
        conn.close()
