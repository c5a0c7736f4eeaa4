"""Plots of indicator scores that say what they show (matplotlib, drawn on a ``Figure`` without pyplot, so no
backend or global state is touched).

* :func:`score_vs_accuracy_grid` (:func:`score_vs_accuracy_figure` for the figure itself) -- one scatter panel
  per indicator: raw score vs accuracy;
* :func:`indicator_heatmap` (:func:`indicator_heatmap_figure`) -- indicator x indicator Spearman correlation.

Both take the same score frames as :mod:`zeroscore.analysis` (tidy or wide, one space/dataset/batch spec) and
orient lower-is-better indicators through :mod:`zeroscore.ranking`, so a positive rho means "agrees with
accuracy" (or with the other indicator).

What a reader finds on them
    * a title with the space, the dataset, the target and the number of architectures (space and dataset from
      the arguments, else the frame's ``space``/``dataset`` columns, else ``scores.attrs``);
    * axis labels naming the indicator and its direction, e.g. ``ntk_cond (lower is better)``;
    * log axes where the values span three decades or more: ``log`` for positive values, ``symlog`` for values
      that reach zero or below (:func:`axis_scale`);
    * in each scatter panel, the rho and n that :func:`zeroscore.analysis.correlate` gives for the same frame, so
      a plot and a correlation table never disagree. Infinite scores are ranked in that rho but cannot be drawn,
      failed (NaN) ones are in neither; the panel says how many of each are not drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from zeroscore.analysis import correlate, spearman, wide_scores
from zeroscore.analysis.frames import GROUP_COLUMNS, SPEC_COLUMNS, is_tidy
from zeroscore.errors import UsageError
from zeroscore.ranking import higher_is_better, orient_frame

__all__ = ["score_vs_accuracy_grid", "score_vs_accuracy_figure", "indicator_heatmap", "indicator_heatmap_figure",
           "axis_scale", "direction_label", "LOG_DECADES"]

#: values spanning at least this many decades get a log (or symlog) axis
LOG_DECADES = 3.0
#: the linear part of a symlog axis reaches at most this many decades below the largest magnitude, so that a few
#: values very close to zero do not stretch the axis
_SYMLOG_DECADES = 6.0


def axis_scale(values) -> tuple[str, dict]:
    """``(scale, kwargs)`` for ``Axes.set_xscale``/``set_yscale``: ``"log"`` when the finite values are all positive
    and span :data:`LOG_DECADES` decades or more, ``"symlog"`` (``linthresh`` = the smallest non-zero magnitude,
    at most six decades below the largest) when they also reach zero or below and their non-zero magnitudes span
    that much, ``"linear"`` otherwise."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    magnitudes = np.abs(v[v != 0])
    if len(magnitudes) < 2:
        return "linear", {}
    lo, hi = magnitudes.min(), magnitudes.max()
    if math.log10(hi / lo) < LOG_DECADES:
        return "linear", {}
    if np.all(v > 0):
        return "log", {}
    return "symlog", {"linthresh": float(max(lo, hi * 10 ** -_SYMLOG_DECADES))}


def direction_label(name: str, directions: Mapping[str, bool] | None = None) -> str:
    """``"ntk_cond (lower is better)"``: the axis label of an indicator's raw score."""
    return f"{name} ({'higher' if higher_is_better(name, directions) else 'lower'} is better)"


def _one_group(scores: pd.DataFrame, indicators: Sequence[str] | None) -> pd.DataFrame:
    """The wide frame of a score frame that holds one space/dataset/batch spec (one plot = one setting)."""
    if is_tidy(scores):
        for col in GROUP_COLUMNS + SPEC_COLUMNS:
            if col in scores.columns and scores[col].nunique(dropna=False) > 1:
                values = ", ".join(sorted(map(str, scores[col].unique())))
                raise UsageError(f"scores hold several {col}s ({values}); plot one at a time")
    wide = wide_scores(scores, indicators)
    if wide.shape[1] == 0:
        raise UsageError("no indicators to plot")
    wide.index = wide.index.map(str)
    return wide


def _setting(scores: pd.DataFrame, space: str | None, dataset: str | None) -> str:
    """``"nb201, cifar10"``: from the arguments, else the frame's columns, else its ``attrs``; unknown parts left
    out."""
    parts = []
    for key, given in (("space", space), ("dataset", dataset)):
        if given is None and key in scores.columns and scores[key].nunique() == 1:
            given = scores[key].iloc[0]
        if given is None:
            given = scores.attrs.get(key)
        if given is not None:
            parts.append(str(given))
    return ", ".join(parts)


def _title(*lines: str | None) -> str:
    return "\n".join(line for line in lines if line)


def _save(fig, path, dpi: int) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def score_vs_accuracy_figure(scores: pd.DataFrame, truth: pd.DataFrame, target: str,
                             indicators: Sequence[str] | None = None, directions: Mapping[str, bool] | None = None,
                             ncols: int = 4, title: str | None = None, space: str | None = None,
                             dataset: str | None = None):
    """The figure of :func:`score_vs_accuracy_grid` (a ``matplotlib.figure.Figure``, one ``Axes`` per indicator
    in ``fig.axes`` order, then unused ones switched off)."""
    from matplotlib.figure import Figure

    wide = _one_group(scores, indicators)
    corr = correlate(scores, truth, targets=target, indicators=indicators, bootstrap=0, directions=directions)
    corr = corr.set_index("indicator")
    truth = truth.copy()
    truth.index = truth.index.map(str)
    common = wide.index.intersection(truth.index)
    acc = truth[target].reindex(common).to_numpy(dtype=float)
    names = list(wide.columns)
    ncols = max(1, min(ncols, len(names)))
    nrows = math.ceil(len(names) / ncols)
    fig = Figure(figsize=(3.4 * ncols, 3.3 * nrows + 0.5))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    n_archs = int((~np.isnan(acc)).sum())
    fig.suptitle(_title(title, f"{_setting(scores, space, dataset)}: indicator score vs {target}, "
                               f"n = {n_archs} architectures"), fontsize=10)
    for ax, name in zip(axes.flat, names):
        row = corr.loc[name]
        v = wide[name].reindex(common).to_numpy(dtype=float)
        drawn = np.isfinite(v) & np.isfinite(acc)
        ax.scatter(v[drawn], acc[drawn], s=6, alpha=0.5, linewidths=0)
        for set_scale, values in ((ax.set_xscale, v[drawn]), (ax.set_yscale, acc[drawn])):
            scale, kwargs = axis_scale(values)
            set_scale(scale, **kwargs)
        left_out = [f"{int(row['n_inf'])} infinite (ranked in \u03c1)"] if row["n_inf"] else []
        left_out += [f"{int(row['n_failed'])} failed"] if row["n_failed"] else []
        ax.set_title(_title(name, f"\u03c1 = {row['spearman']:.3f} (n = {int(row['n'])})",
                            "not drawn: " + ", ".join(left_out) if left_out else None), fontsize=8)
        ax.set_xlabel(direction_label(name, directions), fontsize=8)
        ax.set_ylabel(target, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def score_vs_accuracy_grid(scores: pd.DataFrame, truth: pd.DataFrame, target: str, path,
                           indicators: Sequence[str] | None = None, directions: Mapping[str, bool] | None = None,
                           ncols: int = 4, dpi: int = 110, title: str | None = None, space: str | None = None,
                           dataset: str | None = None) -> Path:
    """Scatter of each indicator's (seed-averaged) raw score against ``truth[target]``, one panel per indicator,
    saved as a PNG at ``path`` (returned).

    Each panel's title gives the direction-aware Spearman rho and n of :func:`zeroscore.analysis.correlate` on the
    same frame and says how many infinite and failed scores are not drawn; the x label names the indicator and its
    direction. ``title`` (optional) goes above the generated title line (space, dataset, target, n); ``space`` and
    ``dataset`` override what the frame says.
    """
    fig = score_vs_accuracy_figure(scores, truth, target, indicators=indicators, directions=directions,
                                   ncols=ncols, title=title, space=space, dataset=dataset)
    return _save(fig, path, dpi)


def indicator_heatmap_figure(scores: pd.DataFrame, indicators: Sequence[str] | None = None,
                             directions: Mapping[str, bool] | None = None, title: str | None = None,
                             space: str | None = None, dataset: str | None = None):
    """The figure of :func:`indicator_heatmap` (a ``matplotlib.figure.Figure``; the heatmap is ``fig.axes[0]``)."""
    from matplotlib.figure import Figure

    wide = _one_group(scores, indicators)
    names = list(wide.columns)
    oriented = orient_frame(wide, directions)
    k = len(names)
    rho = np.full((k, k), np.nan)
    pair_n = np.zeros((k, k), dtype=int)
    for i, a in enumerate(names):
        for j, b in enumerate(names[i:], start=i):
            x, y = oriented[a].to_numpy(), oriented[b].to_numpy()
            ok = ~np.isnan(x) & ~np.isnan(y)
            pair_n[i, j] = pair_n[j, i] = int(ok.sum())
            if ok.sum() > 2:
                rho[i, j] = rho[j, i] = spearman(x[ok], y[ok])
    lo, hi = pair_n.min(), pair_n.max()
    size = max(3.0, 0.55 * k + 1.5)
    fig = Figure(figsize=(size + 1.0, size + 0.4))
    ax = fig.subplots()
    im = ax.imshow(rho, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
    ax.set_yticklabels(names, fontsize=8)
    for i in range(k):
        for j in range(k):
            if np.isfinite(rho[i, j]):
                ax.text(j, i, f"{rho[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(rho[i, j]) > 0.6 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="Spearman \u03c1 (direction-aware)")
    n_text = f"n = {hi} architectures" if lo == hi else f"n = {lo}-{hi} architectures per pair (failed ones left out)"
    setting = _setting(scores, space, dataset)
    ax.set_title(_title(title or "indicator x indicator Spearman (direction-aware)",
                        f"{setting}: {n_text}" if setting else n_text), fontsize=9)
    fig.tight_layout()
    return fig


def indicator_heatmap(scores: pd.DataFrame, path, indicators: Sequence[str] | None = None,
                      directions: Mapping[str, bool] | None = None, dpi: int = 110, title: str | None = None,
                      space: str | None = None, dataset: str | None = None) -> Path:
    """Heatmap of the pairwise Spearman correlation between indicators (direction-aware, on the archs where both
    did not fail), annotated with the values and titled with space, dataset and n; saved as a PNG at ``path``
    (returned)."""
    fig = indicator_heatmap_figure(scores, indicators=indicators, directions=directions, title=title,
                                   space=space, dataset=dataset)
    return _save(fig, path, dpi)
