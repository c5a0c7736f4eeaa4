"""The published values the reproduction report compares with: names, ranges and how differences are taken."""

import importlib.util
import math
from pathlib import Path

import pytest

import zeroscore

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "reproduce_correlations.py"


@pytest.fixture(scope="module")
def repro():
    spec = importlib.util.spec_from_file_location("reproduce_correlations", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_published_value_names_a_setting_and_an_indicator(repro):
    # a typo in an indicator or setting name would silently drop a published value from the report
    known = set(zeroscore.list_indicators()) | set(repro.ENSEMBLES)
    for (setting, indicator), values in repro.PUBLISHED.items():
        assert setting in repro.SETTINGS, setting
        assert indicator in known, indicator
        for value, metric, source in values:
            assert metric in {"spearman", "|spearman|", "kendall"}, metric
            assert -1.0 <= value <= 1.0 and source.strip()
            if metric == "|spearman|":
                assert value >= 0


def test_published_cell_compares_like_with_like(repro, monkeypatch):
    monkeypatch.setattr(repro, "PUBLISHED", {})
    repro._pub("nb201-cifar10", "naswot", 0.80, "source A")
    repro._pub("nb201-cifar10", "naswot", 0.60, "source B", "kendall")
    repro._pub("nb201-cifar10", "naswot", 0.70, "source A", "|spearman|")
    notes = {}
    cell, diff = repro._published_cell("nb201-cifar10", "naswot", -0.75, 0.55, notes)
    assert notes == {"source A": 1, "source B": 2}
    assert cell == "0.80 [1], 0.60 (tau) [2], 0.70 (abs) [1]"
    # Spearman against Spearman, Kendall against Kendall, |rho| against an absolute value
    assert diff == "-1.55, -0.05 (tau), +0.05 (abs)"
    assert repro._published_cell("nb201-cifar10", "naswot", math.nan, math.nan, {})[1] == ""
    assert repro._published_cell("sss-cifar10", "naswot", 0.5, 0.4, {}) == ("", "")
