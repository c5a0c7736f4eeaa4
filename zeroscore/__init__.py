"""zeroscore: training-free neural architecture search indicators for any ``torch.nn.Module``.

Quick start::

    import zeroscore
    x, y = zeroscore.data.load_batch("cifar10", batch_size=64)   # or "gaussian"
    result = zeroscore.score(my_model, x, y)                      # every registered indicator
    print(result.to_frame())

The nouns: :class:`Indicator` (and the registry: :func:`register`, :func:`get_indicator`, :func:`list_indicators`),
:class:`Probe`, :class:`Scorer`, :class:`Space` (:func:`get_space`, :func:`list_spaces`), :class:`Store`
(:func:`open_store`) and the errors of :mod:`zeroscore.errors`. The verbs: :func:`score`, :func:`score_many`,
:func:`correlate`, :func:`rank_aggregate`, :func:`make_objective`, :func:`prune`, :func:`evolve`,
:func:`random_search`. Modules: ``data``, ``spaces``, ``truth``, ``analysis``, ``plots``, ``search``, ``testing``.
Everything is imported on first use, so ``import zeroscore`` stays light (no torch until it is needed).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from zeroscore._version import __version__
from zeroscore.errors import (
    DamagedFileError,
    DataNotFoundError,
    IndicatorNotApplicable,
    InvalidArchError,
    InvalidInputError,
    InvalidParameterError,
    MissingExtraError,
    MissingInputError,
    NoGroundTruthError,
    NotSupportedError,
    OutputExistsError,
    StoreError,
    UnknownDatasetError,
    UnknownIndicatorError,
    UnknownSpaceError,
    UsageError,
    ZeroscoreError,
)

if TYPE_CHECKING:  # pragma: no cover - what type checkers and IDEs see behind the lazy names
    from zeroscore.indicators.base import Indicator as Indicator
    from zeroscore.indicators.base import get_indicator as get_indicator
    from zeroscore.indicators.base import list_indicators as list_indicators
    from zeroscore.indicators.base import register as register
    from zeroscore.probe import Probe as Probe
    from zeroscore.scorer import Scorer as Scorer
    from zeroscore.scorer import ScoreResult as ScoreResult
    from zeroscore.scorer import score as score

#: name -> (module, attribute or None for the module itself), imported on first use (torch included: the command
#: line parses its arguments and lists indicators without importing it)
_LAZY: dict[str, tuple[str, str | None]] = {
    "Indicator": ("zeroscore.indicators.base", "Indicator"),
    "register": ("zeroscore.indicators.base", "register"),
    "get_indicator": ("zeroscore.indicators.base", "get_indicator"),
    "list_indicators": ("zeroscore.indicators.base", "list_indicators"),
    "Probe": ("zeroscore.probe", "Probe"),
    "Scorer": ("zeroscore.scorer", "Scorer"),
    "ScoreResult": ("zeroscore.scorer", "ScoreResult"),
    "score": ("zeroscore.scorer", "score"),
    "score_many": ("zeroscore.runner", "score_many"),
    "correlate": ("zeroscore.analysis", "correlate"),
    "rank_aggregate": ("zeroscore.analysis", "rank_aggregate"),
    "make_objective": ("zeroscore.search.objective", "make_objective"),
    "prune": ("zeroscore.search.pruning", "prune"),
    "evolve": ("zeroscore.search.evolution", "evolve"),
    "random_search": ("zeroscore.search.random_sampling", "random_search"),
    "Space": ("zeroscore.spaces.base", "Space"),
    "get_space": ("zeroscore.spaces", "get"),
    "list_spaces": ("zeroscore.spaces", "list_spaces"),
    "Store": ("zeroscore.store", "Store"),
    "open_store": ("zeroscore.store", "open_store"),
    "data": ("zeroscore.data", None),
    "spaces": ("zeroscore.spaces", None),
    "truth": ("zeroscore.truth", None),
    "analysis": ("zeroscore.analysis", None),
    "plots": ("zeroscore.plots", None),
    "search": ("zeroscore.search", None),
    "testing": ("zeroscore.testing", None),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = importlib.import_module(module) if attr is None else getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zeroscore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__", *_LAZY,
    "ZeroscoreError", "UnknownIndicatorError", "UnknownSpaceError", "UnknownDatasetError", "IndicatorNotApplicable",
    "MissingInputError", "InvalidInputError", "InvalidArchError", "InvalidParameterError", "DataNotFoundError",
    "DamagedFileError", "NoGroundTruthError", "NotSupportedError", "OutputExistsError", "StoreError",
    "MissingExtraError", "UsageError",
]
