"""The committed drift-statistics fixture (src/monitor/stats/testdata/fixtures.json) must equal
what the installed SciPy and Evidently compute from its inputs, so the C++ test that reads it
checks against the reference libraries rather than against a stale file."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

TESTDATA = Path(__file__).resolve().parent.parent / "src" / "monitor" / "stats" / "testdata"
sys.path.insert(0, str(TESTDATA))

make_fixtures = pytest.importorskip("make_fixtures")  # needs scipy, pandas and evidently

FIXTURES = json.loads((TESTDATA / "fixtures.json").read_text())


@pytest.fixture(autouse=True)
def _mlflow_client_state():
    """Overrides conftest's autouse fixture: these tests need no server."""
    yield


def _same(expected, actual):
    if isinstance(expected, dict):
        assert expected.keys() == actual.keys()
        for key in expected:
            _same(expected[key], actual[key])
    elif isinstance(expected, list):
        assert len(expected) == len(actual)
        for e, a in zip(expected, actual):
            _same(e, a)
    elif isinstance(expected, float) or isinstance(actual, float):
        assert expected is not None and actual is not None, (expected, actual)
        assert math.isclose(expected, actual, rel_tol=1e-12, abs_tol=0.0), (expected, actual)
    else:
        assert expected == actual


def test_generator_versions_match_installed_libraries():
    import numpy
    import scipy

    assert FIXTURES["generator"]["scipy"] == scipy.__version__
    assert FIXTURES["generator"]["numpy"] == numpy.__version__


@pytest.mark.parametrize("case", FIXTURES["cases"], ids=lambda c: c["name"])
def test_case_expectations_equal_evidently_and_scipy(case):
    _same(case["expected"], make_fixtures.expected_for_case(case))


def test_special_function_expectations_equal_scipy():
    special = FIXTURES["special"]
    _same(special["expected"], make_fixtures.expected_special(special["inputs"]))


def test_inputs_are_what_the_generator_makes():
    regenerated = make_fixtures.make_cases()
    assert [c["name"] for c in regenerated] == [c["name"] for c in FIXTURES["cases"]]
    for fresh, committed in zip(regenerated, FIXTURES["cases"]):
        assert fresh["reference"] == committed["reference"], fresh["name"]
        assert fresh["current"] == committed["current"], fresh["name"]
