"""How far a supernet's ranking can be trusted: ranking quality, stability across seeds and checkpoints, and the
cell partitions of reduced weight sharing. Pure functions of pandas objects; no torch, no ground truth of its own
(the caller passes the benchmark accuracies, after the search).

Ranking quality of one supernet (:func:`ranking_quality`)
    Kendall tau-b and Spearman of the one-shot accuracies against the benchmark's, with bootstrap CIs
    (:mod:`zeroscore.analysis.stats`, the same code as ``correlate``); Kendall tau within the true top fraction
    (how well the supernet orders the cells that matter); precision at the top 1 % / 5 % (share of the supernet's
    top k that are in the true top k); the true rank of the supernet's best cell (1 = the best cell of the sample).

Stability, as "Deeper Insights into Weight Sharing in NAS" (Zhang et al., 2020) defines it
    ``S-Tau`` (:func:`s_tau`): the mean pairwise Kendall tau between the rankings of independently seeded
    supernets; ``GT-Tau`` (:func:`gt_tau`): each ranking's Kendall tau against the ground truth;
    ``GT-Tau-Mean-k`` / ``Std-k`` (:func:`gt_tau_last_k`): mean and standard deviation of GT-Tau over the last k
    checkpoints of one run; ``TnR`` (:func:`top_n_rank`): the best true rank among a supernet's top n cells.

Reduced sharing (partitions of the NB201 cells; each cell lands in exactly one part)
    :func:`fewshot_partition`: Few-shot NAS's split, one sub-supernet per op of a chosen edge;
    :func:`similarity_groups`: Deeper Insights' grouping, cells grouped by shared prefixes of their op string into
    ``m`` contiguous groups.

Training-free priors (rankings that need no training, used with the supernet)
    :func:`shrink_by_scores`: the ops to keep per edge before a supernet is trained, from indicator scores of a
    sample of cells (each op's mean aggregated rank over the cells that carry it); :func:`combine_rankings`: the
    rank aggregation of one-shot accuracy with indicator scores.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from zeroscore.analysis.stats import bootstrap_intervals, kendall, spearman, topk_precision
from zeroscore.errors import UsageError
from zeroscore.ranking import AGGREGATIONS, orient_frame
from zeroscore.spaces.nb201.arch import EDGE_NAMES, NB201_OPS, parse_arch

__all__ = ["ranking_quality", "s_tau", "gt_tau", "gt_tau_last_k", "top_n_rank", "fewshot_partition",
           "similarity_groups", "summary", "combine_rankings", "shrink_by_scores"]


def _aligned(predicted: pd.Series, truth: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    both = pd.concat([predicted.rename("p"), truth.rename("t")], axis=1, join="inner").dropna()
    if len(both) < 2:
        raise UsageError(f"need at least 2 cells with both a one-shot and a true accuracy, got {len(both)}")
    return both["p"].to_numpy(dtype=float), both["t"].to_numpy(dtype=float)


def ranking_quality(predicted: pd.Series, truth: pd.Series, top_fraction: float = 0.10,
                    precision_at: Sequence[float] = (0.01, 0.05), bootstrap: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row: how well ``predicted`` (one-shot accuracy per cell, indexed by arch) ranks ``truth``.

    Columns: ``n``, ``kendall``, ``spearman``, their 95 % bootstrap CIs (``*_lo`` / ``*_hi``), ``kendall_top``
    (tau within the cells whose true accuracy is in the top ``top_fraction``), ``precision_top<k>`` for each
    fraction of ``precision_at``, ``best_true_rank`` (true rank of the cell the supernet ranks first; 1 = best).
    """
    p, t = _aligned(predicted, truth)
    row: dict[str, float] = {"n": float(len(p)), "kendall": kendall(p, t), "spearman": spearman(p, t)}
    sp_lo, sp_hi, kd_lo, kd_hi = bootstrap_intervals(p, t, bootstrap, seed)
    row.update(spearman_lo=sp_lo, spearman_hi=sp_hi, kendall_lo=kd_lo, kendall_hi=kd_hi)
    k = max(2, int(math.ceil(top_fraction * len(t) - 1e-9)))
    top = np.argsort(-t, kind="stable")[:k]
    row["kendall_top"] = kendall(p[top], t[top])
    for frac in precision_at:
        row[f"precision_top{frac * 100:g}"] = topk_precision(p, t, frac)[0]
    true_rank = 1 + np.searchsorted(-np.sort(t)[::-1], -t, side="left")  # 1 = best, ties share the best rank
    row["best_true_rank"] = float(true_rank[int(np.argmax(p))])
    return pd.DataFrame([row])


def gt_tau(rankings: pd.DataFrame, truth: pd.Series) -> pd.Series:
    """Kendall tau-b of every column of ``rankings`` (one-shot accuracies, one column per supernet or checkpoint,
    indexed by arch) against ``truth``."""
    return pd.Series({c: kendall(*_aligned(rankings[c], truth)) for c in rankings.columns}, name="gt_tau")


def s_tau(rankings: pd.DataFrame) -> float:
    """Mean pairwise Kendall tau-b between the columns of ``rankings`` (>= 2 independently seeded supernets), over
    the cells all of them scored."""
    if rankings.shape[1] < 2:
        raise UsageError(f"S-Tau needs the rankings of at least 2 supernets, got {rankings.shape[1]}")
    complete = rankings.dropna()
    taus = [kendall(complete[a].to_numpy(dtype=float), complete[b].to_numpy(dtype=float))
            for a, b in itertools.combinations(complete.columns, 2)]
    return float(np.mean(taus))


def gt_tau_last_k(checkpoints: pd.DataFrame, truth: pd.Series, k: int) -> tuple[float, float]:
    """(GT-Tau-Mean-k, GT-Tau-Std-k): mean and population std of GT-Tau over the last ``k`` columns of
    ``checkpoints`` (one column per checkpoint, in training order)."""
    if not 1 <= k <= checkpoints.shape[1]:
        raise UsageError(f"k must be between 1 and the {checkpoints.shape[1]} checkpoints, got {k}")
    taus = gt_tau(checkpoints.iloc[:, -k:], truth).to_numpy()
    return float(np.mean(taus)), float(np.std(taus))


def top_n_rank(predicted: pd.Series, truth: pd.Series, n: int) -> int:
    """TnR: the best true rank (1 = best of the sample) among the ``n`` cells the supernet ranks highest."""
    p, t = _aligned(predicted, truth)
    if n < 1:
        raise UsageError(f"n must be >= 1, got {n}")
    true_rank = 1 + np.searchsorted(-np.sort(t)[::-1], -t, side="left")
    chosen = np.argsort(-p, kind="stable")[:n]
    return int(true_rank[chosen].min())


def fewshot_partition(archs: Iterable[str], edge: int | str = 0,
                      op_names: Sequence[str] = NB201_OPS) -> dict[str, list[str]]:
    """Few-shot NAS's split of the cells: one part per op of ``edge`` (an index 0-5 or a name like ``"3<-0"``);
    the part of op ``o`` holds exactly the cells whose ``edge`` carries ``o`` (every op gets a part, maybe empty)."""
    index = EDGE_NAMES.index(edge) if isinstance(edge, str) and edge in EDGE_NAMES else edge
    if not isinstance(index, int) or not 0 <= index < len(EDGE_NAMES):
        raise UsageError(f"edge must be an index 0-{len(EDGE_NAMES) - 1} or one of {list(EDGE_NAMES)}, got {edge!r}")
    parts: dict[str, list[str]] = {op: [] for op in op_names}
    for a in archs:
        parts[parse_arch(a, op_names)[index]].append(a)
    return parts


def similarity_groups(archs: Iterable[str], m: int, op_names: Sequence[str] = NB201_OPS) -> dict[int, list[str]]:
    """Deeper Insights' grouping: cells sorted by their op string (edge order, ops in ``op_names`` order) and cut
    into ``m`` contiguous groups at prefix boundaries: the shortest prefix length that has at least ``m`` distinct
    prefixes is used, and the prefixes (not the cells) are dealt out evenly, so cells sharing that prefix are
    never split. Every cell lands in exactly one group; groups are numbered 0..m-1."""
    cells = list(dict.fromkeys(archs))
    if m < 1:
        raise UsageError(f"m must be >= 1, got {m}")
    order = {op: i for i, op in enumerate(op_names)}
    codes = {a: tuple(order[o] for o in parse_arch(a, op_names)) for a in cells}
    length = next((L for L in range(len(EDGE_NAMES) + 1) if len({c[:L] for c in codes.values()}) >= m),
                  len(EDGE_NAMES))
    prefixes = sorted({c[:length] for c in codes.values()})
    if len(prefixes) < m:
        raise UsageError(f"{len(cells)} cells have only {len(prefixes)} distinct op strings; cannot make {m} groups")
    group_of = {pre: min(i * m // len(prefixes), m - 1) for i, pre in enumerate(prefixes)}
    groups: dict[int, list[str]] = {g: [] for g in range(m)}
    for a in sorted(cells, key=lambda a: codes[a]):
        groups[group_of[codes[a][:length]]].append(a)
    return groups


def summary(rankings: Mapping[str, pd.Series], truth: pd.Series, **kwargs) -> pd.DataFrame:
    """:func:`ranking_quality` for several supernets (``{label: one-shot accuracies}``), one row each."""
    return pd.concat([ranking_quality(s, truth, **kwargs).assign(supernet=label) for label, s in rankings.items()],
                     ignore_index=True).set_index("supernet")


def _aggregated(scores: pd.DataFrame, aggregate: str, directions: Mapping[str, bool] | None) -> pd.Series:
    if aggregate not in AGGREGATIONS:
        raise UsageError(f"aggregate must be one of {sorted(AGGREGATIONS)}, got {aggregate!r}")
    if scores.shape[1] == 0 or len(scores) == 0:
        raise UsageError("need at least one column of scores and one cell")
    oriented = orient_frame(scores, directions)
    return pd.Series(AGGREGATIONS[aggregate]([oriented[c].to_numpy(dtype=float) for c in oriented.columns]),
                     index=scores.index)


def combine_rankings(oneshot: pd.Series, scores: pd.DataFrame, aggregate: str = "log_rank",
                     directions: Mapping[str, bool] | None = None) -> pd.Series:
    """The supernet's one-shot accuracy (higher is better) and training-free indicator scores (one column per
    indicator, indexed by arch; each oriented by its registered direction or ``directions``) aggregated into one
    ranking over the cells both cover: ``"log_rank"`` (AZ-NAS) or ``"rank_sum"`` (TE-NAS); larger is better."""
    both = pd.concat([oneshot.rename("__oneshot__"), scores], axis=1, join="inner")
    dirs = {**(dict(directions) if directions else {}), "__oneshot__": True}
    return _aggregated(both, aggregate, dirs).rename("combined")


def shrink_by_scores(scores: pd.DataFrame, keep: int = 3, aggregate: str = "log_rank",
                     directions: Mapping[str, bool] | None = None,
                     op_names: Sequence[str] = NB201_OPS) -> dict[str, list[str]]:
    """The ``keep`` ops per NB201 edge a supernet keeps when training-free indicators shrink it before training:
    the cells of ``scores`` (indexed by cell string) are ranked by the aggregated indicators, and on every edge the
    ops are ordered by the mean aggregated score of the cells that carry them (an op no scored cell carries is
    dropped first; ties keep ``op_names`` order). The result is :class:`~zeroscore.oneshot.paths.PathSampler`'s
    ``allowed``."""
    if not 1 <= keep <= len(op_names):
        raise UsageError(f"keep must be between 1 and {len(op_names)}, got {keep}")
    total = _aggregated(scores, aggregate, directions)
    ops = pd.DataFrame([parse_arch(a, op_names) for a in total.index], index=total.index, columns=list(EDGE_NAMES))
    allowed = {}
    for edge in EDGE_NAMES:
        mean = total.groupby(ops[edge]).mean()
        order = sorted(op_names, key=lambda o: (-mean.get(o, -np.inf), op_names.index(o)))
        allowed[edge] = order[:keep]
    return allowed
