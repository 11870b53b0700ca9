"""Generates fixtures.json: streams and the updates on which river flags drift or warning.

Run with the repository's venv (river 0.26.1):

    .venv/bin/python src/monitor/detectors/testdata/make_fixtures.py

`streams` maps a name to a list of values. Each case holds a detector name, its parameters
(river's names), the name of its stream, and the 0-based indices of the updates after which
river's `drift_detected` (and, for DDM and EDDM, `warning_detected`) was true. drift_detectors_test.cc replays every case through the C++
detectors; tests/test_drift_detectors_fixtures.py replays it through river.

Real-valued streams are rounded to 5 decimals so the file stays small; the detectors then work
on those doubles, which JSON round-trips exactly.
"""

from __future__ import annotations

import json
import math
import random
import sys
from pathlib import Path

from river import drift

OUT = Path(__file__).with_name("fixtures.json")

FACTORIES = {
    "adwin": drift.ADWIN,
    "ddm": drift.binary.DDM,
    "eddm": drift.binary.EDDM,
    "page_hinkley": drift.PageHinkley,
}


def run_detector(detector: str, params: dict, stream: list) -> tuple[list[int], list[int]]:
    """Feeds `stream` to a fresh river detector; returns (drift indices, warning indices)."""
    det = FACTORIES[detector](**params)
    drifts, warnings = [], []
    for i, x in enumerate(stream):
        det.update(x)
        if det.drift_detected:
            drifts.append(i)
        if getattr(det, "warning_detected", False):
            warnings.append(i)
    return drifts, warnings


def coin_stream(seed: int) -> list[int]:
    # The stream of river's DDM and EDDM docstrings.
    rng = random.Random(seed)
    stream = rng.choices([0, 1], k=1000)
    return stream + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])


def level_stream(seed: int) -> list[int]:
    # The stream of river's ADWIN and PageHinkley docstrings.
    rng = random.Random(seed)
    return rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)


def bernoulli_segments(seed: int, segments: list[tuple[int, float]]) -> list[int]:
    """Error stream with abrupt changes: (length, error rate) per segment."""
    rng = random.Random(seed)
    out = []
    for length, p in segments:
        out += [1 if rng.random() < p else 0 for _ in range(length)]
    return out


def bernoulli_gradual(seed: int, n: int, start: int, end: int, p0: float, p1: float) -> list[int]:
    """Error rate p0 until `start`, rising linearly to p1 at `end`, then p1."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        t = min(max((i - start) / (end - start), 0.0), 1.0)
        p = p0 + (p1 - p0) * t
        out.append(1 if rng.random() < p else 0)
    return out


def regression_errors(seed: int, segments: list[tuple[int, float, float]]) -> list[float]:
    """Absolute residuals |N(bias, sigma)| per (length, bias, sigma) segment, rounded."""
    rng = random.Random(seed)
    out = []
    for length, bias, sigma in segments:
        out += [round(abs(rng.gauss(bias, sigma)), 5) for _ in range(length)]
    return out


def signed_levels(seed: int, segments: list[tuple[int, float, float]]) -> list[float]:
    """Signed values N(mean, sigma) per (length, mean, sigma) segment, rounded."""
    rng = random.Random(seed)
    out = []
    for length, mean, sigma in segments:
        out += [round(rng.gauss(mean, sigma), 5) for _ in range(length)]
    return out


def sine_errors(seed: int, n: int) -> list[float]:
    """Squared errors of a model whose bias oscillates slowly: gradual, recurring drift."""
    rng = random.Random(seed)
    return [round((0.8 * math.sin(i / 300.0) + rng.gauss(0, 0.5)) ** 2, 5) for i in range(n)]


def cases() -> tuple[dict[str, list], list[dict]]:
    coins = coin_stream(42)
    levels = level_stream(12345)
    several = bernoulli_segments(7, [(800, 0.1), (800, 0.4), (800, 0.15), (800, 0.6), (800, 0.2)])
    gradual = bernoulli_gradual(11, 3000, 1000, 2000, 0.1, 0.5)
    rare = bernoulli_segments(3, [(1500, 0.03), (1500, 0.25)])
    reg = regression_errors(5, [(1000, 0.0, 1.0), (700, 0.8, 1.0), (800, 0.0, 3.0), (500, 0.0, 1.0)])
    signed = signed_levels(13, [(600, 0.0, 1.0), (600, 2.0, 1.0), (600, -1.5, 1.0), (600, 0.0, 2.0)])
    sine = sine_errors(17, 3000)

    streams = {
        "coins_seed42": coins,
        "levels_seed12345": levels,
        "several_drifts": several,
        "gradual": gradual,
        "rare_errors": rare,
        "regression_errors": reg,
        "signed_levels": signed,
        "sine_errors": sine,
    }
    by_id = {id(v): k for k, v in streams.items()}
    specs = [
        # river's documented examples.
        ("ddm_doc_example", "ddm", {}, coins),
        ("eddm_doc_example", "eddm", {"alpha": 0.8, "beta": 0.75}, coins),
        ("page_hinkley_doc_example", "page_hinkley", {}, levels),
        ("adwin_doc_example", "adwin", {}, levels),
        # DDM.
        ("ddm_several_drifts", "ddm", {}, several),
        ("ddm_gradual", "ddm", {}, gradual),
        ("ddm_rare_errors", "ddm", {}, rare),
        ("ddm_custom", "ddm", {"warm_start": 100, "warning_threshold": 1.5, "drift_threshold": 2.5},
         several),
        # EDDM.
        ("eddm_defaults_coins", "eddm", {}, coins),
        ("eddm_several_drifts", "eddm", {}, several),
        ("eddm_gradual_custom", "eddm", {"warm_start": 20, "alpha": 0.9, "beta": 0.85}, gradual),
        ("eddm_rare_errors", "eddm", {"alpha": 0.85, "beta": 0.8}, rare),
        # ADWIN.
        ("adwin_several_drifts", "adwin", {}, several),
        ("adwin_gradual", "adwin", {}, gradual),
        ("adwin_regression_errors", "adwin", {}, reg),
        ("adwin_clock1_regression_errors", "adwin", {"clock": 1}, reg),
        ("adwin_clock1_signed", "adwin", {"clock": 1, "delta": 0.01}, signed),
        ("adwin_custom_sine", "adwin",
         {"delta": 0.05, "clock": 8, "max_buckets": 3, "min_window_length": 10, "grace_period": 50},
         sine),
        # max_buckets=2 is the smallest river survives (1 makes it panic on a second cut).
        ("adwin_small_buckets_levels", "adwin",
         {"delta": 0.1, "clock": 4, "max_buckets": 2, "min_window_length": 1, "grace_period": 0},
         levels),
        ("adwin_small_buckets_clock1_signed", "adwin",
         {"delta": 0.3, "clock": 1, "max_buckets": 2, "min_window_length": 1, "grace_period": 0},
         signed),
        # Page-Hinkley.
        ("page_hinkley_regression_errors", "page_hinkley", {}, reg),
        ("page_hinkley_up", "page_hinkley",
         {"mode": "up", "threshold": 20.0, "min_instances": 50, "delta": 0.01, "alpha": 0.999},
         signed),
        ("page_hinkley_down", "page_hinkley",
         {"mode": "down", "threshold": 20.0, "min_instances": 50, "delta": 0.01, "alpha": 0.999},
         signed),
        ("page_hinkley_both", "page_hinkley",
         {"mode": "both", "threshold": 20.0, "min_instances": 50, "delta": 0.01, "alpha": 0.999},
         signed),
        ("page_hinkley_sine", "page_hinkley", {"threshold": 10.0, "alpha": 1.0}, sine),
        ("page_hinkley_binary_errors", "page_hinkley", {"threshold": 8.0, "mode": "up"}, several),
    ]
    out = []
    for name, detector, params, stream in specs:
        drifts, warnings = run_detector(detector, params, stream)
        out.append({
            "name": name,
            "detector": detector,
            "params": params,
            "stream": by_id[id(stream)],
            "drift": drifts,
            "warning": warnings,
        })
    return streams, out


def main() -> int:
    import river

    streams, case_list = cases()
    doc = {
        "river_version": river.__version__,
        "generator": "src/monitor/detectors/testdata/make_fixtures.py",
        "streams": streams,
        "cases": case_list,
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    for case in doc["cases"]:
        print(f"{case['name']:34s} drift={case['drift'][:8]}{'...' if len(case['drift']) > 8 else ''}"
              f" warnings={len(case['warning'])}")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
