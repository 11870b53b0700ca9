"""Tracking through the MLflow 2.x client: experiments, runs, batches, search, artifacts."""

import math
import time

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType
from mlflow.exceptions import MlflowException


def now_ms() -> int:
    return int(time.time() * 1000)


def test_client_is_mlflow_2():
    assert mlflow.__version__.startswith("2.")


def test_experiment_lifecycle(client, unique):
    exp_id = client.create_experiment(unique, tags={"team": "vision"})
    exp = client.get_experiment(exp_id)
    assert exp.name == unique
    assert exp.lifecycle_stage == "active"
    assert exp.tags["team"] == "vision"
    assert exp.artifact_location
    assert client.get_experiment_by_name(unique).experiment_id == exp_id

    client.set_experiment_tag(exp_id, "stage", "dev")
    client.rename_experiment(exp_id, unique + "-renamed")
    exp = client.get_experiment(exp_id)
    assert exp.name == unique + "-renamed"
    assert exp.tags["stage"] == "dev"

    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    active = client.search_experiments(filter_string=f"name = '{unique}-renamed'")
    assert active == []
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY,
                                        filter_string=f"name = '{unique}-renamed'")
    assert [e.experiment_id for e in deleted] == [exp_id]

    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"


def test_duplicate_experiment_name_is_rejected(client, unique):
    client.create_experiment(unique)
    with pytest.raises(MlflowException) as e:
        client.create_experiment(unique)
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_missing_experiment(client, unique):
    assert client.get_experiment_by_name(unique) is None
    with pytest.raises(MlflowException) as e:
        client.get_experiment("987654321")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_experiments_filter_order_and_pages(client, unique):
    ids = [client.create_experiment(f"{unique}-{i}", tags={"i": str(i)}) for i in range(3)]
    found = client.search_experiments(filter_string=f"name LIKE '{unique}-%'",
                                      order_by=["name DESC"])
    assert [e.experiment_id for e in found] == ids[::-1]
    tagged = client.search_experiments(filter_string=f"name LIKE '{unique}-%' AND tags.i = '1'")
    assert [e.experiment_id for e in tagged] == [ids[1]]

    page = client.search_experiments(max_results=2, filter_string=f"name LIKE '{unique}-%'",
                                     order_by=["name ASC"])
    assert [e.experiment_id for e in page] == ids[:2]
    assert page.token
    rest = client.search_experiments(max_results=2, filter_string=f"name LIKE '{unique}-%'",
                                     order_by=["name ASC"], page_token=page.token)
    assert [e.experiment_id for e in rest] == ids[2:]
    assert not rest.token


def test_run_params_metrics_tags(client, unique):
    exp_id = client.create_experiment(unique)
    run = client.create_run(exp_id, tags={"owner": "ana"}, run_name="first")
    run_id = run.info.run_id
    assert run.info.status == "RUNNING"
    assert run.info.run_name == "first"
    assert run.info.artifact_uri

    client.log_param(run_id, "lr", "0.1")
    client.log_metric(run_id, "loss", 0.5, timestamp=now_ms(), step=0)
    client.log_metric(run_id, "loss", 0.25, timestamp=now_ms(), step=1)
    client.set_tag(run_id, "phase", "train")

    got = client.get_run(run_id)
    assert got.data.params == {"lr": "0.1"}
    assert got.data.metrics == {"loss": 0.25}
    assert got.data.tags["owner"] == "ana"
    assert got.data.tags["phase"] == "train"
    assert got.data.tags["mlflow.runName"] == "first"

    client.delete_tag(run_id, "phase")
    assert "phase" not in client.get_run(run_id).data.tags

    # A logged parameter cannot change its value.
    with pytest.raises(MlflowException) as e:
        client.log_param(run_id, "lr", "0.2")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_log_batch_and_metric_history(client, unique):
    exp_id = client.create_experiment(unique)
    run_id = client.create_run(exp_id).info.run_id
    ts = now_ms()
    client.log_batch(
        run_id,
        metrics=[Metric("acc", 0.1 * step, ts + step, step) for step in range(5)],
        params=[Param("depth", "3"), Param("criterion", "gini")],
        tags=[RunTag("batch", "yes")],
    )
    run = client.get_run(run_id)
    assert run.data.params == {"depth": "3", "criterion": "gini"}
    assert run.data.tags["batch"] == "yes"
    assert run.data.metrics["acc"] == pytest.approx(0.4)

    history = client.get_metric_history(run_id, "acc")
    assert sorted((m.step, m.value, m.timestamp) for m in history) == [
        (step, pytest.approx(0.1 * step), ts + step) for step in range(5)]
    assert client.get_metric_history(run_id, "missing") == []


def test_fluent_run(unique):
    mlflow.set_experiment(unique)
    with mlflow.start_run(run_name="fluent") as run:
        mlflow.log_params({"a": 1, "b": "x"})
        mlflow.log_metrics({"m1": 1.5, "m2": 2.5}, step=3)
        mlflow.set_tags({"t": "v"})
    got = mlflow.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.info.end_time >= got.info.start_time
    assert got.data.params == {"a": "1", "b": "x"}
    assert got.data.metrics == {"m1": 1.5, "m2": 2.5}
    assert got.data.tags["t"] == "v"


def test_set_terminated_and_delete_restore_run(client, unique):
    exp_id = client.create_experiment(unique)
    run_id = client.create_run(exp_id).info.run_id
    client.set_terminated(run_id, status="FAILED")
    info = client.get_run(run_id).info
    assert info.status == RunStatus.to_string(RunStatus.FAILED)
    assert info.end_time is not None and info.end_time >= info.start_time

    client.update_run(run_id, status="FINISHED", name="renamed")
    info = client.get_run(run_id).info
    assert (info.status, info.run_name) == ("FINISHED", "renamed")

    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([exp_id]) == []
    assert [r.info.run_id for r in client.search_runs([exp_id], run_view_type=ViewType.ALL)] \
        == [run_id]
    client.restore_run(run_id)
    assert [r.info.run_id for r in client.search_runs([exp_id])] == [run_id]


def test_search_runs_filters_and_order(client, unique):
    exp_id = client.create_experiment(unique)
    ids = []
    for i, (acc, model) in enumerate([(0.7, "tree"), (0.9, "tree"), (0.8, "linear")]):
        run_id = client.create_run(exp_id, run_name=f"r{i}").info.run_id
        client.log_batch(run_id, metrics=[Metric("acc", acc, now_ms(), 0)],
                         params=[Param("model", model)], tags=[RunTag("i", str(i))])
        ids.append(run_id)
    client.set_terminated(ids[2])

    def search(filter_string="", order_by=None, **kwargs):
        runs = client.search_runs([exp_id], filter_string, order_by=order_by, **kwargs)
        return [r.info.run_id for r in runs]

    assert search(order_by=["metrics.acc DESC"]) == [ids[1], ids[2], ids[0]]
    assert search(order_by=["metrics.acc ASC"]) == [ids[0], ids[2], ids[1]]
    assert search("params.model = 'tree'", order_by=["metrics.acc DESC"]) == [ids[1], ids[0]]
    assert search("metrics.acc > 0.75 AND params.model = 'tree'") == [ids[1]]
    assert search("tags.i = '2'") == [ids[2]]
    assert search("attributes.status = 'FINISHED'") == [ids[2]]
    assert search("attributes.run_name = 'r0'") == [ids[0]]
    assert search("params.model LIKE 'lin%'") == [ids[2]]
    assert search(order_by=["params.model ASC", "metrics.acc DESC"]) == [ids[2], ids[1], ids[0]]

    first = client.search_runs([exp_id], order_by=["metrics.acc DESC"], max_results=2)
    assert [r.info.run_id for r in first] == [ids[1], ids[2]]
    assert first.token
    rest = client.search_runs([exp_id], order_by=["metrics.acc DESC"], max_results=2,
                              page_token=first.token)
    assert [r.info.run_id for r in rest] == [ids[0]]

    # The fluent search returns a pandas DataFrame.
    df = mlflow.search_runs([exp_id], filter_string="params.model = 'tree'",
                            order_by=["metrics.acc DESC"])
    assert list(df["run_id"]) == [ids[1], ids[0]]
    assert list(df["metrics.acc"]) == [0.9, 0.7]


def test_artifacts_log_list_download(client, unique, tmp_path):
    exp_id = client.create_experiment(unique)
    run_id = client.create_run(exp_id).info.run_id
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.bin").write_bytes(bytes(range(256)) * 100)
    single = tmp_path / "single.json"
    single.write_text('{"k": 1}')

    client.log_artifact(run_id, str(single))
    client.log_artifacts(run_id, str(src), artifact_path="dir")

    top = {(f.path, f.is_dir) for f in client.list_artifacts(run_id)}
    assert top == {("single.json", False), ("dir", True)}
    listing = {f.path: f for f in client.list_artifacts(run_id, "dir")}
    assert set(listing) == {"dir/a.txt", "dir/sub"}
    assert listing["dir/a.txt"].file_size == 5
    sub = client.list_artifacts(run_id, "dir/sub")
    assert [(f.path, f.file_size) for f in sub] == [("dir/sub/b.bin", 25600)]

    out = tmp_path / "out"
    out.mkdir()
    path = client.download_artifacts(run_id, "dir", str(out))
    assert (out / "dir" / "a.txt").read_text() == "alpha"
    assert (out / "dir" / "sub" / "b.bin").read_bytes() == bytes(range(256)) * 100
    assert path.endswith("dir")
    text = mlflow.artifacts.load_text(f"runs:/{run_id}/single.json")
    assert text == '{"k": 1}'

    # The fluent helpers for in-memory objects.
    with mlflow.start_run(run_id=run_id):
        mlflow.log_text("hello", "notes/hello.txt")
        mlflow.log_dict({"x": [1, 2]}, "notes/d.json")
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/notes/d.json") == {"x": [1, 2]}
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt") == "hello"


def test_non_finite_metric_values(client, unique):
    exp_id = client.create_experiment(unique)
    run_id = client.create_run(exp_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("nan", float("nan"), now_ms(), 0),
                                      Metric("pos", float("inf"), now_ms(), 0),
                                      Metric("neg", float("-inf"), now_ms(), 0)])
    metrics = client.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["pos"] > 1e308
    assert metrics["neg"] < -1e308


def test_dataset_inputs(client, unique):
    import pandas as pd

    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(df, name="toy", targets="y")
    mlflow.set_experiment(unique)
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training", tags={"split": "train"})
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "toy"
    assert inputs[0].dataset.digest == dataset.digest
    assert {t.key: t.value for t in inputs[0].tags} == {"mlflow.data.context": "training",
                                                        "split": "train"}


def test_nested_runs_and_default_order(client, unique):
    mlflow.set_experiment(unique)
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            pass
    exp_id = parent.info.experiment_id
    children = client.search_runs([exp_id],
                                  f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert [r.info.run_id for r in children] == [child.info.run_id]
    # Without order_by, the newest run comes first.
    assert [r.info.run_name for r in client.search_runs([exp_id])] == ["child", "parent"]
    by_start = client.search_runs([exp_id], order_by=["attributes.start_time ASC"])
    assert [r.info.run_name for r in by_start] == ["parent", "child"]


def test_asynchronous_logging(client, unique):
    exp_id = client.create_experiment(unique)
    run_id = client.create_run(exp_id).info.run_id
    futures = [client.log_metric(run_id, "m", float(i), step=i, synchronous=False)
               for i in range(5)]
    futures.append(client.log_param(run_id, "p", "1", synchronous=False))
    futures.append(client.set_tag(run_id, "t", "x", synchronous=False))
    for future in futures:
        future.wait()
    run = client.get_run(run_id)
    assert run.data.params == {"p": "1"}
    assert run.data.tags["t"] == "x"
    assert sorted(m.step for m in client.get_metric_history(run_id, "m")) == list(range(5))
