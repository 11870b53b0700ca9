"""Cairn servers sharing one Redis (--redis-uri): rate-limit budgets enforced across two server
processes, a Redis outage answered by per-process limits (counted on /metrics), deployment
changes made on one server served by the other within a second, and bad Redis URIs refused at
start-up with a clear message.

Needs the Redis that scripts/services/redis.sh starts (CAIRN_TEST_REDIS_URI). The deployment
test runs two servers on one metadata database and one artifact folder (each with its own data
dir for its model copies, event log and audit log), the shape of replicas on a shared store.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid

import mlflow
import mlflow.onnx
import pytest
import requests

from helpers import service_uri
from server_process import cairn_binary
from test_serving_onnx import mlp_graph

pytestmark = pytest.mark.cairn_only


@pytest.fixture
def redis_uri() -> str:
    return service_uri("REDIS")


def tenant() -> str:
    return "rl-" + uuid.uuid4().hex[:12]


def fallbacks(url: str) -> float:
    text = requests.get(f"{url}/metrics", timeout=10).text
    match = re.search(r"^cairn_redis_rate_limit_fallbacks_total (\S+)$", text, re.M)
    assert match, "no cairn_redis_rate_limit_fallbacks_total on /metrics"
    return float(match.group(1))


def control_request(url: str, workspace: str) -> requests.Response:
    return requests.get(f"{url}/api/2.0/mlflow/experiments/search", params={"max_results": 1},
                        headers={"X-MLflow-Workspace": workspace}, timeout=10)


def test_rate_limit_budget_is_shared_by_two_servers(server_factory, redis_uri, tmp_path):
    # 10 requests of burst, refilled at one per 100 s: the test takes far less than that. The
    # servers share the metadata store only for the per-tenant budget at the end.
    args = ("--redis-uri", redis_uri, "--rate-limit-control", "0.01:10",
            "--backend-store-uri", f"sqlite:///{tmp_path / 'meta.db'}")
    first = server_factory(extra_args=args)
    second = server_factory(extra_args=args)
    workspace = tenant()
    codes = []
    retry_after = []
    for i in range(30):
        resp = control_request((first if i % 2 == 0 else second).url, workspace)
        codes.append(resp.status_code)
        if resp.status_code == 429:
            retry_after.append(int(resp.headers["Retry-After"]))
            assert resp.json()["error_code"] == "RESOURCE_EXHAUSTED", resp.text
    assert codes.count(429) == 20, codes  # 10 allowed in all, not 10 per server
    assert all(code != 429 for code in codes[:10]), codes
    assert retry_after and all(seconds >= 1 for seconds in retry_after), retry_after
    # Another tenant has its own budget, on either server.
    assert control_request(second.url, tenant()).status_code != 429
    assert fallbacks(first.url) == 0 and fallbacks(second.url) == 0

    # A tenant's own budget, set on one server, applies on the other at once.
    workspace = tenant()
    admin = {"X-MLflow-Workspace": tenant()}
    resp = requests.post(f"{first.url}/api/v1/tenants", json={"name": workspace}, headers=admin,
                         timeout=10)
    assert resp.status_code == 200, resp.text
    resp = requests.put(f"{first.url}/api/v1/rate-limits/{workspace}",
                        json={"control": {"rate": 0.01, "burst": 3}}, headers=admin,
                        timeout=10)
    assert resp.status_code == 200, resp.text
    time.sleep(0.2)
    codes = [control_request(second.url, workspace).status_code for _ in range(6)]
    assert codes.count(429) == 3, codes


def test_redis_outage_falls_back_to_per_server_limits_quickly(server_factory):
    with __import__("socket").socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    proc = server_factory(extra_args=("--redis-uri", f"redis://127.0.0.1:{port}/0",
                                      "--rate-limit-control", "0.01:5"))
    workspace = tenant()
    started = time.monotonic()
    codes = [control_request(proc.url, workspace).status_code for _ in range(20)]
    elapsed = time.monotonic() - started
    assert codes.count(429) == 15, codes  # the local bucket still enforces the budget
    assert elapsed < 5, f"20 requests took {elapsed:.1f} s with Redis down"
    assert fallbacks(proc.url) >= 20
    assert "Redis is not answering" in proc.log_tail()


@pytest.mark.parametrize("uri", [
    "http://127.0.0.1:6379",
    "redis://",
    "redis://127.0.0.1:notaport/0",
    "redis://127.0.0.1:6379/db",
    "redis://127.0.0.1:70000",
    "redis://:hunter2@127.0.0.1:6379/0?ssl=true",
    "redis://host name:1",
    "rediss://127.0.0.1:6379",
])
def test_bad_redis_uri_is_a_clear_startup_error(tmp_path, uri):
    out = subprocess.run([str(cairn_binary()), "server", "--data-dir", str(tmp_path / "d"),
                          "--port", "0", "--redis-uri", uri],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2, out
    assert "invalid Redis URI" in out.stderr, out.stderr
    assert "hunter2" not in out.stderr + out.stdout


def test_bad_redis_uri_from_the_environment_is_refused_too(tmp_path):
    out = subprocess.run([str(cairn_binary()), "server", "--data-dir", str(tmp_path / "d")],
                         capture_output=True, text=True, timeout=30,
                         env={"CAIRN_REDIS_URI": "redis://:pw@:6379", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 2, out
    assert "invalid Redis URI" in out.stderr


def wait_until(check, limit_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if check():
            return time.monotonic() - started
        time.sleep(0.01)
    return -1.0


def status(url: str, name: str) -> dict | None:
    resp = requests.get(f"{url}/api/v1/deployments/{name}/status", timeout=10)
    return resp.json() if resp.status_code == 200 else None


def ready(url: str, name: str, version: str, replicas: int) -> bool:
    found = status(url, name) or {}
    return (found.get("state") == "READY" and found.get("model_version") == version
            and found.get("replicas", {}).get("ready") == replicas)


def infer(url: str, name: str) -> requests.Response:
    body = {"inputs": [{"name": "input", "shape": [1, 30], "datatype": "FP32",
                        "data": [0.1] * 30}]}
    return requests.post(f"{url}/v2/models/{name}/infer", json=body, timeout=10)


def served_version(url: str, name: str) -> str | None:
    resp = infer(url, name)
    return resp.json().get("model_version") if resp.status_code == 200 else None


def test_deployment_changes_on_one_server_are_served_by_the_other(server_factory, redis_uri,
                                                                  tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    common = ("--redis-uri", redis_uri,
              "--backend-store-uri", f"sqlite:///{shared / 'meta.db'}",
              "--artifacts-uri", str(shared / "artifacts"))
    first = server_factory(extra_args=common)
    second = server_factory(extra_args=(*common, "--monitor", "false"))
    name = "shared-" + uuid.uuid4().hex[:8]
    mlflow.set_tracking_uri(first.url)
    for seed in (1, 2):
        with mlflow.start_run():
            mlflow.onnx.log_model(mlp_graph(seed), name="model", registered_model_name=name)
    resp = requests.post(f"{first.url}/api/v1/deployments/create",
                         json={"model_name": name, "version": 1, "name": name}, timeout=30)
    assert resp.status_code == 200, resp.text
    took = wait_until(lambda: (status(second.url, name) or {}).get("state") == "READY", 1.0)
    assert took >= 0, f"the second server does not serve it after 1 s: {status(second.url, name)}"
    assert infer(second.url, name).status_code == 200
    assert wait_until(lambda: (status(first.url, name) or {}).get("state") == "READY", 30) >= 0

    resp = requests.put(f"{first.url}/api/v1/deployments/{name}/scale", json={"replicas": 2},
                        timeout=30)
    assert resp.status_code == 200, resp.text
    assert wait_until(lambda: ready(second.url, name, "1", 2), 1.0) >= 0, status(second.url, name)

    resp = requests.put(f"{first.url}/api/v1/deployments/{name}", json={"version": 2}, timeout=30)
    assert resp.status_code == 200, resp.text
    # The status names the new version at once; the answers tell when it serves.
    assert wait_until(lambda: served_version(second.url, name) == "2", 1.0) >= 0, \
        status(second.url, name)
    assert ready(second.url, name, "2", 2), status(second.url, name)

    resp = requests.delete(f"{first.url}/api/v1/deployments/{name}", timeout=30)
    assert resp.status_code == 200, resp.text
    assert wait_until(lambda: status(second.url, name) is None, 1.0) >= 0
    assert infer(second.url, name).status_code == 404
