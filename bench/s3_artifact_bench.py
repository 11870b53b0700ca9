#!/usr/bin/env python3
"""Artifact throughput through Cairn with its artifact root on S3 versus on local disk.

Starts two Cairn servers on this machine in one run, one with --artifacts-uri on local disk and
one with --artifacts-uri s3://... on the S3-compatible test server (scripts/services/s3.sh,
started here unless CAIRN_TEST_S3_URI says where one runs), pushes the same files through
/api/2.0/mlflow-artifacts (PUT, then GET) with a few client threads, and prints MiB/s for each
and the S3/local ratios, plus each server's peak resident memory (VmHWM), which stays flat on S3
because writers hold one part and readers one ranged chunk.

    .venv/bin/python bench/s3_artifact_bench.py [--large-mib 64] [--large-files 4]
        [--small-kib 64] [--small-files 200] [--threads 4]

The S3 server here is S3Proxy in a JVM on the same cores, so the ratios measure Cairn's S3 path
plus that server, not AWS.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

from server_process import ServerProcess  # noqa: E402

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def start_s3(state: Path) -> dict[str, str]:
    if os.environ.get("CAIRN_TEST_S3_URI"):
        return {k: v for k, v in os.environ.items() if k.startswith("CAIRN_TEST_S3_")}
    out = subprocess.run([str(REPO_ROOT / "scripts/services/s3.sh"), "start", str(state)],
                         check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_workload(url: str, files: list[tuple[str, bytes]], threads: int) -> tuple[float, float]:
    """(upload MiB/s, download MiB/s) for `files` over `threads` keep-alive sessions."""
    total = sum(len(data) for _, data in files) / (1 << 20)
    sessions = [requests.Session() for _ in range(threads)]

    def put(i_item):
        i, (path, data) = i_item
        r = sessions[i % threads].put(f"{url}{ARTIFACTS}/{path}", data=data, timeout=600)
        r.raise_for_status()

    def get(i_item):
        i, (path, data) = i_item
        r = sessions[i % threads].get(f"{url}{ARTIFACTS}/{path}", timeout=600, stream=True)
        r.raise_for_status()
        n = sum(len(chunk) for chunk in r.iter_content(1 << 20))
        if n != len(data):
            raise RuntimeError(f"{path}: {n} bytes back, {len(data)} sent")

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        start = time.perf_counter()
        list(pool.map(put, enumerate(files)))
        up = total / (time.perf_counter() - start)
        start = time.perf_counter()
        list(pool.map(get, enumerate(files)))
        down = total / (time.perf_counter() - start)
    for s in sessions:
        s.close()
    return up, down


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large-mib", type=int, default=64)
    parser.add_argument("--large-files", type=int, default=4)
    parser.add_argument("--small-kib", type=int, default=64)
    parser.add_argument("--small-files", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("CAIRN_BIN", str(REPO_ROOT / "build/release/cairn"))

    workloads = {
        f"{args.small_files} x {args.small_kib} KiB": [
            (f"0/small/f{i}.bin", os.urandom(args.small_kib << 10))
            for i in range(args.small_files)],
        f"{args.large_files} x {args.large_mib} MiB": [
            (f"0/large/f{i}.bin", os.urandom(args.large_mib << 20))
            for i in range(args.large_files)],
    }

    with tempfile.TemporaryDirectory(prefix="cairn-s3-bench-") as tmp:
        tmp_path = Path(tmp)
        started_s3 = not os.environ.get("CAIRN_TEST_S3_URI")
        s3 = start_s3(tmp_path / "services")
        try:
            env = {
                "AWS_ACCESS_KEY_ID": s3["CAIRN_TEST_S3_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": s3["CAIRN_TEST_S3_SECRET_ACCESS_KEY"],
                "AWS_REGION": s3.get("CAIRN_TEST_S3_REGION", "us-east-1"),
                "AWS_ENDPOINT_URL_S3": s3["CAIRN_TEST_S3_URI"],
                "AWS_EC2_METADATA_DISABLED": "true",
            }
            bucket = s3.get("CAIRN_TEST_S3_BUCKET", "cairn-test")
            servers = {
                "local": ServerProcess("cairn", tmp_path / "local", workers=1),
                "s3": ServerProcess(
                    "cairn", tmp_path / "s3", workers=1, env=env,
                    extra_args=("--artifacts-uri", f"s3://{bucket}/bench-{uuid.uuid4().hex[:8]}")),
            }
            results: dict[tuple[str, str], tuple[float, float]] = {}
            rss: dict[str, float] = {}
            try:
                for name, proc in servers.items():
                    proc.start()
                    for label, files in workloads.items():
                        results[(name, label)] = run_workload(proc.url, files, args.threads)
                    rss[name] = peak_rss_mib(proc.pid)
            finally:
                for proc in servers.values():
                    proc.stop()
        finally:
            if started_s3:
                subprocess.run([str(REPO_ROOT / "scripts/services/s3.sh"), "stop",
                                str(tmp_path / "services")], check=False)

    print(f"{'workload':<22}{'dir':<10}{'local MiB/s':>12}{'s3 MiB/s':>12}{'s3/local':>10}")
    for label in workloads:
        for i, direction in enumerate(("upload", "download")):
            local = results[("local", label)][i]
            remote = results[("s3", label)][i]
            print(f"{label:<22}{direction:<10}{local:>12.1f}{remote:>12.1f}{remote / local:>10.2f}")
    print(f"peak server RSS: local {rss['local']:.0f} MiB, s3 {rss['s3']:.0f} MiB "
          f"({args.threads} client threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
