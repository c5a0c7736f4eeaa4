"""Directions and rankings in one place: orienting indicator values so that larger = predicted better, ranking
them, and combining several rankings (TE-NAS rank sum, AZ-NAS log-rank).

Direction
    :func:`higher_is_better` says whether larger values of an indicator predict better architectures (the
    registry's ``higher_is_better``, overridable); :func:`orient` and :func:`orient_frame` negate the values of
    lower-is-better indicators, so that after orienting, larger always means "predicted better". Everything below
    takes oriented values.

Ranks
    :func:`rank` ranks oriented values, worst first (1 = predicted worst ... n = predicted best) or best first
    (``best_first=True``: 1 = predicted best). Equal values share a rank: their average rank (``"average"``,
    as :func:`scipy.stats.rankdata`) or one rank each with no gaps (``"dense"``). ``+-inf`` are ordinary extreme
    values.

NaN policy (the one rule for every ranking in zeroscore)
    NaN means the indicator failed on that architecture. **A failed value ranks as the worst: below every number,
    ``-inf`` included; failed values tie with each other.** So every candidate gets a rank, which is what a search
    needs to order a whole population.

    Rank aggregations (:func:`rank_sum`, :func:`log_rank`) follow the same rule by default
    (``failed="worst"``: a failed component contributes the failed value's rank). The one place that needs the
    other behaviour names it: ``failed="exclude"`` leaves every row with a failed component out of the ranking
    (the remaining rows are ranked among themselves, ``n`` = their number) and gives it NaN. Correlation ensembles
    (:func:`zeroscore.analysis.rank_aggregate`) use it so that an architecture on which a component failed counts
    as failed for the ensemble, like for any single indicator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from zeroscore.errors import UnknownIndicatorError, UsageError
from zeroscore.indicators.base import indicator_class

__all__ = ["higher_is_better", "orient", "orient_frame", "rank", "rank_sum", "log_rank", "AGGREGATIONS",
           "RANK_METHODS", "FAILED_WORST", "FAILED_EXCLUDE"]

#: tie rules of :func:`rank`
RANK_METHODS = ("average", "dense")
#: a failed (NaN) component ranks as the worst value (the default of the aggregations)
FAILED_WORST = "worst"
#: a row with a failed (NaN) component is left out of the ranking and aggregates to NaN
FAILED_EXCLUDE = "exclude"


def higher_is_better(name: str, directions: Mapping[str, bool] | None = None) -> bool:
    """True when larger values of indicator ``name`` predict better architectures.

    ``directions`` (``{name: higher_is_better}``) overrides, first for the exact name, then for its base name; then
    the registry (``indicator_class(name).higher_is_better``). A ``name@hash`` label (one parameter set of an
    indicator) uses its base name; names the registry does not know (rank ensembles, external columns) are
    higher-is-better.
    """
    if directions and name in directions:
        return bool(directions[name])
    base = str(name).split("@", 1)[0]
    if directions and base in directions:
        return bool(directions[base])
    try:
        return bool(indicator_class(base).higher_is_better)
    except UnknownIndicatorError:
        return True


def orient(values, higher_is_better: bool) -> np.ndarray:
    """``values`` as float, negated when lower is better, so that larger always means "predicted better".
    NaN (a failed value) stays NaN."""
    v = np.asarray(values, dtype=float)
    return v if higher_is_better else -v


def orient_frame(wide: pd.DataFrame, directions: Mapping[str, bool] | None = None) -> pd.DataFrame:
    """A wide frame (one column per indicator) as float with every column oriented by :func:`higher_is_better`
    of its name."""
    oriented = wide.astype(float)
    for name in oriented.columns:
        if not higher_is_better(name, directions):
            oriented[name] = -oriented[name]
    return oriented


def rank(values, method: str = "average", best_first: bool = False) -> np.ndarray:
    """Ranks (float, starting at 1) of oriented ``values``; a failed (NaN) value ranks as the worst.

    ``best_first=False``: 1 = worst ... n = best (a larger rank is better, as in a rank sum). ``best_first=True``:
    1 = best. ``method``: ``"average"`` (ties share their average rank) or ``"dense"`` (ties share one rank and
    the next value gets the next integer). Failed values tie with each other below every number, ``-inf``
    included: with ``best_first`` they come last.
    """
    if method not in RANK_METHODS:
        raise UsageError(f"rank method must be one of {RANK_METHODS}, not {method!r}")
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise UsageError(f"rank takes one column of values, got an array of shape {v.shape}")
    failed = np.isnan(v)
    n_failed = int(failed.sum())
    numbers = v[~failed]
    number_ranks = rankdata(-numbers if best_first else numbers, method=method).astype(float)
    ranks = np.empty(len(v))
    # the failed values form one block of ties at the bad end
    if best_first:
        above = (number_ranks.max() if len(numbers) else 0.0) if method == "dense" else float(len(numbers))
        ranks[~failed] = number_ranks
        ranks[failed] = above + (1.0 if method == "dense" else (n_failed + 1) / 2)
    else:
        shift = min(n_failed, 1) if method == "dense" else n_failed
        ranks[~failed] = number_ranks + shift
        ranks[failed] = 1.0 if method == "dense" else (n_failed + 1) / 2
    return ranks


def _aggregate(columns: Sequence, failed: str, term) -> np.ndarray:
    """Sum over columns of ``term(average rank, n)``; ranks worst first; see the module docstring for ``failed``."""
    if failed not in (FAILED_WORST, FAILED_EXCLUDE):
        raise UsageError(f"failed must be {FAILED_WORST!r} or {FAILED_EXCLUDE!r}, not {failed!r}")
    cols = [np.asarray(c, dtype=float) for c in columns]
    if not cols:
        return np.zeros(0)
    n_rows = len(cols[0])
    if any(c.shape != (n_rows,) for c in cols):
        raise UsageError(f"rank aggregation needs columns of one length, got shapes {[c.shape for c in cols]}")
    keep = np.ones(n_rows, dtype=bool)
    if failed == FAILED_EXCLUDE:
        for c in cols:
            keep &= ~np.isnan(c)
    n = int(keep.sum())
    out = np.full(n_rows, np.nan)
    if n:
        total = np.zeros(n)
        for c in cols:
            total += term(rank(c[keep]), n)
        out[keep] = total
    return out


def rank_sum(columns: Sequence, failed: str = FAILED_WORST) -> np.ndarray:
    """Per row, the sum over ``columns`` of its average rank (1 = worst ... n = best): larger = better.

    ``columns[k][i]`` is the oriented value of indicator ``k`` for candidate ``i``. TE-NAS (Chen et al., ICLR 2021,
    Sec. 3.3) ranks architectures by the sum of their ranks by NTK condition number and by number of linear
    regions. ``failed``: ``"worst"`` (a NaN ranks as the worst value) or ``"exclude"`` (a row with a NaN is left
    out and gets NaN). No columns: an empty array.
    """
    return _aggregate(columns, failed, lambda r, n: r)


def log_rank(columns: Sequence, failed: str = FAILED_WORST) -> np.ndarray:
    """Per row, ``sum_k log(rank_k / n)`` with average ranks (1 = worst ... n = best): larger = better (<= 0).

    AZ-NAS (Lee & Ham, CVPR 2024, Eq. 13): a non-linear rank aggregation that penalises a candidate ranked low by
    any one proxy more than a plain rank sum does. ``columns`` and ``failed`` as for :func:`rank_sum` (with
    ``"exclude"``, ``n`` counts the rows left in).
    """
    return _aggregate(columns, failed, lambda r, n: np.log(r / n))


#: aggregation method name -> function
AGGREGATIONS = {"rank_sum": rank_sum, "log_rank": log_rank}
