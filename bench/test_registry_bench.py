"""Unit tests of the registry benchmark's pure parts (no server needed).

Run with: .venv/bin/python -m pytest bench/test_registry_bench.py
"""

import sys
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import registry_bench as rb  # noqa: E402


def test_seed_models_are_consistent():
    for index in range(300):
        seed = rb.SeedModel.of(index)
        assert 2 <= seed.versions <= 4
        live = set(range(1, seed.versions + 1)) - set(seed.deleted)
        assert set(seed.stages) == live
        assert all(stage in rb.STAGES for stage in seed.stages.values())
        # Aliases point at live versions; champion at the latest one.
        assert set(seed.aliases.values()) <= live
        assert seed.aliases[rb.ALIAS] == seed.versions
        assert seed.stages[seed.versions] in ("Production", "Staging")
    assert rb.SeedModel.of(0).name == "bench-model-00000"
    # Some models have a deleted version, some a challenger alias.
    assert any(rb.SeedModel.of(i).deleted for i in range(30))
    assert any("challenger" in rb.SeedModel.of(i).aliases for i in range(30))


def test_latest_versions_take_the_highest_live_version_per_stage():
    # Model 4: versions 1..3; v3 Production, v2 Staging, v1 None.
    assert rb.SeedModel.of(4).latest_versions() == {"Production": 3, "Staging": 2, "None": 1}
    # Model 6: versions 1..2; v2 Production, v1 None.
    assert rb.SeedModel.of(6).latest_versions() == {"Production": 2, "None": 1}
    # Model 1: versions 1..3; v3 Staging, v2 Archived, v1 None.
    assert rb.SeedModel.of(1).latest_versions() == {"Staging": 3, "Archived": 2, "None": 1}
    # Model 5: versions 1..4, v1 deleted; v4 Staging, v3 Archived, v2 None.
    seed = rb.SeedModel.of(5)
    assert seed.deleted == (1,)
    assert seed.latest_versions() == {"Staging": 4, "Archived": 3, "None": 2}


def test_search_hits_are_the_live_versions_of_one_team():
    hits = rb.expected_search_hits(1000)
    assert len(hits) == len(set(hits))
    names = {name for name, _ in hits}
    assert len(names) == 1000 // rb.TEAMS
    assert all(rb.SeedModel.of(int(name.rsplit("-", 1)[1])).team == rb.SEARCH_TEAM
               for name in names)
    # Model 75 (team-0) has only 2 + 75 % 3 = 2 versions, so none is deleted.
    assert ("bench-model-00075", "1") in hits and ("bench-model-00075", "2") in hits
    # Model 25 (team-0) has 3 versions and version 1 deleted: not a hit.
    assert ("bench-model-00025", "1") not in hits
    assert ("bench-model-00025", "2") in hits
    for name, version in hits:
        seed = rb.SeedModel.of(int(name.rsplit("-", 1)[1]))
        assert int(version) not in seed.deleted


def test_search_request_carries_the_filter_in_the_query():
    method, path, body = rb.search_request()
    assert (method, body) == ("GET", None)
    url = urllib.parse.urlparse(path)
    assert url.path == "/api/2.0/mlflow/model-versions/search"
    query = urllib.parse.parse_qs(url.query)
    assert query["filter"] == ["tags.`team` = 'team-0'"]
    assert query["max_results"] == ["10000"]


def version(name, number, stage="None", tags=(), aliases=()):
    return {
        "name": name,
        "version": str(number),
        "current_stage": stage,
        "tags": [{"key": k, "value": v} for k, v in tags],
        "aliases": list(aliases),
    }


def test_search_validator():
    validate = rb.search_validator(100)
    hits = rb.expected_search_hits(100)
    team = [(rb.SEARCH_TAG, rb.SEARCH_TEAM)]
    good = {"model_versions": [version(n, v, tags=team) for n, v in hits]}
    assert validate(good) is None
    assert "expected" in validate({"model_versions": good["model_versions"][1:]})
    wrong_tag = [version(n, v, tags=[(rb.SEARCH_TAG, "team-1")]) for n, v in hits]
    assert "does not match" in validate({"model_versions": wrong_tag})
    assert "single page" in validate({**good, "next_page_token": "x"})


def alias_response(index, **overrides):
    seed = rb.SeedModel.of(index)
    v = seed.versions
    mv = version(seed.name, v, seed.stages[v],
                 tags=[(t["key"], t["value"]) for t in seed.version_tags(v)],
                 aliases=[a for a, n in seed.aliases.items() if n == v])
    mv.update(overrides)
    return {"model_version": mv}


def test_alias_validator():
    validate = rb.alias_validator(3)
    assert validate(alias_response(3)) is None
    assert "expected v" in validate(alias_response(3, version="1"))
    assert "aliases" in validate(alias_response(3, aliases=[]))
    assert "stage" in validate(alias_response(3, current_stage="Archived"))
    assert "tags" in validate(alias_response(3, tags=[]))


def test_latest_versions_validator():
    seed = rb.SeedModel.of(5)
    validate = rb.latest_versions_validator(5)
    good = [version(seed.name, v, stage) for stage, v in seed.latest_versions().items()]
    assert validate({"model_versions": good}) is None
    assert "expected" in validate({"model_versions": good[:-1]})
    # The deleted version 1 must not come back as the latest "None" version.
    stale = good + [version(seed.name, 1, "None")]
    assert "expected" in validate({"model_versions": stale})
    other = [dict(good[0], name="bench-model-00004")] + good[1:]
    assert "another model" in validate({"model_versions": other})


def test_created_version_validator():
    validate = rb.created_version_validator("m", "r" * 32, "mlflow-artifacts:/1/r/artifacts/model")
    mv = {"name": "m", "version": "1", "source": "mlflow-artifacts:/1/r/artifacts/model",
          "run_id": "r" * 32, "current_stage": "None", "status": "READY"}
    assert validate({"model_version": mv}) is None
    assert "expected" in validate({"model_version": dict(mv, version="2")})
    assert "expected" in validate({"model_version": dict(mv, status="PENDING_REGISTRATION")})


def test_rotating_requests_spread_workers_over_all_models():
    processes, models = 3, 10
    factories = [rb.RotatingRequests(rb.alias_request, w, processes, models)
                 for w in range(processes)]
    seen = [factories[w](i)[1] for i in range(4) for w in range(processes)]
    # The first `models` calls across workers ask for every model once.
    assert len(set(seen[:models])) == models
    name = urllib.parse.parse_qs(urllib.parse.urlparse(factories[1](0)[1]).query)["name"]
    assert name == [rb.model_name(1)]


def test_probe_indices_stay_in_range_and_cover_deletions():
    assert rb.probe_indices(1) == [0]
    indices = rb.probe_indices(1000)
    assert indices[-1] == 999
    assert any(rb.SeedModel.of(i).deleted for i in indices)
    assert {i % 4 for i in indices} == {0, 1, 2, 3}


class FakeApi:
    def __init__(self, responses):
        self.responses = list(responses)
        self.sent = []

    def send(self, request):
        self.sent.append(request)
        return self.responses.pop(0)


def test_probe_runs_every_check_and_reports_the_first_problem():
    request = ("GET", "/x", None)
    ok = lambda response: None  # noqa: E731
    bad = lambda response: "wrong"  # noqa: E731
    prepared = benchlib.Prepared([lambda i: request], checks=[(request, ok), (request, bad)])
    api = FakeApi([(200, b"{}"), (200, b"{}")])
    assert benchlib.probe(api, prepared) == "wrong"
    assert len(api.sent) == 2
    failing = FakeApi([(404, b'{"error_code":"RESOURCE_DOES_NOT_EXIST"}')])
    assert "HTTP 404" in benchlib.probe(failing, prepared)


def test_ratio_table_applies_the_registry_bar():
    def row(workload, server, calls):
        result = benchlib.summarize([], 1.0, 0.0)
        result.calls_per_s = calls
        return benchlib.Row(workload, "registry", server, None, 1, result)

    rows = [
        row("get-latest-versions", "mlflow", 100.0),
        row("get-latest-versions", "cairn", 1500.0),
        row("create-model-version", "mlflow", 100.0),
        row("create-model-version", "cairn", 900.0),
    ]
    lines = {line.split()[0]: line.split()
             for line in benchlib.ratio_table(rows, rb.BARS).splitlines()[2:]}
    assert lines["get-latest-versions"][-3:] == ["15.0x", ">=10x", "PASS"]
    assert lines["create-model-version"][-3:] == ["9.0x", ">=10x", "FAIL"]
