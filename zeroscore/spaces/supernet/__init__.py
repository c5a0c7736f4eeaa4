"""Cell supernets for pruning and weight-sharing search: :class:`NB201Supernet` and :class:`DartsSupernet`.

Both derive from :class:`Supernet` (op masks per cell type, optional per-edge op weights in ``forward``, the cell
layout, ``to_arch``, the parameters of each candidate op); what a mask means is a :class:`SupernetLayout`, which
needs no network. :func:`supernet_class` and :func:`build_supernet` find them by space name:

>>> from zeroscore.spaces.supernet import build_supernet, supernet_class
>>> net = build_supernet("nb201", "tenas_ntk", num_classes=10, seed=0)   # TE-NAS's NTK supernet
>>> supernet_class("darts").mask_layout().edges_into(3)                 # rows of the edges 3<-0, 3<-1, 3<-2
(2, 3, 4)
"""

from __future__ import annotations

from typing import Any

from zeroscore.errors import UsageError
from zeroscore.names import space_name

from ..base import seeded
from .base import CandidateOp, MixedOp, SearchCell, Supernet
from .darts import DartsLayout, DartsSupernet, darts_supernet
from .masks import SupernetLayout
from .nb201 import NB201Layout, NB201Supernet, nb201_supernet

__all__ = [
    "Supernet",
    "SupernetLayout",
    "SearchCell",
    "MixedOp",
    "CandidateOp",
    "NB201Supernet",
    "NB201Layout",
    "nb201_supernet",
    "DartsSupernet",
    "DartsLayout",
    "darts_supernet",
    "SUPERNETS",
    "supernet_class",
    "build_supernet",
]

#: registered space name -> its supernet class
SUPERNETS: dict[str, type[Supernet]] = {"nb201": NB201Supernet, "darts": DartsSupernet}


def supernet_class(space: str) -> type[Supernet]:
    """The supernet class of a space (name or alias); :class:`UsageError` for a space without one."""
    name = space_name(space)
    if name not in SUPERNETS:
        raise UsageError(f"space {space!r} has no supernet; supernets exist for {', '.join(sorted(SUPERNETS))}")
    return SUPERNETS[name]


def build_supernet(space: str, preset: str | None = None, *, seed: int | None = None,
                   **kwargs: Any) -> Supernet:
    """A supernet of ``space`` from a named ``preset`` of its class (``PRESETS``, e.g. ``"tenas_ntk"``,
    ``"tenas_thin"``) updated with ``kwargs``; deterministic initialisation when ``seed`` is given, otherwise the
    caller's torch RNG is used (and advanced)."""
    cls = supernet_class(space)
    options: dict[str, Any] = {}
    if preset is not None:
        if preset not in cls.PRESETS:
            raise UsageError(f"unknown {cls.__name__} preset {preset!r}; presets: {sorted(cls.PRESETS)}")
        options.update(cls.PRESETS[preset])
    options.update(kwargs)
    with seeded(seed):
        return cls(**options)
