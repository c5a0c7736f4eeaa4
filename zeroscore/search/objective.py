"""Search objectives: training-free indicators turned into a cached, higher-is-better function of an architecture.

:func:`make_objective` returns an :class:`Objective`. Calling it on an architecture of the space (or on any
``nn.Module``) returns one float, **higher is better**; the raw indicator values stay available through
:meth:`Objective.values`. It is the plug-in point for searchers that are not in this package (Optuna, your own
loop) and it is what :func:`zeroscore.search.evolve` and :func:`zeroscore.search.random_search` consume.

What is computed for an architecture
    The space builds the benchmark network (``space.build(arch, num_classes, seed=seed)``) and
    :func:`zeroscore.score` runs the indicators on one deterministic batch ``data.load_batch(dataset,
    batch_size=batch_size, seed=seed)``. ``linear_regions`` follows TE-NAS: it is counted on the space's thin
    network (``space.build_thin``: C=1, no stem, one input channel) fed 3x3 crops of single image channels (every
    channel of every image of the batch becomes one 1-channel image), as ``zeroscore.runner`` does. An
    ``nn.Module`` is scored as given (``linear_regions`` then on the module itself). With ``network="supernet"``
    (TEG-NAS's evolution) the cell is measured instead as the single path of TE-NAS's small proxy supernets,
    averaged over ``repeats`` initialisations (:class:`zeroscore.search.supernet_scoring.SinglePathScorer`).
    Architectures are cached by ``space.key(arch)``: asking again costs nothing (:meth:`Objective.cache_info`).
    Modules are never cached (a module can change between calls).

Direction
    Each indicator's value is multiplied by +1 (``higher_is_better``) or -1 (e.g. ``ntk_cond``), so every
    *signed* value is higher-is-better; a failed (NaN) value counts as the worst.

Combining several indicators (``aggregate``)
    A sum of ranks (TE-NAS, TEG-NAS) is only defined relative to a population, so there are two views:

    * Population searchers (``evolve``, ``random_search``, ``two_stage`` and :meth:`Objective.fitness`) rank every
      signed indicator across the population they hold and add the ranks (``aggregate="rank"``, the default; ties
      get their average rank, NaN the lowest). This is TE-NAS's / TEG-NAS's combination. ``aggregate="log_rank"``
      adds ``log(rank / n)`` instead (AZ-NAS): one bad indicator costs more than one good indicator gains, so the
      winner must be good on all of them.
    * The single-architecture call ``objective(arch)`` must not change when other architectures are scored
      (an optimiser such as Optuna's TPE models a fixed function), so it is scored against a **fixed reference
      sample**: ``reference`` architectures drawn once from the space (seeded, scored lazily at the first
      multi-indicator call and counted in ``cache_info()``). Each signed value is log-compressed
      (``sign(v) * log1p(|v|)``, NTK condition numbers and region counts span decades) and turned into a robust
      z-score against the reference (median / scaled MAD); the call returns the mean z-score over indicators.
      A z-score is a smooth stand-in for a rank (for normal scores it is a monotone map of the percentile) that
      keeps discriminating *beyond* the reference's best member, where percentiles would all saturate at 1.
      ``aggregate="zscore"`` uses this same z-score also inside populations; ``aggregate="sum"`` adds the signed
      raw values (only sensible for indicators on one scale).

    With a single indicator no reference is needed: ``objective(arch)`` is its signed value.

Worked example 1 -- your own loop::

    import random
    from zeroscore.search import make_objective
    from zeroscore import spaces

    space = spaces.get("nb201")
    obj = make_objective(["naswot", "synflow"], dataset="cifar10", batch_size=32, reference=8)
    rng = random.Random(0)
    arch = space.sample(1, seed=0)[0]
    best, best_f = arch, obj(arch)
    for step in range(20):                       # simple hill climbing
        cand = space.mutate(best, rng)
        f = obj(cand)                            # cached: a revisited cell costs nothing
        if f > best_f:
            best, best_f = cand, f
    print(best, best_f, obj.cache_info())

Worked example 2 -- Optuna over NB201's 6 edges x 5 ops::

    import optuna
    from zeroscore.spaces.nb201 import NB201_OPS, EDGE_NAMES
    obj = make_objective("naswot", dataset="cifar10", batch_size=32)

    def trial_fn(trial):
        ops = [trial.suggest_categorical(f"edge {e}", list(NB201_OPS)) for e in EDGE_NAMES]
        return obj(ops)                          # a 6-op sequence is accepted by the NB201 space

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(trial_fn, n_trials=30)
    print(obj.space.canonical([study.best_params[f"edge {e}"] for e in EDGE_NAMES]))

Ground truth (``zeroscore.truth``) is never imported by this package: searches cannot see accuracies; only the
CLI and the benchmark script look them up to *report* what a search found.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from zeroscore.errors import UsageError
from zeroscore.probe import derived_seed
from zeroscore.ranking import log_rank, orient, rank_sum
from zeroscore.search.result import SearchResult

__all__ = ["Objective", "make_objective", "SearchResult", "robust_z", "symlog"]


# ---------------------------------------------------------------------------------------------------------------
# combination helpers of the z-score view (ranks and directions: zeroscore.ranking)


def symlog(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return np.sign(v) * np.log1p(np.abs(v))


def robust_z(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Robust z-scores of ``symlog(values)`` against ``symlog(reference)`` (median, 1.4826 * MAD)."""
    ref = symlog(np.asarray(reference, dtype=float))
    ref = ref[np.isfinite(ref)]
    x = symlog(values)
    if ref.size == 0:
        return np.where(np.isfinite(x), 0.0, -np.inf)
    med = np.median(ref)
    scale = 1.4826 * np.median(np.abs(ref - med))
    if not scale > 0:
        scale = np.std(ref) if np.std(ref) > 0 else 1.0
    z = (x - med) / scale
    return np.where(np.isnan(z), -np.inf, z)


# ---------------------------------------------------------------------------------------------------------------
# the objective


class Objective:
    """A cached, direction-aware, higher-is-better function of an architecture; see the module docstring.

    Build it with :func:`make_objective`. Main members: ``obj(arch)`` (float), ``obj.values(arch)`` (raw
    indicator values), ``obj.fitness(archs)`` (population-relative combined scores), ``obj.cache_info()``,
    ``obj.history()`` (every evaluation), ``obj.names``, ``obj.higher_is_better``.
    """

    def __init__(self, indicators="naswot", dataset: str = "cifar10", space="nb201", batch_size: int = 64,
                 seed: int = 0, aggregate: str = "rank", root=None, reference: int | Sequence[Any] = 16,
                 thin_linear_regions: bool = True, num_classes: int | None = None, device=None,
                 network: str = "benchmark", repeats: int = 1):
        from zeroscore import data as zdata
        from zeroscore import spaces as zspaces
        from zeroscore.scorer import Scorer

        if aggregate not in ("rank", "log_rank", "zscore", "sum"):
            raise UsageError(f"aggregate must be 'rank', 'log_rank', 'zscore' or 'sum', got {aggregate!r}")
        self.scorer = Scorer(indicators, seed=seed, device=device, thin=thin_linear_regions)
        self.indicators = self.scorer.indicators
        self.names = self.scorer.names
        self.higher_is_better = {n: self.scorer.higher_is_better(n) for n in self.names}
        self.space = zspaces.get(space) if isinstance(space, str) else space
        self.space_name = getattr(self.space, "name", str(space))
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.aggregate = aggregate
        self.root = root
        self.device = device
        self.num_classes = int(num_classes) if num_classes is not None else zdata.num_classes(dataset)
        self.plan = self.scorer.plan(self.space)
        self.network, self.repeats = network, int(repeats)
        self._single_path = None
        if network not in ("benchmark", "supernet"):
            raise UsageError(f"network must be 'benchmark' or 'supernet', got {network!r}")
        if network == "supernet":
            from zeroscore.search.supernet_scoring import SinglePathScorer

            self._single_path = SinglePathScorer(self.space_name, indicators, dataset, self.seed, self.batch_size,
                                                 root, self.num_classes, self.repeats, device)
        elif self.repeats != 1:
            raise UsageError(f"repeats={repeats!r}: averaging initialisations is TEG-NAS's measurement on the TE-NAS "
                             "supernets (network='supernet'); the benchmark network is scored once")
        self._reference_spec = reference
        self._reference_values: dict[str, np.ndarray] | None = None
        self._batch = None
        self._cache: dict[Any, dict[str, float]] = {}
        self._compute_seconds: dict[Any, float] = {}
        self._rows: list[dict] = []
        self.hits = 0
        self.misses = 0
        self.seconds = 0.0
        self.reference_evaluations = 0

    # ------------------------------------------------------------------ data and scoring
    def batch(self):
        if self._batch is None:
            from zeroscore.data import load_batch

            self._batch = load_batch(self.dataset, root=self.root, batch_size=self.batch_size, seed=self.seed)
        return self._batch

    def _score_arch(self, arch) -> dict[str, float]:
        if self._single_path is not None:
            return self._single_path(arch)
        x, y = self.batch()
        result = self.scorer.score_arch(self.space, arch, x, y, num_classes=self.num_classes, plan=self.plan)
        return {n: float(result.values.get(n, math.nan)) for n in self.names}

    def values(self, arch) -> dict[str, float]:
        """Raw indicator values of ``arch`` (an architecture of the space, or an ``nn.Module``); cached."""
        start = time.perf_counter()
        if isinstance(arch, nn.Module) and self.network == "supernet":
            raise UsageError("an objective measured on the TE-NAS supernets scores architectures of its space, "
                             "not modules; use network='benchmark' for an nn.Module")
        if isinstance(arch, nn.Module):
            x, y = self.batch()
            r = self.scorer.score(arch, x, y)
            vals = {n: float(r.values.get(n, math.nan)) for n in self.names}
            self.misses += 1
            dt = time.perf_counter() - start
            self.seconds += dt
            self._rows.append({"arch": f"<module {type(arch).__name__}>", **vals, "seconds": dt, "cached": False})
            return dict(vals)
        key = self.space.key(arch)  # the cache's identity (NB101: the module hash); scored in canonical form
        if key in self._cache:
            self.hits += 1
            return dict(self._cache[key])
        canonical = self.space.canonical(arch)
        vals = self._score_arch(canonical)
        dt = time.perf_counter() - start
        self._cache[key] = vals
        self._compute_seconds[key] = dt
        self.misses += 1
        self.seconds += dt
        self._rows.append({"arch": canonical, **vals, "seconds": dt, "cached": False})
        return dict(vals)

    def compute_seconds(self, arch) -> float:
        """Seconds the (cached) evaluation of ``arch`` took when it was computed (NaN if never computed)."""
        return self._compute_seconds.get(self.space.key(arch), math.nan)

    def is_cached(self, arch) -> bool:
        return not isinstance(arch, nn.Module) and self.space.key(arch) in self._cache

    def signed_values(self, vals: Mapping[str, float]) -> dict[str, float]:
        return {n: float(orient(vals[n], self.higher_is_better[n])) for n in self.names}

    # ------------------------------------------------------------------ combination
    def reference_values(self) -> dict[str, np.ndarray]:
        """Signed indicator values of the fixed reference sample (scored once, lazily)."""
        if self._reference_values is None:
            spec = self._reference_spec
            if isinstance(spec, int):
                archs = self.space.sample(spec, seed=derived_seed(self.seed, "objective-reference") % (2**31))
            else:
                archs = list(spec)
            before = self.misses
            rows = [self.signed_values(self.values(a)) for a in archs]
            self.reference_evaluations = self.misses - before
            self._reference_values = {n: np.array([r[n] for r in rows], dtype=float) for n in self.names}
        return self._reference_values

    def fitness(self, value_rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Combined higher-is-better scores of a population given its raw value rows (see ``aggregate``)."""
        rows = [self.signed_values(v) for v in value_rows]
        if not rows:
            return np.zeros(0)
        cols = [np.array([r[n] for r in rows], dtype=float) for n in self.names]
        if len(self.names) == 1:
            return np.where(np.isnan(cols[0]), -np.inf, cols[0])
        if self.aggregate == "rank":
            # a failed value ties with -inf, as the searches always ranked it
            return rank_sum([np.where(np.isnan(c), -np.inf, c) for c in cols])
        if self.aggregate == "log_rank":
            return log_rank([np.where(np.isnan(c), -np.inf, c) for c in cols])
        if self.aggregate == "sum":
            total = np.sum(cols, axis=0)
            return np.where(np.isnan(total), -np.inf, total)
        ref = self.reference_values()
        return np.mean([robust_z(c, ref[n]) for c, n in zip(cols, self.names)], axis=0)

    def score_values(self, vals: Mapping[str, float]) -> float:
        """The stationary single-architecture score of raw values (what ``obj(arch)`` returns)."""
        s = self.signed_values(vals)
        if len(self.names) == 1:
            v = s[self.names[0]]
            return -math.inf if math.isnan(v) else v
        if self.aggregate == "sum":
            total = sum(s.values())
            return -math.inf if math.isnan(total) else float(total)
        ref = self.reference_values()
        return float(np.mean([robust_z(np.array([s[n]]), ref[n])[0] for n in self.names]))

    def __call__(self, arch) -> float:
        return self.score_values(self.values(arch))

    # ------------------------------------------------------------------ bookkeeping
    def cache_info(self) -> dict:
        """``hits``, ``misses`` (evaluations computed), ``size`` (archs cached), ``seconds`` (compute time),
        ``reference`` (evaluations spent on the reference sample)."""
        return {"hits": self.hits, "misses": self.misses, "size": len(self._cache), "seconds": self.seconds,
                "reference": self.reference_evaluations}

    def history(self) -> pd.DataFrame:
        """Every evaluation computed (not the cache hits), in order."""
        return pd.DataFrame(self._rows)

    def describe(self) -> str:
        where = "" if self.network == "benchmark" else f", TE-NAS supernets x{self.repeats} inits"
        return (f"{'+'.join(self.names)} on {self.dataset} (batch {self.batch_size}, seed {self.seed}, "
                f"aggregate {self.aggregate}{where}) in {self.space_name}")

    def __repr__(self) -> str:
        return f"Objective({self.describe()})"


def make_objective(indicators="naswot", dataset: str = "cifar10", space="nb201", batch_size: int = 64,
                   seed: int = 0, aggregate: str = "rank", root=None, reference: int | Sequence[Any] = 16,
                   thin_linear_regions: bool = True, num_classes: int | None = None, device=None,
                   network: str = "benchmark", repeats: int = 1) -> Objective:
    """A cached, higher-is-better objective over architectures of ``space`` (or any ``nn.Module``).

    Args:
        indicators: one name, a list of names/instances, or ``{name: params}`` (see :func:`zeroscore.score`).
        dataset: data for the scoring batch (``cifar10``, ``cifar100``, ``imagenet16_standin``, ``gaussian``).
        space: a space name or object (``build``, ``key``; ``build_thin`` for TE-NAS's linear regions).
        batch_size: images in the scoring batch.
        seed: network initialisation and batch selection (fixed for the objective's lifetime).
        aggregate: ``"rank"`` (default), ``"log_rank"``, ``"zscore"`` or ``"sum"`` -- how several indicators are
            combined; see the module docstring (single-arch calls of a multi-indicator ``"rank"`` / ``"log_rank"``
            objective use z-scores against the reference sample).
        reference: number of random archs of the space (or a list of archs) forming the fixed reference of the
            single-architecture score of a multi-indicator objective.
        thin_linear_regions: count ``linear_regions`` on ``space.build_thin`` as TE-NAS (default True).
        num_classes: classifier size (default: the dataset's).
        device: scoring device (default: CPU / where the model lives).
        network: ``"benchmark"`` (default: the space's own network, built per architecture) or ``"supernet"``
            (TEG-NAS's evolution: the cell is the single path of TE-NAS's proxy supernets, ``C=3, N=1`` with stem
            for the NTK indicators and the thin ``C=1`` one for ``linear_regions``, Kaiming-normal initialised once
            per repeat and shared by every architecture, as :func:`zeroscore.search.prune` measures; ``nb201``
            and ``darts`` only).
        repeats: ``network="supernet"``: initialisations (each with its own batch) averaged per indicator
            (TEG-NAS: 3).
    """
    return Objective(indicators, dataset=dataset, space=space, batch_size=batch_size, seed=seed,
                     aggregate=aggregate, root=root, reference=reference, thin_linear_regions=thin_linear_regions,
                     num_classes=num_classes, device=device, network=network, repeats=repeats)


def as_value_fn(objective: Callable) -> tuple[Callable[[Any], dict], Callable[[list], np.ndarray], list[str]]:
    """Adapt an :class:`Objective` or a plain ``f(arch) -> float`` (higher better) to (values, fitness, names)."""
    if isinstance(objective, Objective):
        return objective.values, objective.fitness, list(objective.names)
    if all(callable(getattr(objective, m, None)) for m in ("values", "fitness")) and hasattr(objective, "names"):
        # duck-typed population objective (e.g. a lookup table in a simulation or a test)
        duck: Any = objective
        return duck.values, duck.fitness, list(duck.names)

    def values(arch):
        v = float(objective(arch))
        return {"objective": v}

    def fitness(rows):
        a = np.array([r["objective"] for r in rows], dtype=float)
        return np.where(np.isnan(a), -np.inf, a)

    return values, fitness, ["objective"]
