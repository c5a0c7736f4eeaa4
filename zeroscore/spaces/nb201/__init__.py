"""NAS-Bench-201 / NATS-Bench topology search space (``nb201``, alias ``nats_tss``).

Architecture value
    The official cell string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: the i-th ``+``-separated group lists
    the edges into node i, ``op~j`` being the operation on the edge from node j. Node 0 is the cell input,
    node 3 the cell output. Ops: ``none``, ``skip_connect``, ``nor_conv_1x1``, ``nor_conv_3x3``,
    ``avg_pool_3x3``. :meth:`NB201Space.canonical` also accepts the edges of a node in any order and a
    sequence of 6 op names in edge order (see *Edge indexing*); it returns the official string.

Edge indexing (used by the supernet masks, the 6-op tuple form and :func:`parse_arch`)
    ``0: 1<-0, 1: 2<-0, 2: 2<-1, 3: 3<-0, 4: 3<-1, 5: 3<-2`` -- the order of the string, which is also
    the ``edge2index`` order (sorted ``"i<-j"`` keys) of the NAS-Bench-201/TE-NAS search cells
    (:data:`CELL_LAYOUT`, a :class:`~zeroscore.spaces.layout.CellLayout`).

Network (``build``)
    The NAS-Bench-201 ``TinyNetwork`` (D-X-Y/AutoDL-Projects ``lib/models/cell_infers/tiny_network.py``,
    ``cells.py``, ``cell_operations.py``): stem conv3x3(3->16, no bias)+BN; three stages of N=5 cells with
    C=16/32/64 separated by ``ResNetBasicblock`` reductions (ReLU-Conv3x3(stride 2)-BN, ReLU-Conv3x3-BN,
    shortcut AvgPool2x2 + Conv1x1 without BN); head BN-ReLU-global average pool-Linear. Cell ops are
    ReLU-Conv-BN with ``bias=False``; BatchNorm everywhere is ``affine=True, track_running_stats=True``
    (the defaults of ``InferCell``/``TinyNetwork``); ``avg_pool_3x3`` is ``AvgPool2d(3, 1, 1,
    count_include_pad=False)``; ``none`` outputs zeros (``x * 0``). Module names mirror the official code
    (``stem``, ``cells.k.layers.e``, ``lastact``, ``classifier``) so official state dicts line up.
    ``forward`` returns the logits only (the official model returns ``(features, logits)``).

Parameter count
    ``params_mb`` of the benchmark is ``sum(p.numel() for p in model.parameters()) / 1e6`` of this network
    with a 10-class head, i.e. *all* parameters including the BatchNorm affine weights.
    :meth:`NB201Space.count_params` uses the closed form ``stem + cells + reductions + head`` (see
    :func:`cell_params`), which equals the built network. It matches ``params_mb`` exactly for 15,421 of
    the 15,625 cells. For the other 204 the table value is not the count of any single network: it is a
    mean over the per-seed records of ``NAS-Bench-201-v1_1-096897.pth``, and some of those records were
    shared within an isomorphism class (NAS-Bench-201's ``to_unique_str`` rule) and carry the count of an
    isomorphic cell whose *dead* ops differ (e.g. index 296 reads 0.119973 = (2 x 129,306 + 101,306) / 3:
    one seed record holds the count of the class member without the dead ``nor_conv_1x1``). Every one of
    the 204 values is reproduced as such a mean of 1-4 counts of members of the cell's class that include
    the cell's own count (``benchmarks/check_param_counts.py``, ``benchmarks/results/param_counts.md``).

Official index order
    ``index``/``arch`` follow NAS-Bench-201 / NATS-Bench TSS: all 5**6 cells generated in
    ``itertools.product`` order over the op list ``[none, skip_connect, nor_conv_1x1, nor_conv_3x3,
    avg_pool_3x3]`` with edge ``1<-0`` slowest and ``3<-2`` fastest (``CellStructure.gen_all``), then
    shuffled with ``random.seed(88); random.shuffle(archs)`` (AutoDL-Projects
    ``exps/NAS-Bench-201/main.py::generate_meta_info`` and NATS-Bench ``traverse_net``). Reproduced here
    with a local ``random.Random(88)``; verified against the ``index``/``arch_str`` columns of the
    benchmark table for all 15,625 cells.

Dead ops and isomorphism (``unreachable_ops``, ``is_degenerate``, ``isomorphism_key``)
    An op is *unreachable* (dead) when its edge j->i is not ``none`` but node j cannot be reached from the
    input through non-``none`` edges, or node i cannot reach the output through non-``none`` edges: it
    cannot influence the cell output. A cell is *degenerate* when the output is not reachable from the
    input at all (the cell output is identically zero). ``isomorphism_key(arch)`` (rule ``"functional"``,
    the default) is the symbolic expression computed by the cell output: node 0 is ``x``; each node is
    the multiset (sorted, duplicates kept) of its incoming terms; ``none`` edges and edges from zero nodes
    contribute nothing; ``skip_connect`` contributes the terms of its source node (addition is
    associative); any other op contributes ``op(<source expression>)``; an empty node is ``0``. Two cells
    get the same key iff they compute the same parametrised function up to renaming the weights, so dead
    ops, reorderings of parallel branches and skip chains are factored out. Rule ``"nb201"`` reproduces
    the official ``Structure.to_unique_str(consider_zero=True)`` of NAS-Bench-201 (zero terms are kept as
    ``#``; a skip of a sum is not flattened into the sum). Over the 15,625 cells the ``"nb201"`` rule gives
    6,466 classes (NAS-Bench-201's count of unique cells) and the functional rule, which merges strictly
    more, 4,930 (see ``tests/test_spaces.py``).

Modules
    :mod:`.arch` (cell strings, dead ops, isomorphism; no torch), :mod:`.ops` (operations, residual block),
    :mod:`.network` (``TinyNetwork``, ``ThinNetwork``, closed-form counts), :mod:`.space` (:class:`NB201Space`).
    Everything is importable from this package; the supernet lives in :mod:`zeroscore.spaces.supernet`
    (``NB201Supernet`` and ``nb201_supernet`` are re-exported here).
"""

from __future__ import annotations

from .arch import (
    CELL_LAYOUT,
    EDGE_NAMES,
    EDGES,
    NB201_OPS,
    NUM_NODES,
    format_arch,
    is_degenerate,
    isomorphism_key,
    parse_arch,
    unreachable_ops,
)
from .network import InferCell, ThinNetwork, TinyNetwork, cell_params, op_params, resblock_params, tiny_network_params
from .ops import FactorizedReduce, Identity, Pooling, ReLUConvBN, ResNetBasicblock, Zero, make_op
from .space import NB201Space

__all__ = [
    "NB201_OPS",
    "CELL_LAYOUT",
    "EDGES",
    "EDGE_NAMES",
    "NUM_NODES",
    "NB201Space",
    "NB201Supernet",
    "nb201_supernet",
    "parse_arch",
    "format_arch",
    "unreachable_ops",
    "is_degenerate",
    "isomorphism_key",
    "op_params",
    "cell_params",
    "resblock_params",
    "tiny_network_params",
    "TinyNetwork",
    "ThinNetwork",
    "InferCell",
    "ResNetBasicblock",
    "ReLUConvBN",
    "Pooling",
    "Identity",
    "Zero",
    "FactorizedReduce",
    "make_op",
]

_SUPERNET_NAMES = ("NB201Supernet", "nb201_supernet")


def __getattr__(name: str):
    # The supernet is built from this package's ops, so importing it here eagerly would be circular; it is
    # looked up on first use instead (``from zeroscore.spaces.nb201 import NB201Supernet`` keeps working).
    if name in _SUPERNET_NAMES:
        from ..supernet import nb201 as supernet_module

        return getattr(supernet_module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
