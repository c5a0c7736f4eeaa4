"""SNIP connection sensitivity (zero-cost-nas / NASLib ``snip``)."""

from __future__ import annotations

import torch

from zeroscore.indicators._saliency import WeightGradientSaliency
from zeroscore.indicators.base import register


@register
class Snip(WeightGradientSaliency):
    """``sum |W * dL/dW|`` over the weights of all conv/linear layers.

    SNIP (Lee, Ajanthan, Torr, ICLR 2019) summed over the network as in Abdelfattah et al. (ICLR 2021,
    ``foresight/pruners/measures/snip.py``, identical in NASLib): the reference multiplies every conv/linear weight
    by a mask of ones and takes ``|dL/dmask|``, which equals ``|W * dL/dW|``; cross-entropy on one batch,
    BatchNorm in train mode. Biases and BatchNorm parameters are not scored. Uses the probe's shared loss
    gradients. Higher is better.
    """

    name = "snip"
    paper = "SNIP (Lee et al., ICLR 2019) as a NAS proxy (Abdelfattah et al., ICLR 2021)"

    def layer_value(self, weight: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        return (grad * weight).abs().sum()
