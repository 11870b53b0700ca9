"""The routes the MLflow web UI uses besides the REST API, over plain HTTP (no browser):
static files (with path tricks), artifact downloads and uploads from the UI, and the UI's
configuration probes. Runs against Cairn and the reference server (CAIRN_TEST_TARGET=mlflow).
"""

from __future__ import annotations

import socket

import pytest

from mlflow import MlflowClient


@pytest.fixture(scope="module")
def run_with_files(base_url, tmp_path_factory):
    client = MlflowClient(base_url)
    experiment_id = client.create_experiment(f"ui-routes-{id(client)}")
    run = client.create_run(experiment_id)
    files = tmp_path_factory.mktemp("ui-routes")
    (files / "MLmodel").write_text("flavors: {}\n")
    (files / "notes.json").write_text('{"a": 1}')
    (files / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    client.log_artifact(run.info.run_id, str(files / "MLmodel"), "model")
    client.log_artifact(run.info.run_id, str(files / "notes.json"))
    client.log_artifact(run.info.run_id, str(files / "plot.png"), "images")
    return run.info.run_id


def test_index_and_static_files(http, base_url):
    index = http.get(f"{base_url}/")
    assert index.status_code == 200
    assert index.headers["Content-Type"].startswith("text/html")
    script = next(part.split('"')[0] for part in index.text.split('src="')[1:]
                  if part.split('"')[0].endswith(".js"))
    path = script if script.startswith("/") else "/" + script.lstrip("./")
    js = http.get(f"{base_url}{path}")
    assert js.status_code == 200 and len(js.content) > 10000
    assert "javascript" in js.headers["Content-Type"]


@pytest.mark.parametrize("path", [
    "/static-files/../../../../etc/passwd",
    "/static-files/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static-files/static/../../../../../etc/passwd",
    "/static-files/%2Fetc%2Fpasswd",
    "/static-files/static",
    "/static-files/no-such-file.js",
])
def test_static_files_refuse_path_tricks(base_url, path):
    # Raw socket: a client library would normalise the dots away before sending.
    host = base_url.split("//")[1]
    with socket.create_connection((host.split(":")[0], int(host.rsplit(":", 1)[1]))) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                     .encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    assert status in (308, 400, 404), answer[:300]  # the reference redirects %2F forms
    assert b"root:" not in answer


@pytest.mark.parametrize("path,content_type", [
    ("model/MLmodel", "text/plain"),
    ("notes.json", "text/plain"),
    ("images/plot.png", "image/png"),
])
def test_get_artifact_streams_with_mlflows_headers(http, base_url, run_with_files, path,
                                                   content_type):
    response = http.get(f"{base_url}/get-artifact", params={"path": path,
                                                            "run_uuid": run_with_files})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].split(";")[0] == content_type
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_get_artifact_errors(http, base_url, run_with_files):
    missing = http.get(f"{base_url}/get-artifact", params={"path": "nope.txt",
                                                           "run_uuid": run_with_files})
    assert missing.status_code == 404
    directory = http.get(f"{base_url}/get-artifact", params={"path": "images",
                                                             "run_uuid": run_with_files})
    assert directory.status_code == 400
    unknown_run = http.get(f"{base_url}/get-artifact", params={"path": "x", "run_uuid": "f" * 32})
    assert unknown_run.status_code == 404
    traversal = http.get(f"{base_url}/get-artifact", params={"path": "../../etc/passwd",
                                                             "run_uuid": run_with_files})
    assert traversal.status_code == 400
    assert b"root:" not in traversal.content


def test_upload_artifact_from_the_ui(http, base_url, run_with_files):
    url = f"{base_url}/ajax-api/2.0/mlflow/upload-artifact"
    ok = http.post(url, params={"run_uuid": run_with_files, "path": "ui/uploaded.txt"},
                   data=b"from the browser")
    assert ok.status_code == 200, ok.text
    back = http.get(f"{base_url}/get-artifact", params={"path": "ui/uploaded.txt",
                                                        "run_uuid": run_with_files})
    assert back.content == b"from the browser"
    assert http.post(url, params={"path": "x"}, data=b"x").status_code == 400
    assert http.post(url, params={"run_uuid": run_with_files}, data=b"x").status_code == 400
    assert http.post(url, params={"run_uuid": run_with_files, "path": "e"}).status_code == 400
    traversal = http.post(url, params={"run_uuid": run_with_files, "path": "../../escape.txt"},
                          data=b"x")
    assert traversal.status_code == 400
    too_big = http.post(url, params={"run_uuid": run_with_files, "path": "big.bin"},
                        data=b"x" * (10 * 1024 * 1024 + 1))
    assert too_big.status_code in (400, 413)


def test_ui_configuration_probes(http, base_url):
    telemetry = http.get(f"{base_url}/ajax-api/3.0/mlflow/ui-telemetry")
    assert telemetry.status_code == 200 and telemetry.json()["disable_ui_telemetry"] is True
    assert http.post(f"{base_url}/ajax-api/3.0/mlflow/ui-telemetry", json={}).json() == \
        {"status": "disabled"}
    config = http.get(f"{base_url}/ajax-api/3.0/mlflow/assistant/config")
    assert config.status_code == 200 and config.json()["remote_access_allowed"] is False
    assert http.get(f"{base_url}/ajax-api/3.0/mlflow/assistant/providers").status_code == 200
    endpoints = http.get(f"{base_url}/ajax-api/2.0/mlflow/gateway-proxy",
                         params={"gateway_path": "api/2.0/endpoints/"})
    assert endpoints.status_code == 200 and endpoints.json() == {"endpoints": []}
