"""Checks src/monitor/detectors/testdata/fixtures.json against river itself.

The C++ drift detectors are tested (drift_detectors_test.cc) by replaying these fixtures and
requiring the same drift and warning indices. Here river re-runs every committed stream, so the
fixture can never disagree with the library it claims to record. Needs river 0.26.1
(requirements-dev.txt); no server.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

river = pytest.importorskip("river")

TESTDATA = Path(__file__).resolve().parent.parent / "src/monitor/detectors/testdata"
FIXTURES = json.loads((TESTDATA / "fixtures.json").read_text())


def _generator():
    spec = importlib.util.spec_from_file_location("make_fixtures", TESTDATA / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_fixtures = _generator()


@pytest.fixture(autouse=True)
def _mlflow_client_state():
    """Replaces conftest's fixture of the same name: these tests need no Cairn server."""
    yield


def test_recorded_with_this_river_version():
    assert FIXTURES["river_version"] == river.__version__ == "0.26.1"


@pytest.mark.parametrize("case", FIXTURES["cases"], ids=lambda c: c["name"])
def test_river_flags_the_committed_indices(case):
    stream = FIXTURES["streams"][case["stream"]]
    drifts, warnings = make_fixtures.run_detector(case["detector"], case["params"], stream)
    assert drifts == case["drift"]
    assert warnings == case["warning"]


def test_generator_reproduces_the_committed_file():
    streams, cases = make_fixtures.cases()
    assert streams == FIXTURES["streams"]
    assert cases == FIXTURES["cases"]


def _case(name):
    return next(c for c in FIXTURES["cases"] if c["name"] == name)


def test_river_docstring_examples():
    # DDM: warning 1084, drift 1334, warning again 1492 (the first after the drift).
    ddm = _case("ddm_doc_example")
    assert ddm["drift"] == [1334]
    assert ddm["warning"][0] == 1084
    assert min(i for i in ddm["warning"] if i > 1334) == 1492
    # EDDM(alpha=0.8, beta=0.75): warning 1059, drift 1278.
    eddm = _case("eddm_doc_example")
    assert eddm["params"] == {"alpha": 0.8, "beta": 0.75}
    assert eddm["drift"] == [1278]
    assert eddm["warning"][0] == 1059
    # Page-Hinkley and ADWIN on Random(12345): drift 1006 and 1023.
    assert _case("page_hinkley_doc_example")["drift"][0] == 1006
    assert _case("adwin_doc_example")["drift"] == [1023]


def test_fixture_stays_small():
    assert (TESTDATA / "fixtures.json").stat().st_size < 500_000
