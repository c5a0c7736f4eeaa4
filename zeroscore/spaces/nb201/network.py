"""The NB201 networks built from a fixed cell: the benchmark's ``TinyNetwork``, TE-NAS's thin network, and the
closed-form parameter counts of both."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn as nn

from zeroscore.errors import InvalidArchError

from .arch import _EDGE_INDEX, EDGES, NB201_OPS, NUM_NODES, format_arch
from .ops import ResNetBasicblock, make_op

__all__ = ["InferCell", "TinyNetwork", "ThinNetwork", "op_params", "cell_params", "resblock_params",
           "tiny_network_params"]


class InferCell(nn.Module):
    """A fixed NB201 cell. ``layers[e]`` is the op of edge ``e`` (edge-index order, ``none`` included)."""

    def __init__(self, ops: Sequence[str], C_in: int, C_out: int, stride: int = 1, affine=True,
                 track_running_stats=True):
        super().__init__()
        self.ops = tuple(ops)
        self.layers = nn.ModuleList()
        for (_i, j), op in zip(EDGES, self.ops):
            if j == 0:
                self.layers.append(make_op(op, C_in, C_out, stride, affine, track_running_stats))
            else:
                self.layers.append(make_op(op, C_out, C_out, 1, affine, track_running_stats))
        self.in_dim, self.out_dim = C_in, C_out

    def forward(self, x):
        nodes = [x]
        for i in range(1, NUM_NODES):
            nodes.append(sum(self.layers[_EDGE_INDEX[(i, j)]](nodes[j]) for j in range(i)))
        return nodes[-1]

    def extra_repr(self):
        return f"inC={self.in_dim}, outC={self.out_dim}, {format_arch(self.ops)}"


class TinyNetwork(nn.Module):
    """The NAS-Bench-201 macro network (returns logits only)."""

    def __init__(self, ops: Sequence[str], C: int = 16, N: int = 5, num_classes: int = 10):
        super().__init__()
        self._C, self._N = C, N
        self.stem = nn.Sequential(nn.Conv2d(3, C, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(C))
        layer_channels = [C] * N + [C * 2] + [C * 2] * N + [C * 4] + [C * 4] * N
        layer_reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
        c_prev = C
        self.cells = nn.ModuleList()
        for c_curr, reduction in zip(layer_channels, layer_reductions):
            cell = ResNetBasicblock(c_prev, c_curr, 2) if reduction else InferCell(ops, c_prev, c_curr, 1)
            self.cells.append(cell)
            c_prev = cell.out_dim
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x):
        feature = self.stem(x)
        for cell in self.cells:
            feature = cell(feature)
        out = self.global_pooling(self.lastact(feature))
        return self.classifier(out.flatten(1))


class ThinNetwork(nn.Module):
    """TE-NAS's tiny network for the linear-region count, for a single cell.

    One cell with ``C`` channels applied directly to a ``C``-channel input (no stem, no reduction), then
    BN-ReLU-global pool-Linear: the ``DARTS-V1`` super net of TE-NAS with ``C=1, N=1, depth=1,
    use_stem=False`` (``prune_tenas.py`` and TEG-NAS ``te_reward_generator.py``, ``model_config_thin``)
    restricted to one op per edge; ``depth=1`` keeps only the first cell. TE-NAS feeds it
    ``(1000, 1, 3, 3)`` random crops of one random image channel (``Linear_Region_Collector(input_size=
    (1000, 1, 3, 3))``) and counts activation patterns over all ``nn.ReLU`` outputs.
    """

    def __init__(self, ops: Sequence[str], num_classes: int = 10, C: int = 1):
        super().__init__()
        self.cell = InferCell(ops, C, C, 1)
        self.lastact = nn.Sequential(nn.BatchNorm2d(C), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C, num_classes)

    def forward(self, x):
        out = self.global_pooling(self.lastact(self.cell(x)))
        return self.classifier(out.flatten(1))


# ====================================================================== closed-form parameter counts
def op_params(name: str, C_in: int, C_out: int, stride: int = 1) -> int:
    """Parameters of one NB201 op built by :func:`make_op` (affine BatchNorm)."""
    if name == "none":
        return 0
    if name == "skip_connect":
        return 0 if (stride == 1 and C_in == C_out) else C_in * C_out + 2 * C_out
    if name == "nor_conv_1x1":
        return C_in * C_out + 2 * C_out
    if name == "nor_conv_3x3":
        return 9 * C_in * C_out + 2 * C_out
    if name == "avg_pool_3x3":
        return 0 if C_in == C_out else C_in * C_out + 2 * C_out
    raise InvalidArchError(f"unknown NB201 op {name!r}; known ops: {list(NB201_OPS)}")


def cell_params(ops: Sequence[str], C_in: int, C_out: int) -> int:
    """Parameters of an :class:`InferCell` (edges from node 0 map C_in->C_out, the others C_out->C_out)."""
    return sum(op_params(op, C_in if j == 0 else C_out, C_out) for (i, j), op in zip(EDGES, ops))


def resblock_params(inplanes: int, planes: int) -> int:
    """Parameters of a stride-2 :class:`ResNetBasicblock`."""
    return 9 * inplanes * planes + 2 * planes + 9 * planes * planes + 2 * planes + inplanes * planes


def tiny_network_params(ops: Sequence[str], C: int = 16, N: int = 5, num_classes: int = 10) -> int:
    total = 27 * C + 2 * C  # stem conv + BN
    for k in range(3):
        c = C * 2**k
        total += N * cell_params(ops, c, c)
        if k < 2:
            total += resblock_params(c, 2 * c)
    c = 4 * C
    return total + 2 * c + c * num_classes + num_classes

