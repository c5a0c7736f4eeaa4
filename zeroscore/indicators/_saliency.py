"""Base of the weight-gradient saliencies of Abdelfattah et al. (``grad_norm``, ``snip``, ``plain``)."""

from __future__ import annotations

import torch

from zeroscore.indicators.base import Indicator
from zeroscore.passes import layer_weight_names, shared_loss_gradients


class WeightGradientSaliency(Indicator):
    """``sum_l saliency(W_l, dL/dW_l)`` over the weights of every conv/linear layer.

    Protocol of Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS" (ICLR 2021, ``foresight/pruners/
    measures/``, identical in NASLib): one batch, cross-entropy loss, BatchNorm in train mode, the gradient of the
    weights of every ``nn.Conv2d``/``nn.Linear`` (here every conv/linear), one per-layer value summed over layers.
    Subclasses define :meth:`layer_value`. The loss gradients are the probe's shared ones (one backward for the
    whole family and ``fisher``/``grasp``).
    """

    higher_is_better = True
    needs = frozenset({"data", "labels", "gradients"})
    cost = "backward"

    def __init__(self, bn_train: bool = True):
        self.bn_train = bn_train

    def layer_value(self, weight: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def compute(self, probe) -> float:
        grads = shared_loss_gradients(probe, self.bn_train)
        params = probe.params("*")
        return float(sum(self.layer_value(params[n].double(), grads[n].double()) for n in layer_weight_names(probe)))
