"""DARTS CNN search space (``darts``): evaluation network, known genotypes, thin network and supernet.

Architecture value
    A :data:`Genotype` namedtuple ``(normal, normal_concat, reduce, reduce_concat)`` as in quark0/darts
    ``cnn/genotypes.py``: ``normal``/``reduce`` list two ``(op, input)`` pairs per intermediate node
    (node ``k + 2`` for step ``k``; inputs ``0`` = c_{k-2}, ``1`` = c_{k-1}, ``j >= 2`` = earlier node),
    ``*_concat`` the nodes concatenated into the cell output. The canonical value is a Genotype whose
    fields are tuples (hashable); ``str(genotype)`` round-trips through ``canonical`` (which also accepts
    ``Genotype(...)`` strings with lists or ``range(2, 6)``, dicts and any object with the four attributes).
    The order of the pairs is kept (it fixes the module order of the network). Ops of the space:
    ``none, max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3,
    dil_conv_5x5`` (DARTS ``PRIMITIVES``); ``sep_conv_7x7`` and ``conv_7x1_1x7`` are also buildable so the
    NASNet/AmoebaNet genotypes can be instantiated. ``sample``/``mutate``/``neighbors`` stay in the DARTS
    space proper: 4 steps, two *distinct* inputs per node, ops from ``PRIMITIVES`` without ``none``,
    concat ``(2, 3, 4, 5)``.

Network (``build``)
    ``NetworkCIFAR`` of quark0/darts ``cnn/model.py`` (own implementation, same module names):
    C=36, layers=20, stem conv3x3(3 -> 3C)+BN, reduction cells at layers//3 and 2*layers//3 (channels
    doubled), preprocessing ReLU-Conv1x1-BN (``FactorizedReduce`` after a reduction), ops with affine BN,
    global average pool + Linear. No auxiliary head by default (``DartsSpace(auxiliary=True)`` adds it; the
    auxiliary logits are then stored in ``net.logits_aux`` during training and ``forward`` still returns the
    main logits); ``drop_path_prob`` is 0. Published size: DARTS (V2) 3.3M parameters at C=36, L=20
    (DARTS paper, Table 1); this builder gives 3,349,342 (auxiliary head excluded, as DARTS'
    ``count_parameters_in_MB``).

Thin network (``build_thin``)
    TE-NAS (VITA-Group/TENAS ``prune_tenas.py``) counts linear regions of the NASNet-style super net with
    ``C=1, N=1, depth=2, use_stem=False, stem_multiplier=1``: a normal cell (C=1) and a reduction cell
    (C=2) applied directly to a 1-channel input, then BN-ReLU-pool-Linear. ``build_thin`` builds that
    network for one genotype (1 input channel; TE-NAS feeds ``(1000, 1, 3, 3)`` crops).

Supernet (``darts_supernet``)
    ``model_search.Network`` of DARTS with per-edge op masks (and optional per-edge op weights); it lives in
    :mod:`zeroscore.spaces.supernet` (``DartsSupernet`` and ``darts_supernet`` are re-exported here). Edge
    indexing: :data:`CELL_LAYOUT` (``0: 2<-0, 1: 2<-1, 2: 3<-0, ..., 13: 5<-4``).

Modules
    :mod:`.genotypes` (value type, op names, known genotypes, parser; no torch), :mod:`.ops`, :mod:`.network`
    (``NetworkCIFAR``, ``ThinNetwork``), :mod:`.space` (:class:`DartsSpace`); everything is importable from here.
"""

from __future__ import annotations

from .genotypes import (
    BUILDABLE_OPS,
    CELL_LAYOUT,
    DARTS,
    DARTS_V1,
    DARTS_V2,
    EDGE_NAMES,
    EDGES,
    GENOTYPES,
    PRIMITIVES,
    STEPS,
    AmoebaNet,
    Genotype,
    NASNet,
    parse_genotype,
)
from .network import AuxiliaryHeadCIFAR, Cell, NetworkCIFAR, ThinNetwork
from .ops import DilConv, FactorizedReduce, Identity, ReLUConvBN, SepConv, Zero, make_op
from .space import DartsSpace

__all__ = [
    "Genotype",
    "PRIMITIVES",
    "BUILDABLE_OPS",
    "STEPS",
    "CELL_LAYOUT",
    "EDGES",
    "EDGE_NAMES",
    "DARTS_V1",
    "DARTS_V2",
    "DARTS",
    "NASNet",
    "AmoebaNet",
    "GENOTYPES",
    "parse_genotype",
    "DartsSpace",
    "NetworkCIFAR",
    "ThinNetwork",
    "Cell",
    "AuxiliaryHeadCIFAR",
    "DartsSupernet",
    "darts_supernet",
    "make_op",
    "ReLUConvBN",
    "DilConv",
    "SepConv",
    "Identity",
    "Zero",
    "FactorizedReduce",
]

_SUPERNET_NAMES = ("DartsSupernet", "darts_supernet")


def __getattr__(name: str):
    # The supernet is built from this package's ops, so importing it here eagerly would be circular; it is
    # looked up on first use instead (``from zeroscore.spaces.darts import DartsSupernet`` keeps working).
    if name in _SUPERNET_NAMES:
        from ..supernet import darts as supernet_module

        return getattr(supernet_module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
