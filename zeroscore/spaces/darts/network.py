"""The DARTS networks built from a genotype: the CIFAR evaluation network (``NetworkCIFAR`` of quark0/darts
``cnn/model.py``, same module names) and TE-NAS's thin network."""

from __future__ import annotations

import torch
import torch.nn as nn

from .genotypes import Genotype
from .ops import FactorizedReduce, ReLUConvBN, make_op

__all__ = ["Cell", "AuxiliaryHeadCIFAR", "NetworkCIFAR", "ThinNetwork"]


class Cell(nn.Module):
    def __init__(self, genotype: Genotype, C_prev_prev, C_prev, C, reduction, reduction_prev):
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = FactorizedReduce(C_prev_prev, C) if reduction_prev else ReLUConvBN(C_prev_prev, C, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0)
        edges, concat = ((genotype.reduce, genotype.reduce_concat) if reduction
                         else (genotype.normal, genotype.normal_concat))
        self._steps = len(edges) // 2
        self._concat = tuple(concat)
        self.multiplier = len(concat)
        self._ops = nn.ModuleList()
        for name, index in edges:
            stride = 2 if reduction and index < 2 else 1
            self._ops.append(make_op(name, C, stride, True))
        self._indices = tuple(j for _, j in edges)

    def forward(self, s0, s1):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(self._steps):
            h1 = self._ops[2 * i](states[self._indices[2 * i]])
            h2 = self._ops[2 * i + 1](states[self._indices[2 * i + 1]])
            states.append(h1 + h2)
        return torch.cat([states[i] for i in self._concat], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    def __init__(self, C, num_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class NetworkCIFAR(nn.Module):
    """DARTS CIFAR evaluation network (logits only; auxiliary logits in ``self.logits_aux``)."""

    def __init__(self, genotype: Genotype, C: int = 36, num_classes: int = 10, layers: int = 20,
                 auxiliary: bool = False, stem_multiplier: int = 3):
        super().__init__()
        self._layers, self._auxiliary = layers, auxiliary
        self.drop_path_prob = 0.0
        self.logits_aux = None
        c_curr = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(3, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr))
        c_pp, c_p, c_curr = c_curr, c_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        c_aux = None
        for i in range(layers):
            if i in (layers // 3, 2 * layers // 3):
                c_curr *= 2
                reduction = True
            else:
                reduction = False
            cell = Cell(genotype, c_pp, c_p, c_curr, reduction, reduction_prev)
            reduction_prev = reduction
            self.cells.append(cell)
            c_pp, c_p = c_p, cell.multiplier * c_curr
            if i == 2 * layers // 3:
                c_aux = c_p
        if auxiliary:
            self.auxiliary_head = AuxiliaryHeadCIFAR(c_aux, num_classes)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)

    def forward(self, x):
        self.logits_aux = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1)
            if i == 2 * self._layers // 3 and self._auxiliary and self.training:
                self.logits_aux = self.auxiliary_head(s1)
        out = self.global_pooling(s1)
        return self.classifier(out.flatten(1))


class ThinNetwork(nn.Module):
    """TE-NAS's thin DARTS network for one genotype: normal cell (C) + reduction cell (2C) on a C-channel
    input, no stem, then BN-ReLU-pool-Linear."""

    def __init__(self, genotype: Genotype, num_classes: int = 10, C: int = 1):
        super().__init__()
        self.cells = nn.ModuleList()
        c_pp = c_p = C
        cell0 = Cell(genotype, c_pp, c_p, C, False, False)
        self.cells.append(cell0)
        c_pp, c_p = c_p, cell0.multiplier * C
        cell1 = Cell(genotype, c_pp, c_p, 2 * C, True, False)
        self.cells.append(cell1)
        c_p = cell1.multiplier * 2 * C
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_p), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)

    def forward(self, x):
        s0 = s1 = x
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.global_pooling(self.lastact(s1)).flatten(1))
