"""Tracking throughput and search latency: Cairn on PostgreSQL vs Cairn on SQLite vs the
reference `mlflow server` on the same PostgreSQL, on one machine in one run.

Runs bench/tracking_bench.py twice: once on the embedded defaults (Cairn on SQLite, MLflow on
SQLite), once with CAIRN_TEST_METADATA=postgres (each server's metadata in a PostgreSQL database
or schema of its own on one PostgreSQL server). The PostgreSQL server is CAIRN_TEST_POSTGRES_URI
when set, else one this script starts with scripts/services/postgres.sh (fsync off: a throwaway
cluster, the same for both servers). Before each read workload (metric history, searches), each
server's database is ANALYZEd (as autovacuum does within a minute of a bulk load): the write
workloads before them add up to millions of rows, and reads then run on the plans a settled
database gets rather than on statistics from before the writes. Prints one table: throughput and p50 latency per workload
for the four (server, engine) pairs, and the ratios Cairn-PG / MLflow-PG (the issue's goal: at
least 10x) and Cairn-PG / Cairn-SQLite.

    .venv/bin/python bench/postgres_bench.py [--duration 8] [--processes 8] [--seed-runs 10000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def postgres():
    if os.environ.get("CAIRN_TEST_POSTGRES_URI"):
        yield os.environ["CAIRN_TEST_POSTGRES_URI"]
        return
    state = Path(tempfile.mkdtemp(prefix="cairn-bench-pg-"))
    os.chmod(state, 0o755)
    script = REPO / "scripts" / "services" / "postgres.sh"
    out = subprocess.run([str(script), "start", str(state)], check=True, capture_output=True,
                         text=True).stdout
    uri = next(line.split("=", 1)[1] for line in out.splitlines()
               if line.startswith("CAIRN_TEST_POSTGRES_URI="))
    try:
        yield uri
    finally:
        subprocess.run([str(script), "stop", str(state)], check=False)


def run_tracking_bench(args, env: dict, output: Path) -> dict:
    command = [sys.executable, str(REPO / "bench" / "tracking_bench.py"),
               "--duration", str(args.duration), "--warmup", str(args.warmup),
               "--processes", str(args.processes), "--seed-runs", str(args.seed_runs),
               "--output", str(output)]
    if args.workloads:
        command += ["--workloads", args.workloads]
    subprocess.run(command, env=env, check=True)
    return json.loads(output.read_text())


def summarize(document: dict) -> dict:
    """(workload, server) -> (throughput units/s, p50 ms)."""
    out = {}
    for row in document["results"]:
        result = row.get("result")
        if not result:
            continue
        rate = result["calls_per_s"] * max(row.get("units_per_call") or 1, 1)
        p50 = result.get("p50_ms")
        out[(row["workload"], row["server"])] = (rate, p50)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seed-runs", type=int, default=10000)
    parser.add_argument("--workloads", default=None)
    parser.add_argument("--engines", default="sqlite,postgres",
                        help="which runs: sqlite, postgres or both (default)")
    args = parser.parse_args()

    results = {}
    with tempfile.TemporaryDirectory() as scratch, postgres() as uri:
        base_env = dict(os.environ, CAIRN_TEST_POSTGRES_URI=uri)
        base_env.pop("CAIRN_TEST_METADATA", None)
        results["sqlite"], results["postgres"] = {}, {}
        if "sqlite" in args.engines:
            print("== embedded engines (SQLite)", flush=True)
            results["sqlite"] = summarize(
                run_tracking_bench(args, base_env, Path(scratch) / "sqlite.json"))
        if "postgres" in args.engines:
            print("== PostgreSQL", flush=True)
            results["postgres"] = summarize(run_tracking_bench(
                args, dict(base_env, CAIRN_TEST_METADATA="postgres"), Path(scratch) / "pg.json"))

    workloads = sorted({w for engine in results.values() for (w, _) in engine})

    def cell(engine, workload, server):
        rate, p50 = results[engine].get((workload, server), (None, None))
        if rate is None:
            return "-"
        return f"{rate:,.0f}/s p50 {p50:.1f} ms" if p50 is not None else f"{rate:,.0f}/s"

    def ratio(a, b):
        return f"{a / b:.1f}x" if a and b else "-"

    print()
    header = ["workload", "cairn pg", "cairn sqlite", "mlflow pg", "mlflow sqlite",
              "cairn pg / mlflow pg", "cairn pg / cairn sqlite"]
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for w in workloads:
        pg_c = results["postgres"].get((w, "cairn"), (None, None))[0]
        pg_m = results["postgres"].get((w, "mlflow"), (None, None))[0]
        lite_c = results["sqlite"].get((w, "cairn"), (None, None))[0]
        print(" | ".join([w, cell("postgres", w, "cairn"), cell("sqlite", w, "cairn"),
                          cell("postgres", w, "mlflow"), cell("sqlite", w, "mlflow"),
                          ratio(pg_c, pg_m), ratio(pg_c, lite_c)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
