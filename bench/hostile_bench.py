#!/usr/bin/env python3
"""How Cairn holds up under hostile clients: figures, not pass/fail.

Two scenarios, each against a fresh server on a loopback port:

  held-bodies   N connections each send the header and all but the last byte of a large
                request body (a trace upload), and hold. Reports the server's resident memory
                before, at the peak while the bodies are held, and after they are dropped,
                and how many were refused with 503 (the buffered-body budget) or cut.
  idle-sockets  Opens N idle connections that send nothing, then times fresh requests (a new
                connection each) while they are open, against the same requests with no idle
                connections. Reports p50/p99 and failures.

Usage: bench/hostile_bench.py [--cairn-bin PATH] [--scenario held-bodies|idle-sockets]
Run it against two binaries (e.g. before and after a change) to compare.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import benchlib
from benchlib import HOST, ServerProcess, ServerSpec

TRACE_PATH = "/api/3.0/mlflow/traces"


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def server_pid(server: ServerProcess) -> int:
    assert server.pid is not None
    return server.pid


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_status(sock: socket.socket, timeout: float) -> Optional[int]:
    """The status code of the response on `sock`, or None if the connection closed or hung."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
    except OSError:
        return None
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def held_bodies(port: int, pid: int, connections: int, body_mib: int) -> dict:
    body_len = body_mib << 20
    header = (
        f"POST {TRACE_PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {body_len}\r\n\r\n"
    ).encode()
    block = b"x" * (1 << 20)
    before = rss_mib(pid)
    socks: List[socket.socket] = []
    refused = 0
    cut = 0
    peak = before
    for _ in range(connections):
        sock = connect(port)
        socks.append(sock)
        try:
            sock.sendall(header)
            sent = 0
            while sent < body_len - 1:
                n = min(len(block), body_len - 1 - sent)
                sock.sendall(block[:n])
                sent += n
        except OSError:
            cut += 1
        peak = max(peak, rss_mib(pid))
    time.sleep(1.0)
    peak = max(peak, rss_mib(pid))
    for sock in socks:
        status = read_status(sock, timeout=0.05)
        if status == 503:
            refused += 1
    for sock in socks:
        sock.close()
    time.sleep(3.0)
    after = rss_mib(pid)
    return {
        "connections": connections,
        "body_mib": body_mib,
        "rss_before_mib": round(before, 1),
        "rss_peak_mib": round(peak, 1),
        "rss_after_mib": round(after, 1),
        "refused_503": refused,
        "cut_while_sending": cut,
    }


def fresh_requests(port: int, count: int) -> dict:
    latencies: List[float] = []
    failures = 0
    request = f"GET /api/2.0/mlflow/experiments/get?experiment_id=0 HTTP/1.1\r\nHost: {HOST}\r\n\r\n"
    deadline = time.monotonic() + 30.0
    attempted = 0
    for _ in range(count):
        if time.monotonic() > deadline:
            break  # a server that stopped answering would take count x timeouts
        attempted += 1
        start = time.perf_counter()
        try:
            sock = connect(port, timeout=2.0)
            sock.sendall(request.encode())
            status = read_status(sock, timeout=2.0)
            sock.close()
        except OSError:
            status = None
        if status != 200:
            failures += 1
            continue
        latencies.append((time.perf_counter() - start) * 1e6)
    latencies.sort()

    def pct(q: float) -> Optional[float]:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)

    return {"requests": attempted, "failures": failures, "p50_us": pct(0.5), "p99_us": pct(0.99)}


def idle_sockets(port: int, idle: int, count: int) -> dict:
    quiet = fresh_requests(port, count)
    socks: List[socket.socket] = []
    open_failures = 0
    deadline = time.monotonic() + 30.0
    for _ in range(idle):
        if time.monotonic() > deadline:
            open_failures += idle - len(socks) - open_failures
            break
        try:
            socks.append(connect(port, timeout=0.5))
        except OSError:
            open_failures += 1
    loaded = fresh_requests(port, count)
    still_open = 0
    for sock in socks:
        sock.setblocking(False)
        try:
            still_open += 1 if sock.recv(1) == b"" else 0
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
        sock.close()
    return {
        "idle_connections": idle,
        "idle_open_failures": open_failures,
        "quiet": quiet,
        "with_idle": loaded,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cairn-bin", type=Path, default=benchlib.DEFAULT_CAIRN_BIN)
    parser.add_argument("--scenario", choices=["held-bodies", "idle-sockets", "all"], default="all")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--body-mib", type=int, default=15)
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--server-nofile", type=int, default=1024,
                        help="soft open-file limit the server starts with (the common default)")
    args = parser.parse_args()

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    results = {"binary": str(args.cairn_bin), "server_soft_nofile": args.server_nofile}

    class LimitedServer(ServerProcess):
        """Starts the server with the soft open-file limit of a default install."""

        def start(self) -> None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(args.server_nofile, hard), hard))
            try:
                super().start()
            finally:
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    with tempfile.TemporaryDirectory(prefix="cairn-hostile-") as tmp:
        spec = ServerSpec("cairn", args.cairn_bin)
        if args.scenario in ("held-bodies", "all"):
            workdir = Path(tmp) / "held"
            workdir.mkdir()
            with LimitedServer(spec, workdir) as server:
                results["held_bodies"] = held_bodies(
                    server.port, server_pid(server), args.connections, args.body_mib)
        if args.scenario in ("idle-sockets", "all"):
            workdir = Path(tmp) / "idle"
            workdir.mkdir()
            with LimitedServer(spec, workdir) as server:
                results["idle_sockets"] = idle_sockets(server.port, args.idle, args.requests)
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
