"""Random search baseline, NASWOT style (Mellor et al., ICML 2021): sample N architectures, score them, keep the best.

With a multi-indicator :class:`~zeroscore.search.Objective` the best is the highest sum of per-indicator ranks
across the N sampled architectures; with a plain callable, the highest value. Ground truth is never consulted.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from zeroscore.errors import UsageError
from zeroscore.search.evolution import Evaluator, _space
from zeroscore.search.result import SearchResult

__all__ = ["random_search"]


def random_search(space, objective: Callable, budget: int = 100, seed: int = 0, progress: bool = False,
                  verbose: bool = False) -> SearchResult:
    """Score ``budget`` distinct random architectures (``space.sample(budget, seed)``) and return the best;
    ``progress`` shows a progress bar with ETA on stderr."""
    sp = _space(space)
    if budget < 1:
        raise UsageError(f"budget must be >= 1, got {budget}")
    start = time.perf_counter()
    ev = Evaluator(sp, objective, progress_total=budget if progress else None, label="random search")
    for i, a in enumerate(sp.sample(budget, seed=seed)):
        ev.values(a)
        if verbose:
            print(f"{i + 1}/{budget} scored")
    return ev.result("random", seed, start, budget=budget)
