"""The NAS-Bench-101 network (the official ``model_builder.build_model_fn`` in PyTorch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from .spec import CONV1X1, CONV3X3

__all__ = ["compute_vertex_channels", "ConvBnRelu", "NB101Cell", "NB101Network"]


def compute_vertex_channels(input_channels: int, output_channels: int, matrix: Any) -> list[int]:
    """Official ``model_builder.compute_vertex_channels`` (channels of every vertex of a pruned cell)."""
    m = np.array(matrix, dtype=np.int64)
    V = m.shape[0]
    vc = [0] * V
    vc[0] = input_channels
    vc[V - 1] = output_channels
    if V == 2:
        return vc
    in_degree = m[1:].sum(axis=0)
    interior = output_channels // int(in_degree[V - 1])
    correction = output_channels % int(in_degree[V - 1])
    for v in range(1, V - 1):
        if m[v, V - 1]:
            vc[v] = interior
            if correction:
                vc[v] += 1
                correction -= 1
    for v in range(V - 3, 0, -1):
        if not m[v, V - 1]:
            for dst in range(v + 1, V - 1):
                if m[v, dst]:
                    vc[v] = max(vc[v], vc[dst])
        assert vc[v] > 0
    final_fan_in = sum(vc[v] for v in range(1, V - 1) if m[v, V - 1])
    assert final_fan_in == output_channels
    return vc


# ====================================================================== network
class ConvBnRelu(nn.Module):
    """Conv(k, 'same', no bias) -> BN(eps 1e-5, momentum 0.003) -> ReLU."""

    def __init__(self, C_in, C_out, kernel_size):
        super().__init__()
        self.conv = nn.Conv2d(C_in, C_out, kernel_size, stride=1, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(C_out, eps=1e-5, momentum=0.003)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class NB101Cell(nn.Module):
    """One NAS-Bench-101 module (``build_module``) for a pruned spec."""

    def __init__(self, matrix: np.ndarray, ops: Sequence[str], in_channels: int, out_channels: int):
        super().__init__()
        self.matrix = [[int(v) for v in row] for row in matrix]
        self.V = V = len(ops)
        self.vc = compute_vertex_channels(in_channels, out_channels, matrix)
        self.vertex_ops = nn.ModuleList()
        for t in range(1, V - 1):
            c = self.vc[t]
            if ops[t] == CONV3X3:
                self.vertex_ops.append(ConvBnRelu(c, c, 3))
            elif ops[t] == CONV1X1:
                self.vertex_ops.append(ConvBnRelu(c, c, 1))
            else:
                self.vertex_ops.append(nn.MaxPool2d(3, stride=1, padding=1))
        self.projections = nn.ModuleDict()
        for t in range(1, V - 1):
            if self.matrix[0][t]:
                self.projections[str(t)] = ConvBnRelu(in_channels, self.vc[t], 1)
        if self.matrix[0][V - 1]:
            self.projections[str(V - 1)] = ConvBnRelu(in_channels, out_channels, 1)
        self.in_dim, self.out_dim = in_channels, out_channels

    def forward(self, x):
        V, m, vc = self.V, self.matrix, self.vc
        tensors = [x]
        final = []
        for t in range(1, V - 1):
            add_in = [tensors[src][:, : vc[t]] for src in range(1, t) if m[src][t]]
            if m[0][t]:
                add_in.append(self.projections[str(t)](x))
            vin = add_in[0] if len(add_in) == 1 else sum(add_in)
            out = self.vertex_ops[t - 1](vin)
            tensors.append(out)
            if m[t][V - 1]:
                final.append(out)
        if not final:
            return self.projections[str(V - 1)](x)
        out = final[0] if len(final) == 1 else torch.cat(final, dim=1)
        if m[0][V - 1]:
            out = out + self.projections[str(V - 1)](x)
        return out


class NB101Network(nn.Module):
    """The NAS-Bench-101 network (stem 128, 3 stacks x 3 cells), returning logits."""

    def __init__(self, matrix: np.ndarray, ops: Sequence[str], num_classes: int = 10, stem_channels: int = 128,
                 num_stacks: int = 3, cells_per_stack: int = 3, in_channels: int = 3):
        super().__init__()
        self.stem = ConvBnRelu(in_channels, stem_channels, 3)
        layers: list[nn.Module] = []
        c_in = c = stem_channels
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True))  # TF padding='same'
                c *= 2
            for _ in range(cells_per_stack):
                layers.append(NB101Cell(matrix, ops, c_in, c))
                c_in = c
        self.layers = nn.Sequential(*layers)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        out = self.global_pooling(self.layers(self.stem(x)))
        return self.classifier(out.flatten(1))


