"""Our correlations next to published ones (:func:`compare_published`), and our per-architecture scores next to
published ones (:func:`compare_scores`).

A published value is one row ``indicator, value, metric, source`` (for one setting, e.g. NB201 CIFAR-10). Its
``metric`` says what it is compared with, so that like is compared with like:

* ``"spearman"``: our Spearman rho; the difference is ``ours - published``;
* ``"|spearman|"``: a source that prints only the absolute value (the sign is unknown); the difference is
  ``abs(ours) - published``;
* ``"kendall"``: Kendall's tau; the difference is our Kendall tau-b minus the published value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeroscore.analysis.stats import spearman
from zeroscore.errors import InvalidInputError, UnknownNameError

__all__ = ["PUBLISHED_METRICS", "check_published", "compare_published", "compare_scores"]

#: published metric -> the mark it gets in the table (``""`` for a plain Spearman rho)
PUBLISHED_METRICS = {"spearman": "", "|spearman|": " (abs)", "kendall": " (tau)"}
_COLUMNS = ["indicator", "value", "metric", "source"]


def check_published(published: pd.DataFrame) -> pd.DataFrame:
    """``published`` unchanged if every row is usable: the columns ``indicator, value, metric, source``, a known
    metric, a value in [-1, 1] (>= 0 for an absolute value) and a source; :class:`InvalidInputError` naming the
    first bad row otherwise."""
    missing = [c for c in _COLUMNS if c not in published.columns]
    if missing:
        raise UnknownNameError(f"published values need the column(s) {missing}; have {list(published.columns)}")
    for i, row in published.iterrows():
        problem = None
        if row["metric"] not in PUBLISHED_METRICS:
            problem = f"metric {row['metric']!r} is none of {list(PUBLISHED_METRICS)}"
        elif not -1.0 <= float(row["value"]) <= 1.0:
            problem = f"value {row['value']} is not a correlation"
        elif row["metric"] == "|spearman|" and float(row["value"]) < 0:
            problem = f"an absolute value cannot be negative ({row['value']})"
        elif pd.isna(row["source"]) or not str(row["source"]).strip():
            problem = "no source"
        if problem:
            raise InvalidInputError(f"published value {i} ({row['indicator']}): {problem}")
    return published


def compare_published(corr: pd.DataFrame, published: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Our rows next to the published values for the same indicators.

    Args:
        corr: rows ``indicator, spearman, kendall`` (e.g. a :func:`zeroscore.analysis.correlate` result for one
            setting and target); their order decides the footnote numbers.
        published: published values for that setting (see the module docstring), several per indicator allowed;
            they are listed in their order.

    Returns:
        ``(frame, sources)``: ``frame`` has ``corr``'s index and two text columns, ``published`` (e.g.
        ``"0.80 [1], 0.60 (tau) [2]"``: value, metric mark, footnote number) and ``diff`` (e.g.
        ``"-0.05, +0.02 (tau)"``, left out where our value is NaN); ``sources`` lists the sources in footnote
        order (``sources[0]`` is ``[1]``). An indicator without published values gets two empty strings.
    """
    check_published(published)
    by_indicator = {name: list(zip(rows["value"], rows["metric"], rows["source"]))
                    for name, rows in published.groupby("indicator", sort=False)}
    footnotes: dict[str, int] = {}
    cells, diffs = [], []
    for name, rho, tau in zip(corr["indicator"], corr["spearman"], corr["kendall"]):
        cell, diff = [], []
        for value, metric, source in by_indicator.get(name, []):
            number = footnotes.setdefault(source, len(footnotes) + 1)
            mark = PUBLISHED_METRICS[metric]
            cell.append(f"{value:.2f}{mark} [{number}]")
            ours = {"|spearman|": abs(rho), "kendall": tau}.get(metric, rho)
            if np.isfinite(ours):
                diff.append(f"{ours - value:+.2f}{mark}")
        cells.append(", ".join(cell))
        diffs.append(", ".join(diff))
    frame = pd.DataFrame({"published": cells, "diff": diffs}, index=corr.index)
    return frame, list(footnotes)


def compare_scores(ours: pd.Series, reference: pd.Series, accuracy: pd.Series, min_n: int = 11) -> dict | None:
    """Same cells, same target: our per-architecture scores of an indicator against published ones.

    On the architectures of ``ours`` (a Series indexed by arch) where both scores are finite and ``accuracy`` is
    known: ``{"n", "spearman": published scores vs accuracy, "ours": ours vs accuracy, "agreement": ours vs
    published}`` (plain Spearman of the raw scores). A gap between our and a published correlation that vanishes
    here comes from the cells, not the implementation. None when fewer than ``min_n`` architectures are shared.
    """
    archs = ours.index
    reference = reference[~reference.index.duplicated()].reindex(archs).astype(float)
    ours = ours.astype(float)
    accuracy = accuracy.reindex(archs)
    shared = reference.notna() & accuracy.notna() & np.isfinite(reference) & np.isfinite(ours)
    if shared.sum() < min_n:
        return None
    theirs, mine, acc = reference[shared].to_numpy(), ours[shared].to_numpy(), accuracy[shared].to_numpy(float)
    return {"n": int(shared.sum()), "spearman": spearman(theirs, acc), "ours": spearman(mine, acc),
            "agreement": spearman(mine, theirs)}
