"""TE-NAS-style pruning of a supernet (Chen, Gong, Wang, ICLR 2021; VITA-Group/TENAS ``prune_tenas.py``).

Protocol (read from ``prune_tenas.py`` / ``prune_launch.py``; own implementation)
    * The supernet holds every op on every edge (shared op masks per cell type). ``none`` is removed before the
      first round (TE-NAS sets its ``alpha[:, 0] = -INF`` at start), so the result never contains ``none``.
    * Each round, for every edge with more than one op left and every op on it, the op is removed and every
      indicator is measured on the supernet with and without that op, at the *same* initialisation and on the
      *same* data (``repeats`` initialisations, each with a fresh batch; TE-NAS: 3). The relative change is
      averaged over repeats and rounded to ``precision`` significant digits (TE-NAS: 3), then oriented so that a
      larger number means "removing the op helps": ``(orig - new) / |orig|`` for a lower-is-better indicator
      (``ntk_cond``: TE-NAS sorts ``(ntk_orig - ntk) / ntk_orig`` descending) and ``(new - orig) / |orig|`` for a
      higher-is-better one (``linear_regions``: TE-NAS sorts ``(lr - lr_new) / lr`` ascending). Candidates are
      given dense ranks per indicator (0 = removal helps most; equal rounded values share a rank), the ranks are
      summed over indicators and on every edge the ``prune_number`` ops with the lowest sum are removed
      (TE-NAS: 1 per edge per round on NAS-Bench-201, 3 on DARTS). Rounds repeat until one op per edge is left.
    * Networks: ``ntk_cond`` (and every other indicator) is measured on the NTK supernet, ``linear_regions``
      on the thin supernet. NAS-Bench-201: NTK net ``C=3, N=1`` with stem (three stages of one cell, two
      residual reductions); thin net ``C=1, N=1, depth=1``, no stem, 1 input channel (one cell). DARTS: both
      ``C=1, N=1`` (``layers=3``) truncated to ``depth=2`` cells (normal + reduction), ``stem_multiplier=1``, final
      BN-ReLU, affine BN, no BN after pooling; the thin one without stem, 1 input channel.
      Linear regions: 3 batches of 1000 random 3x3 crops of one random channel (every channel of every image
      becomes a 1-channel image). Initialisation: Kaiming-normal (``fan_out`` for the NTK net, ``fan_in`` for
      the thin net), BatchNorm weight 1 / bias 0, as ``prune_launch.py`` (``init='kaiming_normal'``).
    * DARTS: after the op rounds, every intermediate node keeps two input edges (TE-NAS
      ``prune_func_rank_group``): node by node, each remaining edge is removed in turn, ranked as above within
      the node, and all but the ``edges_per_node`` least prunable edges are removed. The genotype of the
      result builds with ``zeroscore.spaces.get("darts").build``.

Deviations (documented)
    ``batch_size`` defaults to 64 (TE-NAS launcher: 72 for NB201, 14 for DARTS); the batch is drawn with
    ``zeroscore.data.load_batch`` (no augmentation) from a seed derived from ``(seed, round, repeat)``; the NTK is
    :mod:`zeroscore`'s ``ntk_cond`` (float64 eigenvalues, singular -> ``inf``); ranks break ties between edges'
    equal sums by candidate order. ``ops`` can restrict the candidate set (e.g. for quick tests).

Ground truth is never consulted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import pandas as pd
import torch

from zeroscore.errors import UsageError
from zeroscore.names import space_name
from zeroscore.ranking import orient, rank
from zeroscore.search.result import SearchResult

__all__ = ["prune", "relative_gain", "dense_ranks", "round_sig"]


def round_sig(x: float, digits: int) -> float:
    """``x`` rounded to ``digits`` significant digits (TE-NAS ``round_to``); non-finite values unchanged."""
    if not math.isfinite(x) or x == 0 or digits is None:
        return x
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def relative_gain(orig: float, new: float, higher_is_better: bool) -> float:
    """How much removing an op helps: relative change of the indicator, oriented (larger = better without it)."""
    if math.isnan(orig) or math.isnan(new):
        return math.nan
    if orig == new:
        return 0.0
    diff = new - orig  # may be +-inf
    if math.isfinite(orig) and orig != 0:
        diff = diff / abs(orig)
    return float(orient(diff, higher_is_better))


def dense_ranks(gains: Sequence[float] | np.ndarray) -> np.ndarray:
    """Dense ranks, 0 for the largest gain (most prunable); equal values share a rank; NaN ranks last."""
    return rank(gains, method="dense", best_first=True) - 1


def prune(space: str = "nb201", indicators=("ntk_cond", "linear_regions"), dataset: str = "cifar10", seed: int = 0,
          repeats: int = 3, batch_size: int = 64, root=None, *, prune_number: int | None = None, precision: int = 3,
          init: str = "kaiming_normal", ops: Sequence[str] | None = None, edges_per_node: int = 2,
          num_classes: int | None = None, scorer: Callable | None = None, device=None, progress: bool = False,
          verbose: bool = False) -> SearchResult:
    """TE-NAS pruning search on the ``nb201`` or ``darts`` supernet; see the module docstring.

    Args:
        space: ``"nb201"`` or ``"darts"``.
        indicators: names (or ``{name: params}``); TE-NAS: ``("ntk_cond", "linear_regions")``; TEG-NAS adds
            ``"ntk_generalization"``. Any registered indicator works; directions come from the registry.
        dataset, batch_size, root: data of the NTK batch (and of the crops for linear regions).
        seed: seeds initialisations and batches.
        repeats: initialisations (and batches) per measurement, averaged (TE-NAS: 3).
        prune_number: ops removed per edge per round (default: 1 on NB201, 3 on DARTS, as TE-NAS' launcher).
        precision: significant digits of the relative changes before ranking (TE-NAS: 3).
        init: ``"kaiming_normal"`` (TE-NAS launcher) or ``"default"`` (PyTorch's own initialisation).
        ops: candidate ops (default: all of the space; ``none`` is always removed first if present).
        edges_per_node: DARTS only, input edges kept per intermediate node.
        scorer: advanced/testing: ``scorer(masks, round, repeat) -> {indicator: value}`` replaces the built-in
            measurement (``masks`` is the list of per-cell-type ``(edges, ops)`` bool tensors).
        device: where the supernets are scored.
        progress: a progress bar (measurements, rate, ETA) on stderr.

    Returns:
        :class:`~zeroscore.search.SearchResult` whose ``best`` is the NB201 cell string or the DARTS
        ``Genotype``; ``history`` has one row per (round, candidate) with raw values, gains and ranks;
        ``archs_scored`` counts the supernet configurations measured (each ``repeats`` times).
    """
    from zeroscore.data import num_classes as dataset_classes
    from zeroscore.scorer import Scorer
    from zeroscore.search.supernet_scoring import SupernetScorer
    from zeroscore.spaces.supernet import SUPERNETS

    space = space_name(space)
    if space not in SUPERNETS:
        raise UsageError(f"prune works on a supernet: {' or '.join(sorted(SUPERNETS))}, not {space!r}")
    start = time.perf_counter()
    parsed = Scorer(indicators)
    names = parsed.names
    hib = {n: parsed.higher_is_better(n) for n in names}
    layout = _mask_layout(space, ops)
    op_names = tuple(layout.op_names)
    n_classes = int(num_classes) if num_classes is not None else dataset_classes(dataset)
    if prune_number is None:
        prune_number = 1 if space == "nb201" else 3
    measure = scorer or SupernetScorer(space, indicators, dataset, seed, batch_size, root, n_classes, op_names,
                                       init, device)
    n_types, n_edges = len(layout.cell_types), layout.num_edges
    masks = layout.full_masks()
    if "none" in op_names:
        for m in masks:
            m[:, op_names.index("none")] = False
    bar = _progress_bar(progress, _planned_measurements(masks, prune_number, repeats, space, layout,
                                                        edges_per_node))

    rows: list[dict] = []
    trace: list[dict] = []
    configs = 0
    rnd = 0

    def tick() -> None:
        if bar is not None:
            bar.update(1)

    def measure_all(candidates: list[tuple], removed_masks: list[list[torch.Tensor]], phase: str):
        """Mean gains per candidate over repeats; appends history rows."""
        nonlocal configs
        gains = {n: np.zeros(len(candidates)) for n in names}
        raw: list[dict[str, list[float]]] = [dict() for _ in candidates]
        secs = np.zeros(len(candidates))
        per_rep: dict[str, list[list[float]]] = {n: [[] for _ in candidates] for n in names}
        for r in range(repeats):
            orig = measure([m.clone() for m in masks], rnd, r)
            tick()
            for c, cm in enumerate(removed_masks):
                t = time.perf_counter()
                new = measure(cm, rnd, r)
                tick()
                secs[c] += time.perf_counter() - t
                for n in names:
                    per_rep[n][c].append(relative_gain(orig[n], new[n], hib[n]))
                    raw[c].setdefault(n, []).append(new[n])
        configs += (1 + len(candidates))
        for n in names:
            for c in range(len(candidates)):
                vals = [v for v in per_rep[n][c] if not math.isnan(v)]
                g = float(np.mean(vals)) if vals else math.nan
                if vals and all(math.isinf(v) for v in vals) and len(set(vals)) == 1:
                    g = vals[0]
                gains[n][c] = round_sig(g, precision)
        ranks = {n: dense_ranks(gains[n]) for n in names}
        total = cast(np.ndarray, sum(ranks[n] for n in names))  # a sum of the per-indicator rank arrays
        for c, cand in enumerate(candidates):
            rows.append({"round": rnd, "phase": phase, "cell_type": cand[0], "edge": cand[1],
                         "op": op_names[cand[2]] if cand[2] is not None else None,
                         **{n: float(np.mean(raw[c][n])) for n in names},
                         **{f"gain_{n}": gains[n][c] for n in names},
                         **{f"rank_{n}": ranks[n][c] for n in names},
                         "rank_sum": total[c], "seconds": secs[c], "pruned": False})
        return total

    # ---- op rounds
    while any(int(m.sum(1).max()) > 1 for m in masks):
        candidates, removed = [], []
        for ct in range(n_types):
            for e in range(n_edges):
                live = [o for o in range(len(op_names)) if masks[ct][e, o]]
                if len(live) <= 1:
                    continue
                for o in live:
                    cm = [m.clone() for m in masks]
                    cm[ct][e, o] = False
                    candidates.append((ct, e, o))
                    removed.append(cm)
        base = len(rows)
        total = measure_all(candidates, removed, "ops")
        order = sorted(range(len(candidates)), key=lambda c: (total[c], c))
        done: dict[tuple, int] = {}
        pruned = []
        for c in order:
            ct, e, o = candidates[c]
            k = min(prune_number, int(masks[ct][e].sum()) - 1)
            if done.get((ct, e), 0) < k:
                done[(ct, e)] = done.get((ct, e), 0) + 1
                pruned.append((ct, e, o))
                rows[base + c]["pruned"] = True
        for ct, e, o in pruned:
            masks[ct][e, o] = False
        trace.append({"round": rnd, "pruned": [(ct, e, op_names[o]) for ct, e, o in pruned]})
        if verbose:
            print(f"round {rnd}: {len(candidates)} candidates, pruned {len(pruned)} ops")
        rnd += 1

    # ---- DARTS: keep edges_per_node input edges per node
    if space == "darts":
        for ct in range(n_types):
            for node in layout.intermediate_nodes:
                edges = [e for e in layout.edges_into(node) if bool(masks[ct][e].any())]
                if len(edges) <= edges_per_node:
                    continue
                removed = []
                for e in edges:
                    cm = [m.clone() for m in masks]
                    cm[ct][e, :] = False
                    removed.append(cm)
                edge_candidates = [(ct, e, None) for e in edges]
                base = len(rows)
                total = measure_all(edge_candidates, removed, "edges")
                order = sorted(range(len(edges)), key=lambda c: (total[c], c))
                drop = order[: len(edges) - edges_per_node]
                for c in drop:
                    masks[ct][edges[c], :] = False
                    rows[base + c]["pruned"] = True
                trace.append({"round": rnd, "pruned_edges": [(ct, edges[c]) for c in drop]})
                rnd += 1

    best = layout.to_arch(masks)
    final = measure([m.clone() for m in masks], rnd, 0)  # the found cell's own values, for the record
    tick()
    if bar is not None:
        bar.close()
    configs += 1
    return SearchResult(
        best=best, values={**final, "objective": math.nan}, history=pd.DataFrame(rows), archs_scored=configs,
        wall_seconds=time.perf_counter() - start, seed=seed, method="prune", space=space, dataset=dataset,
        info={"indicators": names, "repeats": repeats, "batch_size": batch_size, "prune_number": prune_number,
              "precision": precision, "init": init, "ops": list(op_names), "rounds": rnd, "trace": trace,
              "masks": [m.tolist() for m in masks], "evaluations": configs * repeats},
    )


def _mask_layout(space: str, op_names: Sequence[str] | None):
    """What the masks of the ``space`` supernet with candidate ops ``op_names`` (default: all) mean; no network
    is built."""
    from zeroscore.spaces.supernet import supernet_class

    return supernet_class(space).mask_layout(op_names)


def _planned_measurements(masks, prune_number: int, repeats: int, space: str, layout, edges_per_node: int) -> int:
    """How many supernet measurements :func:`prune` will make (its schedule is fixed by the masks), for the ETA."""
    live = [int(n) for m in masks for n in m.sum(1)]
    total = 0
    while any(k > 1 for k in live):
        candidates = sum(k for k in live if k > 1)
        total += repeats * (1 + candidates)
        live = [k - min(prune_number, k - 1) if k > 1 else k for k in live]
    if space == "darts":
        for _ in masks:
            for node in layout.intermediate_nodes:
                edges = len(layout.edges_into(node))
                if edges > edges_per_node:
                    total += repeats * (1 + edges)
    return total + 1


def _progress_bar(enabled: bool, total: int):
    if not enabled:
        return None
    import sys

    from tqdm.auto import tqdm

    return tqdm(total=total, desc="prune", unit="measurement", file=sys.stderr, dynamic_ncols=True)
