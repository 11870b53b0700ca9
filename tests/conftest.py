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

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
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

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = {"cairn": 30.0, "mlflow": 120.0}  # the reference server starts slowly
STOP_TIMEOUT_S = 20.0
TARGETS = ("cairn", "mlflow")


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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cairn_binary() -> Path:
    path = Path(os.environ.get("CAIRN_BIN", "build/release/cairn"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def mlflow_executable() -> str:
    # The reference server comes from the same environment as the test's own interpreter.
    candidate = Path(sys.executable).parent / "mlflow"
    return str(candidate) if candidate.exists() else "mlflow"


# Every server started by these fixtures, so that nothing outlives the test session even when
# a test or the interpreter dies half way.
_LIVE: set[ServerProcess] = set()
_LIVE_LOCK = threading.Lock()


def _kill_all_servers():
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for server in servers:
        server.kill()


atexit.register(_kill_all_servers)


class ServerProcess:
    """One server process (Cairn or the reference server) on 127.0.0.1.

    The process runs in its own session so that the whole process group (the reference server
    forks workers) can be signalled and reaped.
    """

    _counter = 0

    def __init__(self, target: str, data_dir: Path, port: int | None = None,
                 extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None):
        self.target = target
        self.data_dir = Path(data_dir)
        self.requested_port = port
        self.port: int | None = None
        self.extra_args = tuple(extra_args)
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        ServerProcess._counter += 1
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server-{self._counter}.log"

    # -- paths and URLs ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def artifact_root(self) -> Path:
        """Directory under which the server keeps artifacts."""
        if self.target == "cairn":
            return self.data_dir / "artifacts"
        return self.data_dir / "mlartifacts"

    def _command(self) -> list[str]:
        if self.target == "cairn":
            binary = cairn_binary()
            if not binary.exists():
                pytest.fail(f"cairn binary not found at {binary}; build it or set CAIRN_BIN")
            return [str(binary), "server", "--host", "127.0.0.1", "--port", str(self.port),
                    "--data-dir", str(self.data_dir), "--log-level", "info",
                    *self.extra_args]
        return [mlflow_executable(), "server",
                "--backend-store-uri", f"sqlite:///{self.data_dir / 'mlflow.db'}",
                "--artifacts-destination", str(self.data_dir / "mlartifacts"),
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
                *self.extra_args]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        })
        env.update(self.extra_env)
        return env

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> ServerProcess:
        """Starts the server and waits until /health answers 200."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        attempts = 1 if self.requested_port else 3
        for attempt in range(attempts):
            self.port = self.requested_port or free_port()
            self._spawn()
            if self._wait_ready():
                return self
            if self.alive():
                self.kill()
                pytest.fail(f"{self.target} server did not become ready within "
                            f"{READY_TIMEOUT_S[self.target]:.0f}s\n{self.log_tail()}")
            # Exited early: most likely another process took the port; try a new one.
            if attempt == attempts - 1:
                pytest.fail(f"{self.target} server exited with code {self.proc.returncode} "
                            f"before becoming ready\n{self.log_tail()}")
        return self

    def _spawn(self):
        self.returncode = None
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                self._command(), cwd=self.data_dir, env=self._env(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        finally:
            log.close()
        with _LIVE_LOCK:
            _LIVE.add(self)

    def _forget(self):
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S[self.target]
        while time.monotonic() < deadline:
            if self._leader_exited():
                self._reap()
                return False
            try:
                r = requests.get(self.url + "/health", timeout=2)
                if r.status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return False

    # The process group is signalled only while its leader is not yet reaped (it is at worst a
    # zombie), so its id cannot have been reused by an unrelated process.

    def _leader_exited(self) -> bool:
        if self.proc.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _signal_group(self, sig):
        if self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def _reap(self):
        """Kills what is left of the process group, then collects the leader's exit code."""
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.returncode = self.proc.wait(timeout=10)
        self._forget()

    def alive(self) -> bool:
        return self.proc is not None and not self._leader_exited()

    def terminate(self):
        """Sends SIGTERM and returns at once.

        Cairn gets it on its own process. The reference server's CLI does not forward signals to
        its workers, so its whole process group gets it.
        """
        if not self.alive():
            return
        if self.target == "cairn":
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
        else:
            self._signal_group(signal.SIGTERM)

    def wait_exit(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """Waits for the server to exit and returns its exit code (None if it is still up)."""
        deadline = time.monotonic() + timeout
        while not self._leader_exited():
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
        self._reap()
        return self.returncode

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """Stops the server with SIGTERM and returns its exit code.

        A server still running after `timeout` seconds is killed and None is returned.
        """
        if self.proc is None:
            return None
        self.terminate()
        rc = self.wait_exit(timeout)
        if rc is None:
            self.kill()
        return rc

    def kill(self):
        """SIGKILL to the whole process group, as a crash or a power cut would."""
        if self.proc is None:
            return
        self._reap()

    def restart(self, same_port: bool = False) -> ServerProcess:
        """Starts a new process on the same data directory (after stop() or kill())."""
        if self.alive():
            raise RuntimeError("restart() needs a stopped server")
        self.requested_port = self.port if same_port else None
        return self.start()

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "---- server log (tail) ----\n" + "\n".join(text.splitlines()[-lines:])


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
    proc = ServerProcess(target, tmp_path_factory.mktemp("session") / "data").start()
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
        proc = ServerProcess(self.target, data_dir, port, extra_args, env)
        self.servers.append(proc)
        return proc.start()

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


@pytest.fixture
def client(base_url):
    return mlflow.MlflowClient(tracking_uri=base_url)


@pytest.fixture
def unique(request):
    """A short unique string for names (experiments are shared by the whole session)."""
    import uuid
    return f"{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"
