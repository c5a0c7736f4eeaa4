"""The DARTS space object: builders of the evaluation and thin networks, sampling and neighbourhoods."""

from __future__ import annotations

import random
from typing import Any

import torch
import torch.nn as nn

from ..base import Space, seeded, tag_network
from .genotypes import CELL_LAYOUT, GENOTYPES, PRIMITIVES, STEPS, Genotype, parse_genotype
from .network import NetworkCIFAR, ThinNetwork

__all__ = ["DartsSpace"]


class DartsSpace(Space[Genotype]):
    """DARTS CNN space; ``build`` gives NetworkCIFAR (``C``, ``layers``, ``auxiliary`` configurable)."""

    name = "darts"
    aliases = ("darts_cnn",)
    ops = PRIMITIVES
    genotypes = GENOTYPES
    cell_layout = CELL_LAYOUT

    def __init__(self, C: int = 36, layers: int = 20, auxiliary: bool = False):
        self.C, self.layers, self.auxiliary = int(C), int(layers), bool(auxiliary)

    def canonical(self, arch: Any) -> Genotype:
        return parse_genotype(arch)

    def _build(self, arch: Genotype, num_classes: int) -> nn.Module:
        return NetworkCIFAR(arch, self.C, num_classes, self.layers, self.auxiliary)

    def count_params(self, arch: Any, num_classes: int = 10, include_auxiliary: bool = False) -> int:
        """Parameters of ``build(arch)`` excluding the auxiliary head (as DARTS reports) unless asked."""
        a = self.canonical(arch)
        nc = self._check_num_classes(num_classes)
        with torch.device("meta"):
            net = self._build(a, nc)
        return int(sum(p.numel() for n, p in net.named_parameters() if include_auxiliary or "auxiliary" not in n))

    def build_thin(self, arch: Any, num_classes: int = 10, seed: int | None = None) -> nn.Module:
        a = self.canonical(arch)
        with seeded(seed):
            net = ThinNetwork(a, self._check_num_classes(num_classes), C=1)
        return tag_network(net, a, self.name)

    # ---- the space proper: 4 steps, 2 distinct inputs per node, ops without none, concat 2..5
    _SEARCH_OPS = tuple(o for o in PRIMITIVES if o != "none")

    def _random_cell(self, rng: random.Random):
        out: list[tuple[str, int]] = []
        for i in range(STEPS):
            inputs = rng.sample(range(i + 2), 2)
            out.extend((rng.choice(self._SEARCH_OPS), j) for j in inputs)
        return tuple(out)

    def _random_arch(self, rng: random.Random) -> Genotype:
        concat = tuple(range(2, STEPS + 2))
        return Genotype(self._random_cell(rng), concat, self._random_cell(rng), concat)

    def _cell_edits(self, edges):
        out = []
        for k, (op, j) in enumerate(edges):
            node = k // 2 + 2
            other = edges[k ^ 1][1]
            for o in self._SEARCH_OPS:
                if o != op:
                    out.append(edges[:k] + ((o, j),) + edges[k + 1:])
            for jj in range(node):
                if jj != j and jj != other:
                    out.append(edges[:k] + ((op, jj),) + edges[k + 1:])
        return out

    def neighbors(self, arch: Any) -> list[Genotype]:
        """Genotypes with one op or one input of one edge changed (inputs of a node stay distinct)."""
        g = self.canonical(arch)
        out = [g._replace(normal=e) for e in self._cell_edits(g.normal)]
        out += [g._replace(reduce=e) for e in self._cell_edits(g.reduce)]
        return out

    def mutate(self, arch: Any, rng: random.Random | None = None) -> Genotype:
        rng = rng if rng is not None else random.Random()
        g = self.canonical(arch)
        kind = rng.choice(("normal", "reduce"))
        edits = self._cell_edits(getattr(g, kind))
        return g._replace(**{kind: rng.choice(edits)})
