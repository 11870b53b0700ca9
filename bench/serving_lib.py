"""Machinery of the serving benchmark (serving_bench.py): wrk runs and their output, server
processes of any kind, and building or installing the baselines (the echo server, MLServer's
virtualenv). Linux-only, standard library only.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from benchlib import REPO_ROOT, BenchError, progress, session_cpu_seconds

HOST = "127.0.0.1"
ECHO_SOURCE = REPO_ROOT / "bench" / "echo" / "echo_server.cc"
ECHO_BUILD_DIR = REPO_ROOT / "build" / "bench-echo"
MLSERVER_PINS = ["mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop<0.22"]
START_TIMEOUT_S = 240.0

# ----------------------------------------------------------------------------
# wrk


def lua_script(body: str, delay_ms: int = 0) -> str:
    """A wrk script that POSTs `body` as JSON, waiting `delay_ms` before each request."""
    # A long bracket string needs no escaping as long as the body has no "]==]".
    assert "]==]" not in body
    script = ('wrk.method = "POST"\n'
              'wrk.headers["Content-Type"] = "application/json"\n'
              f"wrk.body = [==[{body}]==]\n")
    if delay_ms > 0:
        script += f"function delay()\n  return {int(delay_ms)}\nend\n"
    return script


_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def _to_us(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_US[match.group(2)]


def parse_wrk(text: str) -> Dict[str, Any]:
    """The numbers of `wrk --latency` output: requests/s, p50/p90/p99 in microseconds, request
    count, non-2xx responses and socket errors."""
    result: Dict[str, Any] = {"non_2xx": 0, "socket_errors": 0}
    match = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    if not match:
        raise ValueError("no Requests/sec in wrk output:\n" + text)
    result["rps"] = float(match.group(1))
    match = re.search(r"(\d+) requests in ([0-9.]+\w+)", text)
    if match:
        result["requests"] = int(match.group(1))
    for pct, key in (("50", "p50_us"), ("90", "p90_us"), ("99", "p99_us")):
        match = re.search(rf"^\s+{pct}%\s+(\S+)\s*$", text, re.M)
        result[key] = _to_us(match.group(1)) if match else None
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if match:
        result["non_2xx"] = int(match.group(1))
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if match:
        result["socket_errors"] = sum(int(g) for g in match.groups())
    return result


def ensure_wrk() -> str:
    """wrk's path; installs Debian's wrk when it is missing (scripts/install.sh lists it)."""
    found = shutil.which("wrk")
    if found:
        return found
    command = ["apt-get", "install", "-y", "wrk"]
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            raise BenchError("wrk is missing; run scripts/install.sh or `apt-get install wrk`")
        command = ["sudo", "-n", *command]
    progress("wrk missing: " + " ".join(command))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(command, env=env).returncode != 0 or not shutil.which("wrk"):
        raise BenchError("could not install wrk; run scripts/install.sh")
    return shutil.which("wrk")


def run_wrk(wrk: str, url: str, body: str, connections: int, duration_s: float,
            threads: int, delay_ms: int = 0, server_pid: Optional[int] = None,
            workdir: Path = Path(tempfile.gettempdir())) -> Dict[str, Any]:
    """One wrk run; adds the server's and wrk's CPU use in cores."""
    script = workdir / f"wrk-{os.getpid()}.lua"
    script.write_text(lua_script(body, delay_ms))
    threads = max(1, min(threads, connections))
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
               "--latency", "--timeout", "10s", "-s", str(script), url]
    srv0 = session_cpu_seconds(server_pid) if server_pid else 0.0
    cli0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 60)
    wall = time.monotonic() - t0
    cli1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise BenchError(f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout}")
    result = parse_wrk(out.stdout)
    if server_pid:
        result["server_cpu_cores"] = (session_cpu_seconds(server_pid) - srv0) / wall
    result["client_cpu_cores"] = ((cli1.ru_utime + cli1.ru_stime)
                                  - (cli0.ru_utime + cli0.ru_stime)) / wall
    return result



# ----------------------------------------------------------------------------
# HTTP and processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_call(port: int, method: str, path: str, body: Optional[Any] = None,
              timeout: float = 30.0) -> tuple:
    """(status, parsed JSON or raw text)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        conn.request(method, path, data, {"Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, raw.decode(errors="replace")
    finally:
        conn.close()


class Process:
    """A server process in its own session (so that its workers can be stopped with it), with
    its output in `log`."""

    def __init__(self, name: str, command: List[str], log: Path, env: Optional[dict] = None,
                 cwd: Optional[Path] = None) -> None:
        self.name = name
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                         start_new_session=True)
        self.pid = self.proc.pid

    def wait_ready(self, port: int, path: str, timeout: float = START_TIMEOUT_S) -> float:
        """Seconds until GET `path` answers 200."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode}:\n"
                                 + self.log_tail())
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_call(port, "GET", path, timeout=5)[0] == 200:
                    return time.monotonic() - t0
            time.sleep(0.2)
        raise BenchError(f"{self.name} not ready after {timeout:.0f}s:\n" + self.log_tail())

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@contextlib.contextmanager
def running(process: Process) -> Iterator[Process]:
    try:
        yield process
    finally:
        process.stop()


# ----------------------------------------------------------------------------
# Building and installing what the baselines need


def build_echo_server() -> Path:
    """Compiles bench/echo/echo_server.cc with g++ unless a build of the same source exists."""
    digest = hashlib.sha256(ECHO_SOURCE.read_bytes()).hexdigest()[:16]
    binary = ECHO_BUILD_DIR / f"echo_server-{digest}"
    if binary.exists():
        return binary
    ECHO_BUILD_DIR.mkdir(parents=True, exist_ok=True)
    progress("building the echo server (g++)")
    out = subprocess.run(["g++", "-std=c++20", "-O2", "-DNDEBUG", "-o", str(binary) + ".tmp",
                          str(ECHO_SOURCE), "-lpthread"], capture_output=True, text=True)
    if out.returncode != 0:
        raise BenchError(f"building the echo server failed:\n{out.stderr[-3000:]}")
    os.replace(str(binary) + ".tmp", binary)
    return binary


def ensure_mlserver_venv(venv: Path, sklearn_version: str) -> Path:
    """A virtualenv with MLServer (its pins clash with mlflow's); returns its `mlserver`."""
    pins = [*MLSERVER_PINS, f"scikit-learn=={sklearn_version}"]
    stamp = venv / "bench-pins.txt"
    mlserver = venv / "bin" / "mlserver"
    if stamp.exists() and stamp.read_text().split("\n") == pins and mlserver.exists():
        return mlserver
    progress(f"creating the MLServer virtualenv in {venv} (a few minutes the first time)")
    base_python = getattr(sys, "_base_executable", None) or shutil.which("python3")
    shutil.rmtree(venv, ignore_errors=True)
    for command in ([base_python, "-m", "venv", str(venv)],
                    [str(venv / "bin" / "pip"), "install", "-q", *pins]):
        out = subprocess.run(command, capture_output=True, text=True)
        if out.returncode != 0:
            raise BenchError(f"{' '.join(command)} failed:\n{out.stderr[-3000:]}")
    stamp.write_text("\n".join(pins))
    return mlserver
