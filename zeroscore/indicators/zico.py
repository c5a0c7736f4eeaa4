"""ZiCo: inverse coefficient of variation of gradients across batches."""

from __future__ import annotations

import math

import numpy as np
import torch

from zeroscore.errors import IndicatorNotApplicable
from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import chunk_loss_gradients, layer_weight_names


@register
class ZiCo(Indicator):
    """``sum_l log( sum_{w in l, std>0} mean|g_w| / std(g_w) )`` over conv/linear layers, across mini-batches.

    ZiCo (Li et al., ICLR 2023; ``SLDGroup/ZiCo`` ``ZeroShotProxy/compute_zico.py``; the NAS-Bench-201 version
    in ``HamsterMimi/MeCo`` ``zero-cost-nas/foresight/pruners/measures/zico.py`` splits one batch in two): the
    probe's batch is split into ``num_batches`` consecutive chunks (default 2, ``st = i N // B``); for each chunk
    the cross-entropy gradient of the conv/linear weights (network in train mode, BatchNorm on that chunk);
    per weight the mean of ``|g|`` and the (population) standard deviation of ``g`` over the chunks; per layer
    the sum of ``mean/std`` over weights with non-zero std, then its log (layers whose sum is 0 are skipped);
    the score is the sum over layers.

    ``accumulate=True`` (default) reproduces the reference code, which never zeroes gradients between chunks,
    so the recorded gradients are the running sums ``g_1, g_1 + g_2, ...``; ``accumulate=False`` uses the
    independent chunk gradients of the paper's formula. Needs labels and at least ``num_batches`` samples.
    Higher is better.
    """

    name = "zico"
    higher_is_better = True
    needs = frozenset({"data", "labels", "gradients"})
    paper = "ZiCo (Li et al., ICLR 2023)"
    cost = "backward"

    def __init__(self, num_batches: int = 2, accumulate: bool = True, bn_train: bool = True):
        self.num_batches = num_batches
        self.accumulate = accumulate
        self.bn_train = bn_train

    def compute(self, probe) -> float:
        n, b = probe.batch_size, int(self.num_batches)
        if b < 2 or n < b:
            raise IndicatorNotApplicable(f"zico needs num_batches >= 2 and at least that many samples (got {b}, {n})")
        names = layer_weight_names(probe)
        chunks = chunk_loss_gradients(probe, self.bn_train, b, tuple(names))
        score = 0.0
        for k in names:
            g = torch.stack([c[k].reshape(-1) for c in chunks]).double()
            if self.accumulate:
                g = torch.cumsum(g, dim=0)
            arr = g.cpu().numpy()
            std = np.std(arr, axis=0)
            nz = np.nonzero(std)[0]
            tmpsum = float(np.sum(np.mean(np.abs(arr), axis=0)[nz] / std[nz]))
            if tmpsum != 0:
                score += math.log(tmpsum)
        return float(score)
