"""Starting and stopping a Cairn or reference MLflow server process on 127.0.0.1.

The one implementation shared by the integration tests (tests/conftest.py) and the benchmarks
(bench/benchlib.py). Standard library only, so the benchmarks need nothing else.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("cairn", "mlflow")
READY_TIMEOUT_S = {"cairn": 30.0, "mlflow": 180.0}  # the reference server starts slowly
STOP_TIMEOUT_S = 20.0


class ServerStartError(RuntimeError):
    """The server exited during start-up or did not answer /health in time."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def cairn_binary() -> Path:
    """The Cairn binary: $CAIRN_BIN (relative to the repository) or build/release/cairn."""
    path = Path(os.environ.get("CAIRN_BIN", "build/release/cairn"))
    return path if path.is_absolute() else REPO_ROOT / path


def mlflow_executable() -> Path:
    """The `mlflow` CLI of the running interpreter's environment."""
    candidate = Path(sys.executable).parent / "mlflow"
    return candidate if candidate.exists() else Path("mlflow")


def health_ok(port: int, timeout: float = 2.0, tls: bool = False) -> bool:
    if tls:
        # Readiness only: the tests that use TLS check the certificate themselves.
        context = ssl._create_unverified_context()
        conn = http.client.HTTPSConnection(HOST, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


# Every started server, so that nothing outlives the interpreter even when a caller dies half
# way.
_LIVE: set[ServerProcess] = set()
_LIVE_LOCK = threading.Lock()


def kill_all_servers():
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for server in servers:
        server.kill()


atexit.register(kill_all_servers)


def metadata_args(data_dir: Path) -> list[str]:
    """With CAIRN_TEST_METADATA=postgres, the --backend-store-uri that keeps a Cairn data dir's
    metadata in PostgreSQL (CAIRN_TEST_POSTGRES_URI), in a schema of its own named after the data
    dir, so that a restart, or `cairn admin` on the same data dir, finds the same data; else none
    (the embedded SQLite default)."""
    if os.environ.get("CAIRN_TEST_METADATA") != "postgres":
        return []
    base = os.environ.get("CAIRN_TEST_POSTGRES_URI")
    if not base:
        raise ServerStartError("CAIRN_TEST_METADATA=postgres needs CAIRN_TEST_POSTGRES_URI")
    import hashlib
    schema = "t_" + hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:20]
    separator = "&" if "?" in base else "?"
    return ["--backend-store-uri", f"{base}{separator}schema={schema}"]


class ServerProcess:
    """One server process (Cairn or the reference server) on 127.0.0.1.

    The process runs in its own session so that the whole process group (the reference server
    forks workers) can be signalled and reaped; its pid is the session and group id.

    target:      "cairn" or "mlflow"
    data_dir:    Cairn's --data-dir, or where the reference server keeps mlflow.db and
                 mlartifacts/; also the working directory
    binary:      default cairn_binary() or mlflow_executable()
    port:        default a free port, chosen anew when a start fails (another process took it)
    workers:     the reference server's --workers (default: its own default)
    log_path:    default <data_dir's parent>/<data_dir's name>-server-<n>.log
    """

    _counter = 0

    def __init__(self, target: str, data_dir: Path, port: int | None = None,
                 extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None, *,
                 binary: Path | None = None, workers: int | None = None,
                 log_path: Path | None = None, ready_timeout: float | None = None):
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
        self.target = target
        self.data_dir = Path(data_dir)
        self.requested_port = port
        self.port: int | None = None
        self.extra_args = tuple(extra_args)
        self.extra_env = dict(env or {})
        self.binary = Path(binary) if binary else (
            cairn_binary() if target == "cairn" else mlflow_executable())
        self.workers = workers
        self.ready_timeout = ready_timeout or READY_TIMEOUT_S[target]
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        ServerProcess._counter += 1
        self.log_path = Path(log_path) if log_path else (
            self.data_dir.parent / f"{self.data_dir.name}-server-{self._counter}.log")

    # -- paths and URLs ---------------------------------------------------------------------

    @property
    def tls(self) -> bool:
        return "--tls-cert" in self.extra_args

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def artifact_root(self) -> Path:
        """Directory under which the server keeps artifacts."""
        if self.target == "cairn":
            return self.data_dir / "artifacts"
        return self.data_dir / "mlartifacts"

    def command(self) -> list[str]:
        if self.target == "cairn":
            return [str(self.binary), "server", "--host", HOST, "--port", str(self.port),
                    "--data-dir", str(self.data_dir), "--log-level", "info",
                    *self._metadata_args(), *self.extra_args]
        workers = ["--workers", str(self.workers)] if self.workers else []
        backend = self._mlflow_postgres_uri() or f"sqlite:///{self.data_dir / 'mlflow.db'}"
        return [str(self.binary), "server",
                "--backend-store-uri", backend,
                "--artifacts-destination", str(self.data_dir / "mlartifacts"),
                "--host", HOST, "--port", str(self.port), *workers, *self.extra_args]

    def _metadata_args(self) -> list[str]:
        if any(a == "--backend-store-uri" or a.startswith("--backend-store-uri=")
               for a in self.extra_args):
            return []
        return metadata_args(self.data_dir)

    def _mlflow_postgres_uri(self) -> str | None:
        """With CAIRN_TEST_METADATA=postgres, the reference server keeps its metadata in a
        PostgreSQL database of its own (created here with psql), named after its data dir."""
        if os.environ.get("CAIRN_TEST_METADATA") != "postgres":
            return None
        base = os.environ.get("CAIRN_TEST_POSTGRES_URI")
        if not base:
            raise ServerStartError("CAIRN_TEST_METADATA=postgres needs CAIRN_TEST_POSTGRES_URI")
        import hashlib
        name = "mlflow_" + hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:16]
        exists = subprocess.run(["psql", base, "-tAc",
                                 f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                                capture_output=True, text=True, check=True).stdout.strip()
        if not exists:
            subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {name}"], check=True,
                           capture_output=True)
        uri = base.split("?", 1)[0].rsplit("/", 1)[0] + "/" + name
        # The driver the venv has (SQLAlchemy's default for postgresql:// is psycopg 3).
        return uri.replace("postgresql://", "postgresql+psycopg2://", 1)

    def analyze_postgres(self):
        """With CAIRN_TEST_METADATA=postgres, settles this server's database as autovacuum would
        within a minute (VACUUM ANALYZE: fresh planner statistics, dead rows gone), so that a
        benchmark's reads right after bulk writes neither run on stale plans nor share the cores
        with an autovacuum of those writes. A no-op otherwise."""
        if os.environ.get("CAIRN_TEST_METADATA") != "postgres":
            return
        if self.target == "cairn":
            uri = metadata_args(self.data_dir)[1]
            base, schema = uri.split("?schema=")
            commands = ["-c", f"SET search_path TO {schema}", "-c", "VACUUM ANALYZE"]
        else:
            base = self._mlflow_postgres_uri().replace("postgresql+psycopg2://", "postgresql://")
            commands = ["-c", "VACUUM ANALYZE"]
        # Separate -c commands: VACUUM cannot run inside the transaction of a multi-statement one.
        subprocess.run(["psql", base, "-q", *commands], check=True, capture_output=True)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        })
        # Cairn's Python model workers run this interpreter (it has mlflow and the frameworks).
        env.setdefault("CAIRN_PYTHON", sys.executable)
        # Most test servers serve no Python model: start workers on the first Python deployment
        # instead of with every server (the runtime's own tests cover the pre-started pool).
        env.setdefault("CAIRN_PYTHON_PRESTART", "false")
        env.update(self.extra_env)
        return env

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> ServerProcess:
        """Starts the server and waits until /health answers 200.

        Raises ServerStartError (with the log's tail) when it does not; nothing is left running.
        """
        if self.binary.is_absolute() and not self.binary.exists():
            hint = "; build it or set CAIRN_BIN" if self.target == "cairn" else ""
            raise ServerStartError(f"{self.target} binary not found at {self.binary}{hint}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        attempts = 1 if self.requested_port else 3
        for attempt in range(attempts):
            self.port = self.requested_port or free_port()
            self._spawn()
            if self._wait_ready():
                return self
            if self.alive():
                self.kill()
                raise ServerStartError(f"{self.target} server did not become ready within "
                                       f"{self.ready_timeout:.0f}s\n{self.log_tail()}")
            # Exited early: most likely another process took the port; try a new one.
            if attempt == attempts - 1:
                raise ServerStartError(f"{self.target} server exited with code "
                                       f"{self.returncode} before becoming ready\n"
                                       f"{self.log_tail()}")
        return self

    def _spawn(self):
        self.returncode = None
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), cwd=self.data_dir, env=self._env(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        with _LIVE_LOCK:
            _LIVE.add(self)

    def _forget(self):
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self._leader_exited():
                self._reap()
                return False
            if health_ok(self.port, tls=self.tls):
                return True
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
