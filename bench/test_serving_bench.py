"""Unit tests of the serving benchmark's pure parts (no server, no wrk needed).

Run with: .venv/bin/python -m pytest bench/test_serving_bench.py
"""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import serving_bench as sb  # noqa: E402
import serving_lib as sl  # noqa: E402

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:41234/v2/models/onnx/infer
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   512.34us  201.10us  12.50ms   91.00%
    Req/Sec     7.81k   410.22     8.60k    70.50%
  Latency Distribution
     50%  480.00us
     75%  560.00us
     90%  700.00us
     99%    1.25ms
  155432 requests in 10.00s, 30.12MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:  15541.27
Transfer/sec:      3.01MB
"""


def test_parse_wrk_reads_throughput_percentiles_and_errors():
    r = sl.parse_wrk(WRK_OUTPUT)
    assert r["rps"] == pytest.approx(15541.27)
    assert r["requests"] == 155432
    assert r["p50_us"] == pytest.approx(480.0)
    assert r["p90_us"] == pytest.approx(700.0)
    assert r["p99_us"] == pytest.approx(1250.0)
    assert r["non_2xx"] == 4
    assert r["socket_errors"] == 3


def test_parse_wrk_without_errors_and_in_seconds():
    text = WRK_OUTPUT.replace("  Socket errors: connect 0, read 1, write 0, timeout 2\n", "")
    text = text.replace("  Non-2xx or 3xx responses: 4\n", "").replace("1.25ms", "1.02s")
    r = sl.parse_wrk(text)
    assert (r["non_2xx"], r["socket_errors"]) == (0, 0)
    assert r["p99_us"] == pytest.approx(1.02e6)


def test_parse_wrk_rejects_output_without_throughput():
    with pytest.raises(ValueError):
        sl.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_lua_script_posts_the_body_and_paces_only_when_asked():
    body = sb.body_dataframe_split([0.5] * sb.N_FEATURES)
    script = sl.lua_script(body)
    assert 'wrk.method = "POST"' in script
    assert f"[==[{body}]==]" in script
    assert "delay" not in script
    assert "return 4" in sl.lua_script(body, delay_ms=4)


def test_bodies_are_what_the_protocols_expect():
    values = [float(i) for i in range(sb.N_FEATURES)]
    frame = json.loads(sb.body_dataframe_split(values))["dataframe_split"]
    assert frame["columns"] == [f"f{i}" for i in range(20)] and frame["data"] == [values]
    tensor = json.loads(sb.body_v2(values, "float_input", "FP32"))["inputs"][0]
    assert tensor == {"name": "float_input", "shape": [1, 20], "datatype": "FP32",
                      "data": values}
    columns = json.loads(sb.body_v2_columns(values))["inputs"]
    assert [c["name"] for c in columns] == frame["columns"]
    assert columns[3] == {"name": "f3", "shape": [1], "datatype": "FP64", "data": [3.0]}


@pytest.mark.parametrize("answer", [
    {"predictions": [1]},
    {"predictions": [{"label": 1}]},
    {"predictions": {"label": [1]}},
    {"predictions": [[1]]},
    {"outputs": [{"name": "label", "shape": [1], "datatype": "INT64", "data": [1]}]},
])
def test_extract_label_reads_every_answer_shape(answer):
    assert sb.extract_label(answer) == 1


def row(server, protocol, connections, rps, p50, p99, delay_ms=0):
    return {"server": server, "protocol": protocol, "connections": connections,
            "delay_ms": delay_ms, "rps": rps, "p50_us": p50, "p90_us": p50, "p99_us": p99,
            "non_2xx": 0, "socket_errors": 0, "client_cpu_cores": 0.5}


def test_ratios_and_goals():
    rows = [row("echo", "fixed", 8, 20000, 300, 900),
            row("mlflow", "invocations", 8, 100, 70000, 90000),
            row("mlserver", "v2", 8, 1000, 7000, 15000),
            row("cairn-onnx", "v2", 8, 10000, 700, 1500),
            row("cairn-onnx", "v2", 8, 1950, 300, 800, delay_ms=4),
            row("cairn-python", "invocations", 8, 150, 50000, 60000)]
    ratio = sb.ratios(rows, [1, 8])
    assert ratio["cairn-onnx v2 / mlflow invocations c=8"]["throughput_ratio"] == 100
    assert ratio["cairn-onnx v2 / mlserver v2 c=8"]["throughput_ratio"] == 10
    assert ratio["cairn-onnx v2 / echo c=8"]["p50_overhead_us"] == 400
    assert not any(k.endswith("c=1") for k in ratio)  # no c=1 rows
    lines = sb.goals(rows, ratio, {"summary": {"onnx": {"median_ready_s": 0.2}}})
    text = "\n".join(lines)
    assert "p99 800 us at 1,950 req/s PASS" in text
    assert "cairn-onnx v2 / mlflow invocations >= 20x: c=8: 100.0x PASS" in text
    assert "cairn-onnx v2 / mlserver v2 >= 20x: c=8: 10.0x FAIL" in text
    assert "cairn-python invocations / mlflow invocations >= 1x: c=8: 1.5x PASS" in text
    assert "deploy onnx < 1 s: median 0.20 s PASS" in text
    table = sb.results_table(rows)
    assert "cairn-onnx" in table and "4ms" in table
