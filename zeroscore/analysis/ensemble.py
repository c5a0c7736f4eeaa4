"""Rank ensembles of several indicators as a pseudo-indicator: :func:`rank_aggregate`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from zeroscore.analysis.frames import GROUP_COLUMNS, SPEC_COLUMNS, as_tidy, indicator_labels, is_tidy
from zeroscore.errors import UnknownNameError, UsageError
from zeroscore.ranking import AGGREGATIONS, FAILED_EXCLUDE, orient_frame

__all__ = ["rank_aggregate", "ENSEMBLE_METHODS"]

#: ensemble methods of :func:`rank_aggregate`
ENSEMBLE_METHODS = ("log_rank", "rank_sum")


def _ensemble_column(wide: pd.DataFrame, indicators: Sequence[str], method: str,
                     directions: Mapping[str, bool] | None) -> pd.Series:
    oriented = orient_frame(wide[list(indicators)], directions)
    # "exclude": an arch on which a component failed counts as failed for the ensemble too (NaN), as it would for
    # a single indicator, and does not shift the others' ranks
    combined = AGGREGATIONS[method]([oriented[name].to_numpy() for name in indicators], failed=FAILED_EXCLUDE)
    return pd.Series(combined, index=wide.index)


def rank_aggregate(scores: pd.DataFrame, indicators: Sequence[str], method: str = "log_rank",
                   name: str | None = None, directions: Mapping[str, bool] | None = None) -> pd.DataFrame:
    """Add a rank-ensemble pseudo-indicator (higher = better) combining ``indicators``.

    Each indicator is ranked over the architectures, direction-aware: rank 1 = predicted worst, rank n =
    predicted best (ties get average ranks). Then

    * ``"rank_sum"``: ``sum_i rank_i`` -- TE-NAS (Chen et al., "Neural Architecture Search on ImageNet in Four
      GPU Hours: A Theoretically Inspired Perspective", ICLR 2021, Sec. 3.3) combines the rankings by NTK
      condition number and by number of linear regions by summing the two ranks;
    * ``"log_rank"``: ``sum_i log(rank_i / n)`` -- AZ-NAS (Lee & Ham, "AZ-NAS: Assembling Zero-Cost Proxies
      for Network Architecture Search", CVPR 2024, Eq. 13): a non-linear rank aggregation that penalises an
      architecture ranked low by any one proxy more than a plain rank sum does.

    (:func:`zeroscore.ranking.rank_sum` / :func:`zeroscore.ranking.log_rank` with ``failed="exclude"``.)
    Architectures with a NaN in any component get NaN and are left out of the others' ranking. Ranks are taken
    within each (space, dataset, batch spec, seed) group of a tidy frame (so the ensemble is per seed, and
    seed-averaging happens later in :func:`zeroscore.analysis.correlate` like for any indicator).

    Args:
        scores: tidy or wide frame (as for :func:`zeroscore.analysis.correlate`).
        indicators: the component indicator labels (at least two).
        method: ``"log_rank"`` or ``"rank_sum"``.
        name: label of the pseudo-indicator (default ``"<method>(a+b+...)"``).
        directions: ``{name: higher_is_better}`` overrides.

    Returns:
        The input frame with the pseudo-indicator added (new tidy rows, or a new wide column).
    """
    if method not in ENSEMBLE_METHODS:
        raise UsageError(f"method must be one of {ENSEMBLE_METHODS}, not {method!r}")
    indicators = list(indicators)
    if len(indicators) < 2:
        raise UsageError("an ensemble needs at least two indicators")
    name = name or f"{method}({'+'.join(indicators)})"
    if not is_tidy(scores):
        missing = [i for i in indicators if i not in scores.columns]
        if missing:
            raise UnknownNameError(f"indicator(s) {missing} not in the score columns {list(scores.columns)}")
        out = scores.copy()
        out[name] = _ensemble_column(scores, indicators, method, directions)
        return out
    tidy = as_tidy(scores)
    labels = pd.Series(indicator_labels(tidy).to_numpy(), index=tidy.index)
    missing = [i for i in indicators if not (labels == i).any()]
    if missing:
        raise UnknownNameError(f"indicator(s) {missing} not in the scores; have {sorted(labels.unique())}")
    part = tidy[labels.isin(indicators)].assign(_label=labels[labels.isin(indicators)])
    keys = [c for c in GROUP_COLUMNS + SPEC_COLUMNS + ["seed"] if c in part.columns]
    new_rows = []
    for vals, sub in (part.groupby(keys, sort=False, dropna=False) if keys else [((), part)]):
        vals = vals if isinstance(vals, tuple) else (vals,)
        wide = sub.pivot_table(index="arch", columns="_label", values="value", aggfunc="first", dropna=False)
        wide = wide.reindex(columns=indicators)
        combined = _ensemble_column(wide, indicators, method, directions)
        base = dict(zip(keys, vals))
        for arch, v in combined.items():
            r = {**base, "arch": arch, "indicator": name, "value": float(v)}
            if "error" in tidy.columns:
                r["error"] = None if np.isfinite(v) else "a component indicator failed"
            if "params_hash" in tidy.columns:
                r["params_hash"] = method
            if "params" in tidy.columns:
                r["params"] = f'{{"method": "{method}", "indicators": {list(indicators)!r}}}'.replace("'", '"')
            new_rows.append(r)
    added = pd.DataFrame(new_rows)
    return pd.concat([tidy, added], ignore_index=True)[list(tidy.columns)]
