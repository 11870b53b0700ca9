"""Experiments, runs, params, metrics, tags and search through the official mlflow client."""

import math
import time

import mlflow
import pandas as pd
import pytest
from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType
from mlflow.exceptions import MlflowException

from helpers import assert_mlflow_error, now_ms


@pytest.fixture
def exp_id(client, unique):
    return client.create_experiment(f"exp-{unique}")


# -- experiments -------------------------------------------------------------------------------


def test_default_experiment_exists(client):
    exp = client.get_experiment("0")
    assert exp.name == "Default"
    assert exp.lifecycle_stage == "active"
    assert client.get_experiment_by_name("Default").experiment_id == "0"


def test_create_and_get_experiment(client, unique):
    before = now_ms()
    exp_id = client.create_experiment(f"create-{unique}", tags={"team": "core", "empty": ""})
    assert isinstance(exp_id, str) and exp_id

    exp = client.get_experiment(exp_id)
    assert exp.experiment_id == exp_id
    assert exp.name == f"create-{unique}"
    assert exp.lifecycle_stage == "active"
    assert exp.tags == {"team": "core", "empty": ""}
    assert exp.artifact_location
    assert before - 5000 <= exp.creation_time <= now_ms() + 5000
    assert exp.last_update_time >= exp.creation_time

    by_name = client.get_experiment_by_name(f"create-{unique}")
    assert by_name.experiment_id == exp_id
    assert by_name.tags == exp.tags


def test_get_experiment_by_name_missing_is_none(client, unique):
    assert client.get_experiment_by_name(f"missing-{unique}") is None


def test_get_unknown_experiment_raises_not_found(client):
    with pytest.raises(MlflowException) as e:
        client.get_experiment("987654321")
    assert_mlflow_error(e, "RESOURCE_DOES_NOT_EXIST")


def test_duplicate_experiment_name_rejected(client, unique):
    client.create_experiment(f"dup-{unique}")
    with pytest.raises(MlflowException) as e:
        client.create_experiment(f"dup-{unique}")
    assert_mlflow_error(e, "RESOURCE_ALREADY_EXISTS")


def test_fluent_set_experiment_creates_then_reuses(unique):
    exp = mlflow.set_experiment(f"fluent-{unique}")
    again = mlflow.set_experiment(f"fluent-{unique}")
    assert again.experiment_id == exp.experiment_id
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == exp.experiment_id


def test_rename_experiment(client, exp_id, unique):
    client.rename_experiment(exp_id, f"renamed-{unique}")
    assert client.get_experiment(exp_id).name == f"renamed-{unique}"
    assert client.get_experiment_by_name(f"renamed-{unique}").experiment_id == exp_id
    assert client.get_experiment_by_name(f"exp-{unique}") is None


def test_delete_and_restore_experiment(client, exp_id, unique):
    run = client.create_run(exp_id)
    client.delete_experiment(exp_id)

    exp = client.get_experiment(exp_id)
    assert exp.lifecycle_stage == "deleted"
    name_filter = f"name = 'exp-{unique}'"
    active = client.search_experiments(filter_string=name_filter)
    assert [e.experiment_id for e in active] == []
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=name_filter)
    assert [e.experiment_id for e in deleted] == [exp_id]
    # Runs of a deleted experiment are deleted with it.
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(MlflowException):
        client.create_run(exp_id)

    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"
    all_view = client.search_experiments(view_type=ViewType.ALL, filter_string=name_filter)
    assert [e.experiment_id for e in all_view] == [exp_id]


def test_experiment_tags(client, exp_id):
    client.set_experiment_tag(exp_id, "a", "1")
    client.set_experiment_tag(exp_id, "b", "2")
    client.set_experiment_tag(exp_id, "a", "overwritten")
    assert client.get_experiment(exp_id).tags == {"a": "overwritten", "b": "2"}
    client.delete_experiment_tag(exp_id, "b")
    assert client.get_experiment(exp_id).tags == {"a": "overwritten"}


def test_search_experiments_filter_order_and_paging(client, unique):
    prefix = f"srch-{unique}"
    ids = {}
    for i, name in enumerate(["c", "a", "e", "b", "d"]):
        ids[name] = client.create_experiment(f"{prefix}-{name}",
                                             tags={"parity": "even" if i % 2 == 0 else "odd"})

    found = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'",
                                      order_by=["name ASC"])
    assert [e.name for e in found] == [f"{prefix}-{n}" for n in "abcde"]

    found = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'",
                                      order_by=["name DESC"])
    assert [e.name for e in found] == [f"{prefix}-{n}" for n in "edcba"]

    found = client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%' AND tags.parity = 'even'", order_by=["name"])
    assert [e.name for e in found] == [f"{prefix}-{n}" for n in "cde"]

    found = client.search_experiments(filter_string=f"name ILIKE '{prefix.upper()}-A'")
    assert [e.experiment_id for e in found] == [ids["a"]]

    # Paging: 5 matches in pages of 2, each page in order, the last one without a token.
    pages, token = [], None
    while True:
        page = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'",
                                          order_by=["name ASC"], max_results=2, page_token=token)
        pages.append([e.name for e in page])
        token = page.token
        if not token:
            break
        assert len(pages) < 10, "paging does not terminate"
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sum(pages, []) == [f"{prefix}-{n}" for n in "abcde"]


def test_search_experiments_default_order_is_newest_first(client, unique):
    first = client.create_experiment(f"order-{unique}-1")
    time.sleep(0.01)
    second = client.create_experiment(f"order-{unique}-2")
    found = client.search_experiments(filter_string=f"name LIKE 'order-{unique}-%'")
    assert [e.experiment_id for e in found] == [second, first]


# -- runs --------------------------------------------------------------------------------------


def test_create_and_get_run(client, exp_id):
    before = now_ms()
    run = client.create_run(exp_id, run_name="first-run", tags={"team": "core"})
    info = run.info
    assert len(info.run_id) == 32 and all(c in "0123456789abcdef" for c in info.run_id)
    assert info.experiment_id == exp_id
    assert info.run_name == "first-run"
    assert info.status == "RUNNING"
    assert info.lifecycle_stage == "active"
    assert before - 5000 <= info.start_time <= now_ms() + 5000
    assert info.artifact_uri

    fetched = client.get_run(info.run_id)
    assert fetched.info.run_id == info.run_id
    assert fetched.info.run_name == "first-run"
    assert fetched.data.tags["team"] == "core"
    assert fetched.data.tags["mlflow.runName"] == "first-run"


def test_get_unknown_run_raises_not_found(client):
    with pytest.raises(MlflowException) as e:
        client.get_run("0123456789abcdef0123456789abcdef")
    assert_mlflow_error(e, "RESOURCE_DOES_NOT_EXIST")


def test_update_run_status_and_name(client, exp_id):
    run = client.create_run(exp_id, run_name="before")
    run_id = run.info.run_id
    client.update_run(run_id, name="after")
    fetched = client.get_run(run_id)
    assert fetched.info.run_name == "after"
    assert fetched.data.tags["mlflow.runName"] == "after"

    client.set_terminated(run_id, status="FAILED")
    fetched = client.get_run(run_id)
    assert fetched.info.status == "FAILED"
    assert fetched.info.end_time is not None
    assert fetched.info.end_time >= fetched.info.start_time

    client.update_run(run_id, status="FINISHED")
    assert client.get_run(run_id).info.status == "FINISHED"


def test_delete_and_restore_run(client, exp_id):
    keep = client.create_run(exp_id).info.run_id
    gone = client.create_run(exp_id).info.run_id
    client.delete_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "deleted"

    def ids(view):
        return {r.info.run_id for r in client.search_runs([exp_id], run_view_type=view)}

    assert ids(ViewType.ACTIVE_ONLY) == {keep}
    assert ids(ViewType.DELETED_ONLY) == {gone}
    assert ids(ViewType.ALL) == {keep, gone}

    client.restore_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "active"
    assert ids(ViewType.ACTIVE_ONLY) == {keep, gone}


def test_fluent_start_and_end_run(exp_id):
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run(run_name="fluent", description="a note") as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_metric("loss", 1.25)
        mlflow.set_tag("stage", "dev")
        assert mlflow.active_run().info.run_id == run.info.run_id
    assert mlflow.active_run() is None

    fetched = mlflow.get_run(run.info.run_id)
    assert fetched.info.status == "FINISHED"
    assert fetched.info.end_time is not None
    assert fetched.data.params == {"alpha": "0.5"}
    assert fetched.data.metrics == {"loss": 1.25}
    assert fetched.data.tags["stage"] == "dev"
    assert fetched.data.tags["mlflow.note.content"] == "a note"
    assert fetched.data.tags["mlflow.runName"] == "fluent"
    assert "mlflow.user" in fetched.data.tags
    assert "mlflow.source.name" in fetched.data.tags

    # A run that raises ends FAILED.
    with pytest.raises(RuntimeError):
        with mlflow.start_run() as failed:
            raise RuntimeError("boom")
    assert mlflow.get_run(failed.info.run_id).info.status == "FAILED"


def test_nested_runs(exp_id):
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child-1", nested=True) as child1:
            pass
        with mlflow.start_run(run_name="child-2", nested=True) as child2:
            with mlflow.start_run(run_name="grandchild", nested=True) as grandchild:
                pass
    pid = parent.info.run_id
    assert mlflow.get_run(child1.info.run_id).data.tags["mlflow.parentRunId"] == pid
    assert mlflow.get_run(child2.info.run_id).data.tags["mlflow.parentRunId"] == pid
    assert (mlflow.get_run(grandchild.info.run_id).data.tags["mlflow.parentRunId"]
            == child2.info.run_id)
    children = mlflow.search_runs(experiment_ids=[exp_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{pid}'",
                                  output_format="list")
    assert {r.info.run_id for r in children} == {child1.info.run_id, child2.info.run_id}


def test_resume_run(client, exp_id):
    run_id = client.create_run(exp_id).info.run_id
    client.set_terminated(run_id)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metric("resumed", 1)
    fetched = client.get_run(run_id)
    assert fetched.info.status == "FINISHED"
    assert fetched.data.metrics["resumed"] == 1


# -- params, metrics, tags ---------------------------------------------------------------------


def test_params_are_write_once(client, exp_id):
    run_id = client.create_run(exp_id).info.run_id
    client.log_param(run_id, "lr", "0.1")
    client.log_param(run_id, "lr", "0.1")  # same value again is fine
    with pytest.raises(MlflowException) as e:
        client.log_param(run_id, "lr", "0.2")
    assert_mlflow_error(e, "INVALID_PARAMETER_VALUE")
    client.log_param(run_id, "empty", "")
    long_value = "x" * 6000
    client.log_param(run_id, "long", long_value)
    params = client.get_run(run_id).data.params
    assert params == {"lr": "0.1", "empty": "", "long": long_value}


def test_metrics_latest_value_is_highest_step(client, exp_id):
    run_id = client.create_run(exp_id).info.run_id
    t = now_ms()
    client.log_metric(run_id, "acc", 0.9, timestamp=t, step=5)
    client.log_metric(run_id, "acc", 0.1, timestamp=t + 1000, step=2)  # later, but lower step
    client.log_metric(run_id, "loss", 3.0, timestamp=t, step=0)
    client.log_metric(run_id, "loss", 2.0, timestamp=t + 10, step=0)  # same step, later
    client.log_metric(run_id, "neg", -1.5e-7)
    client.log_metric(run_id, "nan", float("nan"))
    client.log_metric(run_id, "inf", float("inf"))
    metrics = client.get_run(run_id).data.metrics
    assert metrics["acc"] == 0.9
    assert metrics["loss"] == 2.0
    assert metrics["neg"] == -1.5e-7
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] > 1e300

    history = client.get_metric_history(run_id, "acc")
    assert sorted((m.step, m.value, m.timestamp) for m in history) == [
        (2, 0.1, t + 1000), (5, 0.9, t)]


def test_tags_overwrite_and_delete(client, exp_id):
    run_id = client.create_run(exp_id).info.run_id
    client.set_tag(run_id, "k", "v1")
    client.set_tag(run_id, "k", "v2")
    client.set_tag(run_id, "with spaces and / and :", "ok")
    client.set_tag(run_id, "empty", "")
    tags = client.get_run(run_id).data.tags
    assert tags["k"] == "v2"
    assert tags["with spaces and / and :"] == "ok"
    assert tags["empty"] == ""
    client.delete_tag(run_id, "k")
    assert "k" not in client.get_run(run_id).data.tags
    with pytest.raises(MlflowException):
        client.delete_tag(run_id, "k")


def test_setting_run_name_tag_renames_run(client, exp_id):
    run_id = client.create_run(exp_id, run_name="one").info.run_id
    client.set_tag(run_id, "mlflow.runName", "two")
    assert client.get_run(run_id).info.run_name == "two"


def test_log_batch(client, exp_id):
    run_id = client.create_run(exp_id).info.run_id
    t = now_ms()
    metrics = [Metric(f"m{i % 10}", float(i), t + i, i // 10) for i in range(1000)]
    params = [Param(f"p{i}", str(i)) for i in range(100)]
    tags = [RunTag(f"t{i}", f"v{i}") for i in range(100)]
    client.log_batch(run_id, metrics=metrics, params=params, tags=tags)

    run = client.get_run(run_id)
    assert len(run.data.params) == 100
    assert run.data.params["p42"] == "42"
    assert all(run.data.tags[f"t{i}"] == f"v{i}" for i in range(100))
    assert len(run.data.metrics) == 10
    assert run.data.metrics["m3"] == 993.0  # highest step of m3 is 99, value 993
    assert len(client.get_metric_history(run_id, "m7")) == 100


def test_log_batch_rejects_changed_param(client, exp_id):
    run_id = client.create_run(exp_id).info.run_id
    client.log_batch(run_id, params=[Param("p", "1")])
    with pytest.raises(MlflowException) as e:
        client.log_batch(run_id, params=[Param("p", "2")])
    assert_mlflow_error(e, "INVALID_PARAMETER_VALUE")
    assert client.get_run(run_id).data.params == {"p": "1"}


def test_fluent_log_many_splits_batches(exp_id):
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run() as run:
        mlflow.log_params({f"p{i}": i for i in range(250)})
        mlflow.log_metrics({f"m{i}": i / 10 for i in range(1500)})
        mlflow.set_tags({f"t{i}": i for i in range(150)})
    data = mlflow.get_run(run.info.run_id).data
    assert len(data.params) == 250
    assert len(data.metrics) == 1500
    assert data.metrics["m1499"] == 149.9
    assert sum(1 for k in data.tags if k.startswith("t")) == 150


def test_metric_history_many_steps(client, exp_id):
    run_id = client.create_run(exp_id).info.run_id
    t = now_ms()
    n = 30000  # more than one page of the client's 25000-entry history requests
    for start in range(0, n, 1000):
        client.log_batch(run_id, metrics=[
            Metric("curve", i * 0.5, t + i, i) for i in range(start, start + 1000)])
    history = client.get_metric_history(run_id, "curve")
    assert len(history) == n
    assert sorted(m.step for m in history) == list(range(n))
    assert all(m.value == m.step * 0.5 for m in history)
    assert client.get_run(run_id).data.metrics["curve"] == (n - 1) * 0.5


# -- run search --------------------------------------------------------------------------------


@pytest.fixture
def populated(client, exp_id):
    """12 runs with params/metrics/tags; returns (experiment id, run ids in creation order)."""
    run_ids = []
    for i in range(12):
        run = client.create_run(exp_id, run_name=f"run-{i:02d}", start_time=now_ms() + i,
                                tags={"team": "red" if i % 3 == 0 else "blue"})
        rid = run.info.run_id
        client.log_batch(rid, metrics=[Metric("acc", i / 10, now_ms(), 0)],
                         params=[Param("model", "tree" if i % 2 else "linear"),
                                 Param("depth", str(i))])
        if i % 4 == 0:
            client.set_terminated(rid, "FINISHED")
        run_ids.append(rid)
    return exp_id, run_ids


def search_ids(client, exp_id, filter_string, **kw):
    return [r.info.run_id for r in client.search_runs([exp_id], filter_string, **kw)]


def test_search_runs_filters(client, populated):
    exp_id, ids = populated

    def expect(filter_string, indices):
        got = set(search_ids(client, exp_id, filter_string))
        assert got == {ids[i] for i in indices}, filter_string

    expect("metrics.acc > 0.75", [8, 9, 10, 11])
    expect("metrics.acc >= 0.8 AND metrics.acc < 1.0", [8, 9])
    expect("metrics.acc = 0.3", [3])
    expect("metrics.acc != 0.0 AND metrics.acc <= 0.2", [1, 2])
    expect("params.model = 'tree'", [1, 3, 5, 7, 9, 11])
    expect("params.model != 'tree' AND params.depth LIKE '1%'", [10])
    expect("params.model ILIKE 'TR%'", [1, 3, 5, 7, 9, 11])
    expect("tags.team = 'red'", [0, 3, 6, 9])
    expect("tags.team = 'red' AND metrics.acc > 0.4", [6, 9])
    expect("tags.`team` LIKE 'bl%'", [1, 2, 4, 5, 7, 8, 10, 11])
    expect("attributes.status = 'FINISHED'", [0, 4, 8])
    expect("attributes.status != 'FINISHED' AND params.depth = '5'", [5])
    expect("attributes.run_name = 'run-07'", [7])
    expect("run_name LIKE 'run-1%'", [10, 11])
    expect(f"attributes.run_id IN ('{ids[2]}', '{ids[5]}')", [2, 5])
    expect(f"attributes.run_id = '{ids[4]}'", [4])
    expect("tags.`mlflow.runName` = 'run-03'", [3])
    expect("params.missing = 'x'", [])
    expect("", range(12))


def test_search_runs_ordering(client, populated):
    exp_id, ids = populated
    assert search_ids(client, exp_id, "", order_by=["metrics.acc DESC"]) == ids[::-1]
    assert search_ids(client, exp_id, "", order_by=["metrics.acc ASC"]) == ids
    assert search_ids(client, exp_id, "", order_by=["attributes.run_name ASC"]) == ids
    # Default order is newest start_time first.
    assert search_ids(client, exp_id, "") == ids[::-1]
    assert search_ids(client, exp_id, "", order_by=["attributes.start_time ASC"]) == ids
    by_team = search_ids(client, exp_id, "", order_by=["tags.team ASC", "metrics.acc DESC"])
    assert by_team == [ids[i] for i in (11, 10, 8, 7, 5, 4, 2, 1, 9, 6, 3, 0)]


def test_search_runs_pagination(client, populated):
    exp_id, ids = populated
    seen, token, pages = [], None, 0
    while True:
        page = client.search_runs([exp_id], "", max_results=5, order_by=["metrics.acc ASC"],
                                  page_token=token)
        pages += 1
        assert len(page) <= 5
        seen.extend(r.info.run_id for r in page)
        token = page.token
        if not token:
            break
        assert pages < 10, "paging does not terminate"
    assert seen == ids
    assert pages in (3, 4)  # 5 + 5 + 2 (a server may add a last empty page)


def test_search_runs_multiple_experiments(client, populated, unique):
    exp_id, ids = populated
    other = client.create_experiment(f"other-{unique}")
    other_run = client.create_run(other).info.run_id
    found = {r.info.run_id for r in client.search_runs([exp_id, other])}
    assert found == set(ids) | {other_run}


def test_search_runs_pandas(populated):
    exp_id, ids = populated
    df = mlflow.search_runs(experiment_ids=[exp_id], filter_string="params.model = 'linear'",
                            order_by=["metrics.acc DESC"])
    assert isinstance(df, pd.DataFrame)
    assert list(df["run_id"]) == [ids[i] for i in (10, 8, 6, 4, 2, 0)]
    assert list(df["metrics.acc"]) == [1.0, 0.8, 0.6, 0.4, 0.2, 0.0]
    assert set(df["params.model"]) == {"linear"}
    assert list(df["tags.team"]) == ["blue", "blue", "red", "blue", "blue", "red"]
    assert set(df["status"]) == {"RUNNING", "FINISHED"}
    assert (df["experiment_id"] == exp_id).all()


def test_search_runs_by_experiment_name(populated, client):
    exp_id, ids = populated
    name = client.get_experiment(exp_id).name
    runs = mlflow.search_runs(experiment_names=[name], output_format="list")
    assert {r.info.run_id for r in runs} == set(ids)


@pytest.mark.parametrize("bad_filter", [
    "metrics.acc > 'abc' OR 1=1",
    "params.model = 'tree",
    "metrics.acc >",
    "nonsense.field = 1",
    "params.model = 'a' OR params.model = 'b'",
])
def test_search_runs_invalid_filter(client, exp_id, bad_filter):
    with pytest.raises(MlflowException) as e:
        client.search_runs([exp_id], bad_filter)
    assert_mlflow_error(e, "INVALID_PARAMETER_VALUE")


def test_search_runs_invalid_order_by(client, exp_id):
    with pytest.raises(MlflowException) as e:
        client.search_runs([exp_id], "", order_by=["metrics.acc SIDEWAYS"])
    assert_mlflow_error(e, "INVALID_PARAMETER_VALUE")


def test_run_status_values(client, exp_id):
    run_id = client.create_run(exp_id).info.run_id
    for status in ("SCHEDULED", "KILLED", "RUNNING", "FINISHED"):
        client.update_run(run_id, status=status)
        assert client.get_run(run_id).info.status == status
        assert RunStatus.from_string(status) is not None
