"""The `cairn deployments` CLI (the built binary) against the real server: an iris
LogisticRegression converted with skl2onnx, logged and registered with mlflow.onnx.log_model,
deployed with --wait, inspected, listed, scored (JSON, CSV, V2), rescaled, moved to another
version and deleted. Answers are checked against onnxruntime-python on the same ONNX model.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid

import mlflow
import mlflow.onnx
import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
import requests
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from server_process import cairn_binary

pytestmark = pytest.mark.cairn_only

WAIT_S = "180"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def cli(*args, server=None, stdin=None, timeout=240):
    env = dict(os.environ)
    env.pop("CAIRN_SERVER", None)
    cmd = [str(cairn_binary()), "deployments", *args]
    if server:
        cmd += ["--server", server]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                          input=stdin if stdin is not None else "")


def ok(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r.stdout


def table(stdout: str) -> list[dict[str, str]]:
    """Parses an aligned table (column starts from the header line); other lines end it."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    rows = []
    for line in lines[1:]:
        if re.match(r"^(Reason|Invocations|V2 infer|More predictions):", line):
            break
        cells = [line[s:e].strip() for s, e in zip(starts, starts[1:] + [len(line)])]
        rows.append(dict(zip(names, cells)))
    return rows


@pytest.fixture(scope="module")
def deployments_api(base_url) -> str:
    resp = requests.get(f"{base_url}/api/v1/deployments", timeout=30)
    assert resp.status_code == 200, resp.text
    return base_url


def iris_onnx(c: float) -> onnx.ModelProto:
    """Input float_input [N, 4]; one output, label (int64 [N]), so that DataFrame and CSV
    inputs answer one column too."""
    iris = load_iris()
    clf = LogisticRegression(C=c, max_iter=500).fit(iris.data, iris.target)
    model = convert_sklearn(clf, initial_types=[("float_input", FloatTensorType([None, 4]))],
                            options={id(clf): {"zipmap": False}},
                            target_opset={"": 17, "ai.onnx.ml": 3})
    kept = [o for o in model.graph.output if o.name == "label"]
    del model.graph.output[:]
    model.graph.output.extend(kept)
    onnx.checker.check_model(model)
    return model


@pytest.fixture(scope="module")
def iris(deployments_api):
    """`cli-iris-<id>` versions 1 and 2 (different regularisation), with an onnxruntime
    session for each to compute the expected labels."""
    name = f"cli-iris-{uuid.uuid4().hex[:8]}"
    mlflow.set_tracking_uri(deployments_api)
    sessions = {}
    exp_id = mlflow.MlflowClient().create_experiment(f"deploy-{name}")
    for c in (1.0, 0.01):
        model = iris_onnx(c)
        with mlflow.start_run(experiment_id=exp_id):
            info = mlflow.onnx.log_model(model, name="model", registered_model_name=name,
                                         pip_requirements=["onnx", "onnxruntime"])
        sessions[str(info.registered_model_version)] = onnxruntime.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"])
    assert sorted(sessions) == ["1", "2"]

    def expected(version: str, x: np.ndarray) -> list[int]:
        return sessions[version].run(["label"], {"float_input": x.astype(np.float32)})[0].tolist()

    return name, expected


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return load_iris().data.astype(np.float32)


def labels(stdout: str) -> list[int]:
    """The labels of an /invocations answer: a list, or records of one column."""
    predictions = json.loads(stdout)["predictions"]
    if isinstance(predictions, dict):
        predictions = predictions["label"]
    if predictions and isinstance(predictions[0], dict):
        predictions = [row["label"] for row in predictions]
    return [int(p) for p in np.asarray(predictions).reshape(-1)]


def test_cli_deploy_predict_scale_update_delete(deployments_api, iris, x, tmp_path):
    model, expected = iris
    endpoint = f"cli-{uuid.uuid4().hex[:10]}"
    server = deployments_api

    r = cli("create", "--model-name", model, "--version", "1", "--name", endpoint, "--wait",
            "--timeout", WAIT_S, server=server)
    row = table(ok(r))[0]
    assert row["NAME"] == endpoint and row["STATE"] == "READY"
    assert (row["MODEL"], row["VERSION"], row["RUNTIME"], row["DEVICE"]) == (
        model, "1", "onnx", "cpu")
    assert row["REPLICAS"] == "1/1"
    deployment_id = row["ID"]
    assert deployment_id.startswith("d-")
    try:
        # status, by id and by name; --json gives the server's status object
        out = ok(cli("status", deployment_id, server=server))
        assert table(out)[0]["NAME"] == endpoint
        assert f"Invocations: {server}/endpoints/{endpoint}/invocations" in out
        status = json.loads(ok(cli("status", endpoint, "--json", server=server)))
        assert status["deployment_id"] == deployment_id and status["state"] == "READY"

        rows = table(ok(cli("list", server=server)))
        assert endpoint in [row["NAME"] for row in rows]
        listed = json.loads(ok(cli("list", "--json", server=server)))["deployments"]
        assert deployment_id in [d["deployment_id"] for d in listed]

        # predict: JSON from --data (by id), from a file and from stdin (by name)
        body = json.dumps({"inputs": {"float_input": x[:10].tolist()}})
        assert labels(ok(cli("predict", deployment_id, "--data", body, server=server))) == \
            expected("1", x[:10])
        (tmp_path / "rows.json").write_text(json.dumps(
            {"dataframe_split": {"columns": FEATURES, "data": x[:7].tolist()}}))
        out = ok(cli("predict", endpoint, "--file", str(tmp_path / "rows.json"), server=server))
        assert labels(out) == expected("1", x[:7])
        out = ok(cli("predict", endpoint, server=server,
                     stdin=json.dumps({"instances": x[:3].tolist()})))
        assert labels(out) == expected("1", x[:3])

        # predict: CSV, sent as text/csv
        pd.DataFrame(x[:5].astype(np.float64), columns=FEATURES).to_csv(
            tmp_path / "rows.csv", index=False)
        out = ok(cli("predict", endpoint, "--file", str(tmp_path / "rows.csv"), server=server))
        assert labels(out) == expected("1", x[:5])

        # predict: Open Inference Protocol V2
        v2 = {"inputs": [{"name": "float_input", "shape": [4, 4], "datatype": "FP32",
                          "data": x[:4].reshape(-1).tolist()}]}
        answer = json.loads(ok(cli("predict", endpoint, "--protocol", "v2", "--data",
                                   json.dumps(v2), server=server)))
        (label,) = [o for o in answer["outputs"] if o["name"] == "label"]
        assert label["data"] == expected("1", x[:4])

        # scale: fixed count, then autoscaling bounds
        r = cli("scale", endpoint, "--replicas", "2", server=server)
        assert table(ok(r))[0]["REPLICAS"].endswith("/2")
        deadline = time.monotonic() + 60
        while json.loads(ok(cli("status", endpoint, "--json", server=server)))[
                "replicas"]["ready"] != 2:
            assert time.monotonic() < deadline, "2 replicas never became ready"
            time.sleep(0.2)
        scaled = json.loads(ok(cli("scale", endpoint, "--min", "1", "--max", "3", "--json",
                                   server=server)))
        assert (scaled["replicas"]["min"], scaled["replicas"]["max"]) == (1, 3)

        # update to version 2; --wait returns once version 2 serves
        r = cli("update", endpoint, "--version", "2", "--wait", "--timeout", WAIT_S,
                server=server)
        row = table(ok(r))[0]
        assert (row["STATE"], row["VERSION"]) == ("READY", "2")
        out = ok(cli("predict", endpoint, "--data", json.dumps({"instances": x.tolist()}),
                     server=server))
        assert labels(out) == expected("2", x)

        # predictions: the log, newest first (written behind the answers: wait for it)
        deadline = time.monotonic() + 30
        while True:
            page = json.loads(ok(cli("predictions", endpoint, "--max-results", "2", "--json",
                                     server=server)))
            if len(page["predictions"]) == 2:
                break
            assert time.monotonic() < deadline, page
            time.sleep(0.1)
        assert page["predictions"][0]["model_version"] == "2"
        assert "next_page_token" in page
        out = ok(cli("predictions", endpoint, "--max-results", "1", server=server))
        assert out.startswith("TIME ") and "More predictions: --page-token" in out, out
    finally:
        r = cli("delete", deployment_id, server=server)
    assert ok(r) == f"Deleted deployment {deployment_id}.\n"
    r = cli("status", endpoint, server=server)
    assert r.returncode == 1 and "RESOURCE_DOES_NOT_EXIST" in r.stderr


def test_cli_errors_and_exit_codes(deployments_api, iris, tmp_path):
    model, _ = iris
    server = deployments_api
    # Server errors: exit 1 with the envelope on stderr, nothing on stdout.
    for args in (("status", "no-such-deployment"),
                 ("delete", "no-such-deployment"),
                 ("scale", "no-such-deployment", "--replicas", "2"),
                 ("predict", "no-such-deployment", "--data", "{}"),
                 ("create", "--model-name", model, "--version", "1", "--name", "Not_A_Label!")):
        r = cli(*args, server=server)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert r.stdout == "" and r.stderr.startswith("error: "), (args, r.stderr)
    assert "RESOURCE_DOES_NOT_EXIST" in cli("status", "no-such-deployment", server=server).stderr

    # A version that does not exist: refused at once, or FAILED while loading; exit 1 either way.
    endpoint = f"cli-bad-{uuid.uuid4().hex[:8]}"
    r = cli("create", "--model-name", model, "--version", "99", "--name", endpoint, "--wait",
            "--timeout", WAIT_S, server=server)
    assert r.returncode == 1 and r.stderr.startswith("error: "), r.stderr
    cli("delete", endpoint, server=server)

    # Usage errors: exit 2, nothing sent.
    (tmp_path / "bad.json").write_text("{not json")
    for args in (("create", "--model-name", model),
                 ("create", "--version", "1"),
                 ("create", "--model-name", model, "--version", "1", "--runtime", "tf"),
                 ("scale", "x"),
                 ("update", "x"),
                 ("predict", "x", "--file", str(tmp_path / "bad.json")),
                 ("predict", "x", "--file", str(tmp_path / "missing.json")),
                 ("predict", "x", "--data", "{}", "--protocol", "grpc"),
                 ("predict", "x"),
                 ("frobnicate",)):
        r = cli(*args, server=server)
        assert r.returncode == 2, (args, r.returncode, r.stdout, r.stderr)
        assert r.stderr.strip()

    # No server listening: exit 1, quickly.
    started = time.monotonic()
    r = cli("list", "--timeout", "5", server="http://127.0.0.1:9")
    assert r.returncode == 1 and "error" in r.stderr.lower()
    assert time.monotonic() - started < 30
