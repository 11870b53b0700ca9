"""Two Cairn replicas vs one, on one PostgreSQL database, on one machine in one run.

Starts one replica, measures, adds a second one on the same database and measures again with the
client processes spread over both (client-side round robin, as a load balancer would). Workloads:
`log-metric` (writes: every replica's write transactions share one advisory lock), `get-run` and
`search-runs` (reads: any replica answers from its own pool). The PostgreSQL server is
CAIRN_TEST_POSTGRES_URI when set, else one started with scripts/services/postgres.sh.

On a 2-core machine the replicas, PostgreSQL and the load generator share the same cores, so the
ratio says little about scaling out across machines; it shows what a second replica costs or
gains where it stands next to the first.

    .venv/bin/python bench/replicas_bench.py [--duration 8] [--processes 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from postgres_bench import postgres  # noqa: E402
from server_process import HOST, ServerProcess  # noqa: E402

API = "/api/2.0/mlflow"


def call(conn, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    payload = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"{method} {path}: {resp.status} {payload[:200]!r}")
    return json.loads(payload) if payload else {}


def worker(port, workload, run_id, exp_id, seconds, out):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    done = 0
    latencies = []
    deadline = time.monotonic() + seconds
    step = 0
    while time.monotonic() < deadline:
        start = time.perf_counter_ns()
        if workload == "log-metric":
            step += 1
            call(conn, "POST", f"{API}/runs/log-metric",
                 {"run_id": run_id, "key": f"m{port}", "value": 1.0, "timestamp": 1, "step": step})
        elif workload == "get-run":
            call(conn, "GET", f"{API}/runs/get?run_id={run_id}")
        else:
            call(conn, "POST", f"{API}/runs/search",
                 {"experiment_ids": [exp_id], "filter": "params.p = 'x'", "max_results": 100})
        latencies.append(time.perf_counter_ns() - start)
        done += 1
    out.put((done, latencies))


def measure(ports, workload, run_id, exp_id, processes, seconds):
    out = mp.Queue()
    procs = [mp.Process(target=worker, args=(ports[i % len(ports)], workload, run_id, exp_id,
                                             seconds, out)) for i in range(processes)]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join()
    total = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[1])
    p50 = latencies[len(latencies) // 2] / 1e6 if latencies else float("nan")
    return total / seconds, p50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seed-runs", type=int, default=2000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, postgres() as pg:
        uri = f"{pg}{'&' if '?' in pg else '?'}schema=replicas_bench_{secrets.token_hex(4)}"
        extra = ("--backend-store-uri", uri, "--artifacts-uri", f"{scratch}/artifacts",
                 "--audit", "false")
        replicas = [ServerProcess("cairn", Path(scratch) / f"r{i}", extra_args=extra)
                    for i in range(2)]
        replicas[0].start()
        try:
            conn = http.client.HTTPConnection(HOST, replicas[0].port, timeout=60)
            exp_id = call(conn, "POST", f"{API}/experiments/create",
                          {"name": "bench"})["experiment_id"]
            run_id = None
            for i in range(args.seed_runs):
                run = call(conn, "POST", f"{API}/runs/create", {"experiment_id": exp_id})
                rid = run["run"]["info"]["run_id"]
                call(conn, "POST", f"{API}/runs/log-batch", {
                    "run_id": rid, "params": [{"key": "p", "value": "xyz"[i % 3]}],
                    "metrics": [{"key": "m", "value": i / args.seed_runs, "timestamp": 1,
                                 "step": 0}]})
                run_id = run_id or rid
            # Planner statistics, as autovacuum gathers them within a minute of a bulk load.
            base, schema = uri.split("?schema=")
            subprocess.run(["psql", base, "-qc", f"SET search_path TO {schema}; ANALYZE"],
                           check=True, capture_output=True)
            rows = []
            for workload in ("log-metric", "get-run", "search-runs"):
                one = measure([replicas[0].port], workload, run_id, exp_id, args.processes,
                              args.duration)
                rows.append([workload, one])
            replicas[1].start()
            for row in rows:
                two = measure([r.port for r in replicas], row[0], run_id, exp_id,
                              args.processes, args.duration)
                row.append(two)
        finally:
            for r in replicas:
                r.stop()

    print("workload | one replica | two replicas | two / one")
    print("--- | --- | --- | ---")
    for workload, (r1, p1), (r2, p2) in rows:
        print(f"{workload} | {r1:,.0f}/s p50 {p1:.2f} ms | {r2:,.0f}/s p50 {p2:.2f} ms | "
              f"{r2 / r1:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
