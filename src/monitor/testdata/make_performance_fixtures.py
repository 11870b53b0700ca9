"""Writes performance_fixtures.json: labeled predictions and the metrics scikit-learn computes
for them, the expected values of monitor/performance_test.cc.

    .venv/bin/python src/monitor/testdata/make_performance_fixtures.py

Each case: {"name", "task", "positive_label", "labels", "predictions", "scores" (or null),
"expected": {metric: value}}. Labels and predictions are JSON numbers or strings, as the
monitor reads them from the prediction log and the feedback API.
"""

import json
import os

import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, f1_score, mean_absolute_error, mean_squared_error,
                             precision_score, recall_score, roc_auc_score)


def binary_case(name, labels, predictions, positive, scores):
    y = [str(v) for v in labels]
    p = [str(v) for v in predictions]
    pos = str(positive)
    expected = {
        "accuracy": accuracy_score(y, p),
        "precision": precision_score(y, p, pos_label=pos, zero_division=0),
        "recall": recall_score(y, p, pos_label=pos, zero_division=0),
        "f1": f1_score(y, p, pos_label=pos, zero_division=0),
    }
    if scores is not None:
        expected["auc"] = roc_auc_score([v == pos for v in y], scores)
    return {"name": name, "task": "classification", "positive_label": pos, "labels": labels,
            "predictions": predictions, "scores": scores, "expected": expected}


def main():
    rng = np.random.default_rng(20240611)
    cases = []

    # Binary 0/1 labels (JSON numbers), positive label "1", scores rounded to one decimal so
    # that many tie (roc_auc_score averages tied ranks).
    n = 400
    labels = rng.integers(0, 2, n)
    scores = np.clip(labels * 0.3 + rng.random(n) * 0.7, 0, 1).round(1)
    predictions = (scores >= 0.5).astype(int)
    cases.append(binary_case("binary_numeric_ties", [int(v) for v in labels],
                             [int(v) for v in predictions], 1, [float(s) for s in scores]))

    # The same without ties: scores with full precision.
    scores = rng.random(n) * 0.6 + labels * 0.25
    predictions = (scores >= 0.45).astype(int)
    cases.append(binary_case("binary_numeric_no_ties", [int(v) for v in labels],
                             [int(v) for v in predictions], 1, [float(s) for s in scores]))

    # String labels; the positive class is "spam".
    m = 250
    truth = rng.choice(["ham", "spam"], m, p=[0.7, 0.3])
    flip = rng.random(m) < 0.2
    pred = np.where(flip, np.where(truth == "spam", "ham", "spam"), truth)
    scores = np.where(pred == "spam", 0.5 + rng.random(m) * 0.5, rng.random(m) * 0.5).round(2)
    cases.append(binary_case("binary_strings", [str(v) for v in truth], [str(v) for v in pred],
                             "spam", [float(s) for s in scores]))

    # Only one class among the labels: no AUC (the test checks it is absent).
    cases.append({"name": "binary_one_class", "task": "classification", "positive_label": "1",
                  "labels": [1] * 20, "predictions": [1] * 15 + [0] * 5,
                  "scores": [0.9] * 15 + [0.2] * 5,
                  "expected": {"accuracy": 0.75, "precision": 1.0, "recall": 0.75,
                               "f1": f1_score([1] * 20, [1] * 15 + [0] * 5)}})

    # Multiclass: macro averages over the union of classes, zero_division=0. "d" is never
    # predicted (precision 0/0) and "e" is predicted but never the label (recall 0/0).
    k = 300
    truth = rng.choice(["a", "b", "c", "d"], k, p=[0.4, 0.3, 0.2, 0.1])
    noise = rng.random(k)
    pred = np.where(noise < 0.6, truth,
                    np.where(noise < 0.8, "b", np.where(noise < 0.95, "c", "e")))
    pred = np.where(pred == "d", "a", pred)
    y, p = [str(v) for v in truth], [str(v) for v in pred]
    cases.append({"name": "multiclass_macro", "task": "classification", "positive_label": "1",
                  "labels": y, "predictions": p, "scores": None,
                  "expected": {"accuracy": accuracy_score(y, p),
                               "precision": precision_score(y, p, average="macro",
                                                            zero_division=0),
                               "recall": recall_score(y, p, average="macro", zero_division=0),
                               "f1": f1_score(y, p, average="macro", zero_division=0)}})

    # Multiclass with integer class ids.
    truth = rng.integers(0, 3, k)
    pred = np.where(rng.random(k) < 0.7, truth, rng.integers(0, 3, k))
    y, p = [int(v) for v in truth], [int(v) for v in pred]
    cases.append({"name": "multiclass_integers", "task": "classification", "positive_label": "1",
                  "labels": y, "predictions": p, "scores": None,
                  "expected": {"accuracy": accuracy_score(y, p),
                               "precision": precision_score(y, p, average="macro",
                                                            zero_division=0),
                               "recall": recall_score(y, p, average="macro", zero_division=0),
                               "f1": f1_score(y, p, average="macro", zero_division=0)}})

    # Regression.
    r = 500
    truth = rng.normal(50, 10, r)
    pred = truth + rng.normal(0, 3, r)
    y, p = [float(v) for v in truth], [float(v) for v in pred]
    cases.append({"name": "regression", "task": "regression", "positive_label": "1",
                  "labels": y, "predictions": p, "scores": None,
                  "expected": {"rmse": float(np.sqrt(mean_squared_error(y, p))),
                               "mae": mean_absolute_error(y, p)}})
    # The same with the task left empty: fractional number labels mean regression.
    cases.append(dict(cases[-1], name="regression_inferred", task=""))

    for case in cases:
        case["expected"] = {key: float(value) for key, value in case["expected"].items()}
    out = {"generator": "make_performance_fixtures.py", "sklearn": sklearn.__version__,
           "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "performance_fixtures.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
