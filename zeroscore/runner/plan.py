"""What a run computes: the settings shared by its tasks (:class:`Job`) and the indicators as planned for the space."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zeroscore.results import PlannedIndicator
from zeroscore.scorer import Scorer

__all__ = ["Job", "IndicatorJob", "plan_indicators"]

#: one indicator as the runner computes it (kept under its old name; see :class:`~zeroscore.scorer.PlannedIndicator`)
IndicatorJob = PlannedIndicator


def plan_indicators(indicators: Any = "all", space: Any = None, thin_linear_regions: bool = True,
                    params: Mapping[str, Mapping[str, Any]] | None = None) -> list[PlannedIndicator]:
    """The indicators of a run as :class:`~zeroscore.scorer.PlannedIndicator` s (spec parsed by the Scorer;
    ``linear_regions`` moves to the thin network when the space has one, unless ``thin_linear_regions`` is False)."""
    return Scorer(indicators, params=params, thin=thin_linear_regions).plan(space)


@dataclass(frozen=True)
class Job:
    """Settings shared by every task of a run (picklable; sent to workers with each arch id)."""

    space: Any  # a registered space name, or a Space object
    space_name: str
    dataset: str
    batch_size: int
    split: str
    root: str | None
    device: str | None
    indicators: tuple[PlannedIndicator, ...] = field(default_factory=tuple)
    num_classes: int = 10
    #: torch threads every task computes with (the driver's by default): results depend on the thread count
    #: in the last float32 digits, so a worker with the driver's count reproduces a serial run exactly
    threads: int | None = None
