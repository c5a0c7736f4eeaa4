"""Shapes of score frames: tidy (one row per arch, indicator [, seed ...]) and wide (arch x indicator)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["GROUP_COLUMNS", "SPEC_COLUMNS", "is_tidy", "as_tidy", "indicator_labels", "wide_scores", "groups",
           "complete_prefix"]

#: grouping columns of a tidy score frame that are kept apart (one result block per combination)
GROUP_COLUMNS = ["space", "dataset"]
#: columns of the batch spec that are kept apart too, when a frame holds several values of them
SPEC_COLUMNS = ["batch_size", "split"]


def is_tidy(scores: pd.DataFrame) -> bool:
    """True for a tidy frame (``indicator`` and ``value`` columns, ``arch`` as a column or the index)."""
    return {"indicator", "value"}.issubset(scores.columns) and ("arch" in scores.columns or scores.index.name == "arch")


def as_tidy(scores: pd.DataFrame) -> pd.DataFrame:
    """A tidy frame with ``arch`` as a column."""
    return scores.reset_index() if "arch" not in scores.columns else scores


def indicator_labels(tidy: pd.DataFrame) -> pd.Series:
    """Indicator label per row of a tidy frame (same index): the name, or ``name@hash6`` (the first six characters
    of ``params_hash``) when the frame holds several parameter sets of that indicator."""
    names = tidy["indicator"].astype(str)
    if "params_hash" not in tidy.columns:
        return names
    n_variants = tidy.groupby("indicator")["params_hash"].transform("nunique")
    return pd.Series(np.where(n_variants > 1, names + "@" + tidy["params_hash"].astype(str).str[:6], names),
                     index=tidy.index, name="indicator")


def wide_scores(scores: pd.DataFrame, indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """Arch x indicator frame of seed-averaged values (a wide frame is returned as float, column-filtered).

    A tidy frame must hold one space/dataset/batch spec (use :func:`zeroscore.analysis.correlate` for several).
    Seeds are averaged with NaN propagation (a failed seed makes the arch's value NaN).
    """
    if not is_tidy(scores):
        wide = scores.astype(float)
        if indicators is not None:
            wide = wide[list(indicators)]
        return wide
    tidy = as_tidy(scores)
    tidy = tidy.assign(_label=indicator_labels(tidy).to_numpy())
    if indicators is not None:
        tidy = tidy[tidy["_label"].isin(indicators) | tidy["indicator"].isin(indicators)]
    vals = tidy["value"].astype(float)
    grouped = tidy.assign(_v=vals, _nan=vals.isna()).groupby(["arch", "_label"], sort=False)
    # a plain mean would skip NaN: an arch that failed on one seed must count as failed
    mean = grouped["_v"].mean()
    mean[grouped["_nan"].any()] = np.nan
    wide = mean.unstack("_label")
    wide.columns.name = None
    wide.index.name = "arch"
    if indicators is not None:
        wide = wide[[c for c in indicators if c in wide.columns]]
    return wide


def groups(scores: pd.DataFrame):
    """Yield ``(group_dict, sub_frame)`` per space/dataset (and batch size/split, where a frame holds several) of a
    tidy frame; one group ``({}, scores)`` for a wide frame."""
    if not is_tidy(scores):
        yield {}, scores
        return
    tidy = as_tidy(scores)
    keys = [c for c in GROUP_COLUMNS if c in tidy.columns]
    keys += [c for c in SPEC_COLUMNS if c in tidy.columns and tidy[c].nunique(dropna=False) > 1]
    if not keys:
        yield {}, tidy
        return
    for vals, sub in tidy.groupby(keys, sort=True, dropna=False):
        vals = vals if isinstance(vals, tuple) else (vals,)
        yield dict(zip(keys, vals)), sub


def complete_prefix(scores: pd.DataFrame, archs: Sequence[str]) -> pd.DataFrame:
    """Per indicator, the rows of the longest prefix of ``archs`` that is complete in the tidy frame ``scores``.

    A run that scores growing prefixes of one seeded sample can stop anywhere; correlating only a complete prefix
    keeps each indicator's sample a uniform random sample (the archs scored last are not a biased subset).
    """
    keep = []
    for _, sub in scores.groupby("indicator"):
        have = set(sub["arch"])
        m = 0
        while m < len(archs) and archs[m] in have:
            m += 1
        keep.append(sub[sub["arch"].isin(set(archs[:m]))])
    return pd.concat(keep) if keep else scores.iloc[:0]
