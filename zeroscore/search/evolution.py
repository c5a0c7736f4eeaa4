"""Regularized (aging) evolution over a search space (Real, Aggarwal, Huang, Le, AAAI 2019).

The population is a queue: each cycle draws ``sample`` members uniformly at random (tournament), mutates the best
of them (``space.mutate``, one edit), scores the child, appends it and removes the *oldest* member (not the
worst: that is the "aging" that regularizes the search). With a multi-indicator :class:`~zeroscore.search.Objective`
the fitness of the members is recomputed every cycle as the sum of their per-indicator ranks across the current
population (``rank_within="population"``, the default) or across the tournament's members only
(``rank_within="sample"``: TEG-NAS's ``R_EA.py``, which ranks its trainability / expressivity / generalisation
triple within each tournament); a plain callable's float is used as is.

At the end, the architecture returned is the best of *everything* scored during the search (for rank
aggregation: the highest sum of ranks across all distinct architectures scored), or with ``pick_from="population"``
the best of the final population ranked within it (TEG-NAS). Ground truth is never consulted.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from zeroscore.errors import UsageError
from zeroscore.search.objective import Objective, as_value_fn
from zeroscore.search.result import SearchResult

__all__ = ["evolve", "Evaluator"]


class Evaluator:
    """Scores architectures for one search: per-search cache, history rows, honest cost accounting.

    ``seconds`` charged for an architecture is its compute time; an architecture the objective already had cached
    from *another* search is charged the time it took when it was computed (so sharing an objective between
    searches does not make a search look cheaper than it is).
    """

    def __init__(self, space, objective: Callable, progress_total: int | None = None, label: str = "search"):
        self.space = space
        # archs are compared by the space's key (NB101: the module hash) but scored and reported in canonical form
        self.canonical = getattr(space, "canonical", None) or (lambda a: a)
        self.key = getattr(space, "key", None) or self.canonical
        self.objective = objective
        self._values, self._fitness, self.names = as_value_fn(objective)
        self.cache: dict[Any, dict] = {}
        self.archs: dict[Any, Any] = {}
        self.rows: list[dict] = []
        self.charged_seconds = 0.0
        self.bar = None
        if progress_total:
            import sys

            from tqdm.auto import tqdm

            self.bar = tqdm(total=progress_total, desc=label, unit="eval", file=sys.stderr, dynamic_ncols=True)

    def values(self, arch) -> dict:
        if self.bar is not None:
            self.bar.update(1)
        arch = self.canonical(arch)
        key = self.key(arch)
        if key in self.cache:
            self.rows.append({"step": len(self.rows), "arch": arch, **self.cache[key], "seconds": 0.0, "new": False})
            return self.cache[key]
        start = time.perf_counter()
        objective = self.objective if isinstance(self.objective, Objective) else None
        pre_cached = objective is not None and objective.is_cached(arch)
        vals = self._values(arch)
        dt = time.perf_counter() - start
        if objective is not None and pre_cached:
            dt = float(objective.compute_seconds(arch))
        self.cache[key] = vals
        self.archs[key] = arch
        self.charged_seconds += dt
        self.rows.append({"step": len(self.rows), "arch": arch, **vals, "seconds": dt, "new": True})
        return vals

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def fitness(self, archs) -> np.ndarray:
        return self._fitness([self.cache[self.key(a)] for a in archs])

    def best(self, among=None):
        """(arch, values, fitness) of the best distinct architecture scored, by fitness across all of them (or
        across the distinct architectures of ``among``, e.g. a final population)."""
        keys = list(self.cache) if among is None else list(dict.fromkeys(self.key(a) for a in among))
        fit = self._fitness([self.cache[k] for k in keys])
        i = int(np.argmax(fit))
        return self.archs[keys[i]], dict(self.cache[keys[i]]), float(fit[i])

    def result(self, method: str, seed: int, start: float, among=None, **info) -> SearchResult:
        """The :class:`SearchResult` of a finished search: the best architecture scored (or the best of
        ``among``), with its values and fitness, the history and the cost (``start``: its
        ``time.perf_counter()``)."""
        self.close()
        best, vals, fit = self.best(among)
        vals["objective"] = fit
        objective = self.objective.describe() if isinstance(self.objective, Objective) else repr(self.objective)
        return SearchResult(
            best=best, values=vals, history=self.history(), archs_scored=len(self.cache),
            wall_seconds=time.perf_counter() - start, seed=seed, method=method,
            space=getattr(self.space, "name", ""), dataset=getattr(self.objective, "dataset", ""),
            info={**info, "charged_seconds": self.charged_seconds, "objective": objective})

    def history(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows)
        if len(df) and len(self.cache):
            keys = list(self.cache)
            fit = dict(zip(keys, self._fitness([self.cache[k] for k in keys])))
            df["objective"] = [fit[self.key(a)] for a in df["arch"]]
        return df


def _space(space):
    if isinstance(space, str):
        from zeroscore import spaces

        return spaces.get(space)
    return space


def evolve(space, objective: Callable, population: int = 20, sample: int = 5, cycles: int = 80, seed: int = 0,
           initial=None, progress: bool = False, verbose: bool = False, rank_within: str = "population",
           pick_from: str = "history") -> SearchResult:
    """Regularized evolution; returns a :class:`~zeroscore.search.SearchResult`.

    Args:
        space: a space name or object with ``sample(n, seed)``, ``mutate(arch, rng)`` and ``key``/``canonical``.
        objective: an :class:`~zeroscore.search.Objective` (raw values kept, ranks aggregated across the
            population) or any callable ``f(arch) -> float``, higher is better.
        population: size of the aging population (initialised with ``population`` random archs).
        sample: tournament size.
        cycles: children produced (total evaluations = ``population + cycles``; repeated archs are cache hits).
        seed: seeds the initial population, the tournaments and the mutations.
        initial: optional list of archs for the initial population (instead of random ones).
        progress: a progress bar (evaluations, rate, ETA) on stderr.
        rank_within: where a multi-indicator fitness is ranked for a tournament: ``"population"`` (default: the
            whole current population) or ``"sample"`` (only the tournament's members, as TEG-NAS's ``R_EA.py``).
        pick_from: what the returned architecture is the best of: ``"history"`` (default: every distinct
            architecture scored) or ``"population"`` (the final population, ranked within it, as TEG-NAS).
    """
    sp = _space(space)
    if population < 1 or sample < 1 or cycles < 0:
        raise UsageError("population and sample (the tournament size) must be >= 1 and cycles >= 0")
    if rank_within not in ("population", "sample"):
        raise UsageError(f"rank_within must be 'population' or 'sample', got {rank_within!r}")
    if pick_from not in ("history", "population"):
        raise UsageError(f"pick_from must be 'history' or 'population', got {pick_from!r}")
    start = time.perf_counter()
    rng = random.Random(seed)
    ev = Evaluator(sp, objective, progress_total=population + cycles if progress else None, label="evolve")
    init = list(initial) if initial is not None else sp.sample(population, seed=rng.randrange(2**31))
    pop: deque = deque()
    for a in init[:population]:
        ev.values(a)
        pop.append(ev.canonical(a))
    for cycle in range(cycles):
        members = list(pop)
        if rank_within == "population":
            fit = ev.fitness(members)
            contenders = rng.sample(range(len(members)), min(sample, len(members)))
            scores = [fit[i] for i in contenders]
        else:
            contenders = rng.sample(range(len(members)), min(sample, len(members)))
            scores = list(ev.fitness([members[i] for i in contenders]))
        # the first of the best contenders (in draw order) is the parent
        parent = members[contenders[max(range(len(contenders)), key=lambda j: (scores[j], -j))]]
        child = ev.canonical(sp.mutate(parent, rng))
        ev.values(child)
        pop.append(child)
        if len(pop) > population:
            pop.popleft()
        if verbose:
            print(f"cycle {cycle + 1}/{cycles}: {len(ev.cache)} archs scored")
    return ev.result("evolve", seed, start, among=list(pop) if pick_from == "population" else None,
                     population=population, sample=sample, cycles=cycles, evaluations=len(ev.rows),
                     final_population=list(pop), rank_within=rank_within, pick_from=pick_from)
