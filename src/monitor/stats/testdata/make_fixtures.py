#!/usr/bin/env python3
"""Generates fixtures.json for drift_stats_test.cc: raw inputs plus the values SciPy 1.17 and
Evidently 0.7 compute from them. tests/test_drift_stats_fixtures.py recomputes every expectation
from the committed inputs with `expected_for_case` / `expected_special`, so the fixture can never
silently disagree with the reference libraries.

Run: .venv/bin/python src/monitor/stats/testdata/make_fixtures.py
"""
import json
import math
import os
import warnings

import numpy as np
import pandas as pd
import scipy
from scipy import special, stats

# Evidently 0.7.23 imports a helper that pandas 3 removed, from a module (data integrity tests)
# the stattests never use; give it back so `import evidently` succeeds.
import pandas.core.dtypes.common as _pandas_common  # noqa: E402

if not hasattr(_pandas_common, "infer_dtype_from_object"):
    _pandas_common.infer_dtype_from_object = lambda dtype: pd.api.types.pandas_dtype(dtype).type

from evidently.legacy.calculations.stattests import (
    chi_stat_test,
    jensenshannon_stat_test,
    kl_div_stat_test,
    ks_stat_test,
    psi_stat_test,
    wasserstein_stat_test,
    z_stat_test,
)
from evidently.legacy.calculations.stattests.registry import _get_default_stattest
from evidently.legacy.core import ColumnType

STATTESTS = {
    "ks": ks_stat_test,
    "chisquare": chi_stat_test,
    "z": z_stat_test,
    "psi": psi_stat_test,
    "kl_div": kl_div_stat_test,
    "jensenshannon": jensenshannon_stat_test,
    "wasserstein": wasserstein_stat_test,
}
NUMERIC_METHODS = ["ks", "wasserstein", "psi", "kl_div", "jensenshannon"]
CATEGORICAL_METHODS = ["chisquare", "z", "psi", "kl_div", "jensenshannon"]


def _encode_number(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(x)


def _decode_number(x):
    if x is None:
        return float("nan")
    if isinstance(x, str):
        return float(x)
    return float(x)


def _encode_result(x):
    x = float(x)
    return None if math.isnan(x) else x


def _series(case, side):
    raw = case[side]
    if case["kind"] == "numeric":
        s = pd.Series([_decode_number(v) for v in raw], dtype=float)
    else:
        s = pd.Series([v for v in raw], dtype=object)
    # Evidently's get_one_column_drift: inf -> NaN, then dropna.
    return s.replace([-np.inf, np.inf], np.nan).dropna().reset_index(drop=True)


def expected_for_case(case):
    """Evidently's auto choice and every applicable stattest on the case's inputs."""
    ref = _series(case, "reference")
    cur = _series(case, "current")
    ctype = ColumnType.Numerical if case["kind"] == "numeric" else ColumnType.Categorical
    out = {
        "auto": _get_default_stattest(ref, cur, ctype).name,
        "n_unique": int(pd.concat([ref, cur]).nunique()),
        "methods": {},
    }
    methods = NUMERIC_METHODS if case["kind"] == "numeric" else CATEGORICAL_METHODS
    if case["kind"] == "numeric" and out["n_unique"] <= 5:
        methods = methods + ["chisquare", "z"]  # what the auto choice applies to such columns
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in methods:
            st = STATTESTS[name]
            score, drift = st.func(ref, cur, ctype, st.default_threshold)
            entry = {"score": _encode_result(score), "drift": bool(drift)}
            if name == "ks":
                entry["statistic"] = float(stats.ks_2samp(ref, cur).statistic)
            out["methods"][name] = entry
    return out


def expected_special(special_inputs):
    out = {}
    out["ndtr"] = [float(special.ndtr(x)) for x in special_inputs["ndtr"]]
    out["chdtrc"] = [float(special.chdtrc(df, x)) for df, x in special_inputs["chdtrc"]]
    out["kolmogorov"] = [float(special.kolmogorov(x)) for x in special_inputs["kolmogorov"]]
    out["smirnov"] = [float(special.smirnov(n, x)) for n, x in special_inputs["smirnov"]]
    out["kstwo_sf"] = [float(stats.kstwo.sf(x, n)) for n, x in special_inputs["kstwo_sf"]]
    return out


def _num(values):
    return [_encode_number(float(v)) for v in values]


def make_cases():
    rng = np.random.default_rng(20260507)
    r6 = lambda a: np.round(a, 6)  # noqa: E731  (short JSON, exact inputs)
    cases = []

    def add(name, kind, reference, current):
        cases.append({"name": name, "kind": kind, "reference": reference, "current": current})

    add("normal_vs_shifted_200", "numeric", _num(r6(rng.normal(0, 1, 200))),
        _num(r6(rng.normal(0.3, 1, 200))))
    add("normal_same_300_250", "numeric", _num(r6(rng.normal(0, 1, 300))),
        _num(r6(rng.normal(0, 1, 250))))
    add("normal_vs_scaled_1500_1200", "numeric", _num(r6(rng.normal(5, 2, 1500))),
        _num(r6(rng.normal(5, 2.6, 1200))))
    add("normal_same_3000", "numeric", _num(r6(rng.normal(0, 1, 3000))),
        _num(r6(rng.normal(0, 1, 3000))))
    add("ties_integers_100_80", "numeric", _num(rng.integers(0, 30, 100)),
        _num(rng.integers(2, 32, 80)))
    add("integers_few_values_60_45", "numeric", _num(rng.integers(0, 4, 60)),
        _num(rng.integers(0, 5, 45)))
    add("integers_3_values_2000", "numeric", _num(rng.integers(0, 3, 2000)),
        _num(rng.integers(0, 3, 1800)))
    add("binary_numeric_400", "numeric", _num(rng.integers(0, 2, 400)),
        _num((rng.random(350) < 0.62).astype(int)))
    for n, m in [(5, 5), (5, 7), (8, 12), (10, 10), (13, 29), (20, 17), (33, 50), (50, 50)]:
        add(f"small_{n}_{m}", "numeric", _num(r6(rng.normal(0, 1, n))),
            _num(r6(rng.normal(0.8, 1, m))))
    add("unequal_900_40", "numeric", _num(r6(rng.exponential(1, 900))),
        _num(r6(rng.exponential(1.5, 40))))
    add("unequal_equal_dist_700_1000", "numeric", _num(r6(rng.uniform(0, 1, 700))),
        _num(r6(rng.uniform(0, 1, 1000))))
    add("exact_10000_9000_shift", "numeric", _num(r6(rng.normal(0, 1, 10000))),
        _num(r6(rng.normal(0.05, 1, 9000))))
    add("asymptotic_10001_8000", "numeric", _num(r6(rng.normal(0, 1, 10001))),
        _num(r6(rng.normal(0.02, 1, 8000))))
    add("constant_numeric", "numeric", _num([3.0] * 50), _num([3.0] * 40))
    add("constant_vs_other_constant", "numeric", _num([3.0] * 50), _num([4.0] * 40))
    nan_ref = r6(rng.normal(0, 1, 120)).tolist()
    nan_cur = r6(rng.normal(0.5, 1, 90)).tolist()
    for i in range(0, 120, 7):
        nan_ref[i] = float("nan")
    for i in range(0, 90, 11):
        nan_cur[i] = float("nan")
    nan_cur[3] = float("inf")
    nan_ref[5] = float("-inf")
    add("numeric_with_nan_and_inf", "numeric", _num(nan_ref), _num(nan_cur))
    add("numeric_21_unique_ref", "numeric", _num(list(range(21)) * 3),
        _num([x + 0.5 for x in range(25)]))
    add("numeric_20_unique_ref", "numeric", _num(list(range(20)) * 3),
        _num([x + 0.5 for x in range(25)]))
    add("skewed_psi_sparse_bins", "numeric", _num(r6(rng.lognormal(0, 1.5, 5000))),
        _num(r6(rng.lognormal(0.2, 1.5, 20))))

    cats = np.array(["red", "green", "blue", "cyan", "magenta"])
    add("categorical_same_300", "categorical", rng.choice(cats, 300).tolist(),
        rng.choice(cats, 260).tolist())
    add("categorical_shifted_500", "categorical",
        rng.choice(cats, 500, p=[0.4, 0.3, 0.1, 0.1, 0.1]).tolist(),
        rng.choice(cats, 450, p=[0.1, 0.2, 0.3, 0.2, 0.2]).tolist())
    add("categorical_unseen_in_ref", "categorical", rng.choice(cats[:3], 200).tolist(),
        rng.choice(cats, 150).tolist())
    add("categorical_missing_in_cur", "categorical", rng.choice(cats, 200).tolist(),
        rng.choice(cats[:2], 150).tolist())
    add("categorical_large_3000", "categorical",
        rng.choice(cats, 3000, p=[0.3, 0.3, 0.2, 0.1, 0.1]).tolist(),
        rng.choice(cats, 2500, p=[0.28, 0.32, 0.2, 0.1, 0.1]).tolist())
    add("binary_categorical_same", "categorical", rng.choice(["yes", "no"], 300).tolist(),
        rng.choice(["yes", "no"], 280).tolist())
    add("binary_categorical_shift", "categorical",
        rng.choice(["yes", "no"], 300, p=[0.3, 0.7]).tolist(),
        rng.choice(["yes", "no"], 280, p=[0.45, 0.55]).tolist())
    add("categorical_constant_same", "categorical", ["a"] * 30, ["a"] * 20)
    add("categorical_constant_different", "categorical", ["a"] * 30, ["b"] * 20)
    add("categorical_three_one_side", "categorical", ["a", "b", "c"] * 10, ["a"] * 25)
    return cases


def make_special_inputs():
    return {
        "ndtr": [-40.0, -9.0, -3.5, -1.2, -0.7, -0.2, 0.0, 0.3, 0.70710678, 1.0, 2.5, 6.0, 9.0],
        "chdtrc": [[1, 0.5], [1, 3.84], [2, 10.0], [3, 0.1], [4, 25.0], [4, 200.0], [7, 1.0],
                   [10, 60.0], [25, 30.0], [99, 150.0], [1, 700.0], [5, 1500.0]],
        "kolmogorov": [0.03, 0.1, 0.5, 0.8, 0.82, 0.83, 1.0, 1.36, 2.0, 4.0, 8.0],
        "smirnov": [[5, 0.3], [10, 0.05], [50, 0.2], [100, 0.5], [1000, 0.04], [5000, 0.03],
                    [50000, 0.01], [200000, 0.004]],
        "kstwo_sf": [[5, 0.15], [5, 0.3], [5, 0.9], [30, 0.1], [30, 0.2], [30, 0.3],
                     [30, 0.45], [30, 0.6], [100, 0.006], [100, 0.05], [140, 0.07],
                     [140, 0.16], [141, 0.05], [141, 0.2], [1000, 0.001], [1000, 0.02],
                     [1000, 0.06], [5000, 0.004], [5000, 0.012], [5000, 0.03],
                     [50000, 0.0005], [50000, 0.004], [50000, 0.0075], [50000, 0.05],
                     [200000, 0.002], [200000, 0.004]],
    }


def main():
    cases = make_cases()
    for case in cases:
        case["expected"] = expected_for_case(case)
    special_inputs = make_special_inputs()
    doc = {
        "generator": {"scipy": scipy.__version__, "numpy": np.__version__,
                      "pandas": pd.__version__},
        "cases": cases,
        "special": {"inputs": special_inputs, "expected": expected_special(special_inputs)},
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
