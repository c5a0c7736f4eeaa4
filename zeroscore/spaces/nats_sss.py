"""NATS-Bench size search space (``nats_sss``).

Architecture value
    The channel string ``"a:b:c:d:e"``, five numbers from ``{8, 16, ..., 64}`` (8**5 = 32,768 configs).
    ``canonical`` also accepts a sequence of five integers.

Network (``build``)
    NATS-Bench SSS evaluates ``name='infer.shape.tiny'`` networks, i.e. xautodl's ``DynamicShapeTinyNet``
    (D-X-Y/AutoDL-Projects ``xautodl/models/shape_infers/InferTinyCellNet.py``; ``get_cell_based_tiny_net``).
    With five channel numbers ``c0..c4`` it has ``N = 5 // 3 = 1`` cell per stage and the layers

    ====  ===============================================  ================
    0     stem: conv3x3(3 -> c0, no bias) + BN(c0)
    1     cell(c0 -> c0)                                   channels[0]
    2     ResNetBasicblock(c0 -> c1, stride 2)             channels[1]
    3     cell(c1 -> c2)                                   channels[2]
    4     ResNetBasicblock(c2 -> c3, stride 2)             channels[3]
    5     cell(c3 -> c4)                                   channels[4]
    6     head: BN(c4)-ReLU-global avg pool-Linear(c4, num_classes)
    ====  ===============================================  ================

    so ``c0`` is both the stem width and the width of the first cell. Every cell has the fixed topology
    ``|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|``;
    when a cell changes the width (``c1 != c2`` or ``c3 != c4``) the ops leaving node 0 map
    ``C_in -> C_out`` (convs directly; ``skip_connect`` becomes a 1x1 conv + BN, NB201's stride-1
    ``FactorizedReduce``). Operations and BatchNorm settings are those of NB201 (see :mod:`.nb201`).

Parameter count
    ``params_cifar10/100/imagenet16`` of the benchmark are the parameter counts (all parameters, BN affine
    included) of this network with a 10/100/120-class head; closed form in :meth:`NATSSSSpace.count_params`
    (checked exactly for all 32,768 x 3 heads, ``benchmarks/check_param_counts.py``).

Official index order
    ``itertools.product`` over the five positions with candidates ``8..64`` (first position slowest): index 0
    is ``8:8:8:8:8``, index 1 ``8:8:8:8:16``, index 8 ``8:8:8:16:8``; verified against the benchmark table for
    all 32,768 configs. Closed form: ``index = sum(((c_k / 8) - 1) * 8**(4 - k))``.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import torch.nn as nn

from zeroscore.errors import InvalidArchError, UsageError

from .base import Space
from .nb201 import InferCell, ResNetBasicblock, cell_params, parse_arch, resblock_params

__all__ = ["NATSSSSpace", "SSS_CHANNELS", "SSS_CELL", "DynamicShapeTinyNet"]

SSS_CHANNELS: tuple[int, ...] = (8, 16, 24, 32, 40, 48, 56, 64)
SSS_NUM_LAYERS = 5
#: the fixed cell of the size space
SSS_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
_SSS_OPS = parse_arch(SSS_CELL)


def _parse_channels(arch: Any) -> tuple[int, ...]:
    if isinstance(arch, str):
        parts = arch.strip().split(":")
        if len(parts) != SSS_NUM_LAYERS:
            raise InvalidArchError(f"an SSS arch has {SSS_NUM_LAYERS} ':'-separated channel numbers, "
                                   f"got {len(parts)} in {arch!r}")
        vals = []
        for k, p in enumerate(parts):
            try:
                vals.append(int(p.strip()))
            except ValueError:
                raise InvalidArchError(f"channel {p!r} at position {k} is not an integer in {arch!r}") from None
    elif isinstance(arch, (list, tuple)):
        if len(arch) != SSS_NUM_LAYERS:
            raise InvalidArchError(f"an SSS arch has {SSS_NUM_LAYERS} channel numbers, got {len(arch)} in {arch!r}")
        vals = []
        for k, p in enumerate(arch):
            try:
                if isinstance(p, bool):
                    raise TypeError
                vals.append(operator.index(p))
            except TypeError:
                raise InvalidArchError(f"channel {p!r} at position {k} is not an integer in {arch!r}") from None
    else:
        raise InvalidArchError(f"an SSS arch must be 'a:b:c:d:e' or 5 integers, got {type(arch).__name__}: {arch!r}")
    for k, v in enumerate(vals):
        if v not in SSS_CHANNELS:
            raise InvalidArchError(f"channel {v} at position {k} not in {list(SSS_CHANNELS)} in {arch!r}")
    return tuple(vals)


def _fmt(ch: Iterable[int]) -> str:
    return ":".join(str(int(c)) for c in ch)


class DynamicShapeTinyNet(nn.Module):
    """The NATS-Bench SSS network for 5 channel numbers (returns logits only)."""

    def __init__(self, channels: Sequence[int], num_classes: int = 10, cell: str = SSS_CELL):
        super().__init__()
        channels = list(channels)
        if len(channels) % 3 != 2:
            raise InvalidArchError(f"invalid number of layers: {len(channels)}")
        N = len(channels) // 3
        ops = parse_arch(cell)
        self._channels = tuple(channels)
        self.stem = nn.Sequential(nn.Conv2d(3, channels[0], kernel_size=3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels[0]))
        layer_reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
        c_prev = channels[0]
        self.cells = nn.ModuleList()
        for c_curr, reduction in zip(channels, layer_reductions):
            cell_m = ResNetBasicblock(c_prev, c_curr, 2, True) if reduction else InferCell(ops, c_prev, c_curr, 1)
            self.cells.append(cell_m)
            c_prev = cell_m.out_dim
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x):
        feature = self.stem(x)
        for cell_m in self.cells:
            feature = cell_m(feature)
        out = self.global_pooling(self.lastact(feature))
        return self.classifier(out.flatten(1))


class NATSSSSpace(Space[str]):
    """NATS-Bench size space: 32,768 channel configurations of a fixed-topology 5-layer network."""

    name = "nats_sss"
    aliases = ("sss", "natsbench_sss", "nats-sss")
    channels = SSS_CHANNELS
    cell = SSS_CELL

    def canonical(self, arch: Any) -> str:
        return _fmt(_parse_channels(arch))

    def channels_of(self, arch: Any) -> tuple[int, ...]:
        return _parse_channels(arch)

    def _build(self, arch: str, num_classes: int) -> nn.Module:
        return DynamicShapeTinyNet(_parse_channels(arch), num_classes)

    def count_params(self, arch: Any, num_classes: int = 10) -> int:
        c = _parse_channels(arch)
        nc = self._check_num_classes(num_classes)
        total = 27 * c[0] + 2 * c[0]
        total += cell_params(_SSS_OPS, c[0], c[0])
        total += resblock_params(c[0], c[1])
        total += cell_params(_SSS_OPS, c[1], c[2])
        total += resblock_params(c[2], c[3])
        total += cell_params(_SSS_OPS, c[3], c[4])
        return total + 2 * c[4] + c[4] * nc + nc

    def _random_arch(self, rng: random.Random) -> str:
        return _fmt(rng.choice(SSS_CHANNELS) for _ in range(SSS_NUM_LAYERS))

    def neighbors(self, arch: Any) -> list[str]:
        c = _parse_channels(arch)
        out = []
        for k in range(SSS_NUM_LAYERS):
            for v in SSS_CHANNELS:
                if v != c[k]:
                    out.append(_fmt(c[:k] + (v,) + c[k + 1:]))
        return out

    def mutate(self, arch: Any, rng: random.Random | None = None) -> str:
        rng = rng if rng is not None else random.Random()
        c = list(_parse_channels(arch))
        k = rng.randrange(SSS_NUM_LAYERS)
        c[k] = rng.choice([v for v in SSS_CHANNELS if v != c[k]])
        return _fmt(c)

    @property
    def size(self) -> int:
        return len(SSS_CHANNELS) ** SSS_NUM_LAYERS

    def all(self) -> Iterator[str]:
        for i in range(self.size):
            yield self.arch(i)

    def index(self, arch: Any) -> int:
        idx = 0
        for v in _parse_channels(arch):
            idx = idx * len(SSS_CHANNELS) + SSS_CHANNELS.index(v)
        return idx

    def arch(self, index: int) -> str:
        n = len(SSS_CHANNELS)
        if isinstance(index, bool) or int(index) != index or not 0 <= int(index) < self.size:
            raise UsageError(f"SSS index must be an integer in [0, {self.size}), got {index!r}")
        i = int(index)
        digits = []
        for _ in range(SSS_NUM_LAYERS):
            digits.append(SSS_CHANNELS[i % n])
            i //= n
        return _fmt(reversed(digits))
