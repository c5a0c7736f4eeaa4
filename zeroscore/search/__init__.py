"""Training-free architecture search with zeroscore's indicators.

* :func:`prune` -- TE-NAS pruning of the NB201 / DARTS supernet (NTK condition number + linear regions, or any
  indicators);
* :func:`evolve` -- regularized (aging) evolution (Real et al. 2019) with a rank-aggregated objective (TEG-NAS);
* :func:`random_search` -- NASWOT-style baseline: sample N, score, keep the best;
* :func:`make_objective` -- a cached, direction-aware, higher-is-better callable for any other searcher
  (Optuna, your own loop); see :mod:`zeroscore.search.objective` for worked examples.

Every searcher returns a :class:`SearchResult`. Nothing in this package imports :mod:`zeroscore.truth` (a test
checks it): searches never see benchmark accuracies. The CLI (``zeroscore search``) looks the found architecture up
*after* the search to report its accuracy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from zeroscore.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from zeroscore.search.evolve import evolve
    from zeroscore.search.objective import Objective, SearchResult, make_objective
    from zeroscore.search.prune import prune
    from zeroscore.search.random_search import random_search

# The searchers are imported on first use, so `zeroscore --help` / `zeroscore list` do not pay for torch here.
_LAZY = {"evolve": "evolve", "prune": "prune", "random_search": "random_search", "make_objective": "objective",
         "Objective": "objective", "SearchResult": "objective"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"zeroscore.search.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zeroscore.search' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))

__all__ = ["prune", "evolve", "random_search", "make_objective", "Objective", "SearchResult", "run_search",
           "DEFAULT_INDICATORS"]

#: default indicators per method: TE-NAS's pair for pruning; NASWOT + synflow (forward / one backward, cheap on a
#: CPU) for the sampling-based searchers, whose objective is evaluated on full benchmark networks.
DEFAULT_INDICATORS = {"prune": ("ntk_cond", "linear_regions"), "evolve": ("naswot", "synflow"),
                      "random": ("naswot", "synflow")}


def run_search(method: str, space: str = "nb201", dataset: str = "cifar10", seed: int = 0, budget: int = 100,
               indicators=None, batch_size: int = 64, root=None, repeats: int = 3, population: int | None = None,
               tournament_size: int | None = None, device=None, progress: bool = False,
               verbose: bool = False) -> SearchResult:
    """One search by name (what the CLI and the benchmarks call).

    ``budget`` is the number of architecture evaluations for ``random`` and ``evolve`` (evolve: population +
    cycles, population defaults to ``max(2, budget // 4)`` capped at 20 and the tournament size to
    ``max(2, population // 4)``); ``prune`` ignores it (its cost is fixed by the supernet) and uses ``repeats``.
    ``progress`` shows a progress bar with ETA on stderr.
    """
    from zeroscore.search.evolve import evolve
    from zeroscore.search.objective import make_objective
    from zeroscore.search.prune import prune
    from zeroscore.search.random_search import random_search

    if method not in DEFAULT_INDICATORS:
        raise UsageError(f"unknown search method {method!r}; use prune, evolve or random")
    indicators = indicators if indicators else DEFAULT_INDICATORS[method]  # any spec the Scorer parses
    if method == "prune":
        return prune(space, indicators=indicators, dataset=dataset, seed=seed, repeats=repeats,
                     batch_size=batch_size, root=root, device=device, progress=progress, verbose=verbose)
    objective = make_objective(indicators, dataset=dataset, space=space, batch_size=batch_size, seed=seed, root=root,
                               device=device)
    if method == "random":
        return random_search(space, objective, budget=budget, seed=seed, progress=progress, verbose=verbose)
    pop = min(population or max(2, min(20, budget // 4)), budget)
    size = tournament_size or max(2, pop // 4)
    return evolve(space, objective, population=pop, sample=min(size, pop), cycles=max(0, budget - pop), seed=seed,
                  progress=progress, verbose=verbose)
