"""Two-stage training-free search: screen many architectures cheaply, refine the survivors with costlier evidence.

Stage 1 (*screen*) explores the space with a cheap objective -- regularized evolution (``explore="evolve"``, the
default) or a uniform sample (``explore="random"``) -- until exactly ``budget`` distinct architectures are scored.
Stage 2 (*refine*) takes the ``keep`` best of them by the screen's rank aggregation and scores only those with a
second objective (indicators that cost more per network, e.g. a backward pass). The architecture returned is the
best survivor by the aggregation, across the survivors, of all indicators (``final="screen+refine"``) or of the
refine indicators alone (``final="refine"``: the screen has already done its job by choosing the survivors, and on
NB201 its indicators prefer the largest all-convolution cells, which is what the refine stage should overrule).

Why two stages: on NAS-Bench-201 the strong indicators are not equally cheap; a forward-only or data-free
screen is ~10x cheaper per network than a backward-pass indicator, so spending the expensive evidence only where
the decision is made buys more architectures for the same wall time. The second reason is that the evidence which
finds the good region is not the one that ranks within it: on NB201 the size-driven screen (synflow, meco_opt)
finds the large cells but prefers a convolution to the residual edge that the best of them have, which the
refine indicators (``linear_regions`` + ``zen`` by default) rank the other way (benchmarks/results/search_design.md
section 3). With ``refine=None`` (or ``keep == 0``) this is a plain screen-only search whose best is taken over
everything scored.

Rank aggregation is the one the objectives declare (``aggregate="rank"``: TE-NAS's sum of ranks;
``"log_rank"``: AZ-NAS's sum of log relative ranks, which rewards being good on every indicator at once).
Ground truth is never read here.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable

import numpy as np
import pandas as pd

from zeroscore.errors import UsageError
from zeroscore.ranking import AGGREGATIONS, orient
from zeroscore.search.evolution import Evaluator, _space
from zeroscore.search.result import SearchResult

__all__ = ["two_stage", "FINAL_RANKINGS"]

#: what the survivors are finally ranked by
FINAL_RANKINGS = ("screen+refine", "refine")


def _directions(objective, names) -> dict[str, bool]:
    hib = getattr(objective, "higher_is_better", None)
    return {n: bool(hib[n]) if isinstance(hib, dict) else True for n in names}


def _unscored(sp, ev: Evaluator, rng: random.Random):
    """A random architecture the search has not scored yet."""
    for _ in range(1000):
        a = ev.canonical(sp.sample(1, seed=rng.randrange(2**31))[0])
        if sp.key(a) not in ev.cache:
            return a
    raise UsageError(f"could not find an unscored architecture in space {getattr(sp, 'name', sp)!r}: "
                     "is the budget larger than the space?")


def two_stage(space, screen: Callable, refine: Callable | None = None, budget: int = 300, keep: int = 20,
              seed: int = 0, explore: str = "evolve", population: int | None = None, tournament: int | None = None,
              aggregate: str | None = None, final: str = "screen+refine", progress: bool = False,
              verbose: bool = False) -> SearchResult:
    """Screen ``budget`` distinct architectures, refine the ``keep`` best; returns a :class:`SearchResult`.

    Args:
        space: a space name or object with ``sample``, ``mutate``, ``key`` / ``canonical``.
        screen: the stage-1 objective (an :class:`~zeroscore.search.Objective` or a callable ``f(arch) -> float``).
        refine: the stage-2 objective, evaluated on the survivors only (``None``: no second stage).
        budget: distinct architectures scored by the screen (exact: evolution keeps mutating until it reaches it).
        keep: survivors scored by ``refine`` (at most ``budget``).
        seed: seeds the initial sample, the tournaments and the mutations.
        explore: ``"evolve"`` (regularized evolution, Real et al. 2019) or ``"random"``.
        population, tournament: evolution's aging population (default ``min(50, budget // 5)``, at least 2) and
            tournament size (default ``max(2, population // 5)``).
        aggregate: ``"rank_sum"`` or ``"log_rank"`` for the final survivors' ranking (default: the screen
            objective's own aggregation, ``log_rank`` if it declares ``aggregate="log_rank"``, else ``rank_sum``).
        final: ``"screen+refine"`` ranks the survivors by all indicators, ``"refine"`` by the refine ones only.
        progress: a progress bar with ETA on stderr.

    ``history`` has one row per screen evaluation (``stage`` 1) and one per refine evaluation (``stage`` 2);
    ``archs_scored`` is ``budget``; ``info["survivors"]`` lists the survivors with their final score.
    """
    sp = _space(space)
    if budget < 1:
        raise UsageError(f"budget must be >= 1, got {budget}")
    if refine is None:
        keep = 0
    if keep < 0 or keep > budget:
        raise UsageError(f"keep must be between 0 and the budget ({budget}), got {keep}")
    if explore not in ("evolve", "random"):
        raise UsageError(f"explore must be 'evolve' or 'random', got {explore!r}")
    if final not in FINAL_RANKINGS:
        raise UsageError(f"final must be one of {list(FINAL_RANKINGS)}, got {final!r}")
    if aggregate is None:
        aggregate = "log_rank" if getattr(screen, "aggregate", None) == "log_rank" else "rank_sum"
    if aggregate not in AGGREGATIONS:
        raise UsageError(f"aggregate must be one of {sorted(AGGREGATIONS)}, got {aggregate!r}")
    start = time.perf_counter()
    rng = random.Random(seed)
    total = budget + keep if progress else None
    ev = Evaluator(sp, screen, progress_total=total, label="two-stage")

    # ---- stage 1: exactly `budget` distinct architectures
    if explore == "random":
        for a in sp.sample(budget, seed=rng.randrange(2**31)):
            ev.values(a)
    else:
        pop_size = population or max(2, min(50, budget // 5))
        pop_size = min(pop_size, budget)
        size = min(tournament or max(2, pop_size // 5), pop_size)
        pop: deque = deque(ev.canonical(a) for a in sp.sample(pop_size, seed=rng.randrange(2**31)))
        for a in pop:
            ev.values(a)
        stalls = 0
        while len(ev.cache) < budget:
            members = list(pop)
            fit = ev.fitness(members)
            contenders = rng.sample(range(len(members)), size)
            parent = members[max(contenders, key=lambda i: (fit[i], -contenders.index(i)))]
            child = ev.canonical(sp.mutate(parent, rng))
            if sp.key(child) in ev.cache:
                # a revisit costs nothing and does not count; after many in a row, jump to a fresh random arch
                stalls += 1
                if stalls < 50:
                    pop.append(child)
                    pop.popleft()
                    continue
                child = _unscored(sp, ev, rng)
            stalls = 0
            ev.values(child)
            pop.append(child)
            pop.popleft()
            if verbose and len(ev.cache) % 50 == 0:
                print(f"screen: {len(ev.cache)}/{budget} scored")
    screen_rows = list(ev.rows)

    # ---- stage 2: the `keep` best by the screen, refined
    keys = list(ev.cache)
    screen_fit = ev.fitness([ev.archs[k] for k in keys])
    order = np.argsort(-screen_fit, kind="stable")
    survivors = [ev.archs[keys[i]] for i in order[:keep]]
    refine_rows: list[dict] = []
    info: dict = {"budget": budget, "keep": keep, "explore": explore, "aggregate": aggregate, "final": final}
    if survivors:
        assert refine is not None  # keep > 0 only with a refine objective
        refine_ev = Evaluator(sp, refine, label="refine")
        refine_ev.bar = ev.bar
        for a in survivors:
            refine_ev.values(a)
        refine_rows = [{**r, "stage": 2} for r in refine_ev.rows]
        screen_names, refine_names = list(ev.names), list(refine_ev.names)
        directions = {**_directions(screen, screen_names), **_directions(refine, refine_names)}
        columns = []
        for n in screen_names if final == "screen+refine" else ():
            columns.append(orient(np.array([ev.cache[sp.key(a)][n] for a in survivors], dtype=float), directions[n]))
        for n in refine_names:
            columns.append(orient(np.array([refine_ev.cache[sp.key(a)][n] for a in survivors], dtype=float),
                                  directions[n]))
        scores = AGGREGATIONS[aggregate](columns)
        best_i = int(np.nanargmax(np.where(np.isnan(scores), -np.inf, scores)))
        best = survivors[best_i]
        values = {**ev.cache[sp.key(best)], **refine_ev.cache[sp.key(best)], "objective": float(scores[best_i])}
        info["survivors"] = [(a, float(f)) for a, f in zip(survivors, scores)]
        info["refine_seconds"] = refine_ev.charged_seconds
        info["refine_indicators"] = refine_names
    else:
        best_i = int(order[0])
        best = ev.archs[keys[best_i]]
        values = {**ev.cache[keys[best_i]], "objective": float(screen_fit[best_i])}
    ev.close()
    history = ev.history()
    history["stage"] = 1
    if refine_rows:
        history = pd.concat([history, pd.DataFrame(refine_rows)], ignore_index=True)
    describe = getattr(screen, "describe", None)
    info["objective"] = describe() if callable(describe) else repr(screen)
    if refine is not None:
        rdescribe = getattr(refine, "describe", None)
        info["refine"] = rdescribe() if callable(rdescribe) else repr(refine)
    info["charged_seconds"] = ev.charged_seconds + info.get("refine_seconds", 0.0)
    info["evaluations"] = len(screen_rows) + len(refine_rows)
    return SearchResult(best=best, values=values, history=history, archs_scored=len(ev.cache),
                        wall_seconds=time.perf_counter() - start, seed=seed, method="two_stage",
                        space=getattr(sp, "name", ""), dataset=getattr(screen, "dataset", ""), info=info)
