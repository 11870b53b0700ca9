"""Fixtures of the MLflow 2.x client suite, run by the 2.x interpreter of .venv-mlflow2/:

    .venv-mlflow2/bin/python -m pytest tests/mlflow2

(scripts/mlflow2_venv.sh creates that venv.) The server under test is chosen by the
environment variable CAIRN_TEST_TARGET, as for the main suite:

  cairn  (default)  the built binary, path from CAIRN_BIN (default build/release/cairn)
  mlflow            the reference `mlflow server` of the MAIN venv ($CAIRN_VENV, default .venv:
                    MLflow 3), which is what a team with 2.x clients would upgrade its server to

Under any other MLflow major version (the main suite's `pytest tests`), this directory collects
nothing: ./dev.sh test runs it separately with the 2.x interpreter.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid
from pathlib import Path

from importlib.metadata import PackageNotFoundError, version

try:
    _MLFLOW_MAJOR = int(version("mlflow").split(".")[0])
except PackageNotFoundError:
    _MLFLOW_MAJOR = None

if _MLFLOW_MAJOR != 2:
    collect_ignore_glob = ["test_*.py"]
else:
    # The client reads these when it makes a request; set them before anything imports mlflow.
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    for _name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID",
                  "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        os.environ.pop(_name, None)

    import mlflow
    import pytest

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from server_process import REPO_ROOT, TARGETS, ServerProcess, ServerStartError

    TARGET = os.environ.get("CAIRN_TEST_TARGET", "cairn")

    def _reference_server_binary() -> Path:
        venv = Path(os.environ.get("CAIRN_VENV", REPO_ROOT / ".venv"))
        return (venv if venv.is_absolute() else REPO_ROOT / venv) / "bin" / "mlflow"

    def _interrupt_on_sigterm(signum, frame):
        # Stop like Ctrl-C does: fixtures tear down and the atexit handler stops every server.
        raise KeyboardInterrupt(f"signal {signum}")

    def pytest_configure(config):
        if TARGET not in TARGETS:
            raise pytest.UsageError(f"CAIRN_TEST_TARGET must be one of {TARGETS}, not "
                                    f"{TARGET!r}")
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _interrupt_on_sigterm)

    def pytest_report_header(config):
        return f"mlflow client {mlflow.__version__}; server under test: {TARGET}"

    @pytest.fixture(scope="session")
    def target() -> str:
        return TARGET

    @pytest.fixture(scope="session")
    def server(tmp_path_factory):
        """The server shared by the session; Cairn must exit 0 on SIGTERM at the end."""
        binary = _reference_server_binary() if TARGET == "mlflow" else None
        proc = ServerProcess(TARGET, tmp_path_factory.mktemp("session") / "data", workers=1,
                             binary=binary)
        try:
            proc.start()
        except ServerStartError as e:
            pytest.fail(str(e), pytrace=False)
        yield proc
        rc = proc.stop()
        if TARGET == "cairn":
            assert rc == 0, (f"cairn did not shut down cleanly on SIGTERM (exit code {rc}; "
                             f"None means it hung)\n{proc.log_tail()}")

    @pytest.fixture(scope="session")
    def base_url(server) -> str:
        return server.url

    def _reset_mlflow_state():
        while mlflow.active_run() is not None:
            mlflow.end_run()
        import mlflow.tracking.fluent as fluent
        fluent._active_experiment_id = None
        if "mlflow.sklearn" in sys.modules:  # a failed autolog test must not leave it on
            sys.modules["mlflow.sklearn"].autolog(disable=True)

    @pytest.fixture(autouse=True)
    def _mlflow_client_state(base_url, monkeypatch):
        """Points the client at the session server and resets its global state."""
        for name in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
            monkeypatch.delenv(name, raising=False)
        _reset_mlflow_state()
        monkeypatch.setenv("MLFLOW_TRACKING_URI", base_url)
        mlflow.set_tracking_uri(base_url)
        mlflow.set_registry_uri(base_url)
        yield
        _reset_mlflow_state()
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)

    @pytest.fixture
    def client(base_url):
        return mlflow.MlflowClient(tracking_uri=base_url, registry_uri=base_url)

    @pytest.fixture
    def unique(request):
        """A short unique string for names (the server is shared by the whole session)."""
        return f"{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"
