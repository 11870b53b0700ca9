"""Writes the golden {"predictions": ...} bodies that mlflow_writer_test compares against.

Run once with the project's Python (mlflow installed) when the cases change:
    /work/main/.venv/bin/python src/api/inference/testdata/gen_mlflow_golden.py
Each case is built here with numpy/pandas and, identically, in C++ in mlflow_writer_test.cc;
the output is what MLflow's own scoring server (predictions_to_json) writes for it.
"""

import io
import math
import os

import numpy as np
import pandas as pd
from mlflow.pyfunc.scoring_server import predictions_to_json

CASES = {
    "fp32_matrix": np.array([[0.1, 1.5, -2.25], [1e-7, 3.4028235e38, 1e16]], dtype=np.float32),
    "fp64_special": np.array(
        [0.1, 1e-5, 1e16, 123456789012345.6, -0.0, math.nan, math.inf, -math.inf, 5e-324,
         1.7976931348623157e308, 0.0001, 1e15, 100.0],
        dtype=np.float64),
    "int_dict": {
        "i8": np.array([-128, 127], dtype=np.int8),
        "u64": np.array([18446744073709551615], dtype=np.uint64),
        "i64": np.array([-9223372036854775808, 0], dtype=np.int64),
    },
    "bool_array": np.array([True, False]),
    "strings": np.array(['a"b\\c', "\u00e9\u65e5\U0001F600", "\n\t\x01\x7f"], dtype=object),
    "records": pd.DataFrame(
        {"a": [1, 2], "b": [0.5, math.nan], "c": ["x", "y"], "d": [True, False]}),
    "records_fp32": pd.DataFrame({"p": np.array([0.1, 0.2], dtype=np.float32)}),
    "scalar": np.array(3.5),
    "fp16": np.array([0.1, 65504, -0.0], dtype=np.float16),
    "int_3d": np.arange(12, dtype=np.int64).reshape(2, 3, 2),
}

out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlflow_predictions")
os.makedirs(out_dir, exist_ok=True)
for name, value in CASES.items():
    buf = io.StringIO()
    predictions_to_json(value, buf)
    with open(os.path.join(out_dir, name + ".json"), "w", encoding="ascii") as f:
        f.write(buf.getvalue())
