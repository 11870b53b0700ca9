"""Writes fixtures.json: a small table and the statistics numpy and pandas compute for it.

reference_profile_test.cc reads the table (as CSV, through TableReader), builds a profile and
compares it with these values. Run from this directory with the project venv:
    ../../../../.venv/bin/python make_fixtures.py
Floats are written as strings in shortest round-trip form (repr), so that the test reads back
exactly the doubles numpy used.
"""

import io
import json

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261203)
n = 200
frame = pd.DataFrame({
    "normal": rng.normal(10.0, 3.0, n),
    "skewed": rng.lognormal(0.0, 1.5, n),
    "ints": rng.integers(0, 10, n).astype(float),
    "constant": np.full(n, 4.25),
    "city": rng.choice(["Paris", "Lyon", "Nice", "Lille", "Brest"], n, p=[0.4, 0.25, 0.15, 0.15, 0.05]),
})
frame.loc[rng.choice(n, 20, replace=False), "skewed"] = np.nan
frame.loc[rng.choice(n, 7, replace=False), "city"] = None

csv = frame.to_csv(index=False, float_format=lambda v: repr(float(v)), lineterminator="\n")
# The CSV must read back as the same doubles.
back = pd.read_csv(io.StringIO(csv), float_precision="round_trip")
for name in ["normal", "skewed", "ints", "constant"]:
    assert back[name].equals(frame[name]), name
assert back["city"].isna().equals(frame["city"].isna())


def numeric_stats(values):
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    edges = np.histogram_bin_edges(x, bins="sturges")
    counts, edges2 = np.histogram(x, bins="sturges")
    assert np.array_equal(edges, edges2)
    return {
        "count": int(x.size),
        "min": repr(float(x.min())),
        "max": repr(float(x.max())),
        "mean": repr(float(np.mean(x))),
        "std": repr(float(pd.Series(x).std())),  # ddof=1
        "quantiles": [repr(float(q)) for q in np.quantile(x, np.linspace(0, 1, 21), method="linear")],
        "histogram_edges": [repr(float(e)) for e in edges],
        "histogram_counts": [int(c) for c in counts],
    }


expected = {}
for name in ["normal", "skewed", "ints", "constant"]:
    stats = numeric_stats(frame[name])
    stats["missing"] = int(frame[name].isna().sum())
    expected[name] = stats
city = frame["city"].dropna()
counts = city.value_counts()
top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
expected["city"] = {
    "count": int(city.size),
    "missing": int(frame["city"].isna().sum()),
    "n_unique": int(city.nunique()),
    "top_categories": [[k, int(v)] for k, v in top],
}

# Small arrays fed to BuildProfile directly.
arrays = {
    "one": [3.5],
    "two": [1.0, 2.0],
    "ties": [1.0, 1.0, 1.0, 2.0, 2.0, 7.0, 7.0, 7.0, 7.0, 100.0],
    "wide": list(rng.normal(0.0, 1e6, 33)),
}
array_stats = {k: numeric_stats(v) for k, v in arrays.items()}
array_stats["one"]["std"] = "nan"  # pandas gives NaN for one value with ddof=1

fixture = {
    "csv": csv,
    "expected": expected,
    "arrays": {k: [repr(float(v)) for v in vals] for k, vals in arrays.items()},
    "array_expected": array_stats,
    "versions": {"numpy": np.__version__, "pandas": pd.__version__},
}
with open("fixtures.json", "w") as f:
    json.dump(fixture, f, indent=1)
    f.write("\n")
