#!/usr/bin/env python3
"""Throughput benchmark of the model registry REST API: Cairn against the reference MLflow server.

One run starts each server fresh on a free loopback port (MLflow on a SQLite
backend, Cairn on a temporary data directory), seeds the same set of
registered models into it (not timed), drives the same registry workloads
against it with a multi-process keep-alive HTTP client, stops it, and prints a
results table plus a Cairn/MLflow throughput ratio table. Results are also
written as JSON to bench/results/registry-<timestamp>.json.

See bench/README.md for how to run it and how to read the output.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import random
import sys
import time
import urllib.parse
from typing import Dict, List, Optional, Sequence, Tuple

import benchlib
from benchlib import (
    API,
    MP,
    ApiClient,
    BenchError,
    FixedRequest,
    Prepared,
    Request,
    Row,
    ServerProcess,
    ServerSpec,
    Validator,
    Workload,
    _init_child_signals,
    now_ms,
    progress,
)

# ----------------------------------------------------------------------------
# Seeded registry content. Model number i is fully determined by i, so that
# every response can be checked against what was registered.

STAGES = ("None", "Staging", "Production", "Archived")
TEAMS = 25  # Values of the `team` tag; one in TEAMS models matches the search.
SEARCH_TAG = "team"
SEARCH_TEAM = "team-0"
SEARCH_FILTER = f"tags.`{SEARCH_TAG}` = '{SEARCH_TEAM}'"
SEARCH_MAX_RESULTS = 10000  # What the MLflow Python client sends by default.
ALIAS = "champion"
SOURCE_RUNS = 10  # Runs that seeded versions point at (run_id and source).
SEED_CHUNK = 10  # Models per seeding task.


@dataclasses.dataclass(frozen=True)
class SeedModel:
    """Registered model number `index`: 2 to 4 versions, all tagged with the
    model's team; the latest version in Production or Staging, the one before
    it sometimes in Staging or Archived; the alias `champion` on the latest
    version and `challenger` on the one before it for every third model;
    version 1 deleted in some models."""

    index: int
    name: str
    versions: int
    team: str
    stages: Dict[int, str]  # Version -> current stage, for every live version.
    aliases: Dict[str, int]
    deleted: Tuple[int, ...]

    @classmethod
    def of(cls, index: int) -> "SeedModel":
        versions = 2 + index % 3
        stages = {v: "None" for v in range(1, versions + 1)}
        stages[versions] = "Production" if index % 2 == 0 else "Staging"
        stages[versions - 1] = {0: "Staging", 1: "Archived"}.get(index % 4, "None")
        aliases = {ALIAS: versions}
        if index % 3 == 0:
            aliases["challenger"] = versions - 1
        # Version 1 is never aliased or staged when versions >= 3.
        deleted = (1,) if index % 10 == 5 and versions >= 3 else ()
        for version in deleted:
            del stages[version]
        return cls(
            index=index,
            name=model_name(index),
            versions=versions,
            team=f"team-{index % TEAMS}",
            stages=stages,
            aliases=aliases,
            deleted=deleted,
        )

    def version_tags(self, version: int) -> List[dict]:
        commit = random.Random(self.index * 16 + version).getrandbits(160)
        return [
            {"key": SEARCH_TAG, "value": self.team},
            {"key": "git_commit", "value": f"{commit:040x}"},
        ]

    def latest_versions(self) -> Dict[str, int]:
        """What get-latest-versions without `stages` returns: the highest live
        version in each stage that has one."""
        latest: Dict[str, int] = {}
        for version, stage in self.stages.items():
            latest[stage] = max(version, latest.get(stage, 0))
        return latest


def model_name(index: int) -> str:
    return f"bench-model-{index:05d}"


def source_of(sources: Sequence[Tuple[str, str]], index: int, version: int) -> Tuple[str, str]:
    """(run_id, source) that version `version` of seeded model `index` points at."""
    return sources[(index + version) % len(sources)]


def expected_search_hits(seed_models: int) -> List[Tuple[str, str]]:
    """(name, version) of every live version that SEARCH_FILTER matches."""
    hits = []
    for index in range(seed_models):
        seed = SeedModel.of(index)
        if seed.team == SEARCH_TEAM:
            hits += [(seed.name, str(v)) for v in seed.stages]
    return sorted(hits)


def probe_indices(seed_models: int) -> List[int]:
    """Seeded models whose answers are checked before timing: every kind of
    stage layout, models with a deleted version, and the last model."""
    wanted = {0, 1, 2, 3, 4, 5, 6, 25, seed_models // 2, seed_models - 1}
    return sorted(i for i in wanted if 0 <= i < seed_models)


def _seed_chunk(port: int, sources: Sequence[Tuple[str, str]], indices: Sequence[int]) -> int:
    """Registers the models of `indices` with their versions, stages, aliases
    and deletions, through the same REST calls a client makes."""
    api = ApiClient(port)
    try:
        for index in indices:
            seed = SeedModel.of(index)
            api.call("POST", "registered-models/create", {
                "name": seed.name,
                "description": f"benchmark model {index}",
                "tags": [{"key": "owner", "value": seed.team}],
            })
            for version in range(1, seed.versions + 1):
                run_id, source = source_of(sources, index, version)
                created = api.call("POST", "model-versions/create", {
                    "name": seed.name,
                    "source": source,
                    "run_id": run_id,
                    "tags": seed.version_tags(version),
                })
                got = created.get("model_version", {}).get("version")
                if got != str(version):
                    raise BenchError(f"{seed.name}: created version {got!r}, expected {version}")
            for version, stage in sorted(seed.stages.items()):
                if stage != "None":
                    api.call("POST", "model-versions/transition-stage", {
                        "name": seed.name,
                        "version": str(version),
                        "stage": stage,
                        "archive_existing_versions": False,
                    })
            for alias, version in seed.aliases.items():
                api.call("POST", "registered-models/alias",
                         {"name": seed.name, "alias": alias, "version": str(version)})
            for version in seed.deleted:
                api.call("DELETE", "model-versions/delete",
                         {"name": seed.name, "version": str(version)})
    finally:
        api.close()
    return len(indices)


class Fixtures:
    """Per-server setup state. The registry is seeded before the first
    workload; a failed seeding is not retried, so that every workload reports it."""

    def __init__(self, server: ServerProcess, api: ApiClient, processes: int, seed_models: int):
        self.server = server
        self.api = api
        self.processes = processes
        self.seed_models = seed_models
        self.seed_seconds: Optional[float] = None
        self.seed_versions = 0
        self.sources: List[Tuple[str, str]] = []  # (run_id, source) of real runs.
        self._seed_error: Optional[BenchError] = None
        self._seeded = False
        self._models = 0

    def ensure_seeded(self) -> None:
        if self._seed_error is not None:
            raise BenchError(f"seeding failed earlier: {self._seed_error}")
        if self._seeded:
            return
        try:
            self._create_source_runs()
            self._seed()
        except BenchError as e:
            self._seed_error = e
            raise
        self._seeded = True

    def _create_source_runs(self) -> None:
        """Runs whose ids and artifact locations the model versions refer to,
        as when a client registers a model logged in a run."""
        experiment_id = self.api.create_experiment(f"bench-registry-{now_ms()}")
        for i in range(SOURCE_RUNS):
            run = self.api.call("POST", "runs/create", {
                "experiment_id": experiment_id,
                "run_name": f"train-{i}",
                "start_time": now_ms(),
            })["run"]["info"]
            self.sources.append((run["run_id"], f"{run['artifact_uri']}/model"))

    def _seed(self) -> None:
        """Seeds the registered models from all client processes."""
        chunks = [
            range(start, min(start + SEED_CHUNK, self.seed_models))
            for start in range(0, self.seed_models, SEED_CHUNK)
        ]
        started = time.monotonic()
        done = reported_tenths = 0
        seed = functools.partial(_seed_chunk, self.server.port, self.sources)
        with MP.Pool(self.processes, initializer=_init_child_signals) as pool:
            for count in pool.imap_unordered(seed, chunks):
                done += count
                tenths = done * 10 // self.seed_models
                if sys.stderr.isatty() or tenths > reported_tenths:  # Logs get every 10%.
                    reported_tenths = tenths
                    progress(f"  seeding registered models: {done}/{self.seed_models}",
                             transient=True)
        self.seed_seconds = round(time.monotonic() - started, 1)
        self.seed_versions = sum(SeedModel.of(i).versions for i in range(self.seed_models))
        progress(f"  seeded {self.seed_models} registered models ({self.seed_versions} versions) "
                 f"in {self.seed_seconds} s")

    def new_model(self, label: str) -> str:
        self._models += 1
        name = f"bench-{label}-{self._models}-{now_ms()}"
        self.api.call("POST", "registered-models/create", {"name": name})
        return name


# ----------------------------------------------------------------------------
# Requests


def alias_request(index: int) -> Request:
    query = urllib.parse.urlencode({"name": model_name(index), "alias": ALIAS})
    return "GET", f"{API}/registered-models/alias?{query}", None


def latest_versions_request(index: int) -> Request:
    body = json.dumps({"name": model_name(index)}).encode()
    return "POST", f"{API}/registered-models/get-latest-versions", body


def search_request() -> Request:
    query = urllib.parse.urlencode({"filter": SEARCH_FILTER, "max_results": SEARCH_MAX_RESULTS})
    return "GET", f"{API}/model-versions/search?{query}", None


class RotatingRequests:
    """Walks the seeded models: worker w of n asks for model (w + i*n) mod
    seed_models on call i, so that concurrent workers ask for different models
    and every model is asked for."""

    def __init__(self, build, worker: int, processes: int, seed_models: int) -> None:
        self._requests = [build(index) for index in range(seed_models)]
        self._worker = worker
        self._processes = processes

    def __call__(self, i: int) -> Request:
        return self._requests[(self._worker + i * self._processes) % len(self._requests)]


# ----------------------------------------------------------------------------
# Validators: each checks one response and returns what is wrong, or None.


def tag_map(entity: dict) -> Dict[str, str]:
    return {t["key"]: t.get("value", "") for t in entity.get("tags", [])}


def created_version_validator(name: str, run_id: str, source: str) -> Validator:
    def validate(response: dict) -> Optional[str]:
        mv = response["model_version"]
        want = {"name": name, "version": "1", "source": source, "run_id": run_id,
                "current_stage": "None", "status": "READY"}
        got = {key: mv.get(key) for key in want}
        return None if got == want else f"created version is {got}, expected {want}"

    return validate


def search_validator(seed_models: int) -> Validator:
    expected = expected_search_hits(seed_models)

    def validate(response: dict) -> Optional[str]:
        versions = response.get("model_versions", [])
        for mv in versions:
            if tag_map(mv).get(SEARCH_TAG) != SEARCH_TEAM:
                return f"{mv.get('name')} v{mv.get('version')} does not match the filter"
        got = sorted((mv["name"], mv["version"]) for mv in versions)
        if got != expected:
            missing, extra = set(expected) - set(got), set(got) - set(expected)
            return (f"expected {len(expected)} versions, got {len(got)} "
                    f"(missing {sorted(missing)[:3]}, unexpected {sorted(extra)[:3]})")
        if response.get("next_page_token"):
            return "a single page was expected"
        return None

    return validate


def alias_validator(index: int) -> Validator:
    seed = SeedModel.of(index)

    def validate(response: dict) -> Optional[str]:
        mv = response["model_version"]
        if (mv.get("name"), mv.get("version")) != (seed.name, str(seed.aliases[ALIAS])):
            return (f"{ALIAS} of {seed.name} is v{mv.get('version')} of {mv.get('name')}, "
                    f"expected v{seed.aliases[ALIAS]}")
        want_aliases = sorted(a for a, v in seed.aliases.items() if v == seed.aliases[ALIAS])
        if sorted(mv.get("aliases", [])) != want_aliases:
            return (f"{seed.name} v{mv['version']} has aliases {mv.get('aliases')}, "
                    f"expected {want_aliases}")
        if mv.get("current_stage") != seed.stages[seed.aliases[ALIAS]]:
            return f"{seed.name} v{mv['version']} is in stage {mv.get('current_stage')}"
        if tag_map(mv) != {t["key"]: t["value"] for t in seed.version_tags(seed.versions)}:
            return f"{seed.name} v{mv['version']} has tags {mv.get('tags')}"
        return None

    return validate


def latest_versions_validator(index: int) -> Validator:
    seed = SeedModel.of(index)
    expected = sorted((stage, str(v)) for stage, v in seed.latest_versions().items())

    def validate(response: dict) -> Optional[str]:
        versions = response.get("model_versions", [])
        if any(mv.get("name") != seed.name for mv in versions):
            return f"latest versions of {seed.name} include another model"
        got = sorted((mv.get("current_stage"), mv.get("version")) for mv in versions)
        if got != expected:
            return f"latest versions of {seed.name} are {got}, expected {expected}"
        return None

    return validate


# ----------------------------------------------------------------------------
# Workloads


def prepare_create_version(fx: Fixtures, processes: int) -> Prepared:
    """Each process registers new versions of a fresh model of its own, all
    pointing at the same real run."""
    fx.ensure_seeded()
    run_id, source = fx.sources[0]
    names = [fx.new_model("create-version") for _ in range(processes)]
    factories = [
        FixedRequest("POST", f"{API}/model-versions/create",
                     {"name": name, "source": source, "run_id": run_id})
        for name in names
    ]
    query = urllib.parse.urlencode({"name": names[0], "version": "1"})
    read_back: Request = ("GET", f"{API}/model-versions/get?{query}", None)
    validate = created_version_validator(names[0], run_id, source)
    return Prepared(factories, validate, checks=[(read_back, validate)])


def prepare_search(fx: Fixtures, processes: int) -> Prepared:
    """All processes run the same tag search over every seeded version."""
    fx.ensure_seeded()
    method, path, _ = search_request()
    return Prepared([FixedRequest(method, path)] * processes, search_validator(fx.seed_models))


def prepare_rotating(build, validator):
    """Each call asks about another seeded model; a sample of models is
    checked before timing."""

    def prepare(fx: Fixtures, processes: int) -> Prepared:
        fx.ensure_seeded()
        factories = [RotatingRequests(build, w, processes, fx.seed_models)
                     for w in range(processes)]
        checks = [(build(i), validator(i)) for i in probe_indices(fx.seed_models)]
        return Prepared(factories, checks=checks)

    return prepare


def build_workloads(seed_models: int) -> List[Workload]:
    return [
        Workload("create-model-version", "registry", prepare_create_version),
        Workload("search-model-versions tag", "registry", prepare_search,
                 units="versions", units_per_call=len(expected_search_hits(seed_models))),
        Workload("get-model-version-by-alias", "registry",
                 prepare_rotating(alias_request, alias_validator)),
        Workload("get-latest-versions", "registry",
                 prepare_rotating(latest_versions_request, latest_versions_validator)),
    ]


# Cairn/MLflow throughput ratio each family must reach.
BARS = {"registry": 10.0}
OUTPUT_PREFIX = "registry-"  # Of the default JSON file name.


def run_server_suite(
    spec: ServerSpec, workloads: Sequence[Workload], args: argparse.Namespace
) -> Tuple[List[Row], Dict[str, object]]:
    """Starts one server, seeds it, runs every workload against it, and stops it."""

    def make_fixtures(server: ServerProcess, api: ApiClient) -> Fixtures:
        return Fixtures(server, api, args.processes, args.seed_models)

    def fixture_info(fixtures: Fixtures) -> Dict[str, object]:
        if fixtures.seed_seconds is None:
            return {}
        return {"seed_models_s": fixtures.seed_seconds, "seed_versions": fixtures.seed_versions}

    return benchlib.run_server_suite(spec, workloads, args, make_fixtures, fixture_info)


def settings(args: argparse.Namespace) -> Dict[str, object]:
    return {
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "processes": args.processes,
        "seed_models": args.seed_models,
        "seed_versions": sum(SeedModel.of(i).versions for i in range(args.seed_models)),
        "search_filter": SEARCH_FILTER,
        "search_max_results": SEARCH_MAX_RESULTS,
        "search_hits": len(expected_search_hits(args.seed_models)),
        "alias": ALIAS,
    }


def print_report(
    rows: Sequence[Row], servers: Dict[str, dict], args: argparse.Namespace, compare: bool
) -> None:
    notes = [
        f"{name}: seeding {args.seed_models} registered models ({info['seed_versions']} versions) "
        f"took {info['seed_models_s']} s (not timed)"
        for name, info in servers.items()
        if "seed_models_s" in info
    ]
    benchlib.print_report(rows, compare, BARS, notes,
                          units_legend="model versions returned per second")


# ----------------------------------------------------------------------------
# Entry point


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    benchlib.add_server_args(parser)
    parser.add_argument("--seed-models", type=int, default=1000,
                        help="registered models seeded before the workloads (default: 1000)")
    benchlib.add_selection_args(parser, OUTPUT_PREFIX)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.processes < 1 or args.seed_models < 1:
        parser.error("need --duration > 0, --warmup >= 0, --processes >= 1, --seed-models >= 1")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)

    def report(rows: Sequence[Row], servers: Dict[str, dict], compare: bool) -> None:
        print_report(rows, servers, args, compare)

    workloads = build_workloads(args.seed_models)
    return benchlib.run_benchmark(args, workloads, run_server_suite, report, settings(args), BARS,
                                  output_prefix=OUTPUT_PREFIX)


if __name__ == "__main__":
    sys.exit(main())
