"""Benchmark search spaces: exact NAS-Bench-201, NATS-Bench SSS, NAS-Bench-101 and DARTS networks.

>>> from zeroscore import spaces
>>> spaces.list_spaces()
['darts', 'nats_sss', 'nb101', 'nb201']
>>> space = spaces.get("nb201")               # alias "nats_tss"
>>> arch = space.arch(0)                      # official index order
>>> net = space.build(arch, num_classes=10, seed=0)

Every space implements :class:`~zeroscore.spaces.base.Space` (``build``, ``canonical``, ``sample``, ``mutate``,
``neighbors``, ``all``, ``index``/``arch``, ``count_params``; ``build_thin`` (TE-NAS/TEG-NAS linear-region network) for ``nb201``, ``nb101`` and ``darts``).
Supernets for pruning-based search: :func:`nb201_supernet` and :func:`darts_supernet`.
"""

from __future__ import annotations

from typing import Callable, Dict, List

from zeroscore.errors import UnknownSpaceError

from .base import Space, seeded
from .darts import (
    DARTS,
    DARTS_V1,
    DARTS_V2,
    GENOTYPES,
    PRIMITIVES,
    AmoebaNet,
    DartsSpace,
    DartsSupernet,
    Genotype,
    NASNet,
    darts_supernet,
)
from .nats_sss import NATSSSSpace
from .nb101 import NB101Space, nb101_hash
from .nb201 import (
    NB201_OPS,
    NB201Space,
    NB201Supernet,
    is_degenerate,
    isomorphism_key,
    nb201_supernet,
    unreachable_ops,
)

__all__ = [
    "get",
    "list_spaces",
    "register",
    "UnknownSpaceError",
    "Space",
    "seeded",
    "NB201Space",
    "NATSSSSpace",
    "NB101Space",
    "DartsSpace",
    "NB201Supernet",
    "DartsSupernet",
    "nb201_supernet",
    "darts_supernet",
    "Genotype",
    "PRIMITIVES",
    "NB201_OPS",
    "DARTS",
    "DARTS_V1",
    "DARTS_V2",
    "NASNet",
    "AmoebaNet",
    "GENOTYPES",
    "nb101_hash",
    "unreachable_ops",
    "is_degenerate",
    "isomorphism_key",
]


_FACTORIES: Dict[str, Callable[[], Space]] = {}
_ALIASES: Dict[str, str] = {}
_INSTANCES: Dict[str, Space] = {}


def register(name: str, factory: Callable[[], Space], aliases=()) -> None:
    """Register a space factory under ``name`` (and ``aliases``); names are case-insensitive."""
    key = name.lower()
    _FACTORIES[key] = factory
    _INSTANCES.pop(key, None)
    for a in aliases:
        _ALIASES[a.lower()] = key


for _cls in (NB201Space, NATSSSSpace, NB101Space, DartsSpace):
    register(_cls.name, _cls, _cls.aliases)


def list_spaces() -> List[str]:
    """Names of the registered spaces (aliases not included), sorted."""
    return sorted(_FACTORIES)


def get(name: str) -> Space:
    """The space registered as ``name`` (or an alias, e.g. ``nats_tss`` for ``nb201``).

    Raises :class:`UnknownSpaceError` (a ``KeyError`` and ``ValueError``) listing the known names.
    """
    if not isinstance(name, str):
        raise UnknownSpaceError(f"space name must be a string, got {name!r}; known spaces: {list_spaces()}")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _FACTORIES:
        aliases = sorted(_ALIASES)
        raise UnknownSpaceError(f"unknown space {name!r}; known spaces: {list_spaces()} (aliases: {aliases})")
    if key not in _INSTANCES:
        _INSTANCES[key] = _FACTORIES[key]()
    return _INSTANCES[key]
