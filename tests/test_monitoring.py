"""Monitoring end to end, through the real server: a logistic regression trained on half of
scikit-learn's breast-cancer data, converted to ONNX, registered and deployed; the training data
uploaded as the reference; predictions from the held-out half (no drift) and then from a
shifted copy (drift). Each window closes, the drift alert fires once, the webhook (a loopback
receiver here) gets a payload whose HMAC-SHA256 signature checks out with the configured secret,
the retraining command runs and is recorded as an MLflow run linked to the alert, late labels
lower a closed window's accuracy and raise a performance alert, a restart in the middle of a
window neither loses nor double-counts predictions, and an erasure leaves no byte of the
subject's id in the server's files.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mlflow
import mlflow.onnx
import numpy as np
import pytest
import requests
from mlflow.tracking import MlflowClient
from skl2onnx import to_onnx
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytestmark = pytest.mark.cairn_only

SECRET = "whsec-test-7c1d"
SUBJECT = "subject-5f0e3a91c2"


class Receiver:
    """A loopback webhook receiver that records every delivery."""

    def __init__(self):
        self.deliveries: list[dict] = []
        self.fail_first = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.deliveries.append({"headers": dict(self.headers), "body": body,
                                            "received": time.time()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cancer():
    data = load_breast_cancer()
    x = data.data.astype(np.float32)
    y = data.target
    rng = np.random.default_rng(7)
    order = rng.permutation(len(x))
    train, test = order[:285], order[285:]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(x[train], y[train])
    return {"names": list(data.feature_names), "x_train": x[train], "y_train": y[train],
            "x_test": x[test], "y_test": y[test], "model": model}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def deploy_cancer(url: str, cancer, name: str) -> dict:
    onnx_model = to_onnx(cancer["model"], cancer["x_train"][:1],
                         options={id(cancer["model"].steps[-1][1]): {"zipmap": False}})
    mlflow.set_tracking_uri(url)
    with mlflow.start_run() as run:
        mlflow.onnx.log_model(onnx_model, name="model", registered_model_name=name)
        # The training data, logged with the run, to build the reference from.
        frame = io.StringIO()
        write_csv(frame, cancer["names"], cancer["x_train"],
                  {"target": cancer["y_train"],
                   "prediction": cancer["model"].predict(cancer["x_train"])})
        mlflow.log_text(frame.getvalue(), "data/train.csv")
    resp = requests.post(f"{url}/api/v1/deployments/create",
                         json={"model_name": name, "version": 1, "name": name}, timeout=30)
    assert resp.status_code == 200, resp.text
    wait_for(lambda: requests.get(f"{url}/api/v1/deployments/{name}/status").json()["state"]
             == "READY", what="deployment")
    return {"run_id": run.info.run_id}


def write_csv(out, names, x, extra: dict):
    out.write(",".join(list(names) + list(extra)) + "\n")
    for i, row in enumerate(x):
        values = [repr(float(v)) for v in row] + [str(int(extra[k][i])) for k in extra]
        out.write(",".join(values) + "\n")


def predict(url: str, name: str, rows: np.ndarray, prefix: str, subject: str | None = None):
    ids = []
    for i, row in enumerate(rows):
        request_id = f"{prefix}-{i}"
        headers = {"X-Request-Id": request_id}
        if subject is not None:
            headers["X-Subject-Id"] = subject
        resp = requests.post(f"{url}/v2/models/{name}/infer", headers=headers, timeout=30, json={
            "inputs": [{"name": "X", "shape": [1, 30], "datatype": "FP32",
                        "data": row.tolist()}]})
        assert resp.status_code == 200, resp.text
        ids.append(request_id)
    return ids


def windows(url: str, model: str, deployment: str) -> list[dict]:
    resp = requests.get(f"{url}/api/v1/models/{model}/metrics",
                        params={"deployment": deployment}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["windows"]


def alerts(url: str, **params) -> list[dict]:
    resp = requests.get(f"{url}/api/v1/alerts", params=params, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["alerts"]


def test_drift_alert_webhook_retraining_labels_and_erasure(server_factory, tmp_path, cancer,
                                                           receiver):
    server = server_factory(extra_args=("--prediction-subject-header", "X-Subject-Id",
                                        "--webhook-backoff-ms", "50"))
    url = server.url
    run = deploy_cancer(url, cancer, "cancer")

    # The reference: the training data logged with the model's run.
    resp = requests.post(f"{url}/api/v1/deployments/cancer/reference/from-run",
                         json={"path": "data/train.csv", "exclude": ["target"]}, timeout=60)
    assert resp.status_code == 200, resp.text
    reference = resp.json()
    assert reference["version"] == 1 and reference["source"] == "run_artifact"
    features = {f["name"]: f for f in reference["profile"]["features"]}
    assert len(features) == 31 and features["prediction"]["kind"] == "numeric"
    assert features["mean radius"]["count"] == 285
    np.testing.assert_allclose(features["mean radius"]["mean"],
                               cancer["x_train"][:, 0].astype(np.float64).mean(), rtol=1e-9)

    marker = tmp_path / "retrained.json"
    script = tmp_path / "retrain.py"
    script.write_text(
        "import json, os, sys, mlflow\n"
        "env = {k: v for k, v in os.environ.items() if k.startswith(('CAIRN_', 'MLFLOW_'))}\n"
        "mlflow.set_tracking_uri(os.environ['MLFLOW_TRACKING_URI'])\n"
        "client = mlflow.MlflowClient()\n"
        "client.log_param(os.environ['MLFLOW_RUN_ID'], 'trigger', os.environ['CAIRN_ALERT_KIND'])\n"
        f"open({str(marker)!r}, 'w').write(json.dumps(env))\n")
    config = {
        "deployment": "cancer",
        "window": {"size": 100},
        "min_samples": 50,
        "sinks": [{"type": "webhook", "url": receiver.url, "secret": SECRET}, {"type": "log"}],
        "performance": {"metric": "accuracy", "min": 0.8, "min_labels": 50},
        "retrain": {"type": "command", "command": [sys.executable, str(script)],
                    "on": ["data_drift"], "cooldown": "1h", "experiment": "retraining"},
    }
    resp = requests.post(f"{url}/api/v1/models/cancer/drift-config", json=config, timeout=30)
    assert resp.status_code == 200, resp.text
    config_id = resp.json()["config_id"]
    # Secrets are stored, never shown again.
    assert resp.json()["spec"]["sinks"][0]["secret"] == "********"
    listed = requests.get(f"{url}/api/v1/models/cancer/drift-config").json()["configs"]
    assert SECRET not in json.dumps(listed)

    # Held-out data from the training distribution: a window without drift.
    x_test, y_test = cancer["x_test"], cancer["y_test"]
    calm_ids = predict(url, "cancer", x_test[:100], "calm", subject=SUBJECT)
    first = wait_for(lambda: windows(url, "cancer", "cancer"), what="the first window")
    assert len(first) == 1
    results = first[0]["results"]
    assert first[0]["predictions"] == 100 and results["requests"] == 100
    assert results["data_drift"]["status"] == "ok", results["data_drift"]
    assert results["data_drift"]["columns_matched_by_position"] is True
    assert results["data_drift"]["drift"] is False, results["data_drift"]
    assert results["prediction_drift"]["drift"] is False
    assert results["latency_ms"]["p99"] > 0 and results["error_rate"] == 0
    assert alerts(url) == []

    # The same rows shifted: most features drift.
    shifted = x_test[100:200] * np.float32(1.6) + np.float32(0.5) * x_test[100:200].std(axis=0)
    drift_sent = time.time()
    predict(url, "cancer", shifted, "shifted")
    second = wait_for(lambda: len(windows(url, "cancer", "cancer")) == 2 and
                      windows(url, "cancer", "cancer"), what="the second window")
    drift = second[1]["results"]["data_drift"]
    assert drift["drift"] is True and drift["drifted"] >= 15, drift
    fired = wait_for(lambda: alerts(url, kind="data_drift"), what="the drift alert")
    assert len(fired) == 1
    alert = fired[0]
    assert alert["state"] == "firing" and alert["config_id"] == config_id
    assert alert["details"]["share"] >= 0.5 and alert["details"]["features"]
    drift_alerts = requests.get(f"{url}/api/v1/alerts/model-drift").json()["alerts"]
    assert alert["id"] in {a["id"] for a in drift_alerts}
    assert {a["kind"] for a in drift_alerts} <= {"data_drift", "prediction_drift", "concept_drift"}

    # The webhook: the drift alert's delivery, signed with the secret.
    def drift_delivery():
        for d in receiver.deliveries:
            if json.loads(d["body"])["alert"]["id"] == alert["id"]:
                return d
        return None

    delivery = wait_for(drift_delivery, what="the webhook")
    headers = {k.lower(): v for k, v in delivery["headers"].items()}
    assert headers["x-cairn-event"] == "alert.fired"
    signed = f"{headers['x-cairn-timestamp']}.".encode() + delivery["body"]
    expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-cairn-signature"], expected)
    payload = json.loads(delivery["body"])
    assert payload["alert"]["id"] == alert["id"] and payload["alert"]["kind"] == "data_drift"
    print(f"drift: predictions sent to webhook received {delivery['received'] - drift_sent:.2f} s")

    # The retraining command ran, as an MLflow run linked to the alert.
    env = json.loads(wait_for(lambda: marker.exists() and marker.read_text(), what="retraining"))
    assert env["CAIRN_ALERT_ID"] == alert["id"] and env["CAIRN_MODEL_NAME"] == "cancer"
    assert env["CAIRN_MODEL_VERSION"] == "1" and env["CAIRN_DEPLOYMENT_NAME"] == "cancer"
    client = MlflowClient(url)
    retrain_run = client.get_run(env["MLFLOW_RUN_ID"])
    assert retrain_run.data.tags["cairn.alert_id"] == alert["id"]
    assert retrain_run.data.tags["cairn.deployment_name"] == "cancer"
    assert retrain_run.data.params["trigger"] == "data_drift"
    assert client.get_experiment(retrain_run.info.experiment_id).name == "retraining"
    wait_for(lambda: client.get_run(env["MLFLOW_RUN_ID"]).info.status == "FINISHED",
             what="the retraining run to finish")
    actions = requests.get(f"{url}/api/v1/alerts/{alert['id']}/actions").json()["actions"]
    assert {a["action"] for a in actions} == {"webhook", "retrain_command"}

    # Still drifting: the alert stays one alert, and the cooldown holds the second launch back.
    predict(url, "cancer", shifted, "shifted-again")
    wait_for(lambda: len(windows(url, "cancer", "cancer")) == 3, what="the third window")
    assert len(alerts(url, kind="data_drift")) == 1
    fired_events = [json.loads(d["body"]) for d in receiver.deliveries]
    assert sum(1 for e in fired_events if e["alert"]["id"] == alert["id"]) == 1

    # Late labels for the calm window, all wrong: its accuracy drops, a performance alert fires.
    labels = [{"request_id": rid, "label": int(1 - y)} for rid, y in zip(calm_ids, y_test[:100])]
    labels.append({"request_id": "never-served", "label": 1})
    resp = requests.post(f"{url}/api/v1/feedback", json={"labels": labels}, timeout=30)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert answer["matched"] == 100 and answer["pending"] == ["never-served"]
    assert answer["windows_updated"] == 1
    calm = windows(url, "cancer", "cancer")[0]["results"]["performance"]
    assert calm["labels"] == 100 and calm["accuracy"] < 0.2
    perf = wait_for(lambda: alerts(url, kind="performance"), what="the performance alert")
    assert perf[0]["details"]["accuracy"] < 0.8
    # Corrected labels clear it.
    labels = [{"request_id": rid, "label": int(y)} for rid, y in zip(calm_ids, y_test[:100])]
    requests.post(f"{url}/api/v1/feedback", json={"labels": labels}, timeout=30).raise_for_status()
    assert wait_for(lambda: alerts(url, kind="performance")[0]["state"] == "resolved",
                    what="the performance alert to resolve")
    assert windows(url, "cancer", "cancer")[0]["results"]["performance"]["accuracy"] > 0.9

    # The monitor's own series on /metrics.
    exposition = requests.get(f"{url}/metrics", timeout=30).text
    assert "cairn_monitor_windows_closed_total 3" in exposition
    assert 'cairn_monitor_alerts_fired_total{kind="data_drift"} 1' in exposition
    assert "cairn_monitor_lag_events" in exposition

    # Acknowledge.
    resp = requests.post(f"{url}/api/v1/alerts/{alert['id']}/acknowledge", timeout=30)
    assert resp.status_code == 200 and resp.json()["acknowledged_by"]

    # Export, then erasure of the subject: nothing of it stays in the data directory's files.
    exported = requests.post(f"{url}/api/v1/export", json={"subject_id": SUBJECT}).json()
    assert len(exported["predictions"]) == 100
    assert exported["predictions"][0]["label"] is not None
    # Another tenant's data is erased by an administrator only.
    resp = requests.post(f"{url}/api/v1/erasure",
                         json={"subject_id": SUBJECT, "tenants": ["someone-else"]}, timeout=60)
    assert resp.status_code == 403, resp.text
    resp = requests.post(f"{url}/api/v1/erasure", json={"subject_id": SUBJECT}, timeout=60)
    assert resp.status_code == 200, resp.text
    receipt = resp.json()
    assert receipt["prediction_summaries_removed"] == 100
    assert receipt["subject_sha256"] == hashlib.sha256(SUBJECT.encode()).hexdigest()
    exported = requests.post(f"{url}/api/v1/export", json={"subject_id": SUBJECT}).json()
    assert exported["predictions"] == []
    for path in Path(server.data_dir).rglob("*"):
        if path.is_file():
            assert SUBJECT.encode() not in path.read_bytes(), path


def test_restart_mid_window_neither_loses_nor_double_counts(server_factory, cancer):
    server = server_factory()
    url = server.url
    deploy_cancer(url, cancer, "restartable")
    config = {"deployment": "restartable", "window": {"size": 60}, "min_samples": 20}
    requests.post(f"{url}/api/v1/models/restartable/drift-config", json=config,
                  timeout=30).raise_for_status()
    rows = cancer["x_test"]
    predict(url, "restartable", rows[:40], "before")
    # The monitor has read them (the open window holds 40) before the crash.
    wait_for(lambda: requests.get(f"{url}/api/v1/deployments/restartable/monitor").json()
             ["configs"][0].get("open_window", {}).get("requests") == 40, what="the open window")
    server.kill()
    server.start()
    url = server.url
    wait_for(lambda: requests.get(f"{url}/api/v1/deployments/restartable/status").json()["state"]
             == "READY", what="the restored deployment")
    predict(url, "restartable", rows[40:140], "after")
    got = wait_for(lambda: len(windows(url, "restartable", "restartable")) == 2 and
                   windows(url, "restartable", "restartable"), what="two windows")
    assert [w["predictions"] for w in got] == [60, 60]
    wait_for(lambda: requests.get(f"{url}/api/v1/deployments/restartable/monitor").json()
             ["configs"][0].get("open_window", {}).get("requests") == 20, what="20 open")


def test_time_window_closes_when_traffic_stops_and_no_alert_without_drift(server_factory, cancer):
    server = server_factory()
    url = server.url
    deploy_cancer(url, cancer, "quiet")
    frame = io.StringIO()
    write_csv(frame, cancer["names"], cancer["x_train"],
              {"prediction": cancer["model"].predict(cancer["x_train"])})
    resp = requests.post(f"{url}/api/v1/deployments/quiet/reference", data=frame.getvalue(),
                         headers={"Content-Type": "text/csv"}, timeout=60)
    assert resp.status_code == 200, resp.text
    config = {"deployment": "quiet", "window": {"duration": "2s"}, "min_samples": 20,
              "slo": {"error_rate": 0.5}}
    requests.post(f"{url}/api/v1/models/quiet/drift-config", json=config,
                  timeout=30).raise_for_status()
    # An answer names its request id, also when the client sent none: the id labels join by.
    resp = requests.post(f"{url}/v2/models/quiet/infer", timeout=30, json={
        "inputs": [{"name": "X", "shape": [1, 30], "datatype": "FP32",
                    "data": cancer["x_test"][0].tolist()}]})
    assert resp.status_code == 200 and len(resp.headers.get("X-Request-Id", "")) == 32
    predict(url, "quiet", cancer["x_test"][1:60], "q")
    sent = time.time()
    got = wait_for(lambda: windows(url, "quiet", "quiet"), timeout=10, what="a timed window")
    # The window closed on time without further traffic (2 s windows, 0.5 s grace).
    assert time.time() - sent < 5
    total = sum(w["predictions"] for w in got)
    assert total <= 60
    results = got[0]["results"]
    assert results["data_drift"]["status"] in ("ok", "insufficient_data")
    # Every later window closes too, with no traffic to push it (each within its 2 s plus the
    # 0.5 s grace; waited for rather than slept, as a loaded machine may run a little late).
    wait_for(lambda: sum(w["predictions"] for w in windows(url, "quiet", "quiet")) == 60,
             timeout=10, what="all 60 predictions in closed windows")
    assert alerts(url) == []


def test_drift_config_validation(base_url):
    url = base_url
    cases = [
        ({"window": {"duration": "5m", "size": 10}}, "exactly one of duration and size"),
        ({"window": {"duration": "0s"}}, "between 1s and 30d"),
        ({"window": {"size": 5}}, "between 10 and"),
        ({"method": "bogus"}, "must be auto, ks"),
        ({"threshold": -1}, "positive"),
        ({"drift_share": 1.5}, "(0, 1]"),
        ({"sinks": [{"type": "webhook", "url": "ftp://x"}]}, "http(s)"),
        ({"sinks": [{"type": "email"}]}, "webhook or log"),
        ({"retrain": {"type": "command", "command": []}}, "non-empty list"),
        ({"performance": {"metric": "accuracy"}}, "needs min or max"),
        ({"performance": {"metric": "rmse", "task": "classification", "max": 1}},
         "does not fit task"),
        ({"concept_drift": {"detector": "adwin", "params": {"delta": 5}}}, "delta"),
        ({"concept_drift": {"detector": "nope"}}, "concept_drift"),
        ({"unknown_setting": 1}, "not a known setting"),
        ({"deployment": "missing-deployment"}, "not found"),
    ]
    for body, message in cases:
        resp = requests.post(f"{url}/api/v1/models/anything/drift-config", json=body, timeout=30)
        assert resp.status_code in (400, 404), (body, resp.text)
        assert message in resp.json()["message"], (body, resp.json())
    resp = requests.post(f"{url}/api/v1/models/anything/drift-config", data=b"{not json",
                         timeout=30)
    assert resp.status_code == 400
    resp = requests.post(f"{url}/api/v1/models/anything/drift-config",
                         data=b"{" + b'"a":1,' * 100_000 + b"}", timeout=30)
    assert resp.status_code == 413


def test_feedback_and_reference_reject_bad_input(base_url):
    url = base_url
    for body in [{}, {"labels": []}, {"labels": "x"}, {"request_id": "", "label": 1},
                 {"request_id": "r", "label": None}, {"request_id": "r", "label": {"a": 1}},
                 {"request_id": "r", "label": [[1]]}, {"request_id": "r" * 300, "label": 1},
                 {"labels": [{"request_id": "r", "label": 1}] * 10_001}]:
        resp = requests.post(f"{url}/api/v1/feedback", json=body, timeout=30)
        assert resp.status_code == 400, (str(body)[:80], resp.text)
    resp = requests.post(f"{url}/api/v1/deployments/nope/reference", data=b"a,b\n1,2\n",
                         headers={"Content-Type": "text/csv"}, timeout=30)
    assert resp.status_code == 404
    resp = requests.post(f"{url}/api/v1/erasure", json={"subject_id": ""}, timeout=30)
    assert resp.status_code == 400
    resp = requests.get(f"{url}/api/v1/models/x/metrics", params={"from": "-1"}, timeout=30)
    assert resp.status_code == 400
    resp = requests.get(f"{url}/api/v1/alerts", params={"max_results": "0"}, timeout=30)
    assert resp.status_code == 400
    resp = requests.get(f"{url}/api/v1/alerts/al-missing", timeout=30)
    assert resp.status_code == 404
