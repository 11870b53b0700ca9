"""Shared fixtures for Cairn's integration tests.

The tests drive a real server process with real clients (the official `mlflow` package and
`requests`). Which server runs is chosen by `--target` or the environment variable
CAIRN_TEST_TARGET:

  cairn  (default)  the built binary, path from CAIRN_BIN (default build/release/cairn)
  mlflow            the reference `mlflow server`, to check that the tests themselves are right

Tests that check behaviour only Cairn promises carry the `cairn_only` marker and are skipped
for the reference server.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

# The client reads these when it makes a request; set them before anything imports mlflow.
# No telemetry leaves the machine, and a server error fails a test at once instead of being
# retried for minutes.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
for _name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME",
              "MLFLOW_RUN_ID", "MLFLOW_ACTIVE_MODEL_ID", "MLFLOW_WORKSPACE"):
    os.environ.pop(_name, None)

import mlflow  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402

from server_process import TARGETS, ServerProcess, ServerStartError  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        "--target",
        choices=TARGETS,
        default=os.environ.get("CAIRN_TEST_TARGET", "cairn"),
        help="server under test: cairn (default) or the reference mlflow server",
    )


def _interrupt_on_sigterm(signum, frame):
    # Stop like Ctrl-C does: fixtures tear down and the atexit handler stops every server.
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    config.addinivalue_line(
        "markers", "cairn_only: behaviour only Cairn promises; skipped for the reference server")
    target = config.getoption("--target")
    if target not in TARGETS:
        raise pytest.UsageError(f"CAIRN_TEST_TARGET must be one of {TARGETS}, not {target!r}")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--target") == "cairn":
        return
    skip = pytest.mark.skip(reason="Cairn-only behaviour; the target is the reference server")
    for item in items:
        if "cairn_only" in item.keywords:
            item.add_marker(skip)


def _started(proc: ServerProcess) -> ServerProcess:
    try:
        return proc.start()
    except ServerStartError as e:
        pytest.fail(str(e), pytrace=False)


def _stop_checked(server: ServerProcess):
    rc = server.stop()
    if server.target == "cairn":
        assert rc == 0, (f"cairn did not shut down cleanly on SIGTERM (exit code {rc}; None means "
                         f"it hung)\n{server.log_tail()}")


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def target(pytestconfig) -> str:
    return pytestconfig.getoption("--target")


@pytest.fixture(scope="session")
def server(target, tmp_path_factory):
    """The server shared by the whole session. On teardown it must exit 0 on SIGTERM."""
    proc = _started(ServerProcess(target, tmp_path_factory.mktemp("session") / "data", workers=1))
    yield proc
    _stop_checked(proc)


@pytest.fixture(scope="session")
def base_url(server) -> str:
    return server.url


class ServerFactory:
    """Starts extra servers for tests that restart, crash or load a server."""

    def __init__(self, target: str, tmp_path: Path):
        self.target = target
        self.tmp_path = tmp_path
        self.servers: list[ServerProcess] = []
        self._n = 0

    def __call__(self, data_dir: Path | None = None, port: int | None = None,
                 extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None
                 ) -> ServerProcess:
        if data_dir is None:
            self._n += 1
            data_dir = self.tmp_path / f"data{self._n}"
        proc = ServerProcess(self.target, data_dir, port, extra_args, env, workers=1)
        self.servers.append(proc)
        return _started(proc)

    def cleanup(self):
        for proc in self.servers:
            if proc.alive():
                proc.kill()


@pytest.fixture
def server_factory(target, tmp_path):
    factory = ServerFactory(target, tmp_path)
    yield factory
    factory.cleanup()


def _reset_mlflow_state():
    while mlflow.active_run() is not None:
        mlflow.end_run()
    import mlflow.tracking.fluent as fluent
    fluent._active_experiment_id = None
    with contextlib.suppress(Exception):
        mlflow.clear_active_model()
    with contextlib.suppress(Exception):
        fluent._reset_last_logged_model_id()
    with contextlib.suppress(Exception):
        fluent._last_active_run_id.set(None)


@pytest.fixture(autouse=True)
def _mlflow_client_state(request, monkeypatch):
    """Points the mlflow client at the session server and resets its global state.

    Tests that only use their own servers (server_factory) do not start the session server.
    """
    uses_own_server = ("server_factory" in request.fixturenames
                       and "base_url" not in request.fixturenames)
    for name in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    _reset_mlflow_state()
    if not uses_own_server:
        url = request.getfixturevalue("base_url")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        mlflow.set_tracking_uri(url)
    yield
    _reset_mlflow_state()
    mlflow.set_tracking_uri(None)
    # mlflow.set_experiment exports the id to the environment for child processes; without this
    # the id of a server the next test does not use would leak into it.
    for name in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        os.environ.pop(name, None)


@pytest.fixture
def client(base_url):
    return mlflow.MlflowClient(tracking_uri=base_url)


@pytest.fixture(scope="module")
def http():
    """A requests session (kept-alive connections) shared by a module's tests."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def unique(request):
    """A short unique string for names (experiments are shared by the whole session)."""
    import uuid
    return f"{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """Spark in local mode in this process's JVM, shared by every module that needs it (a
    second JVM started after the first stopped cannot be reached by py4j). Skips without a
    working Java."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs a Java runtime (scripts/install.sh installs "
                    "openjdk-17-jre-headless)")
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    tmp = tmp_path_factory.mktemp("spark")
    saved = {k: os.environ.get(k) for k in ("SPARK_LOCAL_IP", "PYSPARK_PYTHON",
                                            "PYSPARK_DRIVER_PYTHON", "MLFLOW_DFS_TMP")}
    os.environ.update({
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "MLFLOW_DFS_TMP": str(tmp / "dfs"),
    })
    session = (
        SparkSession.builder.master("local[1]")
        .appName("cairn-tests")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "512m")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.local.dir", str(tmp / "local"))
        .config("spark.sql.warehouse.dir", str(tmp / "warehouse"))
        # Short-lived JVM: a small collector and the quick JIT tier start faster.
        .config("spark.driver.extraJavaOptions",
                "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        gateway = SparkContext._gateway
        session.stop()
        # Stop the JVM too, so that it does not outlive the module: it exits when its stdin
        # closes.
        if gateway is not None:
            proc = getattr(gateway, "proc", None)
            gateway.shutdown()
            if proc is not None:
                if proc.stdin:
                    proc.stdin.close()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=30)
            SparkContext._gateway = None
            SparkContext._jvm = None
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
