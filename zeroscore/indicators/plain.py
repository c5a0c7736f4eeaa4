"""Plain gradient-times-weight saliency (zero-cost-nas / NASLib ``plain``)."""

from __future__ import annotations

import torch

from zeroscore.indicators._saliency import WeightGradientSaliency
from zeroscore.indicators.base import register


@register
class Plain(WeightGradientSaliency):
    """``sum W * dL/dW`` (signed) over the weights of all conv/linear layers.

    The "plain" baseline of Abdelfattah et al. (ICLR 2021, ``foresight/pruners/measures/plain.py``, identical in
    NASLib): first-order Taylor term of the loss change when removing all weights, cross-entropy on one batch,
    BatchNorm in train mode. Uses the probe's shared loss gradients. NAS-Bench-Suite-Zero reports it with the
    raw sign (it correlates negatively with accuracy on NB201, Spearman -0.37); we keep the reference value and
    its orientation ``higher_is_better = True`` as in the benchmark tables.
    """

    name = "plain"
    paper = "Zero-Cost Proxies (Abdelfattah et al., ICLR 2021)"

    def layer_value(self, weight: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        return (grad * weight).sum()
