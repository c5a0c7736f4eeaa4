"""What scoring returns: :class:`ScoreResult` (one model), the result-row schema :data:`ROW_COLUMNS` shared by
the runner's frames and the store, and the key of a stored indicator (:class:`PlannedIndicator`, :func:`params_hash`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zeroscore.indicators.base import Indicator

__all__ = ["ScoreResult", "PlannedIndicator", "ROW_COLUMNS", "params_json", "params_hash"]

#: columns of a result row (one per architecture, seed and indicator), in order: the runner's frames and the store
ROW_COLUMNS = ["space", "arch", "dataset", "seed", "indicator", "value", "seconds", "error", "batch_size", "split",
               "params_hash", "params"]



# ---------------------------------------------------------------------------------------------------------------
# results


@dataclass
class ScoreResult(Mapping):
    """Indicator name -> value (float; NaN where the indicator failed), plus timings, errors and parameters."""

    values: dict[str, float] = field(default_factory=dict)  # type: ignore[assignment]  # shadows Mapping.values
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def to_frame(self):
        """One row per indicator: value, seconds, error (``zeroscore list`` gives each one's direction)."""
        import pandas as pd

        return pd.DataFrame({
            "indicator": list(self.values),
            "value": [self.values[n] for n in self.values],
            "seconds": [self.seconds.get(n, math.nan) for n in self.values],
            "error": [self.errors.get(n) for n in self.values],
        }).set_index("indicator")

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v:.6g}" for k, v in self.values.items())
        return f"ScoreResult({body}{'; errors: ' + ', '.join(self.errors) if self.errors else ''})"


def params_json(params: Mapping[str, Any]) -> str:
    """Canonical JSON of indicator hyper-parameters (sorted keys; tuples become lists; others via ``str``)."""
    return json.dumps(dict(params), sort_keys=True, default=_json_default)


def _json_default(obj: Any):
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    return str(obj)


def params_hash(params: Mapping[str, Any]) -> str:
    """Short stable hash (first 16 hex digits of SHA-256) of :func:`params_json`: part of a stored row's key."""
    return hashlib.sha256(params_json(params).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PlannedIndicator:
    """One indicator as it is computed for a space: the instance (thin-protocol parameters applied), its stored
    parameters (with ``"network": "thin"`` for the thin network) and their hash, and the network."""

    indicator: Indicator
    params: str
    params_hash: str
    network: str = "full"

    @property
    def name(self) -> str:
        return self.indicator.name

    @property
    def thin(self) -> bool:
        return self.network == "thin"
