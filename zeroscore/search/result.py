"""What every searcher returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["SearchResult"]


@dataclass
class SearchResult:
    """What a search returns.

    Attributes:
        best: the architecture found (canonical form of the space; a DARTS ``Genotype`` for DARTS).
        values: its raw indicator values plus ``"objective"`` (the searcher's own score of it).
        history: one row per architecture scored: ``step``, ``arch``, the raw indicator values, ``objective``
            and ``seconds`` (compute time of that evaluation; 0 for a cache hit); for ``prune``, one row per
            candidate removal measured.
        archs_scored: distinct architectures (or supernet configurations, for ``prune``) evaluated.
        wall_seconds: elapsed time of the search.
        seed, method: as given.
        info: searcher-specific details (settings, pruning trace, ...).
    """

    best: Any
    values: dict
    history: pd.DataFrame
    archs_scored: int
    wall_seconds: float
    seed: int
    method: str
    space: str = ""
    dataset: str = ""
    info: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={v:.4g}" for k, v in self.values.items() if isinstance(v, (int, float)))
        return (f"SearchResult(method={self.method!r}, best={self.best!r}, {vals}; "
                f"{self.archs_scored} scored in {self.wall_seconds:.1f}s, seed={self.seed})")
