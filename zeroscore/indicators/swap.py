"""SWAP: sample-wise activation patterns."""

from __future__ import annotations

import math

import numpy as np
import torch

from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import relu_codes


def count_distinct_columns(codes: list[torch.Tensor]) -> int:
    """Number of distinct per-neuron patterns: columns of the ``(N, F)`` concatenated binary codes."""
    full = torch.cat([c.reshape(c.shape[0], -1) for c in codes], dim=1).T.contiguous().cpu().numpy()
    packed = np.ascontiguousarray(np.packbits(full, axis=1))
    rows = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    return int(np.unique(rows).shape[0])


@register
class SWAP(Indicator):
    """Number of distinct sample-wise activation patterns of the ReLU units over a batch.

    SWAP (Peng et al., "SWAP-NAS: Sample-Wise Activation Patterns for Ultra-Fast NAS", ICLR 2024; the
    ``SampleWiseActivationPatterns`` class of the authors' code): the signs of all ReLU outputs of the batch
    (network in train mode) form a ``(samples, neurons)`` binary matrix; transposed, every neuron has a pattern
    over the samples; the score is the number of distinct patterns (``torch.unique(dim=0)``). With ``mu`` and
    ``sigma`` given, it is multiplied by the paper's size regulariser ``exp(-(P - mu)^2 / sigma)`` with ``P`` the
    parameter count in thousands; the reference's default sets ``mu = P`` and ``sigma = P`` from the network
    itself, so the factor is 1 there, as with the default ``None`` here.

    Deviation: the reference hooks ``nn.ReLU`` modules with 4-D inputs only; here every ReLU evaluation
    (modules and ``F.relu``/``torch.relu``, any rank) is used, through the probe's shared ReLU codes. On
    NAS-Bench-201 all ReLUs are 4-D modules, so both agree. Higher is better.
    """

    name = "swap"
    higher_is_better = True
    needs = frozenset({"data", "relu"})
    paper = "SWAP-NAS (Peng et al., ICLR 2024)"
    cost = "forward"

    def __init__(self, mu: float | None = None, sigma: float | None = None, bn_train: bool = True):
        self.mu = mu
        self.sigma = sigma
        self.bn_train = bn_train

    def compute(self, probe) -> float:
        score = float(count_distinct_columns(relu_codes(probe, self.bn_train)))
        if self.mu is not None and self.sigma is not None:
            p = sum(t.numel() for t in probe.model.parameters()) / 1e3
            score *= math.exp(-((p - self.mu) ** 2) / self.sigma)
        return score
