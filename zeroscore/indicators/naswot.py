"""NASWOT activation-overlap score (Mellor et al., v2)."""

from __future__ import annotations

import torch

from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import relu_codes


def naswot_kernel(codes: list[torch.Tensor]) -> torch.Tensor:
    """Hamming-similarity kernel of binary codes: ``K_ij`` = number of units where samples i and j agree.

    ``K = C C^T + (1 - C)(1 - C)^T`` summed over layers, in float64. Computed as ``F - r_i - r_j + 2 (C C^T)_ij``
    (``F`` units, ``r`` the row sums): one product per layer instead of two, in float32, which is exact here (every
    partial sum is an integer below ``2**24``); layers of ``2**24`` units or more use float64.
    """
    k: torch.Tensor | None = None
    for code in codes:
        c = code.reshape(code.shape[0], -1)
        units = c.shape[1]
        c = c.to(torch.float32 if units < 2 ** 24 else torch.float64)
        rows = c.sum(dim=1, dtype=torch.float64)
        term = (c @ c.T).double().mul_(2).add_(units).sub_(rows[:, None]).sub_(rows[None, :])
        k = term if k is None else k + term
    if k is None:
        raise ValueError("no activation codes to build a kernel from")
    return k


@register
class NASWOT(Indicator):
    """``log |det K|`` of the Hamming-similarity kernel of the ReLU activation codes of a batch.

    NASWOT v2 (Mellor, Turner, Storkey, Crowley, "Neural Architecture Search without Training", ICML 2021,
    BayesWatch/nas-without-training ``score_networks.py``): the code of a sample is the binary pattern
    ``x > 0`` at the input of every ReLU; ``K = C C^T + (1-C)(1-C)^T``; score ``slogdet(K)``. The network is
    in train mode (BatchNorm batch statistics); the paper used batches of 128 CIFAR images (the probe uses
    whatever batch it is given: pass 128 images to follow the paper). Higher is better.
    """

    name = "naswot"
    higher_is_better = True
    needs = frozenset({"data", "relu"})
    paper = "NASWOT (Mellor et al., ICML 2021)"
    cost = "forward"

    def __init__(self, bn_train: bool = True):
        self.bn_train = bn_train

    def compute(self, probe) -> float:
        k = naswot_kernel(relu_codes(probe, self.bn_train))
        sign, logabsdet = torch.linalg.slogdet(k)
        return float(logabsdet)
