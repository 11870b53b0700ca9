#!/usr/bin/env python3
"""Offline drift report benchmark: `cairn monitor drift-report` against Evidently 0.7's
DataDriftPreset on the same two tables.

The data: a reference and a current table of 100,000 rows x 20 columns each (14 numeric, 6
categorical), seeded. In the current table several numeric columns are shifted or rescaled and
some categorical columns change their category frequencies; the rest are drawn from the same
distributions as the reference. Both tables are written as CSV once.

Timed, each --repeat times (the median is reported):
  - Evidently: pandas.read_csv of both files, then Report([DataDriftPreset()]).run(current,
    reference) (the whole report computation; the import of Evidently is timed once apart);
  - Cairn: the whole `cairn monitor drift-report --json` process (CSV parsing included), plus
    the in-process read and compare times it reports in "timing_ms".
Then the per-column verdicts (drift or not, and the method) of the two are compared and any
difference printed. The script asserts nothing and exits 0 unless a tool fails to run.

Run: .venv/bin/python bench/drift_bench.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CAIRN_BIN = REPO_ROOT / "build" / "release" / "cairn"
N_NUMERIC = 14
N_CATEGORICAL = 6
SEED = 20240611

# Evidently's display names of its stattests -> Cairn's method names.
EVIDENTLY_METHODS = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "PSI": "psi",
    "Kullback-Leibler divergence": "kl_div",
    "Jensen-Shannon distance": "jensenshannon",
    "Wasserstein distance (normed)": "wasserstein",
}
P_VALUE_METHODS = {"ks", "chisquare", "z"}


def make_tables(rows: int, seed: int):
    """(reference, current) DataFrames. Numeric f0..f13: normal or lognormal with their own
    location and scale; f0-f3 shifted by 0.1-0.5 standard deviations, f4 rescaled by 1.3, f5
    shifted by a hair (0.01 sd, below any threshold). Categorical c0..c5 with 4 to 40
    categories; c0 and c1 change their frequencies, c2 only slightly."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    ref: Dict[str, object] = {}
    cur: Dict[str, object] = {}
    shifts = {0: 0.5, 1: 0.3, 2: 0.2, 3: 0.1, 5: 0.01}
    for i in range(N_NUMERIC):
        loc, scale = rng.uniform(-5, 5), rng.uniform(0.5, 20)
        lognormal = i % 4 == 3
        cur_loc = loc + shifts.get(i, 0.0) * scale
        cur_scale = scale * (1.3 if i == 4 else 1.0)

        def draw(l, s):
            if lognormal:
                return np.exp(rng.normal(0, 0.5, rows)) * s + l
            return rng.normal(l, s, rows)

        ref[f"f{i}"] = np.round(draw(loc, scale), 5)
        cur[f"f{i}"] = np.round(draw(cur_loc, cur_scale), 5)
    for j in range(N_CATEGORICAL):
        k = [4, 8, 12, 20, 30, 40][j]
        names = np.array([f"cat{j}_{v}" for v in range(k)])
        weights = rng.dirichlet(np.ones(k) * 2)
        cur_weights = weights.copy()
        if j in (0, 1):
            cur_weights = np.roll(weights, 1) * 0.7 + weights * 0.3
        elif j == 2:
            cur_weights = weights * 0.98 + np.roll(weights, 1) * 0.02
        ref[f"c{j}"] = rng.choice(names, rows, p=weights)
        cur[f"c{j}"] = rng.choice(names, rows, p=cur_weights / cur_weights.sum())
    return pd.DataFrame(ref), pd.DataFrame(cur)


def import_evidently():
    """Imports Evidently 0.7.23 under pandas 3, which removed a helper Evidently's data
    integrity module imports (see src/monitor/stats/testdata/make_fixtures.py)."""
    import pandas as pd
    import pandas.core.dtypes.common as pandas_common

    if not hasattr(pandas_common, "infer_dtype_from_object"):
        pandas_common.infer_dtype_from_object = lambda dtype: pd.api.types.pandas_dtype(dtype).type
    from evidently import Report
    from evidently.presets import DataDriftPreset

    return Report, DataDriftPreset


def evidently_verdicts(snapshot_dict: dict) -> Tuple[Dict[str, dict], dict]:
    """Per column {method, score, threshold, drift}, and the dataset count, from a snapshot."""
    columns: Dict[str, dict] = {}
    dataset: dict = {}
    for metric in snapshot_dict["metrics"]:
        config = metric["config"]
        kind = config.get("type", "")
        if kind.endswith("ValueDrift"):
            method = EVIDENTLY_METHODS.get(config["method"], config["method"])
            score, threshold = float(metric["value"]), float(config["threshold"])
            if method in P_VALUE_METHODS:
                drift = score <= threshold if method == "ks" else score < threshold
            else:
                drift = score >= threshold
            columns[config["column"]] = {"method": method, "score": score,
                                         "threshold": threshold, "drift": drift}
        elif kind.endswith("DriftedColumnsCount"):
            dataset = {"drifted": int(metric["value"]["count"]),
                       "share": float(metric["value"]["share"]),
                       "drift_share": float(config["drift_share"])}
    return columns, dataset


def run_evidently(ref_csv: Path, cur_csv: Path, repeat: int):
    import pandas as pd

    start = time.perf_counter()
    Report, DataDriftPreset = import_evidently()
    import_s = time.perf_counter() - start
    reads, computes = [], []
    snapshot = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        ref = pd.read_csv(ref_csv)
        cur = pd.read_csv(cur_csv)
        t1 = time.perf_counter()
        snapshot = Report([DataDriftPreset()]).run(cur, ref)
        result = snapshot.dict()
        t2 = time.perf_counter()
        reads.append(t1 - t0)
        computes.append(t2 - t1)
    columns, dataset = evidently_verdicts(result)
    return {"import_s": import_s, "read_s": reads, "compute_s": computes,
            "columns": columns, "dataset": dataset}


def run_cairn(binary: Path, ref_csv: Path, cur_csv: Path, repeat: int, threads: int):
    walls, reads, compares = [], [], []
    report = None
    cmd = [str(binary), "monitor", "drift-report", "--reference", str(ref_csv), "--current",
           str(cur_csv), "--json"]
    if threads:
        cmd += ["--threads", str(threads)]
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            sys.exit(f"cairn drift-report failed ({proc.returncode}): {proc.stderr}")
        report = json.loads(proc.stdout)
        reads.append(report["timing_ms"]["read"] / 1e3)
        compares.append(report["timing_ms"]["compare"] / 1e3)
    return {"wall_s": walls, "read_s": reads, "compare_s": compares, "report": report}


def compare_verdicts(evidently: dict, cairn_report: dict) -> List[str]:
    differences = []
    cairn_columns = cairn_report["features"]
    for name in sorted(set(evidently) | set(cairn_columns)):
        e, c = evidently.get(name), cairn_columns.get(name)
        if e is None or c is None:
            differences.append(f"{name}: only in {'cairn' if e is None else 'evidently'}")
            continue
        if "error" in c:
            differences.append(f"{name}: cairn could not test it: {c['error']}")
            continue
        if e["method"] != c["method"] or e["drift"] != c["drift"]:
            differences.append(f"{name}: evidently {e['method']} {e['score']:.6g} drift="
                               f"{e['drift']}, cairn {c['method']} {c['score']:.6g} "
                               f"drift={c['drift']}")
    return differences


def max_score_gap(evidently: dict, cairn_report: dict) -> float:
    gaps = []
    for name, e in evidently.items():
        c = cairn_report["features"].get(name)
        if c and c.get("score") is not None:
            gaps.append(abs(e["score"] - c["score"]) / max(abs(e["score"]), 1e-300))
    return max(gaps) if gaps else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows per table")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each tool")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=0,
                        help="cairn --threads (0: one per core)")
    parser.add_argument("--cairn-bin", type=Path, default=DEFAULT_CAIRN_BIN)
    parser.add_argument("--workdir", type=Path, help="keep the CSV files here")
    args = parser.parse_args()
    if not args.cairn_bin.exists():
        sys.exit(f"no cairn binary at {args.cairn_bin} (build the `cairn` target)")

    with tempfile.TemporaryDirectory(prefix="drift_bench_") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        ref_csv, cur_csv = workdir / "reference.csv", workdir / "current.csv"
        t0 = time.perf_counter()
        ref, cur = make_tables(args.rows, args.seed)
        ref.to_csv(ref_csv, index=False)
        cur.to_csv(cur_csv, index=False)
        print(f"data: {args.rows} x {len(ref.columns)} per table ({N_NUMERIC} numeric, "
              f"{N_CATEGORICAL} categorical), {ref_csv.stat().st_size / 1e6:.1f} MB + "
              f"{cur_csv.stat().st_size / 1e6:.1f} MB of CSV, written in "
              f"{time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs")

        cairn = run_cairn(args.cairn_bin, ref_csv, cur_csv, args.repeat, args.threads)
        evidently = run_evidently(ref_csv, cur_csv, args.repeat)

    med = statistics.median
    ev_read, ev_compute = med(evidently["read_s"]), med(evidently["compute_s"])
    ca_wall, ca_read, ca_compare = (med(cairn["wall_s"]), med(cairn["read_s"]),
                                    med(cairn["compare_s"]))
    print(f"\nmedian of {args.repeat} runs (Evidently import, once: "
          f"{evidently['import_s']:.1f} s, not counted)")
    rows = [
        ("evidently read_csv + DataDriftPreset", ev_read + ev_compute),
        ("  pandas.read_csv (both files)", ev_read),
        ("  DataDriftPreset report", ev_compute),
        ("cairn drift-report process", ca_wall),
        ("  read + parse (in process)", ca_read),
        ("  column tests (in process)", ca_compare),
    ]
    width = max(len(r[0]) for r in rows)
    for label, seconds in rows:
        print(f"  {label:<{width}}  {seconds * 1e3:10.1f} ms")
    print("\nratios (Evidently / Cairn)")
    print(f"  end to end (read_csv + report vs whole process): "
          f"{(ev_read + ev_compute) / ca_wall:8.1f}x")
    print(f"  computation (report vs column tests):           "
          f"{ev_compute / ca_compare:8.1f}x")
    print(f"  reading CSV (pandas vs cairn):                  {ev_read / ca_read:8.1f}x")

    report = cairn["report"]
    differences = compare_verdicts(evidently["columns"], report)
    drifted_cairn = sorted(n for n, f in report["features"].items() if f.get("drift"))
    drifted_evidently = sorted(n for n, f in evidently["columns"].items() if f["drift"])
    print(f"\nverdicts: {len(evidently['columns'])} columns; drifted per Evidently "
          f"{drifted_evidently}, per Cairn {drifted_cairn}")
    print(f"dataset: Evidently {evidently['dataset']}, Cairn {report['dataset']}")
    print(f"largest relative score difference: {max_score_gap(evidently['columns'], report):.3g}")
    if differences:
        print("DIFFERENCES:")
        for line in differences:
            print(f"  {line}")
    else:
        print("same method and verdict for every column")
    return 0


if __name__ == "__main__":
    sys.exit(main())
