"""Directions and rankings in one place: orienting indicator values so that larger = predicted better, ranking
them, and combining several rankings (TE-NAS rank sum, AZ-NAS log-rank)."""

from __future__ import annotations

import numpy as np

__all__ = ["orient"]


def orient(values, higher_is_better: bool) -> np.ndarray:
    """``values`` as float, negated when lower is better, so that larger always means "predicted better".
    NaN (a failed value) stays NaN."""
    v = np.asarray(values, dtype=float)
    return v if higher_is_better else -v
