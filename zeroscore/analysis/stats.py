"""Rank statistics of one score column against one accuracy column: Spearman, Kendall tau-b, Pearson, top-k
precision and bootstrap intervals (the conventions are in :mod:`zeroscore.analysis`).

The inputs hold no failures (NaN): :func:`zeroscore.analysis.correlate` removes them before calling these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import kendalltau, rankdata

__all__ = ["spearman", "kendall", "pearson", "topk_precision", "bootstrap_intervals", "topk_label", "metrics"]


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (1 = smallest) along the last axis; +-inf rank at the ends.

    Not :func:`zeroscore.ranking.rank`: the data here are failure-free, and the bootstrap ranks a whole matrix of
    resamples at once (one row each)."""
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
    return float(_pearson_rows(_average_ranks(x), _average_ranks(y)))


def kendall(x, y) -> float:
    """Kendall's tau-b (ties in either variable corrected), as ``scipy.stats.kendalltau(variant="b")``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan
    # rank first so that +-inf are ordinary extreme values
    return float(kendalltau(_average_ranks(x), _average_ranks(y), variant="b").statistic)


def pearson(x, y) -> float:
    """Pearson's r of the finite pairs (equals ``scipy.stats.pearsonr`` on finite data)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return math.nan
    return float(_pearson_rows(x[ok], y[ok]))


def _topk_size(frac: float, n: int) -> int:
    # the tolerance keeps e.g. 0.07 * 100 (7.000000000000001 in floating point) at k = 7
    return max(1, int(math.ceil(frac * n - 1e-9)))


def topk_precision(score, acc, frac: float) -> tuple[float, float]:
    """``(precision, best_true_rank)`` for the top ``frac`` (see :mod:`zeroscore.analysis` for the tie rules)."""
    s, a = np.asarray(score, dtype=float), np.asarray(acc, dtype=float)
    n = len(s)
    if n == 0:
        return math.nan, math.nan
    k = _topk_size(frac, n)
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


def topk_label(frac: float) -> str:
    """Column label of a top-k fraction: ``0.05`` -> ``top5``, ``0.025`` -> ``top2_5``."""
    p = frac * 100
    return f"top{int(round(p))}" if abs(p - round(p)) < 1e-9 else f"top{p:g}".replace(".", "_")


def bootstrap_intervals(x: np.ndarray, y: np.ndarray, n_boot: int, seed: int, chunk: int = 200) -> tuple:
    """Percentile 95 % intervals ``(spearman_lo, spearman_hi, kendall_lo, kendall_hi)`` over ``n_boot`` resamples
    of the pairs (with replacement, ``numpy.random.default_rng(seed)``); NaN for fewer than 3 pairs."""
    n = len(x)
    if n_boot <= 0 or n < 3:
        return (math.nan,) * 4
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    # ranks of the originals: ranking them again per resample gives the resample's own ranks (monotone map)
    rx, ry = _average_ranks(x), _average_ranks(y)
    sp = np.empty(n_boot)
    for lo in range(0, n_boot, chunk):
        sl = idx[lo : lo + chunk]
        sp[lo : lo + chunk] = _pearson_rows(_average_ranks(rx[sl]), _average_ranks(ry[sl]))
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


def metrics(score: np.ndarray, acc: np.ndarray, top_k: Sequence[float], bootstrap: int, seed: int) -> dict:
    """Every statistic of one (score, accuracy) pair of columns, keyed as in the :func:`correlate` result."""
    n = len(score)
    out: dict[str, Any] = {}
    const = n < 2 or np.all(score == score[0]) or np.all(acc == acc[0])
    out["spearman"] = math.nan if const else spearman(score, acc)
    out["kendall"] = math.nan if const else kendall(score, acc)
    out["pearson"] = pearson(score, acc) if not const else math.nan
    lo_hi = bootstrap_intervals(score, acc, bootstrap, seed) if not const else (math.nan,) * 4
    out["spearman_lo"], out["spearman_hi"], out["kendall_lo"], out["kendall_hi"] = lo_hi
    for frac in top_k:
        lab = topk_label(frac)
        p, b = topk_precision(score, acc, frac) if n else (math.nan, math.nan)
        out[lab] = p
        out[f"best_rank_{lab}"] = b
    return out
