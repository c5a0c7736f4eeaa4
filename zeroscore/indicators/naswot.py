"""NASWOT activation-overlap score (Mellor et al., v2)."""

from __future__ import annotations

import torch

from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import relu_codes


def naswot_kernel(codes: list[torch.Tensor]) -> torch.Tensor:
    """Hamming-similarity kernel of binary codes: ``K_ij`` = number of units where samples i and j agree.

    ``K = C C^T + (1 - C)(1 - C)^T`` summed over layers, in float64.
    """
    k: torch.Tensor | None = None
    for code in codes:
        c = code.double()
        term = c @ c.T + (1 - c) @ (1 - c).T
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
