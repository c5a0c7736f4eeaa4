"""How well do indicators rank architectures? Correlations, rank ensembles and paper-style tables.

Pure functions, DataFrame in / DataFrame out:

* :func:`correlate` -- per indicator and accuracy column: Spearman, Kendall tau-b, Pearson, top-k precision,
  best true rank among the predicted top-k, bootstrap confidence intervals;
* :func:`rank_aggregate` -- a rank ensemble of several indicators as a pseudo-indicator;
* :func:`table`, :func:`to_markdown`, :func:`to_latex`, :func:`to_csv` -- paper-style tables.

Scores come either as the tidy frame of :func:`zeroscore.score_many` / :func:`zeroscore.store.load_scores`
(columns ``arch, indicator, value`` and optionally ``seed``, ``dataset``, ``space``, ``params_hash`` ...) or as a
wide frame (index = architecture, one column per indicator).

Conventions
    *Direction.* Every indicator is oriented so that larger = predicted better before anything is computed:
    values of lower-is-better indicators (registry ``higher_is_better = False``, e.g. ``ntk_cond``) are
    multiplied by -1. A positive correlation therefore always means "agrees with accuracy". Names not in the
    registry (ensembles made by :func:`rank_aggregate`, external columns) count as higher-is-better; pass
    ``directions={name: False}`` to override.

    *Seeds.* Values of the same (arch, indicator) over several seeds are averaged before ranking; if any seed
    failed (NaN) the average is NaN, i.e. the arch counts as failed for that indicator.

    *Failures and infinities.* NaN values are failures: counted in ``n_failed`` and excluded. ``+-inf`` values
    are kept and ranked at the extreme (``+inf`` best, ``-inf`` worst, ties among themselves) by the rank-based
    statistics (Spearman, Kendall, top-k, ensembles); Pearson, which needs finite numbers, leaves them out
    (``n_inf`` counts them). With ``inf="drop"`` they are treated as failures everywhere.

    *Top-k.* For a fraction ``f`` of ``n`` architectures, ``k = max(1, ceil(f * n))``. The true top-k are the
    archs whose accuracy is at least the k-th largest accuracy. ``top{p}`` (e.g. ``top5`` for 5 %) is the
    fraction of the k highest-scored archs that are in the true top-k (the "top-k% / top-k%" metric of
    Abdelfattah et al., ICLR 2021, and NAS-Bench-Suite-Zero). Ties in score at the k-th place are broken
    uniformly at random *in expectation* (tie-aware, not by row order), so a constant indicator gets the
    chance level ``k_true/n`` rather than an artefact of the sort. ``best_rank_top{p}`` is the best true rank
    (1 = most accurate; ties share the smallest rank) among the archs whose score ties or beats the k-th
    highest score.

    *Confidence intervals.* Percentile bootstrap (``bootstrap`` resamples of the arch pairs, with replacement,
    ``numpy.random.default_rng(seed)``), 95 % intervals ``spearman_lo``/``spearman_hi`` and
    ``kendall_lo``/``kendall_hi``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "correlate",
    "rank_aggregate",
    "table",
    "to_markdown",
    "to_latex",
    "to_csv",
    "wide_scores",
    "direction",
    "spearman",
    "kendall",
    "pearson",
    "topk_precision",
]

#: grouping columns of a tidy score frame that are kept apart (one result block per combination)
GROUP_COLUMNS = ["space", "dataset"]

#: ensemble methods of :func:`rank_aggregate`
ENSEMBLE_METHODS = ("log_rank", "rank_sum")


# ---------------------------------------------------------------------------------------------------------------
# direction and shape


def direction(name: str, directions: Mapping[str, bool] | None = None) -> bool:
    """True when larger values of indicator ``name`` predict better architectures.

    ``directions`` overrides; then the registry (``indicator_class(name).higher_is_better``; a ``name@hash``
    variant label uses its base name); unknown names (pseudo-indicators, ensembles) are higher-is-better.
    """
    if directions and name in directions:
        return bool(directions[name])
    base = str(name).split("@", 1)[0]
    if directions and base in directions:
        return bool(directions[base])
    try:
        from zeroscore.indicators.base import UnknownIndicatorError, indicator_class

        return bool(indicator_class(base).higher_is_better)
    except (UnknownIndicatorError, KeyError, ImportError):
        return True


def _is_tidy(scores: pd.DataFrame) -> bool:
    return {"indicator", "value"}.issubset(scores.columns) and ("arch" in scores.columns or scores.index.name == "arch")


def _labels(tidy: pd.DataFrame) -> pd.Series:
    """Indicator label per row: the name, or ``name@hash6`` when one frame holds several parameter sets of it."""
    if "params_hash" not in tidy.columns:
        return tidy["indicator"].astype(str)
    n_var = tidy.groupby("indicator")["params_hash"].transform("nunique")
    return np.where(n_var > 1, tidy["indicator"].astype(str) + "@" + tidy["params_hash"].astype(str).str[:6],
                    tidy["indicator"].astype(str))


def wide_scores(scores: pd.DataFrame, indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """Arch x indicator frame of seed-averaged values (a wide frame is returned as float, column-filtered).

    A tidy frame must hold one space/dataset/batch spec (use :func:`correlate` for several). Seeds are averaged
    with NaN propagation (a failed seed makes the arch's value NaN).
    """
    if not _is_tidy(scores):
        wide = scores.astype(float)
        if indicators is not None:
            wide = wide[list(indicators)]
        return wide
    tidy = scores.reset_index() if "arch" not in scores.columns else scores
    tidy = tidy.assign(_label=_labels(tidy))
    if indicators is not None:
        tidy = tidy[tidy["_label"].isin(indicators) | tidy["indicator"].isin(indicators)]
    vals = tidy["value"].astype(float)
    grouped = tidy.assign(_v=vals, _nan=vals.isna()).groupby(["arch", "_label"], sort=False)
    # mean with NaN propagation: NaN if any seed is NaN
    mean = grouped["_v"].mean()
    mean[grouped["_nan"].any()] = np.nan
    wide = mean.unstack("_label")
    wide.columns.name = None
    wide.index.name = "arch"
    if indicators is not None:
        wide = wide[[c for c in indicators if c in wide.columns]]
    return wide


def _groups(scores: pd.DataFrame):
    """Yield ``(group_dict, sub_frame)`` per space/dataset of a tidy frame (one group for a wide frame)."""
    if not _is_tidy(scores):
        yield {}, scores
        return
    tidy = scores.reset_index() if "arch" not in scores.columns else scores
    keys = [c for c in GROUP_COLUMNS if c in tidy.columns]
    for extra in ("batch_size", "split"):
        if extra in tidy.columns and tidy[extra].nunique(dropna=False) > 1:
            keys.append(extra)
    if not keys:
        yield {}, tidy
        return
    for vals, sub in tidy.groupby(keys, sort=True, dropna=False):
        vals = vals if isinstance(vals, tuple) else (vals,)
        yield dict(zip(keys, vals)), sub


# ---------------------------------------------------------------------------------------------------------------
# statistics


def _rank(x: np.ndarray) -> np.ndarray:
    """Average ranks (1 = smallest) along the last axis; +-inf rank at the ends."""
    from scipy.stats import rankdata

    return rankdata(x, method="average", axis=-1)


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation along the last axis (NaN where a side is constant)."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    num = (a * b).sum(axis=-1)
    den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return np.clip(r, -1.0, 1.0)


def spearman(x, y) -> float:
    """Spearman's rho: Pearson correlation of average ranks (equals ``scipy.stats.spearmanr``). Infs allowed."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2:
        return math.nan
    return float(_pearson_rows(_rank(x), _rank(y)))


def kendall(x, y) -> float:
    """Kendall's tau-b (ties in either variable corrected), as ``scipy.stats.kendalltau(variant="b")``."""
    from scipy.stats import kendalltau

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan
    # rank first so that +-inf are ordinary extreme values
    return float(kendalltau(_rank(x), _rank(y), variant="b").statistic)


def pearson(x, y) -> float:
    """Pearson's r of the finite pairs (equals ``scipy.stats.pearsonr`` on finite data)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return math.nan
    return float(_pearson_rows(x[ok], y[ok]))


def _k(frac: float, n: int) -> int:
    return max(1, int(math.ceil(frac * n - 1e-9)))


def topk_precision(score, acc, frac: float) -> tuple[float, float]:
    """``(precision, best_true_rank)`` for the top ``frac`` (see the module docstring for the tie rules)."""
    s, a = np.asarray(score, dtype=float), np.asarray(acc, dtype=float)
    n = len(s)
    if n == 0:
        return math.nan, math.nan
    k = _k(frac, n)
    a_sorted = np.sort(a)[::-1]
    in_true = a >= a_sorted[k - 1]
    s_sorted = np.sort(s)[::-1]
    kth = s_sorted[k - 1]
    above = s > kth
    tied = s == kth
    slots = k - int(above.sum())
    hits = float(in_true[above].sum()) + slots * float(in_true[tied].sum()) / float(tied.sum())
    # best true rank (1 = best, "min" ties) among archs whose score ties or beats the k-th score
    true_rank = 1 + np.searchsorted(-a_sorted, -a, side="left")
    best = int(true_rank[above | tied].min())
    return hits / k, float(best)


def _pct_label(frac: float) -> str:
    p = frac * 100
    return f"top{int(round(p))}" if abs(p - round(p)) < 1e-9 else f"top{p:g}".replace(".", "_")


def _bootstrap(x: np.ndarray, y: np.ndarray, n_boot: int, seed: int, chunk: int = 200):
    """Percentile 95 % intervals of Spearman and Kendall tau-b over ``n_boot`` pair resamples."""
    from scipy.stats import kendalltau

    n = len(x)
    if n_boot <= 0 or n < 3:
        return (math.nan,) * 4
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    rx, ry = _rank(x), _rank(y)  # ranks of the originals: resampling ranks == ranks of resampled (monotone)
    sp = np.empty(n_boot)
    for lo in range(0, n_boot, chunk):
        sl = idx[lo : lo + chunk]
        sp[lo : lo + chunk] = _pearson_rows(_rank(rx[sl]), _rank(ry[sl]))
    kd = np.empty(n_boot)
    for b in range(n_boot):
        xb, yb = rx[idx[b]], ry[idx[b]]
        if np.all(xb == xb[0]) or np.all(yb == yb[0]):
            kd[b] = np.nan
        else:
            kd[b] = kendalltau(xb, yb, variant="b").statistic
    out = []
    for v in (sp, kd):
        v = v[np.isfinite(v)]
        out += [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] if len(v) else [math.nan, math.nan]
    return tuple(out)


def _metrics(score: np.ndarray, acc: np.ndarray, top_k, bootstrap: int, seed: int) -> dict:
    n = len(score)
    out: dict[str, Any] = {}
    const = n < 2 or np.all(score == score[0]) or np.all(acc == acc[0])
    out["spearman"] = math.nan if const else spearman(score, acc)
    out["kendall"] = math.nan if const else kendall(score, acc)
    out["pearson"] = pearson(score, acc) if not const else math.nan
    lo_hi = _bootstrap(score, acc, bootstrap, seed) if not const else (math.nan,) * 4
    out["spearman_lo"], out["spearman_hi"], out["kendall_lo"], out["kendall_hi"] = lo_hi
    for frac in top_k:
        lab = _pct_label(frac)
        p, b = topk_precision(score, acc, frac) if n else (math.nan, math.nan)
        out[lab] = p
        out[f"best_rank_{lab}"] = b
    return out


# ---------------------------------------------------------------------------------------------------------------
# correlate


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
        directions: ``{name: higher_is_better}`` overrides (see :func:`direction`).
        inf: ``"rank"`` (default; +-inf ranked at the extremes) or ``"drop"`` (treated as failures).

    Returns:
        One row per (group, indicator, target): ``indicator, target, higher_is_better, n, n_failed, n_inf,
        spearman, spearman_lo, spearman_hi, kendall, kendall_lo, kendall_hi, pearson, top1, top5, top10,
        best_rank_top1, best_rank_top5, best_rank_top10`` (+ ``space``/``dataset`` for tidy input).
        ``n`` counts the architectures used (score not NaN, accuracy known); ``n_failed`` those with a NaN score.
        With tidy input an architecture that has no row for an indicator (not scored) is neither used nor
        counted as failed; in a wide frame every NaN counts as a failure.
    """
    if inf not in ("rank", "drop"):
        raise ValueError(f"inf must be 'rank' or 'drop', not {inf!r}")
    if isinstance(targets, str):
        targets = [targets]
    if targets is None:
        targets = [c for c in truth.columns if "acc" in str(c)]
    missing = [t for t in targets if t not in truth.columns]
    if missing:
        raise KeyError(f"target column(s) {missing} not in truth; available: {list(truth.columns)}")
    truth = truth.copy()
    truth.index = truth.index.map(str)
    rows = []
    for group, sub in _groups(scores):
        wide = wide_scores(sub, indicators)
        wide.index = wide.index.map(str)
        common_all = wide.index.intersection(truth.index)
        present = None
        if _is_tidy(sub):  # an arch without a row for an indicator was not scored: neither used nor failed
            tidy = sub.reset_index() if "arch" not in sub.columns else sub
            present = pd.Series(tidy["arch"].astype(str).to_numpy(), index=_labels(tidy)).groupby(level=0).agg(set)
        for name in wide.columns:
            hib = direction(name, directions)
            common = common_all if present is None else common_all[common_all.isin(present.get(name, set()))]
            col = wide[name].reindex(common).to_numpy(dtype=float)
            if not hib:
                col = -col
            for target in targets:
                acc = truth[target].reindex(common).to_numpy(dtype=float)
                known = ~np.isnan(acc)
                failed = np.isnan(col) & known
                is_inf = np.isinf(col) & known
                if inf == "drop":
                    failed = failed | is_inf
                use = known & ~failed
                s, a = col[use], acc[use]
                row = {**group, "indicator": name, "target": target, "higher_is_better": hib, "n": int(use.sum()),
                       "n_failed": int(failed.sum()), "n_inf": int(is_inf.sum())}
                row.update(_metrics(s, a, top_k, bootstrap, seed))
                rows.append(row)
    labels = [_pct_label(f) for f in top_k]
    cols = (list(dict.fromkeys(k for r in rows for k in r if k in GROUP_COLUMNS + ["batch_size", "split"]))
            + ["indicator", "target", "higher_is_better", "n", "n_failed", "n_inf", "spearman", "spearman_lo",
               "spearman_hi", "kendall", "kendall_lo", "kendall_hi", "pearson"] + labels
            + [f"best_rank_{lab}" for lab in labels])
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------------------------------------------
# ensembles


def _aggregate_wide(wide: pd.DataFrame, indicators: Sequence[str], method: str,
                    directions: Mapping[str, bool] | None) -> pd.Series:
    from scipy.stats import rankdata

    sub = wide[list(indicators)].astype(float)
    ok = sub.notna().all(axis=1).to_numpy()
    n = int(ok.sum())
    out = np.full(len(sub), np.nan)
    if n:
        total = np.zeros(n)
        for name in indicators:
            v = sub[name].to_numpy()[ok]
            if not direction(name, directions):
                v = -v
            r = rankdata(v, method="average")  # 1 = worst ... n = best
            total += np.log(r / n) if method == "log_rank" else r
        out[ok] = total
    return pd.Series(out, index=wide.index)


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

    Architectures with a NaN in any component get NaN. Ranks are taken within each (space, dataset, batch spec,
    seed) group of a tidy frame (so the ensemble is per seed, and seed-averaging happens later in
    :func:`correlate` like for any indicator).

    Args:
        scores: tidy or wide frame (as for :func:`correlate`).
        indicators: the component indicator labels (at least two).
        method: ``"log_rank"`` or ``"rank_sum"``.
        name: label of the pseudo-indicator (default ``"<method>(a+b+...)"``).
        directions: ``{name: higher_is_better}`` overrides.

    Returns:
        The input frame with the pseudo-indicator added (new tidy rows, or a new wide column).
    """
    if method not in ENSEMBLE_METHODS:
        raise ValueError(f"method must be one of {ENSEMBLE_METHODS}, not {method!r}")
    indicators = list(indicators)
    if len(indicators) < 2:
        raise ValueError("an ensemble needs at least two indicators")
    name = name or f"{method}({'+'.join(indicators)})"
    if not _is_tidy(scores):
        missing = [i for i in indicators if i not in scores.columns]
        if missing:
            raise KeyError(f"indicator(s) {missing} not in the score columns {list(scores.columns)}")
        out = scores.copy()
        out[name] = _aggregate_wide(scores, indicators, method, directions)
        return out
    tidy = scores.reset_index() if "arch" not in scores.columns else scores
    labels = pd.Series(_labels(tidy), index=tidy.index)
    missing = [i for i in indicators if not (labels == i).any()]
    if missing:
        raise KeyError(f"indicator(s) {missing} not in the scores; have {sorted(labels.unique())}")
    part = tidy[labels.isin(indicators)].assign(_label=labels[labels.isin(indicators)])
    keys = [c for c in GROUP_COLUMNS + ["batch_size", "split", "seed"] if c in part.columns]
    new_rows = []
    for vals, sub in (part.groupby(keys, sort=False, dropna=False) if keys else [((), part)]):
        vals = vals if isinstance(vals, tuple) else (vals,)
        wide = sub.pivot_table(index="arch", columns="_label", values="value", aggfunc="first", dropna=False)
        wide = wide.reindex(columns=indicators)
        agg = _aggregate_wide(wide, indicators, method, directions)
        base = dict(zip(keys, vals))
        for arch, v in agg.items():
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


# ---------------------------------------------------------------------------------------------------------------
# tables

_LOWER_IS_BETTER_METRICS = ("best_rank", "n_failed", "n_inf")


def table(corr: pd.DataFrame, metric: str | Sequence[str] = ("spearman", "kendall"), rows: str = "indicator",
          columns: str = "target") -> pd.DataFrame:
    """Pivot a :func:`correlate` result into a paper-style table.

    ``rows``/``columns`` name columns of ``corr`` (``"indicator"``, ``"target"``, ``"dataset"``, ``"space"``...).
    One metric gives plain columns; several give a column MultiIndex ``(column value, metric)``.
    Row order follows first appearance in ``corr``.
    """
    metrics = [metric] if isinstance(metric, str) else list(metric)
    for c in [rows, columns, *metrics]:
        if c not in corr.columns:
            raise KeyError(f"{c!r} is not a column of the correlation frame ({list(corr.columns)})")
    row_order = list(dict.fromkeys(corr[rows]))
    col_order = list(dict.fromkeys(corr[columns]))
    dup = corr.duplicated([rows, columns])
    if dup.any():
        raise ValueError(f"several rows per ({rows}, {columns}); filter the frame first (e.g. by target or dataset)")
    wide = corr.pivot(index=rows, columns=columns, values=metrics)
    wide = wide.reindex(index=row_order)
    if len(metrics) == 1:
        wide = wide[metrics[0]].reindex(columns=col_order)
        wide.columns.name = columns
    else:
        wide = wide.swaplevel(0, 1, axis=1)
        wide = wide.reindex(columns=pd.MultiIndex.from_product([col_order, metrics], names=[columns, "metric"]))
    wide.index.name = rows
    return wide


def _best_mask(tab: pd.DataFrame) -> pd.DataFrame:
    mask = pd.DataFrame(False, index=tab.index, columns=tab.columns)
    for c in tab.columns:
        metric = c[-1] if isinstance(c, tuple) else (tab.columns.name or "")
        col = pd.to_numeric(tab[c], errors="coerce")
        if col.notna().sum() == 0:
            continue
        lower = any(str(metric).startswith(m) for m in _LOWER_IS_BETTER_METRICS) or any(
            str(c if not isinstance(c, tuple) else c[-1]).startswith(m) for m in _LOWER_IS_BETTER_METRICS)
        best = col.min() if lower else col.max()
        mask[c] = np.isclose(col, best, rtol=0, atol=1e-12) & col.notna()
    return mask


def _fmt(v, digits: int) -> str:
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return "–"
        if float(v).is_integer() and abs(v) >= 10:
            return f"{int(v)}"
        return f"{v:.{digits}f}"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v)


def _header_lines(tab: pd.DataFrame) -> list[list[str]]:
    if isinstance(tab.columns, pd.MultiIndex):
        return [[str(x) for x in level] for level in zip(*tab.columns)]
    return [[str(c) for c in tab.columns]]


def to_markdown(tab: pd.DataFrame, bold_best: bool = True, digits: int = 3, index: bool = True) -> str:
    """A GitHub-flavoured markdown table; the best value of each numeric column in bold (``**x**``).

    "Best" is the maximum, except for ``best_rank*``/``n_failed``/``n_inf`` columns (minimum). NaN prints as
    an en dash. A column MultiIndex is flattened to ``"a / b"`` headers.
    """
    mask = _best_mask(tab) if bold_best else None
    heads = [" / ".join(h) for h in zip(*_header_lines(tab))]
    idx_name = " / ".join(str(n) for n in tab.index.names if n is not None) or ""
    header = ([idx_name] if index else []) + heads
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * (len(header) - (0 if index else 0))) + "|"]
    lines[1] = "| " + " | ".join([":--"] * (1 if index else 0) + ["--:"] * len(heads)) + " |"
    for i, (ix, row) in enumerate(tab.iterrows()):
        cells = [str(ix) if not isinstance(ix, tuple) else " / ".join(map(str, ix))] if index else []
        for j, c in enumerate(tab.columns):
            s = _fmt(row[c], digits)
            if mask is not None and bool(mask.iloc[i, j]):
                s = f"**{s}**"
            cells.append(s)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(s: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(s))


def to_latex(tab: pd.DataFrame, bold_best: bool = True, digits: int = 3, caption: str | None = None,
             label: str | None = None, booktabs: bool = True) -> str:
    """A LaTeX ``tabular`` (in a ``table`` environment when ``caption``/``label`` is given); best per column in
    ``\\textbf``. A column MultiIndex becomes a two-row header with ``\\multicolumn`` groups. Uses ``booktabs``
    rules (``\\toprule``...) unless ``booktabs=False`` (then ``\\hline``)."""
    mask = _best_mask(tab) if bold_best else None
    top, mid, bot = (r"\toprule", r"\midrule", r"\bottomrule") if booktabs else (r"\hline", r"\hline", r"\hline")
    ncol = len(tab.columns)
    out = []
    if caption or label:
        out += [r"\begin{table}[t]", r"\centering"]
        if caption:
            out.append(rf"\caption{{{_tex(caption)}}}")
        if label:
            out.append(rf"\label{{{label}}}")
    out.append(r"\begin{tabular}{l" + "r" * ncol + "}")
    out.append(top)
    idx_name = _tex(" / ".join(str(n) for n in tab.index.names if n is not None))
    if isinstance(tab.columns, pd.MultiIndex):
        groups: list[tuple[str, int]] = []
        for c in tab.columns:
            if groups and groups[-1][0] == c[0]:
                groups[-1] = (c[0], groups[-1][1] + 1)
            else:
                groups.append((c[0], 1))
        cells = [""] + [rf"\multicolumn{{{n}}}{{c}}{{{_tex(g)}}}" for g, n in groups]
        out.append(" & ".join(cells) + r" \\")
        if booktabs:
            pos, rules = 2, []
            for g, n in groups:
                rules.append(rf"\cmidrule(lr){{{pos}-{pos + n - 1}}}")
                pos += n
            out.append(" ".join(rules))
        out.append(" & ".join([idx_name] + [_tex(c[-1]) for c in tab.columns]) + r" \\")
    else:
        out.append(" & ".join([idx_name] + [_tex(c) for c in tab.columns]) + r" \\")
    out.append(mid)
    for i, (ix, row) in enumerate(tab.iterrows()):
        cells = [_tex(ix if not isinstance(ix, tuple) else " / ".join(map(str, ix)))]
        for j, c in enumerate(tab.columns):
            s = _fmt(row[c], digits).replace("–", "--")
            s = _tex(s) if not s.replace(".", "").replace("-", "").isdigit() else s
            if mask is not None and bool(mask.iloc[i, j]):
                s = rf"\textbf{{{s}}}"
            cells.append(s)
        out.append(" & ".join(cells) + r" \\")
    out.append(bot)
    out.append(r"\end{tabular}")
    if caption or label:
        out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def to_csv(tab: pd.DataFrame, path=None, digits: int | None = None) -> str:
    """CSV text of a table (MultiIndex columns flattened to ``a/b``); also written to ``path`` if given."""
    flat = tab.copy()
    if isinstance(flat.columns, pd.MultiIndex):
        flat.columns = ["/".join(map(str, c)) for c in flat.columns]
    if digits is not None:
        flat = flat.round(digits)
    text = flat.to_csv()
    if path is not None:
        with open(path, "w") as f:
            f.write(text)
    return text
