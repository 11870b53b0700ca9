"""The model registry over raw HTTP: bad input, error envelopes, and nothing left half-done.

Every failing call is followed by a check that the registry still holds exactly what it held
before (models, versions, stages, tags, aliases and timestamps).
"""

import json
import uuid
from types import SimpleNamespace

import pytest

from helpers import API, RawConnection, assert_error, now_ms

RM = "/registered-models"
MV = "/model-versions"


def call(http, base_url, method, path, body=None, params=None, headers=None):
    return http.request(method, base_url + API + path, json=body, params=params,
                        headers=headers, timeout=60)


def ok(resp):
    assert resp.status_code == 200, f"{resp.status_code} {resp.text[:500]}"
    return resp.json()


@pytest.fixture(scope="module")
def run(http, base_url):
    exp = ok(call(http, base_url, "POST", "/experiments/create",
                  {"name": f"registry-http-{uuid.uuid4().hex}"}))["experiment_id"]
    info = ok(call(http, base_url, "POST", "/runs/create",
                   {"experiment_id": exp, "start_time": now_ms()}))["run"]["info"]
    return SimpleNamespace(experiment_id=exp, run_id=info["run_id"],
                           artifact_uri=info["artifact_uri"])


def make_model(http, base_url, run, name, versions=3):
    """A registered model with tags, a description, versions in stages, tags and an alias."""
    ok(call(http, base_url, "POST", RM + "/create",
            {"name": name, "description": "original", "tags": [{"key": "team", "value": "a"}]}))
    for i in range(versions):
        ok(call(http, base_url, "POST", MV + "/create",
                {"name": name, "source": f"{run.artifact_uri}/model{i}", "run_id": run.run_id,
                 "tags": [{"key": "i", "value": str(i)}]}))
    if versions >= 2:
        for version, stage in (("1", "Production"), ("2", "Staging")):
            ok(call(http, base_url, "POST", MV + "/transition-stage",
                    {"name": name, "version": version, "stage": stage,
                     "archive_existing_versions": False}))
        ok(call(http, base_url, "POST", RM + "/alias",
                {"name": name, "alias": "champ", "version": "1"}))
    return name


@pytest.fixture
def model(http, base_url, run):
    return make_model(http, base_url, run, f"rm-{uuid.uuid4().hex[:12]}")


def snapshot(http, base_url, name, headers=None):
    """Everything the registry says about one model, timestamps included."""
    rm = call(http, base_url, "GET", RM + "/get", params={"name": name}, headers=headers)
    versions = call(http, base_url, "GET", MV + "/search",
                    params={"filter": f"name = '{name}'", "max_results": 1000}, headers=headers)
    assert versions.status_code == 200, versions.text
    mvs = sorted(versions.json().get("model_versions", []), key=lambda v: int(v["version"]))
    for mv in mvs:
        mv["tags"] = sorted((t["key"], t.get("value", "")) for t in mv.get("tags", []))
        mv["aliases"] = sorted(mv.get("aliases", []))
    body = rm.json()
    if rm.status_code == 200:
        model = body["registered_model"]
        model["tags"] = sorted((t["key"], t.get("value", "")) for t in model.get("tags", []))
        model["aliases"] = sorted((a["alias"], a["version"]) for a in model.get("aliases", []))
        model["latest_versions"] = sorted(
            (v["version"], v["current_stage"]) for v in model.get("latest_versions", []))
    return rm.status_code, body, mvs


def versions_of(http, base_url, name):
    found = ok(call(http, base_url, "GET", MV + "/search", params={"filter": f"name = '{name}'"}))
    return sorted(int(v["version"]) for v in found.get("model_versions", []))


# -- unknown names and versions ----------------------------------------------------------------


def test_unknown_models_and_versions_are_404(http, base_url, model):
    before = snapshot(http, base_url, model)
    ghost = model + "-ghost"
    calls = [
        ("GET", RM + "/get", None, {"name": ghost}),
        ("POST", RM + "/rename", {"name": ghost, "new_name": ghost + "-2"}, None),
        ("PATCH", RM + "/update", {"name": ghost, "description": "x"}, None),
        ("DELETE", RM + "/delete", {"name": ghost}, None),
        ("POST", RM + "/get-latest-versions", {"name": ghost}, None),
        ("GET", RM + "/get-latest-versions", None, {"name": ghost}),
        ("POST", RM + "/set-tag", {"name": ghost, "key": "k", "value": "v"}, None),
        ("DELETE", RM + "/delete-tag", {"name": ghost, "key": "team"}, None),
        ("POST", RM + "/alias", {"name": ghost, "alias": "champ", "version": "1"}, None),
        ("GET", RM + "/alias", None, {"name": ghost, "alias": "champ"}),
        ("DELETE", RM + "/alias", {"name": ghost, "alias": "champ"}, None),
        ("POST", MV + "/create", {"name": ghost, "source": "s3://bucket/model"}, None),
        ("GET", MV + "/get", None, {"name": ghost, "version": "1"}),
        ("GET", MV + "/get-download-uri", None, {"name": ghost, "version": "1"}),
        ("DELETE", MV + "/delete", {"name": ghost, "version": "1"}, None),
        # Unknown versions of a model that exists.
        ("GET", MV + "/get", None, {"name": model, "version": "99"}),
        ("PATCH", MV + "/update", {"name": model, "version": "99", "description": "x"}, None),
        ("POST", MV + "/transition-stage", {"name": model, "version": "99", "stage": "Staging",
                                            "archive_existing_versions": False}, None),
        ("DELETE", MV + "/delete", {"name": model, "version": "99"}, None),
        ("GET", MV + "/get-download-uri", None, {"name": model, "version": "99"}),
        ("POST", MV + "/set-tag", {"name": model, "version": "99", "key": "k", "value": "v"},
         None),
        ("DELETE", MV + "/delete-tag", {"name": model, "version": "99", "key": "i"}, None),
        ("POST", RM + "/alias", {"name": model, "alias": "other", "version": "99"}, None),
    ]
    for method, path, body, params in calls:
        r = call(http, base_url, method, path, body, params)
        assert r.status_code == 404, (method, path, r.status_code, r.text[:300])
        assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST", (method, path, r.text)
    assert snapshot(http, base_url, model) == before
    assert call(http, base_url, "GET", RM + "/get",
                params={"name": ghost + "-2"}).status_code == 404


def test_bad_version_numbers_rejected(http, base_url, model):
    before = snapshot(http, base_url, model)
    for version in ("abc", "1.5", "1; DROP TABLE model_versions", ""):
        r = call(http, base_url, "GET", MV + "/get", params={"name": model, "version": version})
        assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert snapshot(http, base_url, model) == before


# -- duplicates, stages, aliases ---------------------------------------------------------------


def test_duplicate_registered_model_name(http, base_url, model):
    before = snapshot(http, base_url, model)
    r = call(http, base_url, "POST", RM + "/create",
             {"name": model, "description": "imposter", "tags": [{"key": "team", "value": "b"}]})
    assert_error(r, 400, "RESOURCE_ALREADY_EXISTS")
    assert snapshot(http, base_url, model) == before


def test_missing_required_fields(http, base_url, model):
    before = snapshot(http, base_url, model)
    for method, path, body in [
        ("POST", RM + "/create", {}),
        ("POST", RM + "/create", {"name": ""}),
        ("POST", RM + "/rename", {"name": model}),
        ("POST", RM + "/rename", {"name": model, "new_name": ""}),
        ("POST", MV + "/create", {"name": model}),
        ("POST", MV + "/transition-stage", {"name": model, "version": "1",
                                            "archive_existing_versions": False}),
        ("POST", RM + "/alias", {"name": model, "version": "1"}),
        ("DELETE", RM + "/delete", {}),
        ("DELETE", MV + "/delete", {"name": model}),
    ]:
        r = call(http, base_url, method, path, body)
        assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert snapshot(http, base_url, model) == before


def test_invalid_stages_rejected(http, base_url, model, target):
    before = snapshot(http, base_url, model)
    for stage in ("Prod", "Deleted_Internal", " Staging", "Staging ", "Production\x00", "*"):
        r = call(http, base_url, "POST", MV + "/transition-stage",
                 {"name": model, "version": "3", "stage": stage,
                  "archive_existing_versions": True})
        assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = call(http, base_url, "POST", RM + "/get-latest-versions",
             {"name": model, "stages": ["Production", "Bogus"]})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = call(http, base_url, "GET", RM + "/get-latest-versions",
             params=[("name", model), ("stages", "Bogus")])
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    if target == "cairn":
        # Archiving the holders of a stage only makes sense for Staging and Production; the
        # reference answers 500 here.
        for stage in ("Archived", "None"):
            r = call(http, base_url, "POST", MV + "/transition-stage",
                     {"name": model, "version": "3", "stage": stage,
                      "archive_existing_versions": True})
            assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert snapshot(http, base_url, model) == before

    # Stages are matched case-insensitively and canonicalised.
    mv = ok(call(http, base_url, "POST", MV + "/transition-stage",
                 {"name": model, "version": "3", "stage": "aRcHiVeD",
                  "archive_existing_versions": False}))["model_version"]
    assert mv["current_stage"] == "Archived"


def test_failed_archiving_transition_archives_nothing(http, base_url, model):
    """A transition to an unknown version with archive_existing_versions leaves the others."""
    before = snapshot(http, base_url, model)
    r = call(http, base_url, "POST", MV + "/transition-stage",
             {"name": model, "version": "99", "stage": "Production",
              "archive_existing_versions": True})
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    after = snapshot(http, base_url, model)
    assert after == before
    assert [v["current_stage"] for v in after[2]] == ["Production", "Staging", "None"]


RESERVED_OR_INVALID_ALIASES = [
    "v1", "V1", "v0", "v01", "v1234567890", "latest", "LATEST", "Latest", "has space",
    "a/b", "a.b", "a:b", "semi;colon", "quote'", "new\nline", "x" * 256,
]


def test_invalid_and_reserved_aliases(http, base_url, model):
    before = snapshot(http, base_url, model)
    for alias in RESERVED_OR_INVALID_ALIASES:
        r = call(http, base_url, "POST", RM + "/alias",
                 {"name": model, "alias": alias, "version": "2"})
        assert r.status_code == 400, (alias, r.status_code, r.text[:300])
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE", (alias, r.text)
    r = call(http, base_url, "POST", RM + "/alias", {"name": model, "alias": "", "version": "2"})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    # An alias must not be movable onto a version that does not exist.
    r = call(http, base_url, "POST", RM + "/alias",
             {"name": model, "alias": "champ", "version": "99"})
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    assert snapshot(http, base_url, model) == before

    # Names that merely look like the reserved ones are fine.
    for alias in ("v1a", "version1", "v", "latest-good", "-x_", "x" * 255):
        ok(call(http, base_url, "POST", RM + "/alias",
                {"name": model, "alias": alias, "version": "2"}))
        got = ok(call(http, base_url, "GET", RM + "/alias",
                      params={"name": model, "alias": alias}))["model_version"]
        assert got["version"] == "2"
    aliases = {a["alias"]: a["version"] for a in ok(call(
        http, base_url, "GET", RM + "/get", params={"name": model}))["registered_model"]["aliases"]}
    assert aliases["champ"] == "1"
    assert len(aliases) == 7


def test_rename_onto_existing_name_changes_nothing(http, base_url, run, model):
    other = make_model(http, base_url, run, model + "-other", versions=1)
    before = snapshot(http, base_url, model)
    before_other = snapshot(http, base_url, other)
    r = call(http, base_url, "POST", RM + "/rename", {"name": model, "new_name": other})
    assert_error(r, 400, "RESOURCE_ALREADY_EXISTS")
    r = call(http, base_url, "POST", RM + "/rename", {"name": other, "new_name": model})
    assert_error(r, 400, "RESOURCE_ALREADY_EXISTS")
    assert snapshot(http, base_url, model) == before
    assert snapshot(http, base_url, other) == before_other

    # A successful rename moves everything and frees the old name.
    renamed = ok(call(http, base_url, "POST", RM + "/rename",
                      {"name": model, "new_name": model + "-renamed"}))["registered_model"]
    assert renamed["name"] == model + "-renamed"
    assert call(http, base_url, "GET", RM + "/get", params={"name": model}).status_code == 404
    status, body, versions = snapshot(http, base_url, model + "-renamed")
    assert status == 200
    assert [v["version"] for v in versions] == ["1", "2", "3"]
    assert body["registered_model"]["aliases"] == [("champ", "1")]
    assert body["registered_model"]["tags"] == [("team", "a")]
    assert snapshot(http, base_url, other) == before_other


def test_delete_model_with_versions_cascades(http, base_url, run, model):
    r = call(http, base_url, "DELETE", RM + "/delete", {"name": model})
    assert ok(r) == {}
    assert_error(call(http, base_url, "GET", RM + "/get", params={"name": model}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    for version in ("1", "2", "3"):
        assert_error(call(http, base_url, "GET", MV + "/get",
                          params={"name": model, "version": version}),
                     404, "RESOURCE_DOES_NOT_EXIST")
        assert_error(call(http, base_url, "GET", MV + "/get-download-uri",
                          params={"name": model, "version": version}),
                     404, "RESOURCE_DOES_NOT_EXIST")
    assert versions_of(http, base_url, model) == []
    assert_error(call(http, base_url, "GET", RM + "/alias",
                      params={"name": model, "alias": "champ"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(call(http, base_url, "DELETE", RM + "/delete", {"name": model}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    found = ok(call(http, base_url, "GET", RM + "/search", params={"filter": f"name = '{model}'"}))
    assert found.get("registered_models", []) == []

    # The name starts from scratch: version 1, no tags, no aliases.
    ok(call(http, base_url, "POST", RM + "/create", {"name": model}))
    mv = ok(call(http, base_url, "POST", MV + "/create",
                 {"name": model, "source": f"{run.artifact_uri}/again", "run_id": run.run_id}))
    assert mv["model_version"]["version"] == "1"
    status, body, versions = snapshot(http, base_url, model)
    assert body["registered_model"]["tags"] == []
    assert body["registered_model"]["aliases"] == []
    assert [(v["version"], v["tags"], v["aliases"]) for v in versions] == [("1", [], [])]


# -- verbs and encodings -----------------------------------------------------------------------


def test_delete_and_patch_with_json_bodies(http, base_url, model):
    rm = ok(call(http, base_url, "PATCH", RM + "/update",
                 {"name": model, "description": "patched"}))["registered_model"]
    assert rm["description"] == "patched"
    mv = ok(call(http, base_url, "PATCH", MV + "/update",
                 {"name": model, "version": "2", "description": "v2 patched"}))["model_version"]
    assert mv["description"] == "v2 patched"
    assert ok(call(http, base_url, "DELETE", RM + "/delete-tag",
                   {"name": model, "key": "team"})) == {}
    assert ok(call(http, base_url, "DELETE", MV + "/delete-tag",
                   {"name": model, "version": "1", "key": "i"})) == {}
    assert ok(call(http, base_url, "DELETE", RM + "/alias",
                   {"name": model, "alias": "champ"})) == {}
    assert ok(call(http, base_url, "DELETE", MV + "/delete", {"name": model, "version": "3"})) == {}

    status, body, versions = snapshot(http, base_url, model)
    assert body["registered_model"]["description"] == "patched"
    assert body["registered_model"]["tags"] == []
    assert body["registered_model"]["aliases"] == []
    assert [(v["version"], v["tags"]) for v in versions] == [("1", []), ("2", [("i", "1")])]
    assert versions[1]["description"] == "v2 patched"

    # The wrong verb is refused without side effects.
    before = snapshot(http, base_url, model)
    for method, path, body in [("POST", RM + "/update", {"name": model, "description": "x"}),
                               ("GET", RM + "/delete", None),
                               ("POST", MV + "/delete", {"name": model, "version": "1"}),
                               ("PUT", RM + "/create", {"name": model + "-put"})]:
        r = call(http, base_url, method, path, body,
                 params={"name": model} if body is None else None)
        assert r.status_code in (404, 405), (method, path, r.status_code)
    assert snapshot(http, base_url, model) == before
    assert call(http, base_url, "GET", RM + "/get",
                params={"name": model + "-put"}).status_code == 404


def test_get_latest_versions_post_and_get(http, base_url, model):
    def latest(resp):
        return sorted((v["version"], v["current_stage"])
                      for v in ok(resp).get("model_versions", []))

    everything = [("1", "Production"), ("2", "Staging"), ("3", "None")]
    assert latest(call(http, base_url, "POST", RM + "/get-latest-versions",
                       {"name": model})) == everything
    assert latest(call(http, base_url, "GET", RM + "/get-latest-versions",
                       params={"name": model})) == everything
    assert latest(call(http, base_url, "POST", RM + "/get-latest-versions",
                       {"name": model, "stages": ["production", "STAGING"]})) == everything[:2]
    assert latest(call(http, base_url, "GET", RM + "/get-latest-versions",
                       params=[("name", model), ("stages", "Production"),
                               ("stages", "Staging")])) == everything[:2]
    assert latest(call(http, base_url, "GET", RM + "/get-latest-versions",
                       params=[("name", model), ("stages", "Archived")])) == []
    # A GET without a query string may carry its parameters as a JSON body.
    r = http.get(base_url + API + RM + "/get-latest-versions",
                 data=json.dumps({"name": model, "stages": ["Staging"]}),
                 headers={"Content-Type": "application/json"}, timeout=30)
    assert latest(r) == [("2", "Staging")]


def test_registry_post_requires_json_content_type(http, base_url):
    name = f"ctype-{uuid.uuid4().hex[:10]}"
    r = http.post(base_url + API + RM + "/create", data=json.dumps({"name": name}),
                  headers={"Content-Type": "text/plain"}, timeout=30)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = http.post(base_url + API + RM + "/create", data=b"{not json",
                  headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 400
    assert call(http, base_url, "GET", RM + "/get", params={"name": name}).status_code == 404


# -- model version sources ---------------------------------------------------------------------


def test_model_version_source_traversal_rejected(http, base_url, run, model, server):
    before = snapshot(http, base_url, model)
    au = run.artifact_uri
    sources = [
        "../../etc/passwd",
        "/etc/passwd",
        "file:///etc/passwd",
        str(server.data_dir),
        f"file://{server.data_dir}",
        f"{au}/../../other-run/artifacts",
        f"{au}/model/../../..",
        f"{au}/%2e%2e/%2e%2e/secret",
        f"{au}/%2E%2E/%2E%2E/secret",
        f"{au}/..%2f..%2fsecret",
        f"{au}/%252e%252e/secret",
        f"{au}/x/..",
        f"{au}/./x",
        f"{au}/model\x00",
        f"{au}/a%00b",
        "mlflow-artifacts:/../secret",
        "mlflow-artifacts:/%2e%2e/secret",
        f"runs:/{run.run_id}/../secret",
        "models:/m-0123456789abcdef0123456789abcdef/../x",
        "s3://bucket/../secret",
        "http://evil.example/../secret",
    ]
    for source in sources:
        for body in ({"name": model, "source": source, "run_id": run.run_id},
                     {"name": model, "source": source}):
            r = call(http, base_url, "POST", MV + "/create", body)
            assert r.status_code == 400, (body, r.status_code, r.text[:300])
            assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE", (body, r.text)
    assert snapshot(http, base_url, model) == before
    # No version number was used up by the refused calls.
    mv = ok(call(http, base_url, "POST", MV + "/create",
                 {"name": model, "source": f"{au}/model-ok", "run_id": run.run_id}))
    assert mv["model_version"]["version"] == "4"


# -- search input ------------------------------------------------------------------------------

HOSTILE_FILTERS = [
    "name = 'x'; DROP TABLE registered_models; --",
    "name = 'x' OR 1=1",
    "name = '' OR '1'='1'",
    "name = 'x') OR (1=1",
    "name = 'unterminated",
    'name = "unterminated',
    "tags.`team = 'a'",
    "name =",
    "name LIKE",
    "(name = 'x')",
    "bogus_attribute = 'x'",
    "\x00",
    "a" * 20_000,
    "name = 'x' AND " * 1000 + "name =",
]


def test_hostile_registry_filters(http, base_url, model, target):
    before = snapshot(http, base_url, model)
    filters = list(HOSTILE_FILTERS)
    if target == "cairn":
        filters.append("name = 'x' AND AND")  # the reference ignores the dangling AND
    for path in (RM + "/search", MV + "/search"):
        for f in filters:
            r = call(http, base_url, "GET", path, params={"filter": f})
            assert r.status_code == 400, (path, f[:60], r.status_code, r.text[:300])
            assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE", (path, f[:60], r.text)
        # Quotes inside a quoted value are data, never syntax.
        r = call(http, base_url, "GET", path,
                 params={"filter": f"name = \"{model}' OR '1'='1\""})
        assert ok(r).get("registered_models", ok(r).get("model_versions", [])) == []
    for params in ({"order_by": "bogus DESC"}, {"order_by": "name SIDEWAYS"},
                   {"page_token": "garbage"}, {"max_results": "1001"},
                   {"max_results": "abc"}):
        r = call(http, base_url, "GET", RM + "/search", params=params)
        assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    for params in ({"order_by": "bogus"}, {"page_token": "garbage"}, {"max_results": "0"},
                   {"max_results": "200001"}):
        r = call(http, base_url, "GET", MV + "/search", params=params)
        assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert snapshot(http, base_url, model) == before
    # The client's prompt filter matches models that lack the tag.
    found = ok(call(http, base_url, "GET", RM + "/search", params={
        "filter": f"name = '{model}' AND tag.`mlflow.prompt.is_prompt` != 'true'"}))
    assert [m["name"] for m in found["registered_models"]] == [model]


# -- sizes -------------------------------------------------------------------------------------


def test_tag_limits(http, base_url, model):
    before = snapshot(http, base_url, model)
    for path, body in [
        (RM + "/set-tag", {"name": model, "key": "k", "value": "x" * 100_001}),
        (RM + "/set-tag", {"name": model, "key": "k" * 251, "value": "x"}),
        (MV + "/set-tag", {"name": model, "version": "1", "key": "k", "value": "x" * 100_001}),
        (MV + "/set-tag", {"name": model, "version": "1", "key": "k" * 251, "value": "x"}),
    ]:
        assert_error(call(http, base_url, "POST", path, body), 400, "INVALID_PARAMETER_VALUE")
    # A model whose create call is refused does not exist afterwards.
    name = model + "-big-tag"
    r = call(http, base_url, "POST", RM + "/create",
             {"name": name, "tags": [{"key": "ok", "value": "1"},
                                     {"key": "k", "value": "x" * 100_001}]})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert call(http, base_url, "GET", RM + "/get", params={"name": name}).status_code == 404
    r = call(http, base_url, "POST", MV + "/create",
             {"name": model, "source": "s3://bucket/m",
              "tags": [{"key": "ok", "value": "1"}, {"key": "k", "value": "x" * 100_001}]})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert snapshot(http, base_url, model) == before

    # The largest allowed values round-trip.
    ok(call(http, base_url, "POST", MV + "/set-tag",
            {"name": model, "version": "1", "key": "k" * 250, "value": "v" * 100_000}))
    mv = ok(call(http, base_url, "GET", MV + "/get",
                 params={"name": model, "version": "1"}))["model_version"]
    assert {t["key"]: t["value"] for t in mv["tags"]}["k" * 250] == "v" * 100_000


@pytest.mark.cairn_only
def test_oversized_registry_bodies_rejected(http, base_url, server, model):
    before = snapshot(http, base_url, model)
    r = call(http, base_url, "PATCH", RM + "/update",
             {"name": model, "description": "d" * (2 << 20)})
    assert r.status_code == 413, r.text[:300]
    conn = RawConnection(server.port)
    try:
        conn.send((f"POST {API}{MV}/create HTTP/1.1\r\n"
                   f"Host: 127.0.0.1:{server.port}\r\n"
                   "Content-Type: application/json\r\n"
                   "Content-Length: 1073741824\r\n\r\n").encode())
        try:
            conn.send(b'{"name": "' + model.encode() + b'", "source": "' + b"x" * 65536)
        except OSError:
            pass  # the server may already have answered and closed
        status, _, body = conn.read_response()
        assert status == 413, body[:300]
    finally:
        conn.close()
    assert snapshot(http, base_url, model) == before


# -- tenants -----------------------------------------------------------------------------------


@pytest.mark.cairn_only
def test_workspace_header_isolates_registry(http, base_url):
    name = f"tenant-rm-{uuid.uuid4().hex[:10]}"
    a, b = {"X-MLFLOW-WORKSPACE": "team-a"}, {"X-MLFLOW-WORKSPACE": "team-b"}

    def req(method, path, headers, body=None, params=None):
        return call(http, base_url, method, path, body, params, headers)

    ok(req("POST", RM + "/create", a, {"name": name, "tags": [{"key": "t", "value": "a"}]}))
    ok(req("POST", MV + "/create", a, {"name": name, "source": "s3://bucket/a"}))
    ok(req("POST", RM + "/alias", a, {"name": name, "alias": "champ", "version": "1"}))
    before_a = snapshot(http, base_url, name, headers=a)

    for other in (b, None):
        for method, path, body, params in [
            ("GET", RM + "/get", None, {"name": name}),
            ("GET", MV + "/get", None, {"name": name, "version": "1"}),
            ("GET", MV + "/get-download-uri", None, {"name": name, "version": "1"}),
            ("GET", RM + "/alias", None, {"name": name, "alias": "champ"}),
            ("POST", RM + "/get-latest-versions", {"name": name}, None),
            ("PATCH", RM + "/update", {"name": name, "description": "hijack"}, None),
            ("POST", RM + "/rename", {"name": name, "new_name": name + "-stolen"}, None),
            ("POST", MV + "/transition-stage", {"name": name, "version": "1",
                                                "stage": "Archived",
                                                "archive_existing_versions": False}, None),
            ("POST", RM + "/alias", {"name": name, "alias": "x", "version": "1"}, None),
            ("DELETE", RM + "/alias", {"name": name, "alias": "champ"}, None),
            ("DELETE", MV + "/delete", {"name": name, "version": "1"}, None),
            ("DELETE", RM + "/delete", {"name": name}, None),
        ]:
            r = req(method, path, other, body, params)
            assert r.status_code == 404, (other, method, path, r.status_code, r.text[:200])
        found = ok(req("GET", RM + "/search", other, params={"filter": f"name = '{name}'"}))
        assert found.get("registered_models", []) == []
        found = ok(req("GET", MV + "/search", other, params={"filter": f"name = '{name}'"}))
        assert found.get("model_versions", []) == []
    assert snapshot(http, base_url, name, headers=a) == before_a

    # The same name is free in another workspace and numbers its versions on its own.
    ok(req("POST", RM + "/create", b, {"name": name}))
    ok(req("POST", MV + "/create", b, {"name": name, "source": "s3://bucket/b1"}))
    mv = ok(req("POST", MV + "/create", b, {"name": name, "source": "s3://bucket/b2"}))
    assert mv["model_version"]["version"] == "2"
    ok(req("DELETE", RM + "/delete", b, {"name": name}))
    assert snapshot(http, base_url, name, headers=a) == before_a
