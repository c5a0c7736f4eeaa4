"""GradSign: sign agreement of per-sample gradients."""

from __future__ import annotations

import torch

from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import per_sample_loss_gradients


@register
class GradSign(Indicator):
    """``sum_k | sum_i sign(dL(x_i)/dW_k) |`` over the conv/linear weights ``W_k`` and samples ``x_i``.

    GradSign (Zhang & Jia, ICLR 2022; ``cmu-catalyst/GradSign`` ``zero-cost-nas-code/foresight/pruners/measures/
    grad_conflict.py``): every sample is forwarded *alone* (``net.forward(inputs[[i]])``, BatchNorm in train mode
    on that one sample), its cross-entropy gradient w.r.t. the weights of every ``nn.Conv2d``/``nn.Linear`` is
    taken, and the absolute sums of the gradient signs over samples are added (``np.nansum``). Uses the probe's
    per-sample gradients (:meth:`Probe.per_sample_loss_gradients`, vectorised). The NASWOT-code variant of the
    same repository averages instead of summing; the sum is the one used for its NAS-Bench-201 Spearman results.
    Needs labels. Higher is better.
    """

    name = "gradsign"
    higher_is_better = True
    needs = frozenset({"data", "labels", "gradients"})
    paper = "GradSign (Zhang & Jia, ICLR 2022)"
    cost = "per-sample"

    def __init__(self, bn_train: bool = True):
        self.bn_train = bn_train

    def compute(self, probe) -> float:
        grads = per_sample_loss_gradients(probe, self.bn_train)
        total = 0.0
        for g in grads.values():
            total += float(torch.nansum(torch.sign(g).sum(dim=0).abs()))
        return total
