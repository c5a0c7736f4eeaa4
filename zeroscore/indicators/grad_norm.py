"""Gradient norm (zero-cost-nas / NASLib ``grad_norm``)."""

from __future__ import annotations

import torch

from zeroscore.indicators._saliency import WeightGradientSaliency
from zeroscore.indicators.base import register


@register
class GradNorm(WeightGradientSaliency):
    """Sum over conv/linear layers of the L2 norm of the loss gradient of the layer's weight.

    Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS" (ICLR 2021), ``foresight/pruners/measures/
    grad_norm.py`` (identical in NASLib): one batch, cross-entropy loss, BatchNorm in train mode, then
    ``sum_l ||dL/dW_l||_2`` over the weights of every ``nn.Conv2d``/``nn.Linear`` (here every conv/linear; see
    ``zeroscore/_nn.py``); the per-layer norms are summed, not combined into one global norm. Uses the probe's shared
    loss gradients. Higher is better (NAS-Bench-Suite-Zero orientation).
    """

    name = "grad_norm"
    paper = "Zero-Cost Proxies (Abdelfattah et al., ICLR 2021)"

    def layer_value(self, weight: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        return grad.norm()
