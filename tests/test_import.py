"""`cairn import`: a real `mlflow server` (SQLite backend, and again PostgreSQL backend;
--artifacts-destination) is populated
with the official client, stopped, imported into Cairn, and both servers' API answers are
compared entity by entity: experiments, runs, metric histories, datasets, logged models,
registered models, versions, aliases, stages, tags, artifacts (list and download) and trace
infos. Then: an import killed half way and run again ends in the same state as an uninterrupted
one; bad input (missing file, not an MLflow database, unsupported URI, conflicting data) is
refused with a clear message.

The reference server is the writer and the oracle here, so the module is Cairn-only.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.entities import ViewType

from helpers import service_uri
from server_process import ServerProcess, cairn_binary

pytestmark = pytest.mark.cairn_only


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * 2


@mlflow.trace
def traced_add(a, b):
    return a + b


def sqlite_uri(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def sqlalchemy_uri(uri: str) -> str:
    """The reference server's spelling of a PostgreSQL URI: with the driver the venv has."""
    return uri.replace("postgresql://", "postgresql+psycopg2://", 1)


def run_import(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(cairn_binary()), "import", *args], capture_output=True, text=True,
                          timeout=timeout)


def populate(url: str, scratch: Path) -> dict:
    """Everything the comparison looks at, written through the official client."""
    mlflow.set_tracking_uri(url)
    client = mlflow.MlflowClient(url)
    facts: dict = {}
    exp_a = client.create_experiment("import-a", tags={"team": "a", "purpose": "import test"})
    exp_b = client.create_experiment("import-b")
    exp_gone = client.create_experiment("import-gone")
    facts["experiments"] = [exp_a, exp_b, exp_gone]

    mlflow.set_experiment(experiment_id=exp_a)
    (scratch / "notes.txt").write_text("imported notes\n")
    with mlflow.start_run(run_name="train") as run:
        mlflow.log_params({"lr": "0.1", "depth": "3"})
        for step in range(60):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=1_000 + step)
        mlflow.log_metric("loss", 0.5, step=3, timestamp=1_003)  # a second value at one step
        mlflow.log_metric("acc", 0.75)
        mlflow.set_tags({"k": "v", "stage": "dev"})
        frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0]})
        mlflow.log_input(mlflow.data.from_pandas(frame, name="train-df", targets="y"),
                         context="training")
        mlflow.log_artifact(str(scratch / "notes.txt"), artifact_path="docs")
        info = mlflow.pyfunc.log_model(name="model", python_model=Doubler(),
                                       input_example=pd.DataFrame({"x": [1.0]}))
        mlflow.log_metric("val_score", 0.9, model_id=info.model_id)
        mlflow.log_model_params({"alpha": "0.5"}, model_id=info.model_id)
        traced_add(1, 2)
        traced_add(3, 4)
    facts["run_a"] = run.info.run_id
    facts["model_id"] = info.model_id
    mlflow.flush_trace_async_logging(terminate=False)

    with mlflow.start_run(experiment_id=exp_b, run_name="other") as other:
        mlflow.log_metric("m", float("nan"), step=0)
        mlflow.log_metric("m", float("inf"), step=1)
        mlflow.log_metric("m", -1.5, step=2)
    with mlflow.start_run(experiment_id=exp_b, run_name="doomed") as doomed:
        mlflow.log_param("p", "x")
    client.delete_run(doomed.info.run_id)
    with mlflow.start_run(experiment_id=exp_gone, run_name="in-gone"):
        mlflow.log_metric("z", 1.0)
    client.delete_experiment(exp_gone)
    facts["run_b"] = other.info.run_id

    name = "import-model"
    client.create_registered_model(name, tags={"owner": "ml"}, description="imported model")
    v1 = mlflow.register_model(info.model_uri, name)
    v2 = client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id,
                                     tags={"source": "run"}, description="from the run")
    v3 = mlflow.register_model(info.model_uri, name)
    client.transition_model_version_stage(name, v1.version, "Production")
    client.transition_model_version_stage(name, v2.version, "Staging")
    client.set_registered_model_alias(name, "champion", v1.version)
    client.set_registered_model_alias(name, "challenger", v2.version)
    client.set_model_version_tag(name, v1.version, "validated", "yes")
    client.delete_model_version(name, v3.version)
    client.create_registered_model("import-empty")
    facts["registered"] = [name, "import-empty"]
    return facts


@pytest.fixture(scope="module")
def mlflow_data(tmp_path_factory) -> Path:
    """A stopped reference server's data dir (mlflow.db and mlartifacts/), never modified."""
    root = tmp_path_factory.mktemp("import")
    data = root / "mlflow"
    reference = ServerProcess("mlflow", data, workers=1).start()
    try:
        facts = populate(reference.url, root)
    finally:
        mlflow.set_tracking_uri(None)
        reference.stop()
    (root / "facts.txt").write_text(repr(facts))
    return data


@pytest.fixture(scope="module")
def mlflow_postgres(tmp_path_factory) -> tuple[Path, str]:
    """A stopped reference server's artifact folder and the PostgreSQL database (of its own, in
    the test engine) it kept its metadata in."""
    import psycopg2

    base = service_uri("POSTGRES")
    name = f"mlflow_src_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    admin.close()
    uri = base.rsplit("/", 1)[0] + "/" + name
    root = tmp_path_factory.mktemp("import-pg")
    data = root / "mlflow"
    reference = ServerProcess("mlflow", data, workers=1,
                              extra_args=("--backend-store-uri", sqlalchemy_uri(uri))).start()
    try:
        populate(reference.url, root)
    finally:
        mlflow.set_tracking_uri(None)
        reference.stop()
    return data, uri


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def servers(request, tmp_path_factory):
    """The reference server on a copy of the data, and Cairn on the import of another copy;
    once with MLflow's SQLite database, once with its PostgreSQL database."""
    if request.param == "postgresql":
        yield from servers_from_postgres(request.getfixturevalue("mlflow_postgres"),
                                         tmp_path_factory)
        return
    mlflow_data = request.getfixturevalue("mlflow_data")
    root = tmp_path_factory.mktemp("compare")
    ref_data = root / "reference"
    shutil.copytree(mlflow_data, ref_data)
    source = root / "source"
    shutil.copytree(mlflow_data, source)
    cairn_data = root / "cairn"
    out = run_import("--from", sqlite_uri(source / "mlflow.db"),
                     "--artifacts", str(source / "mlartifacts"), "--data-dir", str(cairn_data))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "result: OK" in out.stdout, out.stdout
    assert "[####################]" in out.stderr  # the progress bars
    # The source is read, never written.
    assert filecmp_equal(source / "mlflow.db", mlflow_data / "mlflow.db")

    reference = ServerProcess("mlflow", ref_data, workers=1).start()
    cairn = ServerProcess("cairn", cairn_data, workers=1).start()
    yield reference, cairn, out
    reference.stop()
    assert cairn.stop() == 0


def servers_from_postgres(source: tuple[Path, str], tmp_path_factory):
    data, uri = source
    root = tmp_path_factory.mktemp("compare-pg")
    cairn_data = root / "cairn"
    out = run_import("--from", uri.replace("postgresql://", "postgresql+psycopg2://"),
                     "--artifacts", str(data / "mlartifacts"), "--data-dir", str(cairn_data))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "result: OK" in out.stdout, out.stdout
    ref_data = root / "reference"
    shutil.copytree(data, ref_data)
    reference = ServerProcess("mlflow", ref_data, workers=1,
                              extra_args=("--backend-store-uri", sqlalchemy_uri(uri))).start()
    cairn = ServerProcess("cairn", cairn_data, workers=1).start()
    yield reference, cairn, out
    reference.stop()
    assert cairn.stop() == 0


def filecmp_equal(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


@pytest.fixture(scope="module")
def clients(servers):
    reference, cairn, _ = servers
    return mlflow.MlflowClient(reference.url), mlflow.MlflowClient(cairn.url)


def same(a, b, what):
    if a != b and isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        for x, y in zip(a, b):
            same(x, y, what)
    if a != b and isinstance(a, dict) and isinstance(b, dict):
        only_a = {k: a[k] for k in a.keys() - b.keys()}
        only_b = {k: b[k] for k in b.keys() - a.keys()}
        changed = {k: (a[k], b[k]) for k in a.keys() & b.keys() if a[k] != b[k]}
        raise AssertionError(f"{what} differs: only in mlflow {only_a}, only in cairn {only_b}, "
                             f"changed {changed}")
    assert a == b, f"{what} differs:\n  mlflow: {a!r}\n  cairn:  {b!r}"


def nan_safe(rows):
    """Rows (tuples) with NaN spelled "nan", so that equal histories compare equal."""
    return [tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in row)
            for row in rows]


# -- the report -------------------------------------------------------------------------------


def test_report_counts_every_entity(servers):
    _, _, out = servers
    lines = {}
    for line in out.stdout.splitlines():
        tokens = line.split()
        if line.startswith("  ") and len(tokens) > 5 and all(t.isdigit() for t in tokens[-5:]):
            lines[" ".join(tokens[:-5])] = [int(t) for t in tokens[-5:]]
    for kind, expected in (("experiments", 4), ("runs", 4), ("logged models", 1),
                           ("registered models", 2), ("model versions", 2), ("aliases", 2),
                           ("traces", 2), ("spans", 2)):
        row = lines[kind]
        source, imported, existing, in_cairn, skipped = row
        assert source == expected and in_cairn == expected and imported == expected, (kind, row)
    assert "metric histories compared value by value" in out.stdout


# -- experiments and runs ---------------------------------------------------------------------


def experiment_view(e):
    return (e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time,
            e.last_update_time, dict(e.tags))


def test_experiments_match(clients):
    ref, cairn = clients
    want = sorted(experiment_view(e) for e in ref.search_experiments(view_type=ViewType.ALL))
    got = sorted(experiment_view(e) for e in cairn.search_experiments(view_type=ViewType.ALL))
    same(want, got, "search_experiments")
    for e in ref.search_experiments(view_type=ViewType.ALL):
        same(experiment_view(e), experiment_view(cairn.get_experiment(e.experiment_id)),
             f"experiment {e.experiment_id}")
        same(experiment_view(e),
             experiment_view(cairn.get_experiment_by_name(e.name)), f"experiment {e.name}")


def dataset_view(d):
    return (d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source,
            d.dataset.schema, d.dataset.profile, sorted((t.key, t.value) for t in d.tags))


def run_view(r):
    i = r.info
    return {
        "info": (i.run_id, i.run_name, i.experiment_id, i.user_id, i.status, i.start_time,
                 i.end_time, i.artifact_uri, i.lifecycle_stage),
        "params": dict(r.data.params),
        "tags": dict(r.data.tags),
        "metrics": {k: ("nan" if math.isnan(v) else v) for k, v in r.data.metrics.items()},
        "datasets": sorted(dataset_view(d) for d in r.inputs.dataset_inputs),
        "model_inputs": sorted(m.model_id for m in (r.inputs.model_inputs or [])),
        "model_outputs": sorted((m.model_id, m.step) for m in (r.outputs.model_outputs or []))
        if r.outputs else [],
    }


def test_runs_and_metric_histories_match(clients):
    ref, cairn = clients
    experiment_ids = [e.experiment_id for e in ref.search_experiments(view_type=ViewType.ALL)]
    want = ref.search_runs(experiment_ids, run_view_type=ViewType.ALL, order_by=["run_id"])
    got = cairn.search_runs(experiment_ids, run_view_type=ViewType.ALL, order_by=["run_id"])
    same([r.info.run_id for r in want], [r.info.run_id for r in got], "search_runs ids")
    assert len(want) == 4
    for w, g in zip(want, got):
        same(run_view(w), run_view(g), f"run {w.info.run_id}")
        same(run_view(w), run_view(cairn.get_run(w.info.run_id)), f"get_run {w.info.run_id}")
        for key in w.data.metrics:
            hw = ref.get_metric_history(w.info.run_id, key)
            hg = cairn.get_metric_history(w.info.run_id, key)
            same(sorted(nan_safe([(m.timestamp, m.step, m.value) for m in hw]), key=repr),
                 sorted(nan_safe([(m.timestamp, m.step, m.value) for m in hg]), key=repr),
                 f"history {key} of {w.info.run_id}")
    # Search still works on imported data.
    hits = cairn.search_runs(experiment_ids, "params.lr = '0.1' and metrics.acc > 0.5")
    assert len(hits) == 1


# -- logged models -----------------------------------------------------------------------------


def logged_model_view(m):
    return (m.model_id, m.experiment_id, m.name, m.artifact_location, m.status,
            m.creation_timestamp, m.last_updated_timestamp, m.model_type, m.source_run_id,
            dict(m.params), dict(m.tags),
            sorted((x.key, x.value, x.step, x.timestamp, x.run_id) for x in (m.metrics or [])))


def test_logged_models_match(clients):
    ref, cairn = clients
    experiment_ids = [e.experiment_id for e in ref.search_experiments()]
    want = ref.search_logged_models(experiment_ids)
    got = cairn.search_logged_models(experiment_ids)
    same(sorted(logged_model_view(m) for m in want), sorted(logged_model_view(m) for m in got),
         "search_logged_models")
    for m in want:
        same(logged_model_view(m), logged_model_view(cairn.get_logged_model(m.model_id)),
             f"logged model {m.model_id}")


# -- registry ----------------------------------------------------------------------------------


def version_view(v):
    return (v.name, v.version, v.creation_timestamp, v.last_updated_timestamp, v.current_stage,
            v.description, v.user_id, v.source, v.run_id, v.status, dict(v.tags),
            sorted(v.aliases))


def registered_view(m):
    # The versions in latest_versions are compared without their aliases: MLflow's SQL store
    # leaves them empty there, Cairn fills them (a difference that has nothing to do with the
    # import; get_model_version and search_model_versions below compare them).
    return (m.name, m.creation_timestamp, m.last_updated_timestamp, m.description,
            dict(m.tags), sorted(m.aliases.items()),
            sorted(version_view(v)[:-1] for v in m.latest_versions))


def test_registered_models_versions_and_aliases_match(clients):
    ref, cairn = clients
    want = ref.search_registered_models(order_by=["name"])
    got = cairn.search_registered_models(order_by=["name"])
    same([registered_view(m) for m in want], [registered_view(m) for m in got],
         "search_registered_models")
    for m in want:
        same(registered_view(m), registered_view(cairn.get_registered_model(m.name)), m.name)
    name = "import-model"
    # Without aliases, which MLflow's SQL store leaves out of search results and Cairn fills.
    same(sorted(version_view(v)[:-1] for v in ref.search_model_versions(f"name = '{name}'")),
         sorted(version_view(v)[:-1] for v in cairn.search_model_versions(f"name = '{name}'")),
         "search_model_versions")
    for version in ("1", "2"):
        same(version_view(ref.get_model_version(name, version)),
             version_view(cairn.get_model_version(name, version)), f"version {version}")
        same(ref.get_model_version_download_uri(name, version),
             cairn.get_model_version_download_uri(name, version), f"download uri {version}")
    for alias in ("champion", "challenger"):
        same(version_view(ref.get_model_version_by_alias(name, alias)),
             version_view(cairn.get_model_version_by_alias(name, alias)), alias)
    with pytest.raises(mlflow.exceptions.MlflowException):
        cairn.get_model_version(name, "3")  # deleted in MLflow
    # The deleted number stays taken.
    created = cairn.create_model_version(name, "mlflow-artifacts:/1/x")
    assert created.version == "4"


# -- artifacts ---------------------------------------------------------------------------------


def listing(client, run_id, path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        out.append((f.path, f.is_dir, f.file_size))
        if f.is_dir:
            out.extend(listing(client, run_id, f.path))
    return out


def test_artifacts_list_and_download_the_same(clients, servers, tmp_path):
    ref, cairn = clients
    experiment_ids = [e.experiment_id for e in ref.search_experiments(view_type=ViewType.ALL)]
    for run in ref.search_runs(experiment_ids, run_view_type=ViewType.ALL):
        run_id = run.info.run_id
        same(listing(ref, run_id), listing(cairn, run_id), f"artifacts of {run_id}")
        for path, is_dir, _ in listing(ref, run_id):
            if is_dir:
                continue
            a = Path(ref.download_artifacts(run_id, path, str(tmp_path / "ref" / run_id)))
            b = Path(cairn.download_artifacts(run_id, path, str(tmp_path / "cairn" / run_id)))
            assert a.read_bytes() == b.read_bytes(), path
    # The logged model loads and predicts from Cairn, by its logged model and registry URIs.
    reference, server, _ = servers
    mlflow.set_tracking_uri(server.url)
    try:
        for uri in ("models:/import-model/1", "models:/import-model@champion"):
            model = mlflow.pyfunc.load_model(uri)
            assert model.predict(pd.DataFrame({"x": [2.0]}))["x"].tolist() == [4.0]
    finally:
        mlflow.set_tracking_uri(None)


# -- traces ------------------------------------------------------------------------------------


def trace_view(t):
    return (t.trace_id, t.client_request_id, t.request_time, t.execution_duration, str(t.state),
            t.request_preview, t.response_preview, dict(t.trace_metadata), dict(t.tags))


def test_trace_infos_match(clients):
    ref, cairn = clients
    exp = ref.get_experiment_by_name("import-a").experiment_id
    want = ref.search_traces(experiment_ids=[exp], include_spans=False)
    got = cairn.search_traces(experiment_ids=[exp], include_spans=False)
    assert len(want) == 2
    same(sorted(trace_view(t.info) for t in want), sorted(trace_view(t.info) for t in got),
         "search_traces")
    ref_store, cairn_store = ref._tracking_client.store, cairn._tracking_client.store
    for t in want:
        same(trace_view(ref_store.get_trace_info(t.info.trace_id)),
             trace_view(cairn_store.get_trace_info(t.info.trace_id)), t.info.trace_id)


def span_view(span):
    return (span.span_id, span.parent_id, span.name, str(span.span_type), span.start_time_ns,
            span.end_time_ns, str(span.status.status_code), span.inputs, span.outputs)


def test_spans_match(clients):
    ref, cairn = clients
    exp = ref.get_experiment_by_name("import-a").experiment_id
    for t in ref.search_traces(experiment_ids=[exp], include_spans=False):
        want = ref.get_trace(t.info.trace_id)
        got = cairn.get_trace(t.info.trace_id)
        assert want.data.spans, t.info.trace_id
        same([span_view(s) for s in want.data.spans], [span_view(s) for s in got.data.spans],
             t.info.trace_id)


def test_an_mlflow_artifact_folder_is_used_in_place(mlflow_data, tmp_path, server_factory):
    """With Cairn's artifact root set to MLflow's --artifacts-destination folder, the import
    copies nothing and Cairn serves the files where MLflow wrote them."""
    source = tmp_path / "source"
    shutil.copytree(mlflow_data, source)
    folder = source / "mlartifacts"
    before = artifact_files(folder)
    out = run_import("--from", sqlite_uri(source / "mlflow.db"), "--artifacts", str(folder),
                     "--artifacts-uri", str(folder), "--data-dir", str(tmp_path / "cairn"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "artifacts used in place" in out.stdout, out.stdout
    server = server_factory(data_dir=tmp_path / "cairn", extra_args=("--artifacts-uri",
                                                                     str(folder)))
    client = mlflow.MlflowClient(server.url)
    run = client.search_runs([client.get_experiment_by_name("import-a").experiment_id],
                             "attributes.run_name = 'train'")[0]
    local = client.download_artifacts(run.info.run_id, "docs/notes.txt", str(tmp_path / "dl"))
    assert Path(local).read_text() == "imported notes\n"
    assert server.stop() == 0
    assert artifact_files(folder) == before


# -- interrupted and resumed -------------------------------------------------------------------


def inflate(db: Path, runs: int):
    """Clones the first run of experiment 1 `runs` times (with its params, tags and metrics),
    so that an import lasts long enough to be killed half way."""
    con = sqlite3.connect(db)
    with con:
        (template,) = con.execute(
            "SELECT run_uuid FROM runs WHERE experiment_id = 1 ORDER BY start_time LIMIT 1"
        ).fetchone()
        for i in range(runs):
            new = uuid.uuid4().hex
            con.execute("INSERT INTO runs (run_uuid, name, source_type, source_name, "
                        "entry_point_name, user_id, status, start_time, end_time, deleted_time, "
                        "source_version, lifecycle_stage, artifact_uri, experiment_id) "
                        "SELECT ?, name || ?, source_type, source_name, "
                        "entry_point_name, user_id, status, start_time + ?, end_time, "
                        "deleted_time, source_version, lifecycle_stage, artifact_uri, "
                        "experiment_id FROM runs WHERE run_uuid = ?", (new, str(i), i, template))
            for table in ("params", "tags"):
                con.execute(f"INSERT INTO {table} (key, value, run_uuid) SELECT key, value, ? "
                            f"FROM {table} WHERE run_uuid = ?", (new, template))
            con.execute("INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) "
                        "SELECT key, value + ?, timestamp, step, is_nan, ? FROM metrics WHERE "
                        "run_uuid = ?", (i, new, template))
    con.close()


CAIRN_TABLES = {
    "experiments": "tenant_id, experiment_id",
    "experiment_tags": "experiment_id, key",
    "runs": "run_uuid",
    "run_tags": "run_uuid, key",
    "params": "run_uuid, key",
    "latest_metrics": "run_uuid, key",
    "metric_chunks": "run_uuid, key, chunk_id",
    "datasets": "dataset_id",
    "inputs": "input_id",
    "input_tags": "input_id, name",
    "logged_models": "model_id",
    "logged_model_metrics": "model_id, key, timestamp",
    "registered_models": "name",
    "registered_model_tags": "name, key",
    "model_versions": "name, version",
    "model_version_tags": "name, version, key",
    "registered_model_aliases": "name, alias",
    "traces": "trace_id",
    "trace_tags": "trace_id, key",
    "trace_request_metadata": "trace_id, key",
    "spans": "trace_id, span_id",
}


def dump(data_dir: Path) -> dict:
    con = sqlite3.connect(data_dir / "meta.db")
    try:
        out = {}
        for table, order in CAIRN_TABLES.items():
            columns = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
            keep = [c for c in columns if c not in ("chunk_id",)]
            out[table] = con.execute(
                f"SELECT {', '.join(keep)} FROM {table} ORDER BY {order}").fetchall()
        return out
    finally:
        con.close()


def artifact_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".cairn")}


def test_import_killed_half_way_resumes_to_the_same_end_state(mlflow_data, tmp_path):
    source = tmp_path / "source"
    shutil.copytree(mlflow_data, source)
    inflate(source / "mlflow.db", 3000)
    args = ("--from", sqlite_uri(source / "mlflow.db"), "--artifacts",
            str(source / "mlartifacts"))

    resumed = tmp_path / "resumed"
    proc = subprocess.Popen([str(cairn_binary()), "import", *args, "--data-dir", str(resumed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    killed_at = None
    try:
        for line in proc.stderr:
            if line.startswith("runs ") and "/" in line:
                done, total = line.split()[-1].split("/")
                if 0 < int(done) < int(total):
                    killed_at = line.strip()
                    os.killpg(proc.pid, signal.SIGKILL)
                    break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert killed_at is not None, "the import finished before it could be interrupted"
    partial = dump(resumed)
    assert 0 < len(partial["runs"]) < 3004, killed_at

    again = run_import(*args, "--data-dir", str(resumed))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "result: OK" in again.stdout
    runs_line = next(l for l in again.stdout.splitlines() if l.strip().startswith("runs"))
    assert int(runs_line.split()[3]) >= len(partial["runs"]), runs_line  # "existing"

    clean = tmp_path / "clean"
    once = run_import(*args, "--data-dir", str(clean))
    assert once.returncode == 0, once.stdout + once.stderr

    got, want = dump(resumed), dump(clean)
    for table in CAIRN_TABLES:
        assert got[table] == want[table], f"{table} differs after the resumed import"
    assert artifact_files(resumed / "artifacts") == artifact_files(clean / "artifacts")
    # A third run changes nothing either.
    third = run_import(*args, "--data-dir", str(resumed))
    assert third.returncode == 0
    assert dump(resumed) == want


# -- bad input ---------------------------------------------------------------------------------


def test_missing_file_is_refused(tmp_path):
    out = run_import("--from", sqlite_uri(tmp_path / "nope.db"), "--data-dir",
                     str(tmp_path / "data"))
    assert out.returncode == 1
    assert "no MLflow database" in out.stderr


def test_files_that_are_not_mlflow_databases_are_refused(tmp_path, mlflow_data):
    text = tmp_path / "text.db"
    text.write_text("just some text, not a database at all\n" * 20)
    out = run_import("--from", sqlite_uri(text), "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 2
    assert "not a readable SQLite database" in out.stderr, out.stderr
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.close()
    out = run_import("--from", sqlite_uri(other), "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 2
    assert "not an MLflow tracking database" in out.stderr, out.stderr


def test_unsupported_uris_are_refused(tmp_path):
    out = run_import("--from", "postgresql://user@127.0.0.1:1/mlflow", "--data-dir",
                     str(tmp_path / "data"))
    assert out.returncode == 1
    assert "cannot connect" in out.stderr, out.stderr
    out = run_import("--from", "postgresql://127.0.0.1/mlflow?pool_size=0", "--data-dir",
                     str(tmp_path / "data"))
    assert out.returncode == 2
    assert "pool_size" in out.stderr, out.stderr
    out = run_import("--from", "mysql://user@localhost/mlflow", "--data-dir",
                     str(tmp_path / "data"))
    assert out.returncode == 2
    assert "sqlite:///" in out.stderr, out.stderr
    out = run_import("--data-dir", str(tmp_path / "data"))
    assert out.returncode == 2
    assert "--from" in out.stderr


def test_conflicting_data_is_never_overwritten(tmp_path, mlflow_data, server_factory):
    data = tmp_path / "data"
    server = server_factory(data_dir=data)
    exp = mlflow.MlflowClient(server.url).create_experiment("not-from-mlflow")
    assert exp == "1"
    assert server.stop() == 0
    out = run_import("--from", sqlite_uri(mlflow_data / "mlflow.db"), "--data-dir", str(data))
    assert out.returncode == 1
    assert "experiment 1" in out.stderr and "not-from-mlflow" in out.stderr, out.stderr
    server = server_factory(data_dir=data)
    client = mlflow.MlflowClient(server.url)
    assert client.get_experiment("1").name == "not-from-mlflow"
    assert client.search_registered_models() == []
    assert server.stop() == 0


def test_help_names_the_options():
    out = subprocess.run([str(cairn_binary()), "import", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    for option in ("--from", "--artifacts", "--tenant"):
        assert option in out.stdout
