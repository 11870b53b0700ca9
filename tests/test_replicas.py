"""Several Cairn replicas on every scale-out engine, as `cairn server` scales out.

Three `cairn server` processes share one PostgreSQL schema, one S3 bucket prefix, one Kafka topic
prefix and one Redis (all started by scripts/test_services.sh); each has its own data dir. The
official MLflow client's tracking and registry flow runs with every step on the next replica
(client-side rotation); replicas race for unique names and version numbers; a write load through
a round-robin TCP proxy survives kill -9 of one replica without losing an acknowledged write;
every replica appends to one audit chain; a model deployed through one replica is served by all
three, and their predictions are monitored in windows.
"""

from __future__ import annotations

import itertools
import os
import secrets
import socket
import subprocess
import threading
import time
from pathlib import Path

import mlflow
import pytest
import requests
from mlflow.tracking import MlflowClient

from helpers import API, service_uri
from skl2onnx import to_onnx
from test_kafka_stream import metric
from test_monitoring import cancer, wait_for, windows  # noqa: F401 (cancer is a fixture)
from server_process import HOST, ServerProcess, cairn_binary

pytestmark = pytest.mark.cairn_only


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    """Three replicas on every scale-out engine: PostgreSQL metadata, S3 artifacts, the Kafka
    event stream and Redis for limits and deployment notifications."""
    pg, s3, kafka, redis = (service_uri(e) for e in ("POSTGRES", "S3", "KAFKA", "REDIS"))
    tag = secrets.token_hex(4)
    bucket = os.environ.get("CAIRN_TEST_S3_BUCKET", "cairn-test")
    env = {
        "AWS_ACCESS_KEY_ID": os.environ["CAIRN_TEST_S3_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": os.environ["CAIRN_TEST_S3_SECRET_ACCESS_KEY"],
        "AWS_REGION": os.environ.get("CAIRN_TEST_S3_REGION", "us-east-1"),
        "AWS_ENDPOINT_URL_S3": s3,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    args = ("--backend-store-uri", f"{pg}?schema=stack_{tag}",
            "--artifacts-uri", f"s3://{bucket}/stack-{tag}",
            # Three partitions: the replicas' monitors divide them (a consumer group).
            "--events-uri", f"{kafka}-stack-{tag}?partitions=3",
            "--redis-uri", redis)
    base = tmp_path_factory.mktemp("replicas")
    servers = [ServerProcess("cairn", base / f"replica-{i}", extra_args=args, env=env)
               for i in range(3)]
    for server in servers:
        server.metadata_uri = args[1]
    # All at once: they migrate the empty schema concurrently (one does, the others wait).
    errors: list[BaseException] = []

    def start(server: ServerProcess):
        try:
            server.start()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        if errors:
            raise errors[0]
        yield servers
    finally:
        for server in servers:
            server.stop()



class RoundRobinProxy:
    """A TCP proxy on 127.0.0.1 that sends each new connection to the next live backend."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self._next = itertools.cycle(range(len(ports)))
        self._lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _connect(self) -> socket.socket | None:
        for _ in range(len(self.ports)):
            with self._lock:
                port = self.ports[next(self._next)]
            try:
                return socket.create_connection((HOST, port), timeout=2)
            except OSError:
                continue  # a dead replica: try the next one
        return None

    def _accept(self):
        while not self._stopped:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = self._connect()
            if upstream is None:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket):
        try:
            src.settimeout(None)
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self._stopped = True
        self.sock.close()


def test_mlflow_tracking_and_registry_flow_on_rotating_replicas(replicas, tmp_path):
    clients = itertools.cycle([MlflowClient(tracking_uri=s.url) for s in replicas])
    c = lambda: next(clients)  # noqa: E731 - every step goes to the next replica

    exp_id = c().create_experiment("replicated")
    assert c().get_experiment_by_name("replicated").experiment_id == exp_id
    run = c().create_run(exp_id, run_name="r1", tags={"team": "a"})
    run_id = run.info.run_id
    c().log_param(run_id, "lr", "0.1")
    for step in range(20):
        c().log_metric(run_id, "loss", 1.0 / (step + 1), step=step)
    c().set_tag(run_id, "stage", "train")
    (tmp_path / "notes.txt").write_text("hello from a replica")
    c().log_artifact(run_id, str(tmp_path / "notes.txt"))
    c().set_terminated(run_id, "FINISHED")

    for client in [MlflowClient(tracking_uri=s.url) for s in replicas]:
        got = client.get_run(run_id)
        assert got.data.params == {"lr": "0.1"}
        assert got.data.tags["stage"] == "train" and got.data.tags["team"] == "a"
        assert got.info.status == "FINISHED"
        history = client.get_metric_history(run_id, "loss")
        assert [m.step for m in history] == list(range(20))
        assert [a.path for a in client.list_artifacts(run_id)] == ["notes.txt"]
        found = client.search_runs([exp_id], "metrics.loss < 0.06 and params.lr = '0.1'")
        assert [r.info.run_id for r in found] == [run_id]

    download = Path(c().download_artifacts(run_id, "notes.txt", str(tmp_path / "dl")))
    assert download.read_text() == "hello from a replica"

    c().create_registered_model("replicated-model")
    versions = [c().create_model_version("replicated-model", f"runs:/{run_id}/model", run_id)
                for _ in range(3)]
    assert [v.version for v in versions] == ["1", "2", "3"]
    c().set_registered_model_alias("replicated-model", "champion", "2")
    c().transition_model_version_stage("replicated-model", "3", "Production")
    for client in [MlflowClient(tracking_uri=s.url) for s in replicas]:
        assert client.get_model_version_by_alias("replicated-model", "champion").version == "2"
        latest = client.get_latest_versions("replicated-model", stages=["Production"])
        assert [v.version for v in latest] == ["3"]

    # Replicas racing for the same unique name: exactly one wins, whichever answers.
    results = []

    def create(url):
        r = requests.post(f"{url}{API}/experiments/create", json={"name": "raced"}, timeout=30)
        results.append(r.status_code)

    threads = [threading.Thread(target=create, args=(s.url,)) for s in replicas for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [400] * 8


def test_concurrent_version_numbers_are_unique_across_replicas(replicas):
    requests.post(f"{replicas[0].url}{API}/registered-models/create", json={"name": "racing"},
                  timeout=30).raise_for_status()
    versions = []
    lock = threading.Lock()

    def register(url):
        for _ in range(5):
            r = requests.post(f"{url}{API}/model-versions/create",
                              json={"name": "racing", "source": "s3://b/m"}, timeout=30)
            r.raise_for_status()
            with lock:
                versions.append(int(r.json()["model_version"]["version"]))

    threads = [threading.Thread(target=register, args=(s.url,)) for s in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(versions) == list(range(1, 16))


def test_killing_a_replica_mid_load_loses_no_acknowledged_write(replicas):
    proxy = RoundRobinProxy([s.port for s in replicas])
    try:
        base = f"http://{HOST}:{proxy.port}"
        exp = requests.post(f"{base}{API}/experiments/create", json={"name": "load"}, timeout=30)
        exp_id = exp.json()["experiment_id"]
        run_id = requests.post(f"{base}{API}/runs/create", json={"experiment_id": exp_id},
                               timeout=30).json()["run"]["info"]["run_id"]
        acknowledged: list[int] = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(worker: int):
            n = 0
            while not stop.is_set():
                step = worker * 1_000_000 + n
                n += 1
                try:
                    # A new connection per request: the proxy spreads them over the replicas.
                    r = requests.post(f"{base}{API}/runs/log-metric", timeout=10, json={
                        "run_id": run_id, "key": "m", "value": float(step),
                        "timestamp": 1, "step": step})
                except requests.RequestException:
                    continue  # not acknowledged: may or may not be stored
                if r.status_code == 200:
                    with lock:
                        acknowledged.append(step)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
        for t in threads:
            t.start()
        time.sleep(2.0)
        replicas[1].kill()  # SIGKILL mid-load
        time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join()
        assert len(acknowledged) > 100

        history = requests.get(f"{replicas[0].url}{API}/metrics/get-history", timeout=60,
                               params={"run_id": run_id, "metric_key": "m",
                                       "max_results": 1_000_000}).json()["metrics"]
        stored = {int(m["step"]) for m in history}
        missing = set(acknowledged) - stored
        assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {sorted(missing)[:5]}"
    finally:
        proxy.close()
        replicas[1].start()  # back for any later test


def test_one_audit_chain_for_all_replicas_verifies(replicas):
    """Every replica appends to the one audit log in PostgreSQL; the chain stays intact."""
    for i, server in enumerate(replicas * 4):
        requests.post(f"{server.url}{API}/experiments/create", json={"name": f"audited-{i}"},
                      timeout=30).raise_for_status()
    time.sleep(1.0)  # the audit writers flush in the background
    out = subprocess.run([str(cairn_binary()), "admin", "audit-verify", "--data-dir",
                          str(replicas[0].data_dir), "--backend-store-uri",
                          replicas[0].metadata_uri], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "audit log intact" in out.stdout
    checked = int(out.stdout.split("intact: ")[1].split()[0])
    assert checked >= 12


def test_prediction_load_with_monitoring_on_every_engine(replicas, cancer):
    urls = [s.url for s in replicas]
    name = "stacked"
    # The model's files go to S3 through replica 0; the registry and deployment through others.
    onnx_model = to_onnx(cancer["model"], cancer["x_train"][:1],
                         options={id(cancer["model"].steps[-1][1]): {"zipmap": False}})
    mlflow.set_tracking_uri(urls[0])
    try:
        with mlflow.start_run():
            mlflow.onnx.log_model(onnx_model, name="model", registered_model_name=name)
    finally:
        mlflow.set_tracking_uri(None)
    r = requests.post(f"{urls[1]}/api/v1/deployments/create",
                      json={"model_name": name, "version": 1, "name": name}, timeout=60)
    assert r.status_code == 200, r.text
    # Every replica serves it (Redis tells the others; they load it from S3).
    for url in urls:
        wait_for(lambda url=url: requests.get(f"{url}/api/v1/deployments/{name}/status",
                                              timeout=30).json().get("state") == "READY",
                 timeout=90, what=f"the deployment on {url}")
    config = {"deployment": name, "window": {"size": 50}, "min_samples": 20,
              "performance": {"metric": "accuracy", "min": 0.8, "min_labels": 20}}
    requests.post(f"{urls[2]}/api/v1/models/{name}/drift-config", json=config,
                  timeout=30).raise_for_status()
    time.sleep(3.0)  # the monitors re-read their configurations every 2 s

    rows = cancer["x_test"][:150]
    for i, row in enumerate(rows):
        url = urls[i % 3]
        resp = requests.post(f"{url}/v2/models/{name}/infer", timeout=30,
                             headers={"X-Request-Id": f"stack-{i}"},
                             json={"inputs": [{"name": "X", "shape": [1, 30], "datatype": "FP32",
                                               "data": row.tolist()}]})
        assert resp.status_code == 200, resp.text
    # Predictions from all three replicas went to Kafka; the monitor that owns the deployment's
    # partition made the windows, stored in PostgreSQL, readable from any replica.
    got = wait_for(lambda: len(windows(urls[1], name, name)) == 3 and windows(urls[1], name, name),
                   timeout=90, what="three windows")
    assert [w["predictions"] for w in got] == [50, 50, 50]

    # The replica whose monitor holds the deployment's partition read its 150 events.
    holders = [url for url in urls if metric(url, "cairn_monitor_events_total") >= 150]
    assert len(holders) == 1, holders
    others = [url for url in urls if url != holders[0]]
    # Wrong labels, half through each of the other two replicas: they join them and store the
    # windows' performance; the holder gets them from the labels topic and raises the alert.
    for r, url in enumerate(others):
        labels = [{"request_id": f"stack-{i}", "label": 1 - int(cancer["y_test"][i])}
                  for i in range(r, 150, 2)]
        resp = requests.post(f"{url}/api/v1/feedback", json={"labels": labels}, timeout=30)
        assert resp.status_code == 200 and resp.json()["matched"] == 75, resp.text
    fired = wait_for(lambda: requests.get(f"{urls[0]}/api/v1/alerts",
                                          params={"kind": "performance"},
                                          timeout=30).json()["alerts"],
                     timeout=60, what="the performance alert")
    assert len(fired) == 1 and fired[0]["state"] == "firing", fired
