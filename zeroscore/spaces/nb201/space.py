"""The NB201 space object: official index order, sampling and neighbourhoods, builders of the networks."""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Iterator
from typing import Any

import torch.nn as nn

from zeroscore.errors import UsageError

from ..base import Space, seeded, tag_network
from .arch import (
    CELL_LAYOUT,
    EDGE_NAMES,
    EDGES,
    NB201_OPS,
    format_arch,
    is_degenerate,
    isomorphism_key,
    parse_arch,
    unreachable_ops,
)
from .network import ThinNetwork, TinyNetwork, tiny_network_params

__all__ = ["NB201Space"]


# ====================================================================== official order
@functools.lru_cache(maxsize=1)
def _official_order() -> tuple[tuple[str, ...], dict[str, int]]:
    archs = [format_arch(c) for c in itertools.product(NB201_OPS, repeat=len(EDGES))]
    random.Random(88).shuffle(archs)  # NAS-Bench-201 generate_meta_info: random.seed(88); random.shuffle
    return tuple(archs), {a: i for i, a in enumerate(archs)}


# ====================================================================== the space
class NB201Space(Space[str]):
    """NAS-Bench-201 / NATS-Bench TSS (15,625 cells). ``C``/``N`` change the macro net (default 16/5)."""

    name = "nb201"
    aliases = ("nats_tss", "nasbench201", "nas-bench-201", "tss")
    ops = NB201_OPS
    edges = EDGE_NAMES
    cell_layout = CELL_LAYOUT

    def __init__(self, C: int = 16, N: int = 5):
        self.C, self.N = int(C), int(N)

    def canonical(self, arch: Any) -> str:
        return format_arch(parse_arch(arch))

    def _build(self, arch: str, num_classes: int) -> nn.Module:
        return TinyNetwork(parse_arch(arch), self.C, self.N, num_classes)

    def build_thin(self, arch: Any, num_classes: int = 10, seed: int | None = None) -> nn.Module:
        """TE-NAS's thin network (C=1, one cell, no stem, 1-channel input); see :class:`ThinNetwork`."""
        a = self.canonical(arch)
        with seeded(seed):
            net = ThinNetwork(parse_arch(a), self._check_num_classes(num_classes), C=1)
        return tag_network(net, a, self.name)

    def count_params(self, arch: Any, num_classes: int = 10) -> int:
        return tiny_network_params(parse_arch(arch), self.C, self.N, self._check_num_classes(num_classes))

    def _random_arch(self, rng: random.Random) -> str:
        return format_arch([rng.choice(NB201_OPS) for _ in EDGES])

    def neighbors(self, arch: Any) -> list[str]:
        ops = parse_arch(arch)
        out = []
        for k in range(len(EDGES)):
            for op in NB201_OPS:
                if op != ops[k]:
                    new = list(ops)
                    new[k] = op
                    out.append(format_arch(new))
        return out

    def mutate(self, arch: Any, rng: random.Random | None = None) -> str:
        rng = rng if rng is not None else random.Random()
        ops = list(parse_arch(arch))
        k = rng.randrange(len(EDGES))
        ops[k] = rng.choice([o for o in NB201_OPS if o != ops[k]])
        return format_arch(ops)

    @property
    def size(self) -> int:
        return len(NB201_OPS) ** len(EDGES)

    def all(self) -> Iterator[str]:
        return iter(_official_order()[0])

    def index(self, arch: Any) -> int:
        return _official_order()[1][self.canonical(arch)]

    def arch(self, index: int) -> str:
        archs = _official_order()[0]
        if isinstance(index, bool) or int(index) != index or not 0 <= int(index) < len(archs):
            raise UsageError(f"NB201 index must be an integer in [0, {len(archs)}), got {index!r}")
        return archs[int(index)]

    # helpers
    def ops_of(self, arch: Any) -> tuple[str, ...]:
        """The 6 ops of ``arch`` in edge order."""
        return parse_arch(arch)

    def unreachable_ops(self, arch: Any) -> list[tuple[str, str]]:
        return unreachable_ops(arch)

    def is_degenerate(self, arch: Any) -> bool:
        return is_degenerate(arch)

    def isomorphism_key(self, arch: Any, rule: str = "functional") -> str:
        return isomorphism_key(arch, rule)

