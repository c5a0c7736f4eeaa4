"""How well does each indicator rank the architectures: :func:`correlate`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from zeroscore.analysis.frames import (
    GROUP_COLUMNS,
    SPEC_COLUMNS,
    as_tidy,
    groups,
    indicator_labels,
    is_tidy,
    wide_scores,
)
from zeroscore.analysis.stats import metrics, topk_label
from zeroscore.errors import UnknownNameError, UsageError
from zeroscore.ranking import higher_is_better, orient

__all__ = ["correlate", "INF_POLICIES"]

#: what :func:`correlate` does with +-inf scores
INF_POLICIES = ("rank", "drop")


def correlate(scores: pd.DataFrame, truth: pd.DataFrame, targets: str | Sequence[str] | None = None,
              indicators: Sequence[str] | None = None, bootstrap: int = 1000, seed: int = 0,
              top_k: Sequence[float] = (0.01, 0.05, 0.10), directions: Mapping[str, bool] | None = None,
              inf: str = "rank") -> pd.DataFrame:
    """Rank agreement of every indicator with every accuracy column.

    Args:
        scores: tidy scores (``arch, indicator, value`` [+ ``seed, space, dataset, params_hash``...]) or a wide
            arch x indicator frame. A tidy frame with several spaces/datasets gives one block per combination
            (columns ``space``/``dataset`` in the result).
        truth: accuracies indexed by arch (e.g. :func:`zeroscore.truth.load`); only archs present in both are used.
        targets: accuracy column(s) of ``truth`` (default: every column whose name contains ``acc``).
        indicators: restrict to these indicator labels.
        bootstrap: number of bootstrap resamples for the 95 % intervals (0: none).
        seed: bootstrap seed.
        top_k: fractions for top-k precision.
        directions: ``{name: higher_is_better}`` overrides (see :func:`zeroscore.ranking.higher_is_better`).
        inf: ``"rank"`` (default; +-inf ranked at the extremes) or ``"drop"`` (treated as failures).

    Returns:
        One row per (group, indicator, target): ``indicator, target, higher_is_better, n, n_failed, n_inf,
        spearman, spearman_lo, spearman_hi, kendall, kendall_lo, kendall_hi, pearson, top1, top5, top10,
        best_rank_top1, best_rank_top5, best_rank_top10`` (+ ``space``/``dataset`` for tidy input).
        ``n`` counts the architectures used (score not NaN, accuracy known); ``n_failed`` those with a NaN score.
        With tidy input an architecture that has no row for an indicator (not scored) is neither used nor
        counted as failed; in a wide frame every NaN counts as a failure.
    """
    if inf not in INF_POLICIES:
        raise UsageError(f"inf must be 'rank' or 'drop', not {inf!r}")
    if isinstance(targets, str):
        targets = [targets]
    if targets is None:
        targets = [c for c in truth.columns if "acc" in str(c)]
    missing = [t for t in targets if t not in truth.columns]
    if missing:
        raise UnknownNameError(f"target column(s) {missing} not in truth; available: {list(truth.columns)}")
    truth = truth.copy()
    truth.index = truth.index.map(str)
    rows = []
    for group, sub in groups(scores):
        wide = wide_scores(sub, indicators)
        wide.index = wide.index.map(str)
        common_all = wide.index.intersection(truth.index)
        scored = _scored_archs(sub)
        for name in wide.columns:
            hib = higher_is_better(name, directions)
            common = common_all if scored is None else common_all[common_all.isin(scored.get(name, set()))]
            col = orient(wide[name].reindex(common).to_numpy(dtype=float), hib)
            for target in targets:
                acc = truth[target].reindex(common).to_numpy(dtype=float)
                known = ~np.isnan(acc)
                failed = np.isnan(col) & known
                is_inf = np.isinf(col) & known
                if inf == "drop":
                    failed = failed | is_inf
                use = known & ~failed
                row = {**group, "indicator": name, "target": target, "higher_is_better": hib, "n": int(use.sum()),
                       "n_failed": int(failed.sum()), "n_inf": int(is_inf.sum())}
                row.update(metrics(col[use], acc[use], top_k, bootstrap, seed))
                rows.append(row)
    labels = [topk_label(f) for f in top_k]
    cols = (list(dict.fromkeys(k for r in rows for k in r if k in GROUP_COLUMNS + SPEC_COLUMNS))
            + ["indicator", "target", "higher_is_better", "n", "n_failed", "n_inf", "spearman", "spearman_lo",
               "spearman_hi", "kendall", "kendall_lo", "kendall_hi", "pearson"] + labels
            + [f"best_rank_{lab}" for lab in labels])
    return pd.DataFrame(rows, columns=cols)


def _scored_archs(scores: pd.DataFrame) -> pd.Series | None:
    """Indicator label -> set of archs that have a row for it (tidy input); None for a wide frame, where a missing
    value cannot be told from a failure."""
    if not is_tidy(scores):
        return None
    tidy = as_tidy(scores)
    return pd.Series(tidy["arch"].astype(str).to_numpy(), index=indicator_labels(tidy).to_numpy()) \
        .groupby(level=0).agg(set)
