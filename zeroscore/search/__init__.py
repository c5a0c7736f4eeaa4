"""Training-free architecture search with zeroscore's indicators.

* :func:`prune` -- TE-NAS pruning of the NB201 / DARTS supernet (NTK condition number + linear regions, or any
  indicators);
* :func:`evolve` -- regularized (aging) evolution (Real et al. 2019) with a rank-aggregated objective (TEG-NAS);
* :func:`random_search` -- NASWOT-style baseline: sample N, score, keep the best;
* :func:`two_stage` -- zeroscore's best training-free search on NB201: evolution over a cheap rank ensemble, then
  costlier indicators on the survivors only (``benchmarks/results/search_nb201.md`` says how it was chosen);
* :func:`make_objective` -- a cached, direction-aware, higher-is-better callable for any other searcher
  (Optuna, your own loop); see :mod:`zeroscore.search.objective` for worked examples.

Every searcher returns a :class:`SearchResult`. Nothing in this package imports :mod:`zeroscore.truth` (a test
checks it): searches never see benchmark accuracies. The CLI (``zeroscore search``) looks the found architecture up
*after* the search to report its accuracy.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zeroscore.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from zeroscore.search.evolution import evolve
    from zeroscore.search.objective import Objective, make_objective
    from zeroscore.search.pruning import prune
    from zeroscore.search.random_sampling import random_search
    from zeroscore.search.result import SearchResult
    from zeroscore.search.screen_refine import two_stage

# The searchers are imported on first use, so `zeroscore --help` / `zeroscore list` do not pay for torch here.
_LAZY = {"evolve": "evolution", "prune": "pruning", "random_search": "random_sampling", "two_stage": "screen_refine",
         "make_objective": "objective",
         "Objective": "objective", "SearchResult": "result"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"zeroscore.search.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zeroscore.search' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))


__all__ = ["prune", "evolve", "random_search", "two_stage", "make_objective", "Objective", "SearchResult", "run_search",
           "DEFAULT_INDICATORS", "TWO_STAGE", "PROTOCOLS"]

#: default indicators per method: TE-NAS's pair for pruning; NASWOT + synflow (forward / one backward, cheap on a
#: CPU) for the sampling-based searchers, whose objective is evaluated on full benchmark networks.
DEFAULT_INDICATORS = {"prune": ("ntk_cond", "linear_regions"), "evolve": ("naswot", "synflow"),
                      "random": ("naswot", "synflow"), "two_stage": ("synflow", "meco_opt")}

@dataclass(frozen=True)
class TwoStageDefaults:
    """The two-stage search's defaults, chosen on NB201 *validation* accuracy only (benchmarks/search_design.py,
    benchmarks/results/search_design.md): the screen and its budget on a design sample and simulations, the refine
    stage on the survivors of design searches whose seeds no reported search uses. The screen's indicators are
    ``DEFAULT_INDICATORS["two_stage"]``; the ``keep`` best of ``budget`` screened cells are refined with ``refine``
    and the survivors ranked by ``final``."""

    refine: tuple[str, ...] = ("linear_regions", "zen")
    keep: int = 40
    explore: str = "evolve"
    aggregate: str = "log_rank"
    budget: int = 400
    final: str = "refine"


TWO_STAGE = TwoStageDefaults()

#: the seed systems' own protocols (``run_search(..., protocol=...)``, ``zeroscore search --protocol``); read from
#: their launchers (VITA-Group/TENAS ``prune_launch.py``; VITA-Group/TEGNAS ``evolution_launch.py``, ``R_EA.py``,
#: ``te_reward_generator.py``). ``budget``, ``population`` and ``tournament_size`` given to :func:`run_search`
#: override a protocol's (a reduced run states them); everything measured per architecture stays as here.
PROTOCOLS: dict[str, dict] = {
    # TE-NAS: 3 initialisations per measurement, NTK batch 72 on NAS-Bench-201 (14 on DARTS)
    "tenas": {"method": "prune", "indicators": ("ntk_cond", "linear_regions"), "repeats": 3,
              "batch_size": {"nb201": 72, "darts": 14}},
    # TEG-NAS evolution: population 256, tournament 64, 1000 steps (1256 evaluations); the NTK triple on the
    # TE-NAS proxy supernets (3 initialisations, batch 64), ranked within each tournament; the answer is the best
    # of the final population. Deviations: tied values share their average rank (R_EA.py: the better rank), and
    # ntk_generalization holds out half of the one batch (TEG-NAS: a second batch of 64 from the validation split)
    "tegnas": {"method": "evolve", "indicators": ("ntk_cond", "linear_regions", "ntk_generalization"),
               "network": "supernet", "repeats": 3, "batch_size": 64, "population": 256, "tournament_size": 64,
               "budget": 1256, "rank_within": "sample", "pick_from": "population"},
}


def run_search(method: str, space: str = "nb201", dataset: str = "cifar10", seed: int = 0, budget: int | None = None,
               indicators=None, batch_size: int = 64, root=None, repeats: int = 3, population: int | None = None,
               tournament_size: int | None = None, device=None, progress: bool = False,
               verbose: bool = False, refine=None, keep: int | None = None, explore: str | None = None,
               aggregate: str | None = None, final: str | None = None, protocol: str | None = None) -> SearchResult:
    """One search by name (what the CLI and the benchmarks call).

    ``budget`` is the number of architecture evaluations for ``random`` and ``evolve`` (default 100; evolve:
    population + cycles, population defaults to ``max(2, budget // 4)`` capped at 20 and the tournament size to
    ``max(2, population // 4)``); ``prune`` ignores it (its cost is fixed by the supernet) and uses ``repeats``.
    ``two_stage`` screens ``budget`` distinct architectures with ``indicators`` and refines the ``keep`` best with
    ``refine`` (defaults: :data:`TWO_STAGE`; ``refine=()`` for none), aggregating with ``aggregate``
    (``log_rank`` or ``rank_sum``), exploring with ``explore`` (``evolve`` or ``random``) and ranking the survivors
    by ``final`` (``refine`` or ``screen+refine``). ``progress`` shows
    a progress bar with ETA on stderr.

    ``protocol`` runs a seed system at its own settings (:data:`PROTOCOLS`): ``"tenas"`` (``prune``) or
    ``"tegnas"`` (``evolve``); it sets the indicators, batch and repeats (the given ones are ignored) and, unless
    given, the budget, population and tournament size.
    """
    from zeroscore.search.evolution import evolve
    from zeroscore.search.objective import make_objective
    from zeroscore.search.pruning import prune
    from zeroscore.search.random_sampling import random_search
    from zeroscore.search.screen_refine import two_stage

    if method not in DEFAULT_INDICATORS:
        raise UsageError(f"unknown search method {method!r}; use prune, evolve, random or two_stage")
    evolve_options: dict = {}
    if protocol is not None:
        if protocol not in PROTOCOLS:
            raise UsageError(f"unknown protocol {protocol!r}; protocols: {', '.join(sorted(PROTOCOLS))}")
        spec = PROTOCOLS[protocol]
        if spec["method"] != method:
            raise UsageError(f"protocol {protocol!r} is a search by method {spec['method']!r}, not {method!r}")
        indicators, repeats = spec["indicators"], spec["repeats"]
        size = spec["batch_size"]
        if isinstance(size, dict):
            from zeroscore.names import space_name

            name = space_name(space) if isinstance(space, str) else getattr(space, "name", "")
            if name not in size:
                raise UsageError(f"protocol {protocol!r} is defined on {', '.join(size)}, not {space!r}")
            size = size[name]
        batch_size = size
        budget = budget or spec.get("budget")
        population = population or spec.get("population")
        tournament_size = tournament_size or spec.get("tournament_size")
        evolve_options = {k: spec[k] for k in ("rank_within", "pick_from") if k in spec}
    indicators = indicators if indicators else DEFAULT_INDICATORS[method]  # any spec the Scorer parses
    if budget is None:
        budget = TWO_STAGE.budget if method == "two_stage" else 100
    if method == "prune":
        return prune(space, indicators=indicators, dataset=dataset, seed=seed, repeats=repeats,
                     batch_size=batch_size, root=root, device=device, progress=progress, verbose=verbose)
    if method == "two_stage":
        agg = aggregate or TWO_STAGE.aggregate
        objective_agg = "log_rank" if agg == "log_rank" else "rank"
        screen = make_objective(indicators, dataset=dataset, space=space, batch_size=batch_size, seed=seed,
                                root=root, device=device, aggregate=objective_agg)
        refine = TWO_STAGE.refine if refine is None else refine
        refine_obj = None
        if refine:
            refine_obj = make_objective(refine, dataset=dataset, space=space, batch_size=batch_size, seed=seed,
                                        root=root, device=device, aggregate=objective_agg)
        return two_stage(space, screen, refine_obj, budget=budget,
                         keep=min(budget, TWO_STAGE.keep if keep is None else keep),
                         seed=seed, explore=explore or TWO_STAGE.explore, population=population,
                         tournament=tournament_size, aggregate=agg, final=final or TWO_STAGE.final,
                         progress=progress, verbose=verbose)
    on_supernet = protocol is not None and PROTOCOLS[protocol].get("network") == "supernet"
    objective = make_objective(indicators, dataset=dataset, space=space, batch_size=batch_size, seed=seed, root=root,
                               device=device, network="supernet" if on_supernet else "benchmark",
                               repeats=repeats if on_supernet else 1)
    if method == "random":
        return random_search(space, objective, budget=budget, seed=seed, progress=progress, verbose=verbose)
    pop = min(population or max(2, min(20, budget // 4)), budget)
    size = tournament_size or max(2, pop // 4)
    return evolve(space, objective, population=pop, sample=min(size, pop), cycles=max(0, budget - pop), seed=seed,
                  progress=progress, verbose=verbose, **evolve_options)
