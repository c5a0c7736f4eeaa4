"""zeroscore.ranking: one NaN policy for every ranking, directions, and parity with the three rank combinations it
replaces (copied here as they were: analysis._aggregate_wide, search.objective.rank_sum, search.pruning.dense_ranks)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from zeroscore import analysis as A
from zeroscore import ranking


def _old_objective_rank_sum(columns):
    total = None
    for col in columns:
        s = pd.Series(np.asarray(col, dtype=float)).replace(np.nan, -np.inf)
        r = s.rank(method="average").to_numpy()
        total = r if total is None else total + r
    return total if total is not None else np.zeros(0)


def _old_prune_dense_ranks(gains):
    g = np.asarray(gains, dtype=float)
    finite_vals = sorted({v for v in g if not math.isnan(v)}, reverse=True)
    pos = {v: i for i, v in enumerate(finite_vals)}
    return np.array([pos[v] if not math.isnan(v) else len(finite_vals) for v in g], dtype=float)


def _old_analysis_aggregate_wide(wide, indicators, method, directions):
    sub = wide[list(indicators)].astype(float)
    ok = sub.notna().all(axis=1).to_numpy()
    n = int(ok.sum())
    out = np.full(len(sub), np.nan)
    if n:
        total = np.zeros(n)
        for name in indicators:
            v = sub[name].to_numpy()[ok]
            if not A.direction(name, directions):
                v = -v
            r = stats.rankdata(v, method="average")
            total += np.log(r / n) if method == "log_rank" else r
        out[ok] = total
    return pd.Series(out, index=wide.index)


# few distinct values, so that ties, failures and infinities meet often
_values = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, 2.5, -3.0]),
                    st.floats(allow_nan=True, allow_infinity=True, width=64))


def _columns(k_min=1):
    return st.integers(0, 12).flatmap(lambda n: st.lists(st.lists(_values, min_size=n, max_size=n),
                                                          min_size=k_min, max_size=4))


@settings(max_examples=200, deadline=None)
@given(_columns(k_min=0))
def test_ranking_reproduces_objective_rank_sum(columns):
    old = _old_objective_rank_sum(columns)
    # objective.rank_sum tied a failure with -inf; mapping NaN to -inf first keeps that exactly
    as_minus_inf = [np.where(np.isnan(c), -np.inf, c) for c in (np.asarray(col, dtype=float) for col in columns)]
    np.testing.assert_array_equal(ranking.rank_sum(as_minus_inf), old)
    if not any(np.isneginf(np.asarray(c, dtype=float)).any() for c in columns):
        # without -inf values the plain call (a failure ranks below everything) is the same
        np.testing.assert_array_equal(ranking.rank_sum(columns), old)


@settings(max_examples=200, deadline=None)
@given(st.lists(_values, max_size=15))
def test_ranking_reproduces_prune_dense_ranks(gains):
    np.testing.assert_array_equal(ranking.rank(gains, method="dense", best_first=True) - 1,
                                  _old_prune_dense_ranks(gains))


@settings(max_examples=150, deadline=None)
@given(_columns(k_min=2), st.sampled_from(["rank_sum", "log_rank"]), st.booleans())
def test_ranking_reproduces_analysis_ensembles(columns, method, flip):
    names = ["naswot", "ntk_cond", "external", "synflow"][: len(columns)]
    wide = pd.DataFrame(dict(zip(names, columns)), index=[f"a{i}" for i in range(len(columns[0]))], dtype=float)
    directions = {"external": False} if flip else None
    old = _old_analysis_aggregate_wide(wide, names, method, directions)
    oriented = [ranking.orient(wide[n], ranking.higher_is_better(n, directions)) for n in names]
    new = ranking.AGGREGATIONS[method](oriented, failed="exclude")
    np.testing.assert_array_equal(new, old.to_numpy())
    name = f"{method}({'+'.join(names)})"
    np.testing.assert_array_equal(A.rank_aggregate(wide, names, method=method, directions=directions)[name], new)


def test_ranking_nan_policy():
    v = [2.0, np.nan, -np.inf, 2.0, np.nan, 5.0]
    # a failure ranks below every number, -inf included, and ties with the other failures
    np.testing.assert_array_equal(ranking.rank(v), [4.5, 1.5, 3.0, 4.5, 1.5, 6.0])
    np.testing.assert_array_equal(ranking.rank(v, best_first=True), [2.5, 5.5, 4.0, 2.5, 5.5, 1.0])
    np.testing.assert_array_equal(ranking.rank(v, method="dense"), [3.0, 1.0, 2.0, 3.0, 1.0, 4.0])
    np.testing.assert_array_equal(ranking.rank(v, method="dense", best_first=True), [2.0, 4.0, 3.0, 2.0, 4.0, 1.0])
    np.testing.assert_array_equal(ranking.rank([np.nan, np.nan], method="dense", best_first=True), [1.0, 1.0])
    assert ranking.rank([]).shape == (0,)
    # aggregations: every candidate ordered by default, failed rows NaN (and out of the others' ranks) on request
    a, b = [3.0, 1.0, np.nan, 2.0], [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(ranking.rank_sum([a, b]), [4.0 + 1, 2.0 + 2, 1.0 + 3, 3.0 + 4])
    np.testing.assert_array_equal(ranking.rank_sum([a, b], failed="exclude"), [3.0 + 1, 1.0 + 2, np.nan, 2.0 + 3])
    np.testing.assert_allclose(ranking.log_rank([a, b], failed="exclude"),
                               [np.log(3 / 3) + np.log(1 / 3), np.log(1 / 3) + np.log(2 / 3), np.nan,
                                np.log(2 / 3) + np.log(3 / 3)])
    assert np.isfinite(ranking.log_rank([a, b])).all()
    assert ranking.rank_sum([]).shape == (0,)
    for bad in (lambda: ranking.rank(v, method="min"), lambda: ranking.rank([[1.0]]),
                lambda: ranking.rank_sum([a, b], failed="drop"), lambda: ranking.rank_sum([a, b[:2]])):
        with pytest.raises(ValueError):
            bad()


def test_ranking_directions():
    assert ranking.higher_is_better("naswot") and not ranking.higher_is_better("ntk_cond")
    assert not ranking.higher_is_better("ntk_cond@a1b2c3")  # a parameter set of ntk_cond
    assert ranking.higher_is_better("log_rank(naswot+ntk_cond)")  # an ensemble: not in the registry
    assert ranking.higher_is_better("ntk_cond", {"ntk_cond": True})
    assert not ranking.higher_is_better("naswot@a1b2c3", {"naswot": False})
    assert ranking.higher_is_better("naswot@x", {"naswot@x": True, "naswot": False})
    assert A.direction is ranking.higher_is_better
    np.testing.assert_array_equal(ranking.orient([1.0, np.nan, -np.inf], False), [-1.0, np.nan, np.inf])
    wide = pd.DataFrame({"naswot": [1, 2], "ntk_cond": [3, 4]})
    pd.testing.assert_frame_equal(ranking.orient_frame(wide),
                                  pd.DataFrame({"naswot": [1.0, 2.0], "ntk_cond": [-3.0, -4.0]}))
    assert ranking.orient_frame(wide, {"ntk_cond": True})["ntk_cond"].tolist() == [3.0, 4.0]
