"""The `cairn monitor` CLI (the built binary) against the real server: a logistic regression on
scikit-learn's breast-cancer data, converted to ONNX, registered and deployed; the reference
uploaded with `monitor reference --file` (streamed, with its progress line), a drift
configuration saved with `monitor config --file`, calm then shifted predictions, and then
`metrics`, `alerts`, `ack`, `status` and `feedback` read back through the CLI. Also the offline
`drift-report`, which needs no server, and the CLI's memory during a large upload.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import time

import mlflow
import mlflow.onnx
import numpy as np
import pytest
import requests
from skl2onnx import to_onnx
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from server_process import cairn_binary

pytestmark = pytest.mark.cairn_only


def cli(*args, server=None, timeout=120):
    env = dict(os.environ)
    env.pop("CAIRN_SERVER", None)
    cmd = [str(cairn_binary()), "monitor", *args]
    if server:
        cmd += ["--server", server]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)


def ok(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r.stdout


def table(stdout: str, header_prefix: str) -> list[dict[str, str]]:
    """The aligned table whose header starts with `header_prefix`; a blank line or a sentence
    after it ("Dataset drift: ...", "Only in ...") ends it."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_prefix))
    header = lines[start]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    rows = []
    for line in lines[start + 1:]:
        if not line.strip() or re.match(r"^(Dataset drift:|Only in )", line):
            break
        cells = [line[s:e].strip() for s, e in zip(starts, starts[1:] + [len(line)])]
        rows.append(dict(zip(names, cells)))
    return rows


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cancer():
    data = load_breast_cancer()
    x = data.data.astype(np.float32)
    rng = np.random.default_rng(11)
    order = rng.permutation(len(x))
    train, test = order[:285], order[285:]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(x[train], data.target[train])
    return {"names": list(data.feature_names), "x_train": x[train], "y_train": data.target[train],
            "x_test": x[test], "y_test": data.target[test], "model": model}


def deploy(url: str, cancer, name: str):
    onnx_model = to_onnx(cancer["model"], cancer["x_train"][:1],
                         options={id(cancer["model"].steps[-1][1]): {"zipmap": False}})
    mlflow.set_tracking_uri(url)
    with mlflow.start_run():
        mlflow.onnx.log_model(onnx_model, name="model", registered_model_name=name)
    resp = requests.post(f"{url}/api/v1/deployments/create",
                         json={"model_name": name, "version": 1, "name": name}, timeout=30)
    assert resp.status_code == 200, resp.text
    wait_for(lambda: requests.get(f"{url}/api/v1/deployments/{name}/status").json()["state"]
             == "READY", what="deployment")


def write_csv(path, names, x, extra: dict):
    with open(path, "w") as out:
        out.write(",".join(list(names) + list(extra)) + "\n")
        for i, row in enumerate(x):
            values = [repr(float(v)) for v in row] + [str(int(extra[k][i])) for k in extra]
            out.write(",".join(values) + "\n")


def predict(url: str, name: str, rows: np.ndarray, prefix: str) -> list[str]:
    ids = []
    for i, row in enumerate(rows):
        request_id = f"{prefix}-{i}"
        resp = requests.post(f"{url}/v2/models/{name}/infer", timeout=30,
                             headers={"X-Request-Id": request_id},
                             json={"inputs": [{"name": "X", "shape": [1, 30], "datatype": "FP32",
                                               "data": row.tolist()}]})
        assert resp.status_code == 200, resp.text
        ids.append(request_id)
    return ids


def metrics_rows(url: str) -> list[dict[str, str]]:
    out = ok(cli("metrics", "cancer", "--deployment", "cancer", server=url))
    return [] if out == "No closed windows.\n" else table(out, "START")


def alert_rows(url: str, *filters: str) -> list[dict[str, str]]:
    out = ok(cli("alerts", *filters, server=url))
    return [] if out == "No alerts.\n" else table(out, "ID")


def test_monitor_commands_against_a_server(server_factory, tmp_path, cancer):
    url = server_factory().url
    deploy(url, cancer, "cancer")

    # Reference: the training data with the model's predictions, the target left out.
    ref = tmp_path / "train.csv"
    write_csv(ref, cancer["names"], cancer["x_train"],
              {"target": cancer["y_train"], "prediction": cancer["model"].predict(
                  cancer["x_train"])})
    r = cli("reference", "cancer", "--file", str(ref), "--exclude", "target", server=url)
    out = ok(r)
    assert out.startswith("Reference v1 of deployment "), out
    assert "upload (csv upload of 285 rows), 285 rows" in out
    features = table(out, "FEATURE")
    assert len(features) == 31 and "target" not in {f["FEATURE"] for f in features}
    assert features[0] == {"FEATURE": "mean radius", "KIND": "numeric", "COUNT": "285",
                           "MISSING": "0.0%", "SUMMARY": features[0]["SUMMARY"]}
    # Not a terminal: one final progress line.
    size_mb = ref.stat().st_size / 1e6
    assert re.fullmatch(rf"uploading {re.escape(str(ref))}: {size_mb:.1f} MB / {size_mb:.1f} MB "
                        r"\(100\.0%\), [0-9.]+ MB/s\n", r.stderr), r.stderr

    shown = ok(cli("reference", "cancer", server=url))
    assert shown.splitlines()[0] == out.splitlines()[0]
    as_json = json.loads(ok(cli("reference", "cancer", "--json", server=url)))
    assert as_json["version"] == 1 and len(as_json["profile"]["features"]) == 31

    # A drift configuration from a file, then listed.
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"deployment": "cancer", "window": {"size": 50}, "min_samples": 20,
                                "prediction_drift": True,
                                "performance": {"metric": "accuracy", "min": 0.8,
                                                "min_labels": 20}}))
    out = ok(cli("config", "cancer", "--file", str(spec), server=url))
    assert out.startswith("Saved drift configuration dc-"), out
    config_id = out.split()[3]
    configs = table(ok(cli("config", "cancer", server=url)), "CONFIG")
    assert [(c["CONFIG"], c["WINDOW"], c["METHOD"]) for c in configs] == [
        (config_id, "50 rows", "auto")]

    # Calm predictions, then shifted ones: two windows, the second drifted.
    x_test = cancer["x_test"]
    calm_ids = predict(url, "cancer", x_test[:50], "calm")
    shifted = x_test[50:100] * np.float32(1.6) + np.float32(0.5) * x_test[50:100].std(axis=0)
    predict(url, "cancer", shifted, "shifted")
    windows = wait_for(lambda: len(metrics_rows(url)) == 2 and metrics_rows(url),
                       what="two windows")
    assert [w["PREDICTIONS"] for w in windows] == ["50", "50"]
    assert [w["DATASET_DRIFT"] for w in windows] == ["no", "yes"], windows
    assert windows[0]["ERRORS"] == "0.0%" and float(windows[0]["P99_MS"]) >= 0
    drifted, total = windows[1]["DRIFTED"].split("/")
    assert int(drifted) >= 15 and total == "30"  # the prediction column is tested apart
    assert "ACCURACY" not in windows[0], "no labels yet"
    raw = json.loads(ok(cli("metrics", "cancer", "--json", "--from", "0", server=url)))
    assert len(raw["windows"]) == 2

    # The drift alert, acknowledged.
    alerts = wait_for(lambda: [a for a in alert_rows(url, "--kind", "data_drift")
                               if a["STATE"] == "firing"], what="the drift alert")
    assert len(alerts) == 1 and alerts[0]["MODEL"] == "cancer" and alerts[0]["ACKED_BY"] == "-"
    assert "No alerts." in ok(cli("alerts", "--kind", "data_drift", "--state", "resolved",
                                  server=url))
    acked = table(ok(cli("ack", alerts[0]["ID"], server=url)), "ID")
    assert acked[0]["ID"] == alerts[0]["ID"] and acked[0]["ACKED_BY"] != "-"

    # Status: the configuration, its open window (empty after 100 = 2 x 50), the reference.
    out = ok(cli("status", "cancer", server=url))
    head = table(out, "DEPLOYMENT")[0]
    assert head["NAME"] == "cancer" and head["REFERENCE"] == "v1 (upload)"
    assert table(out, "CONFIG")[0]["CONFIG"] == config_id

    # Late labels, all wrong for the calm window, plus one nobody served.
    labels = tmp_path / "labels.jsonl"
    with open(labels, "w") as f:
        for rid, y in zip(calm_ids, cancer["y_test"][:50]):
            f.write(json.dumps({"request_id": rid, "label": int(1 - y)}) + "\n")
        f.write("\n" + json.dumps({"request_id": "never-served", "label": 1}) + "\n")
    out = ok(cli("feedback", "--file", str(labels), server=url))
    assert out.startswith("Sent 51 labels in 1 batch: 50 matched, 1 pending, 1 windows updated."), out
    assert "never-served" in out
    windows = metrics_rows(url)
    assert float(windows[0]["ACCURACY"]) < 0.2 and windows[1]["ACCURACY"] == "-"

    # Batches of 5,000: 12,001 labels go in three requests.
    many = tmp_path / "many.jsonl"
    many.write_text("".join(json.dumps({"request_id": f"unknown-{i}", "label": i % 2}) + "\n"
                            for i in range(12_001)))
    totals = json.loads(ok(cli("feedback", "--file", str(many), "--json", server=url)))
    assert totals["batches"] == 3 and totals["received"] == 12_001
    assert totals["matched"] == 0 and len(totals["pending"]) == 12_001

    # Errors: the server's, and files refused before anything is sent.
    r = cli("status", "no-such-deployment", server=url)
    assert r.returncode == 1 and r.stderr.startswith("error: RESOURCE_DOES_NOT_EXIST"), r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = cli("config", "cancer", "--file", str(bad), server=url)
    assert r.returncode == 2 and "not a JSON object" in r.stderr
    bad_labels = tmp_path / "bad.jsonl"
    bad_labels.write_text('{"request_id": "a", "label": 1}\n{"label": 2}\n')
    r = cli("feedback", "--file", str(bad_labels), server=url)
    assert r.returncode == 2 and "line 2" in r.stderr
    r = cli("reference", "cancer", "--file", str(tmp_path / "missing.csv"), server=url)
    assert r.returncode == 1 and "cannot read" in r.stderr
    r = cli("status", "cancer", server="http://127.0.0.1:1")
    assert r.returncode == 1 and r.stderr.startswith("error: ")


def test_large_reference_upload_is_streamed(server_factory, tmp_path):
    """A 60 MB table goes up without the CLI holding it: its peak memory stays well below the
    file's size."""
    url = server_factory().url
    mlflow.set_tracking_uri(url)
    data = load_breast_cancer()
    x = data.data.astype(np.float32)
    model = LogisticRegression(max_iter=3000).fit(x, data.target)
    onnx_model = to_onnx(model, x[:1], options={id(model): {"zipmap": False}})
    with mlflow.start_run():
        mlflow.onnx.log_model(onnx_model, name="model", registered_model_name="big")
    requests.post(f"{url}/api/v1/deployments/create",
                  json={"model_name": "big", "version": 1, "name": "big"},
                  timeout=30).raise_for_status()
    wait_for(lambda: requests.get(f"{url}/api/v1/deployments/big/status").json()["state"]
             == "READY", what="deployment")

    path = tmp_path / "big.csv"
    rng = np.random.default_rng(3)
    with open(path, "w") as f:
        f.write(",".join(f"f{i}" for i in range(30)) + "\n")
        block = io.StringIO()
        np.savetxt(block, rng.normal(size=(20_000, 30)), delimiter=",", fmt="%.12f")
        text = block.getvalue()
        while f.tell() < 60_000_000:
            f.write(text)
    size = path.stat().st_size
    env = dict(os.environ)
    env.pop("CAIRN_SERVER", None)
    # The peak memory of the CLI alone: /usr/bin/time's child starts small, where a child of
    # this (large) Python process would count the memory it had before exec.
    if not os.path.exists("/usr/bin/time"):
        pytest.skip("needs /usr/bin/time to measure the CLI's memory")
    r = subprocess.run(["/usr/bin/time", "-f", "maxrss_kib=%M", str(cairn_binary()), "monitor",
                        "reference", "big", "--file", str(path), "--server", url, "--json"],
                       capture_output=True, text=True, env=env, timeout=300,
                       stdin=subprocess.DEVNULL)
    answer = json.loads(ok(r))
    assert answer["profile"]["row_count"] == answer["profile"]["features"][0]["count"] > 100_000
    assert "(100.0%)" in r.stderr
    peak_kib = int(re.search(r"maxrss_kib=(\d+)", r.stderr).group(1))
    print(f"upload of {size / 1e6:.0f} MB: CLI peak RSS {peak_kib / 1024:.1f} MiB")
    assert peak_kib * 1024 < size / 2, f"peak RSS {peak_kib} KiB for {size} bytes"


def test_drift_report_runs_without_a_server(tmp_path):
    rng = np.random.default_rng(5)
    n = 3000

    def write(path, shift, weights):
        with open(path, "w") as f:
            f.write("x,y,color,id\n")
            for i in range(n):
                f.write(f"{rng.normal(shift, 1):.6f},{rng.normal(0, 1):.6f},"
                        f"{rng.choice(['red', 'green', 'blue'], p=weights)},{i}\n")

    write(tmp_path / "ref.csv", 0, [0.5, 0.3, 0.2])
    write(tmp_path / "cur.csv", 1.0, [0.2, 0.3, 0.5])
    env = dict(os.environ, CAIRN_SERVER="http://127.0.0.1:1")
    base = [str(cairn_binary()), "monitor", "drift-report", "--reference",
            str(tmp_path / "ref.csv"), "--current", str(tmp_path / "cur.csv"), "--exclude", "id"]
    r = subprocess.run(base + ["--json"], capture_output=True, text=True, env=env, timeout=60)
    report = json.loads(ok(r))
    assert set(report["features"]) == {"x", "y", "color"}
    assert report["features"]["x"]["method"] == "wasserstein" and report["features"]["x"]["drift"]
    assert report["features"]["color"]["method"] == "jensenshannon"
    assert report["features"]["color"]["drift"] and not report["features"]["y"]["drift"]
    assert report["dataset"] == {"drifted": 2, "total": 3, "share": 2 / 3, "drift_share": 0.5,
                                 "drift": True}
    # A method that does not fit a column: that column says why; the others are tested.
    r = subprocess.run(base + ["--method", "ks"], capture_output=True, text=True, env=env,
                       timeout=60)
    color = next(row for row in table(ok(r), "FEATURE") if row["FEATURE"] == "color")
    assert "does not apply to categorical" in color["DRIFT"], r.stdout
    r = subprocess.run(base[:-2] + ["--method", "psi", "--drift-share", "0.9"],
                       capture_output=True, text=True, env=env, timeout=60)
    out = ok(r)
    rows = table(out, "FEATURE")
    assert {row["FEATURE"]: row["METHOD"] for row in rows} == {
        "x": "psi", "y": "psi", "color": "psi", "id": "psi"}
    assert out.splitlines()[-1].startswith("Dataset drift: no (")
