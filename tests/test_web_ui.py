"""The MLflow web UI, served by the server under test, in a real browser.

Headless Chromium (Debian's package) driven by Playwright opens the pages a team uses daily: the
experiment list, an experiment's runs, a run page (overview and artifacts: an MLmodel, a PNG image
and a CSV), run comparison, a metric chart, the registered models, a model and a model version,
and a trace. Every page must render without an error banner, and no request the page makes may be
answered with a status >= 400 except the few the reference server answers the same way (listed in
EXPECTED_FAILURES with the reason). A screenshot of each page is kept under the test's tmp dir.

Runs against Cairn (`--ui-dir` pointing at the UI build of the venv's `mlflow` wheel) and against
the reference server (CAIRN_TEST_TARGET=mlflow), so a difference shows as a failure on one side.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zlib
from pathlib import Path

import pytest

import mlflow
from mlflow import MlflowClient

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM = Path(os.environ.get("CAIRN_CHROMIUM", "/usr/lib/chromium/chromium"))
UI_BUILD = Path(mlflow.__file__).parent / "server" / "js" / "build"

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (install.sh)"),
    pytest.mark.skipif(not (UI_BUILD / "index.html").exists(), reason="no UI build in mlflow"),
    pytest.mark.timeout(600),
]

# Requests the UI makes that the reference server also refuses (same status on both targets).
EXPECTED_FAILURES: dict[str, str] = {
    # The UI asks who is signed in; without basic auth the reference has no such route (404).
    "/ajax-api/2.0/mlflow/users/current": "no user management",
}

# Requests Cairn does not answer yet (the reference does), each with the issue item that adds it.
# Kept out of the failure list for Cairn only, and printed, so the gap stays visible.
CAIRN_KNOWN_GAPS: dict[str, str] = {}

# Text of the UI's error states: a page that fails to load data shows one of these.
ERROR_TEXT = re.compile(
    r"(Something went wrong|Error while fetching|Failed to fetch|Unable to load|"
    r"An error occurred|Request failed|Internal Server Error|Page not found|404)", re.I)


# The UI's whole-page error boundary.
FATAL_TEXT = re.compile(r"Something went wrong|If this error persists", re.I)


def _png(width: int = 16, height: int = 16) -> bytes:
    """A small valid RGB PNG (a gradient), written with the standard library only."""
    raw = b"".join(b"\x00" + b"".join(bytes((x * 16 % 256, y * 16 % 256, 128))
                                      for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


class _Model(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


@pytest.fixture(scope="module")
def ui_server(target, tmp_path_factory):
    from server_process import ServerProcess

    data_dir = tmp_path_factory.mktemp("ui-server")
    extra = ("--ui-dir", str(UI_BUILD)) if target == "cairn" else ()
    proc = ServerProcess(target, data_dir, extra_args=extra).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def populated(ui_server, tmp_path_factory):
    """An experiment with two runs (params, metric histories, a dataset, artifacts, a logged
    model), a registered model version and a trace."""
    mlflow.set_tracking_uri(ui_server.url)
    client = MlflowClient(ui_server.url)
    files = tmp_path_factory.mktemp("ui-files")
    (files / "plot.png").write_bytes(_png())
    (files / "table.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    (files / "MLmodel").write_text("artifact_path: model\nflavors:\n  python_function:\n"
                                   "    loader_module: mlflow.pyfunc.model\n")
    experiment_id = client.create_experiment("ui-experiment")
    mlflow.set_experiment(experiment_id=experiment_id)
    run_ids = []
    for i in range(2):
        with mlflow.start_run(run_name=f"ui-run-{i}") as run:
            mlflow.log_params({"alpha": 0.1 * (i + 1), "depth": 3 + i})
            for step in range(10):
                mlflow.log_metric("loss", 1.0 / (step + 1 + i), step=step)
                mlflow.log_metric("accuracy", 0.5 + step * 0.04, step=step)
            mlflow.set_tag("team", "ui")
            mlflow.log_artifact(str(files / "plot.png"), "images")
            mlflow.log_artifact(str(files / "table.csv"))
            mlflow.log_artifact(str(files / "MLmodel"), "exported")
            if i == 0:
                import pandas as pd

                frame = pd.DataFrame({"a": [1, 3], "b": [2, 4], "label": [0, 1]})
                mlflow.log_input(mlflow.data.from_pandas(frame, name="ui-data"), "training")
                info = mlflow.pyfunc.log_model(name="model", python_model=_Model(),
                                               input_example=frame[["a", "b"]])
            run_ids.append(run.info.run_id)
    version = mlflow.register_model(f"runs:/{run_ids[0]}/model", "ui-model")
    with mlflow.start_span(name="ui-trace") as span:
        span.set_inputs({"question": "hello"})
        span.set_outputs({"answer": "world"})
        trace_id = span.trace_id
    # Export now, while this server is the tracking URI (other fixtures switch it back later).
    mlflow.flush_trace_async_logging()
    from mlflow.genai.datasets import create_dataset

    dataset = create_dataset(name="ui-dataset", experiment_id=[experiment_id],
                             tags={"team": "ui"})
    dataset.merge_records([{"inputs": {"question": "hello"},
                            "expectations": {"answer": "world"}},
                           {"inputs": {"question": "bye"}, "outputs": "ciao"}])
    return {
        "experiment_id": experiment_id,
        "run_ids": run_ids,
        "model_id": info.model_id,
        "version": version.version,
        "trace_id": trace_id,
        "dataset_id": dataset.dataset_id,
    }


def _pages(data: dict) -> list[tuple[str, str]]:
    e, (r0, r1) = data["experiment_id"], data["run_ids"]
    runs = json.dumps([r0, r1])
    return [
        ("experiments", "#/experiments"),
        ("experiment-runs", f"#/experiments/{e}/runs"),
        ("experiment-default", f"#/experiments/{e}"),
        ("run-overview", f"#/experiments/{e}/runs/{r0}"),
        ("run-artifacts-mlmodel", f"#/experiments/{e}/runs/{r0}/artifacts/exported/MLmodel"),
        ("run-artifacts-image", f"#/experiments/{e}/runs/{r0}/artifacts/images/plot.png"),
        ("run-artifacts-csv", f"#/experiments/{e}/runs/{r0}/artifacts/table.csv"),
        ("run-metrics", f"#/experiments/{e}/runs/{r0}/model-metrics"),
        ("compare-runs", f"#/compare-runs?runs={runs}&experiments={json.dumps([e])}"),
        ("metric", f"#/metric/loss?runs={runs}&experiments={json.dumps([e])}"
                   "&plot_metric_keys=%5B%22loss%22%5D"),
        ("logged-models", f"#/experiments/{e}/models"),
        ("logged-model", f"#/experiments/{e}/models/{data['model_id']}"),
        ("logged-model-artifacts", f"#/experiments/{e}/models/{data['model_id']}/artifacts"),
        ("models", "#/models"),
        ("model", "#/models/ui-model"),
        ("model-version", f"#/models/ui-model/versions/{data['version']}"),
        ("traces", "#/experiments/0/traces"),
        ("trace", f"#/experiments/0/traces?selectedEvaluationId={data['trace_id']}"),
        ("datasets", f"#/experiments/{e}/datasets"),
        ("dataset", f"#/experiments/{e}/datasets/{data['dataset_id']}"),
    ]


def _settle(page, in_flight: set, quiet_ms: int = 1000, limit_ms: int = 6000):
    """Waits until no request has been in flight for quiet_ms (the UI polls some endpoints, so
    "networkidle" may never come), at most limit_ms."""
    quiet = waited = 0
    while waited < limit_ms and quiet < quiet_ms:
        page.wait_for_timeout(100)
        waited += 100
        quiet = quiet + 100 if not in_flight else 0


def test_every_page_renders_without_errors(ui_server, populated, tmp_path, target):
    failures: list[str] = []
    seen: list[str] = []
    gaps: set[str] = set()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-gpu"])
        current = {"name": ""}
        in_flight: set = set()

        def on_response(response):
            url = response.url
            if not url.startswith(ui_server.url):
                return
            path = url[len(ui_server.url):]
            seen.append(f"{current['name']}: {response.status} {response.request.method} {path}")
            route = path.split("?")[0]
            if response.status < 400 or route in EXPECTED_FAILURES:
                return
            if target == "cairn" and route in CAIRN_KNOWN_GAPS:
                gaps.add(f"{route}: {CAIRN_KNOWN_GAPS[route]}")
                return
            failures.append(f"{current['name']}: {response.status} "
                            f"{response.request.method} {path}")

        for name, fragment in _pages(populated):
            current["name"] = name
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("request", lambda request: in_flight.add(request))
            page.on("requestfinished", lambda request: in_flight.discard(request))
            page.on("requestfailed", lambda request: in_flight.discard(request))
            page.on("response", on_response)
            page.on("pageerror",
                    lambda err, name=name: failures.append(f"{name}: js error {err}"))
            page.on("console", lambda msg, name=name: seen.append(
                f"{name}: console {msg.type}: {msg.text[:300]}") if msg.type == "error" else None)
            page.goto(f"{ui_server.url}/{fragment}", wait_until="load")
            _settle(page, in_flight)
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            for text in page.locator("[role=alert]").all_inner_texts():
                if ERROR_TEXT.search(text):
                    failures.append(f"{name}: error banner {text[:200]!r}")
            body = page.inner_text("body")
            if FATAL_TEXT.search(body):
                failures.append(f"{name}: error page {body[:300]!r}")
            page.close()
            in_flight.clear()
        browser.close()
    (tmp_path / "requests.log").write_text("\n".join(seen))
    print("\n".join(seen))
    for gap in sorted(gaps):
        print(f"known gap: {gap}")
    assert not failures, "\n".join(failures)
