"""Benchmark search spaces: exact NAS-Bench-201, NATS-Bench SSS, NAS-Bench-101 and DARTS networks.

>>> from zeroscore import spaces
>>> spaces.list_spaces()
['darts', 'nats_sss', 'nb101', 'nb201']
>>> space = spaces.get("nb201")               # alias "nats_tss"
>>> arch = space.arch(0)                      # official index order
>>> net = space.build(arch, num_classes=10, seed=0)

Every space implements :class:`~zeroscore.spaces.base.Space` (``build``, ``canonical``, ``sample``, ``mutate``,
``neighbors``, ``all``, ``index``/``arch``, ``count_params``; ``build_thin``, TE-NAS/TEG-NAS's linear-region
network, where ``has_thin()``: ``nb201``, ``nb101`` and ``darts``). A malformed arch raises
:class:`~zeroscore.errors.InvalidArchError` naming the bad part; an unknown space name
:class:`~zeroscore.errors.UnknownSpaceError`. Names and aliases resolve through :mod:`zeroscore.names`.

Supernets for pruning and weight-sharing search (:mod:`zeroscore.spaces.supernet`): :func:`nb201_supernet`,
:func:`darts_supernet`, or :func:`build_supernet` by space name and preset.

Layout of the package: one sub-package per space, split by job (arch values without torch, ops, networks, the
space object): :mod:`.nb201`, :mod:`.nb101`, :mod:`.darts`, :mod:`.nats_sss`; :mod:`.layout` (the cell graph
shared by NB201 and DARTS); :mod:`.supernet`; :mod:`.base` (the :class:`Space` interface). Modules here import
only :mod:`zeroscore.errors`, :mod:`zeroscore.names`, torch and numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from zeroscore.errors import UnknownSpaceError
from zeroscore.names import add_space_alias, normalize, space_name

from .base import Space, seeded
from .darts import DARTS, DARTS_V1, DARTS_V2, GENOTYPES, PRIMITIVES, AmoebaNet, DartsSpace, Genotype, NASNet
from .layout import CellLayout
from .nats_sss import NATSSSSpace
from .nb101 import NB101Space, nb101_hash
from .nb201 import NB201_OPS, NB201Space, is_degenerate, isomorphism_key, unreachable_ops
from .supernet import (
    DartsSupernet,
    NB201Supernet,
    Supernet,
    build_supernet,
    darts_supernet,
    nb201_supernet,
    supernet_class,
)

__all__ = [
    "get",
    "list_spaces",
    "register",
    "UnknownSpaceError",
    "Space",
    "seeded",
    "CellLayout",
    "NB201Space",
    "NATSSSSpace",
    "NB101Space",
    "DartsSpace",
    "Supernet",
    "NB201Supernet",
    "DartsSupernet",
    "nb201_supernet",
    "darts_supernet",
    "build_supernet",
    "supernet_class",
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


_FACTORIES: dict[str, Callable[[], Space]] = {}
_INSTANCES: dict[str, Space] = {}


def register(name: str, factory: Callable[[], Space], aliases: Iterable[str] = ()) -> None:
    """Register a space factory under ``name``; ``name`` and ``aliases`` go into the alias table of
    :mod:`zeroscore.names` (case, blanks and ``-``/``_`` do not matter)."""
    key = normalize(name)
    _FACTORIES[key] = factory
    _INSTANCES.pop(key, None)
    add_space_alias(key, key)
    for alias in aliases:
        add_space_alias(alias, key)


for _cls in (NB201Space, NATSSSSpace, NB101Space, DartsSpace):
    register(_cls.name, _cls)  # their aliases are in zeroscore.names already


def list_spaces() -> list[str]:
    """Names of the registered spaces (aliases not included), sorted."""
    return sorted(_FACTORIES)


def get(name: str) -> Space:
    """The space registered as ``name`` (or an alias, e.g. ``nats_tss`` for ``nb201``).

    Raises :class:`UnknownSpaceError` (a ``KeyError`` and ``ValueError``) listing the known names.
    """
    key = space_name(name)
    if key not in _FACTORIES:
        raise UnknownSpaceError(f"space {name!r} is named in zeroscore.names but not registered; registered spaces: "
                                f"{', '.join(list_spaces())}")
    if key not in _INSTANCES:
        _INSTANCES[key] = _FACTORIES[key]()
    return _INSTANCES[key]
