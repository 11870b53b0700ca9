"""The artifact layout: the default tenant's files sit at the artifact root exactly as
`mlflow server --artifacts-destination DIR` lays out DIR, other tenants under `<tenant>/`.

- A data dir of the earlier layout (default tenant under `artifacts/default/`) is moved on
  start, also when earlier starts were killed with SIGKILL at arbitrary moments, and every
  artifact reads back.
- Cairn's artifact root pointed at a folder written by a real `mlflow server
  --artifacts-destination` serves its files as they are.

Both are about Cairn's own data dirs, so they are Cairn-only (the reference server is used as
the writer of the MLflow folder).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import mlflow
import pytest
import requests

from server_process import ServerProcess, free_port

pytestmark = pytest.mark.cairn_only

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".cairn")}


def populate(url: str, workspace: str | None = None, files: int = 3) -> dict[str, bytes]:
    """Logs runs with artifacts and a logged model through the REST API; returns
    {artifact path: bytes} as the artifact service names them (relative to the tenant's
    root)."""
    headers = {"X-MLflow-Workspace": workspace} if workspace else {}
    api = f"{url}/api/2.0/mlflow"

    def post(path: str, body: dict) -> dict:
        r = requests.post(f"{api}/{path}", json=body, headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    exp = post("experiments/create",
               {"name": f"layout-{workspace or 'default'}-{time.time_ns()}"})["experiment_id"]
    expected: dict[str, bytes] = {}
    for i in range(2):
        run_id = post("runs/create", {"experiment_id": exp})["run"]["info"]["run_id"]
        for j in range(files):
            data = os.urandom(100 + 37 * j) + f"{workspace}{i}{j}".encode()
            path = f"{exp}/{run_id}/artifacts/dir{j % 2}/f{j}.bin"
            r = requests.put(f"{url}{ARTIFACTS}/{path}", data=data, headers=headers, timeout=30)
            assert r.status_code == 200, r.text
            expected[path] = data
    model_id = post("logged-models", {"experiment_id": exp, "name": "m"})["model"]["info"][
        "model_id"]
    path = f"{exp}/models/{model_id}/artifacts/MLmodel"
    r = requests.put(f"{url}{ARTIFACTS}/{path}", data=b"flavors: {}\n", headers=headers,
                     timeout=30)
    assert r.status_code == 200, r.text
    expected[path] = b"flavors: {}\n"
    return expected


def read_back(url: str, expected: dict[str, bytes], workspace: str | None = None):
    headers = {"X-MLflow-Workspace": workspace} if workspace else {}
    for path, data in expected.items():
        r = requests.get(f"{url}{ARTIFACTS}/{path}", headers=headers, timeout=30)
        assert r.status_code == 200, (path, r.text)
        assert r.content == data, path
        parent, _, name = path.rpartition("/")
        listed = requests.get(f"{url}{ARTIFACTS}", params={"path": parent}, headers=headers,
                              timeout=30).json()
        assert name in [f["path"] for f in listed["files"]], (path, listed)


def to_old_layout(root: Path):
    """Moves the default tenant's folders under default/, as the earlier layout kept them."""
    (root / "default").mkdir()
    for entry in list(root.iterdir()):
        if entry.name.isdigit():
            entry.rename(root / "default" / entry.name)


def test_old_layout_data_dir_is_moved_on_start(tmp_path, server_factory):
    data = tmp_path / "data"
    server = server_factory(data_dir=data)
    mine = populate(server.url)
    theirs = populate(server.url, workspace="team-a")
    assert server.stop() == 0
    root = data / "artifacts"
    # The current layout: the default tenant at the root, MLflow's own layout.
    for path in mine:
        assert (root / path).is_file(), path
    for path in theirs:
        assert (root / "team-a" / path).is_file(), path
    to_old_layout(root)
    before = files_under(root)

    server = server_factory(data_dir=data)
    read_back(server.url, mine)
    read_back(server.url, theirs, workspace="team-a")
    assert not (root / "default").exists()
    assert not (root / ".cairn-layout-migration").exists()
    moved = {(p[len("default/"):] if p.startswith("default/") else p): b
             for p, b in before.items()}
    assert files_under(root) == moved
    # Idempotent: another start changes nothing.
    assert server.stop() == 0
    server = server_factory(data_dir=data)
    read_back(server.url, mine)
    assert files_under(root) == moved
    assert server.stop() == 0


def test_killed_migrations_are_completed_by_the_next_start(tmp_path, server_factory):
    data = tmp_path / "data"
    server = server_factory(data_dir=data)
    mine = populate(server.url, files=150)
    theirs = populate(server.url, workspace="team-a", files=5)
    assert server.stop() == 0
    root = data / "artifacts"
    to_old_layout(root)

    rng = random.Random(7)
    for _ in range(6):
        proc = ServerProcess("cairn", data)
        proc.port = free_port()
        proc._spawn()
        time.sleep(rng.uniform(0.0, 0.15))
        proc.kill()  # SIGKILL, wherever the move was
    server = server_factory(data_dir=data)
    read_back(server.url, mine)
    read_back(server.url, theirs, workspace="team-a")
    assert not (root / "default").exists()
    assert server.stop() == 0


def test_old_layout_with_a_digit_tenant_refuses_to_start(tmp_path):
    data = tmp_path / "data"
    (data / "artifacts" / "default" / "0").mkdir(parents=True)
    (data / "artifacts" / "default" / "0" / "f.txt").write_text("x")
    (data / "artifacts" / "42").mkdir()  # a tenant named "42" under the earlier rules
    proc = ServerProcess("cairn", data)
    with pytest.raises(Exception) as failed:
        proc.start()
    assert "'42'" in str(failed.value)
    assert (data / "artifacts" / "default" / "0" / "f.txt").is_file()


def test_artifact_root_can_be_an_mlflow_artifacts_destination(tmp_path, server_factory):
    """A folder written by `mlflow server --artifacts-destination` is Cairn's artifact root as
    it is: every file it holds downloads and lists at the same path."""
    reference = ServerProcess("mlflow", tmp_path / "mlflow", workers=1).start()
    try:
        client = mlflow.MlflowClient(tracking_uri=reference.url)
        exp = client.create_experiment("from-mlflow")
        run = client.create_run(exp)
        (tmp_path / "upload").mkdir()
        (tmp_path / "upload" / "notes.txt").write_text("written by mlflow")
        (tmp_path / "upload" / "sub").mkdir()
        (tmp_path / "upload" / "sub" / "data.bin").write_bytes(os.urandom(5000))
        client.log_artifacts(run.info.run_id, str(tmp_path / "upload"), artifact_path="out")
        model = client.create_logged_model(exp, name="lm")
        (tmp_path / "model").mkdir()
        (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")
        client.log_model_artifacts(model.model_id, str(tmp_path / "model"))
    finally:
        reference.stop()
    destination = reference.artifact_root
    written = files_under(destination)
    assert any(p.startswith(f"{exp}/{run.info.run_id}/artifacts/out/") for p in written)
    assert any(p.startswith(f"{exp}/models/{model.model_id}/artifacts/") for p in written)

    server = server_factory(data_dir=tmp_path / "cairn",
                            extra_args=("--artifacts-uri", str(destination)))
    read_back(server.url, written)
    top = requests.get(f"{server.url}{ARTIFACTS}", timeout=30).json()
    assert {f["path"] for f in top["files"]} == {p.split("/")[0] for p in written}
    assert server.stop() == 0
    assert files_under(destination) == written  # nothing moved or rewritten
