"""Unit tests of the benchmark's pure parts (no server needed).

Run with: .venv/bin/python -m pytest bench/test_tracking_bench.py
"""

import array
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tracking_bench as tb  # noqa: E402


def metric_ids(body: bytes):
    payload = json.loads(body)
    return [(m["key"], m["timestamp"], m["step"]) for m in payload["metrics"]]


def test_log_batch_bodies_are_valid_json_with_unique_metrics():
    factory = tb.LogBatchRequests("r" * 32, size=1000)
    seen = set()
    for i in range(3):
        method, path, body = factory(i)
        assert (method, path) == ("POST", "/api/2.0/mlflow/runs/log-batch")
        payload = json.loads(body)
        assert payload["run_id"] == "r" * 32
        assert len(payload["metrics"]) == 1000
        ids = metric_ids(body)
        assert len(set(ids)) == 1000
        assert not seen & set(ids)
        seen |= set(ids)
    # Call 1 continues at the step after call 0's last step.
    steps = sorted({step for _, _, step in metric_ids(factory(1)[2])})
    assert steps == list(range(100, 200))


def test_log_batch_with_one_key_covers_consecutive_steps():
    body = tb.LogBatchRequests("r", size=tb.HISTORY_POINTS, keys=1)(0)[2]
    assert [step for _, _, step in metric_ids(body)] == list(range(tb.HISTORY_POINTS))


def test_log_metric_bodies_advance_the_step():
    factory = tb.LogMetricRequests("abc")
    first, second = (json.loads(factory(i)[2]) for i in range(2))
    assert first["run_id"] == "abc" and first["key"] == "loss"
    assert (first["step"], second["step"]) == (0, 1)
    assert second["timestamp"] == first["timestamp"] + 1


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert tb.percentile(values, 0.50) == 50
    assert tb.percentile(values, 0.99) == 99
    assert tb.percentile([7], 0.99) == 7


def test_summarize_counts_only_successes_and_merges_errors():
    def worker(latencies_ms, errors):
        latencies = array.array("q", [x * 1_000_000 for x in latencies_ms])
        return tb.WorkerResult(latencies, {"HTTP 500": errors}, {"HTTP 500": "sample"}, 0.5)

    results = [worker([1, 3], errors=2), worker([2], errors=1)]
    summary = tb.summarize(results, duration_s=2.0, server_cpu=3.0)
    assert summary.ok == 3
    assert summary.calls_per_s == 1.5
    assert summary.p50_ms == 2.0
    assert summary.errors == {"HTTP 500": 3}
    assert summary.server_cpu_cores == 1.5
    assert summary.client_cpu_cores == 0.5


def search_response(seeds):
    return {
        "runs": [
            {
                "info": {"run_id": str(s.index)},
                "data": {
                    "params": [{"key": "p", "value": s.p}],
                    "metrics": [{"key": "m", "value": s.m}],
                },
            }
            for s in seeds
        ]
    }


def test_search_validator_accepts_the_right_page_and_rejects_wrong_ones():
    seeds = [tb.SeedRun.of(i) for i in range(3000)]
    matching = sorted((s for s in seeds if s.matches_filter()), key=lambda s: -s.m)
    assert len(matching) > tb.SEARCH_PAGE
    ordered = tb.search_validator(3000, ordered=True)
    unordered = tb.search_validator(3000, ordered=False)

    top = matching[: tb.SEARCH_PAGE]
    assert ordered(search_response(top)) is None
    assert unordered(search_response(matching[-tb.SEARCH_PAGE :])) is None
    assert "not the top" in ordered(search_response(matching[-tb.SEARCH_PAGE :]))
    assert "expected 100 runs" in unordered(search_response(top[:99]))
    non_matching = next(s for s in seeds if not s.matches_filter())
    assert "does not match" in unordered(search_response(top[:99] + [non_matching]))


def test_ratio_table_marks_bars():
    def row(workload, family, server, calls):
        result = tb.summarize([], 1.0, 0.0)
        result.calls_per_s = calls
        return tb.Row(workload, family, server, None, 1, result)

    rows = [
        row("log-metric", "log-metric", "mlflow", 100.0),
        row("create-run", None, "mlflow", 100.0),
        row("search-runs filter", "search-runs", "mlflow", 10.0),
        row("log-metric", "log-metric", "cairn", 2500.0),
        row("create-run", None, "cairn", 900.0),
        row("search-runs filter", "search-runs", "cairn", 50.0),
    ]
    lines = {line.split()[0]: line.split() for line in tb.ratio_table(rows).splitlines()[2:]}
    assert lines["log-metric"][-3:] == ["25.0x", ">=20x", "PASS"]
    assert lines["create-run"][-3:] == ["9.0x", "-", "-"]
    assert lines["search-runs"][-3:] == ["5.0x", ">=10x", "FAIL"]
