"""NAS-Bench-101 search space (``nb101``).

Architecture value
    A spec is a V x V (V <= 7) upper-triangular 0/1 adjacency matrix plus V vertex labels, the first
    ``input`` and the last ``output``, the others from ``conv3x3-bn-relu``, ``conv1x1-bn-relu``,
    ``maxpool3x3``. The canonical arch is the compact JSON string of the *pruned* spec::

        {"matrix":[[0,1,1],[0,0,1],[0,0,0]],"ops":["input","conv3x3-bn-relu","output"]}

    (``json.dumps({"matrix": m, "ops": ops}, separators=(",", ":"))``; parse with ``json.loads``).
    ``canonical`` accepts that string, a dict with ``matrix``/``ops`` (also ``adjacency``/``operations``/
    ``module_adjacency``/``module_operations``), a ``(matrix, ops)`` pair, an object with ``original_matrix``/
    ``original_ops`` or ``matrix``/``ops`` (e.g. the official ``ModelSpec``) and NASLib's 56-integer tuple
    (49 adjacency entries row-major + 7 op codes 0 input, 1 output, 2 maxpool3x3, 3 conv1x1, 4 conv3x3).

    Pruning follows the official ``ModelSpec._prune``: vertices not on an input->output path are deleted
    (with their edges); the vertex order of the remaining ones is kept. The order is *not* canonicalised
    because the network depends on it (``compute_vertex_channels`` hands the remainder channels to the
    first output-feeding vertices), exactly as in the official builder. Two specs that are the same graph
    up to vertex relabelling have the same :meth:`NB101Space.hash` (``key``), which is what ``sample``
    uses for distinctness. Valid specs (official ``is_valid``): <= 7 vertices, <= 9 edges after pruning,
    input connected to output.

Sampling
    ``sample`` follows the official example's ``random_spec`` (also NASLib's sampler): each of the 21
    upper-triangular edges of a 7-vertex matrix is present with probability 1/2, ops are uniform, and the
    spec is rejected unless valid after pruning; draws are distinct by hash. This is *not* uniform over
    the 423,624 unique cells: it favours small pruned graphs (about half have 5 vertices, ~1% have 7).
    ``mutate`` is the official example's ``mutate_spec`` (mutation rate 1); ``neighbors`` is documented
    on the method.

Hash
    :func:`nb101_hash` is the official ``graph_util.hash_module`` (google-research/nasbench
    ``nasbench/lib/graph_util.py``): per-vertex md5 of ``str((out_degree, in_degree, label))``, then
    V rounds of ``md5(sorted in-neighbour hashes | sorted out-neighbour hashes | own hash)``, fingerprint
    ``md5(str(sorted(hashes)))``; labels as in ``ModelSpec.hash_spec``: ``-1`` input, ``-2`` output,
    otherwise the index in ``['conv3x3-bn-relu', 'conv1x1-bn-relu', 'maxpool3x3']`` (the dataset's
    ``available_ops``). The value is the key of the official ``nasbench_only108.tfrecord`` records;
    e.g. ``00005c142e6f48ac74fdcf73e3439874`` (checked in ``tests/test_spaces.py``).

Network (``build``)
    The official ``model_builder.build_model_fn`` in PyTorch: stem conv3x3(3->128)-BN-ReLU; 3 stacks of
    3 cells; before stacks 2 and 3 a 2x2/2 max pool and the channel count doubles (128, 256, 512);
    global average pool; dense layer with bias. In a cell, ``compute_vertex_channels`` splits the output
    channels among the vertices feeding the output (remainder to the first ones) and propagates maxima
    backwards; a vertex sums its inputs: the 1x1 conv-BN-ReLU *projection* of the cell input (one per
    input edge) and the outputs of earlier vertices truncated to its channel count; the output vertex
    concatenates its interior inputs and adds a projection of the cell input when input->output is an
    edge. Convs have no bias; BatchNorm has affine weights, ``eps=1e-5``, momentum ``0.003`` (TF
    ``momentum=0.997``). ``maxpool3x3`` is ``MaxPool2d(3, 1, 1)``.

Parameter counts
    ``count_params`` (all ``nn.Parameter`` entries: conv kernels, BN gamma/beta, dense weight + bias)
    equals the official ``trainable_parameters`` (TF trainable variables: the same tensors; BN moving
    statistics are not trainable in either framework). Checked against the values published by the
    benchmark authors: 2,694,282 for the Inception-like README cell (``NASBench.ipynb`` output) and
    8,555,530 for hash ``00005c142e6f48ac74fdcf73e3439874``. Against the ``params`` column of the NASLib
    zero-cost sample (500 cells, millions) the counts agree exactly for every cell; see
    ``benchmarks/results/param_counts.md``.

Modules
    :mod:`.spec` (parsing, pruning, hash; no torch), :mod:`.network` (``NB101Network``), :mod:`.space`
    (:class:`NB101Space`); everything is importable from this package.
"""

from __future__ import annotations

from .network import ConvBnRelu, NB101Cell, NB101Network, compute_vertex_channels
from .space import NB101Space
from .spec import (
    CONV1X1,
    CONV3X3,
    INPUT,
    MAX_EDGES,
    MAX_VERTICES,
    MAXPOOL3X3,
    NB101_OPS,
    OUTPUT,
    Spec,
    format_spec,
    nb101_hash,
    parse_spec,
    prune,
)

__all__ = [
    "NB101Space",
    "NB101_OPS",
    "INPUT",
    "OUTPUT",
    "CONV3X3",
    "CONV1X1",
    "MAXPOOL3X3",
    "MAX_VERTICES",
    "MAX_EDGES",
    "Spec",
    "prune",
    "nb101_hash",
    "compute_vertex_channels",
    "ConvBnRelu",
    "NB101Cell",
    "NB101Network",
    "parse_spec",
    "format_spec",
]
