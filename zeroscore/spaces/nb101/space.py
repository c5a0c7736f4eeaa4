"""The NAS-Bench-101 space object: canonical specs, hashes, builders, the official sampler and mutation."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch.nn as nn

from ..base import Space, seeded, tag_network
from .network import NB101Network, compute_vertex_channels
from .spec import CONV1X1, CONV3X3, INPUT, MAX_VERTICES, NB101_OPS, OUTPUT, format_spec, nb101_hash, parse_spec

__all__ = ["NB101Space"]


# ====================================================================== the space
class NB101Space(Space[str]):
    """NAS-Bench-101 (423,624 unique cells; not enumerated here, no official index)."""

    name = "nb101"
    aliases = ("nasbench101", "nas-bench-101")
    ops = NB101_OPS

    def __init__(self, stem_channels: int = 128, num_stacks: int = 3, cells_per_stack: int = 3):
        self.stem_channels, self.num_stacks, self.cells_per_stack = (int(stem_channels), int(num_stacks),
                                                                     int(cells_per_stack))

    def canonical(self, arch: Any) -> str:
        m, ops = parse_spec(arch)
        return format_spec(m, ops)

    def spec(self, arch: Any) -> tuple[list[list[int]], list[str]]:
        """``(matrix, ops)`` of the pruned spec as plain lists."""
        m, ops = parse_spec(arch)
        return m.tolist(), ops

    def hash(self, arch: Any) -> str:
        """Official NAS-Bench-101 hash (the key of the benchmark records)."""
        m, ops = parse_spec(arch)
        return nb101_hash(m, ops)

    key = hash
    isomorphism_key = hash

    def _build(self, arch: str, num_classes: int) -> nn.Module:
        m, ops = parse_spec(arch)
        return NB101Network(m, ops, num_classes, self.stem_channels, self.num_stacks, self.cells_per_stack)

    def build_thin(self, arch: Any, num_classes: int = 10, seed: int | None = None) -> nn.Module:
        """TEG-NAS's thin NAS-Bench-101 network for the linear-region count: the same cell in a network with
        a 1-channel input, stem width 6, one stack of one cell (VITA-Group/TEGNAS
        ``lib/procedures/te_reward_generator.py``: ``in_channels=1, stem_out_channels=6, num_stacks=1,
        num_modules_per_stack=1``; fed ``(1000, 1, 3, 3)`` crops). Its NTK network is
        ``NB101Space(stem_channels=6, num_stacks=1, cells_per_stack=1).build(arch)``."""
        m, ops = parse_spec(arch)
        a = format_spec(m, ops)
        with seeded(seed):
            net = NB101Network(m, ops, self._check_num_classes(num_classes), stem_channels=6, num_stacks=1,
                               cells_per_stack=1, in_channels=1)
        return tag_network(net, a, self.name)

    def count_params(self, arch: Any, num_classes: int = 10) -> int:
        """Closed form of the parameter count of :class:`NB101Network` (conv kernels + BN gamma/beta + dense)."""
        m, ops = parse_spec(arch)
        nc = self._check_num_classes(num_classes)
        V = len(ops)

        def cbr(c_in, c_out, k):  # conv (no bias) + BN affine
            return k * k * c_in * c_out + 2 * c_out

        total = cbr(3, self.stem_channels, 3)
        c_in = c = self.stem_channels
        for stack in range(self.num_stacks):
            if stack > 0:
                c *= 2
            for _ in range(self.cells_per_stack):
                vc = compute_vertex_channels(c_in, c, m)
                for t in range(1, V - 1):
                    if ops[t] == CONV3X3:
                        total += cbr(vc[t], vc[t], 3)
                    elif ops[t] == CONV1X1:
                        total += cbr(vc[t], vc[t], 1)
                    if m[0, t]:
                        total += cbr(c_in, vc[t], 1)
                if m[0, V - 1]:
                    total += cbr(c_in, c, 1)
                c_in = c
        return total + c * nc + nc

    # ---- sampling / neighbourhood (on the 7-vertex padded spec, as the official examples do)
    @staticmethod
    def _pad7(m: np.ndarray, ops: list[str]) -> tuple[np.ndarray, list[str]]:
        V = m.shape[0]
        if V == MAX_VERTICES:
            return m.copy(), list(ops)
        k = MAX_VERTICES - V
        out = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int64)
        out[: V - 1, : V - 1] = m[: V - 1, : V - 1]
        out[: V - 1, MAX_VERTICES - 1] = m[: V - 1, V - 1]
        return out, list(ops[:-1]) + [CONV3X3] * k + [OUTPUT]

    def _try(self, m, ops) -> str | None:
        try:
            return self.canonical((m, ops))
        except ValueError:
            return None

    def _random_arch(self, rng: random.Random) -> str:
        while True:
            m = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int64)
            for r in range(MAX_VERTICES):
                for c in range(r + 1, MAX_VERTICES):
                    m[r, c] = rng.randrange(2)
            ops = [INPUT] + [rng.choice(NB101_OPS) for _ in range(MAX_VERTICES - 2)] + [OUTPUT]
            a = self._try(m, ops)
            if a is not None:
                return a

    def neighbors(self, arch: Any) -> list[str]:
        """Valid specs one edit away, distinct by hash and different from ``arch``.

        Edits on the pruned spec: change one vertex op; add or remove one edge (removing may prune
        vertices); or, when fewer than 7 vertices, insert one new vertex ``u -> new -> w`` (any op) between
        two vertices ``u`` before ``w``. (The last move stands in for edge flips touching the dangling
        vertices of an unpruned 7-vertex spec, which the pruned form does not keep.)
        """
        m, ops = parse_spec(arch)
        h0 = nb101_hash(m, ops)
        V = len(ops)
        seen, out = {h0}, []
        cands = []
        for v in range(1, V - 1):
            for op in NB101_OPS:
                if op != ops[v]:
                    new_ops = list(ops)
                    new_ops[v] = op
                    cands.append((m, new_ops))
        for r in range(V):
            for c in range(r + 1, V):
                nm = m.copy()
                nm[r, c] = 1 - nm[r, c]
                cands.append((nm, ops))
        if V < MAX_VERTICES:
            for u in range(V - 1):
                for w in range(u + 1, V):
                    for op in NB101_OPS:
                        nm = np.zeros((V + 1, V + 1), dtype=np.int64)
                        old = [k if k <= u else k + 1 for k in range(V)]  # new vertex at index u + 1
                        nm[np.ix_(old, old)] = m
                        nm[u, u + 1] = 1
                        nm[u + 1, old[w]] = 1
                        cands.append((nm, ops[: u + 1] + [op] + ops[u + 1:]))
        for cm, cops in cands:
            a = self._try(cm, cops)
            if a is None:
                continue
            h = self.hash(a)
            if h not in seen:
                seen.add(h)
                out.append(a)
        return out

    def mutate(self, arch: Any, rng: random.Random | None = None, mutation_rate: float = 1.0) -> str:
        """Official example ``mutate_spec``: flip each edge w.p. rate/7, resample each op w.p. rate/5;
        repeat until the result is valid and has a different hash."""
        rng = rng if rng is not None else random.Random()
        m0, ops0 = parse_spec(arch)
        h0 = nb101_hash(m0, ops0)
        m, ops = self._pad7(m0, ops0)
        for _ in range(10000):
            nm, nops = m.copy(), list(ops)
            for r in range(MAX_VERTICES - 1):
                for c in range(r + 1, MAX_VERTICES):
                    if rng.random() < mutation_rate / MAX_VERTICES:
                        nm[r, c] = 1 - nm[r, c]
            for v in range(1, MAX_VERTICES - 1):
                if rng.random() < mutation_rate / (MAX_VERTICES - 2):
                    nops[v] = rng.choice([o for o in NB101_OPS if o != nops[v]])
            a = self._try(nm, nops)
            if a is not None and self.hash(a) != h0:
                return a
        raise RuntimeError("could not find a valid mutation")  # pragma: no cover
