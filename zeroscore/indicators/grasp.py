"""GraSP gradient-signal preservation (zero-cost-nas / NASLib ``grasp``)."""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F

from zeroscore._modes import BatchNormNoStats
from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import layer_weight_names


@register
class Grasp(Indicator):
    """``sum -W * (H g)`` over the weights of all conv/linear layers.

    GraSP (Wang, Zhang, Grosse, ICLR 2020) as summed by Abdelfattah et al. (ICLR 2021,
    ``foresight/pruners/measures/grasp.py``, identical in NASLib): ``g = dL/dW`` (cross-entropy on one batch,
    BatchNorm in train mode, temperature ``T=1``, one iteration), then the Hessian-gradient product
    ``H g = d/dW (g_detached . dL/dW)`` restricted to the conv/linear weights (all other parameters fixed), and
    the score ``sum(-W * Hg)``; the reference flips GraSP's sign "because accuracy seems to be negatively
    correlated", and NAS-Bench-Suite-Zero uses the value as is, higher is better.

    Here ``H g`` is a double backward (as in the reference) through a functional copy of the weights (a
    forward-over-reverse ``torch.func.jvp`` as fallback; both agree to float32 precision, the double backward is
    faster on CPU), so nothing of the model is changed. ``g`` is the probe's shared loss gradient when an indicator
    scored before computed it, otherwise the first backward of the double backward (the reference runs a separate
    forward/backward for it: the same values to float32 rounding, one pass fewer).
    """

    name = "grasp"
    higher_is_better = True
    needs = frozenset({"data", "labels", "gradients"})
    paper = "GraSP (Wang et al., ICLR 2020) as a NAS proxy (Abdelfattah et al., ICLR 2021)"
    cost = "backward"

    def __init__(self, bn_train: bool = True, temperature: float = 1.0):
        self.bn_train = bn_train
        self.temperature = temperature

    def compute(self, probe) -> float:
        names = layer_weight_names(probe)
        params = probe.params("*")
        f = probe.functional(self.bn_train)
        x, y, T = probe.inputs, probe.labels(), self.temperature
        weights = OrderedDict((n, params[n]) for n in names)
        # g = dL/dW: the probe's loss gradients when another indicator computed them already (T = 1), otherwise
        # the first backward of the double backward itself (one pass fewer than the reference's two)
        shared = probe.peek(("loss_gradients", self.bn_train)) if T == 1.0 else None
        g = None if shared is None else OrderedDict((n, shared[n]) for n in names)

        def loss(w):
            return F.cross_entropy(f(w, x) / T, y)

        grad_fn = torch.func.grad(loss)
        try:
            hg = self._double_backward(f, weights, g, x, y, T)
        except Exception:
            with BatchNormNoStats():
                if g is None:
                    g = grad_fn(weights)
                hg = torch.func.jvp(grad_fn, (weights,), (OrderedDict((n, g[n].detach()) for n in names),))[1]
        return float(sum((-weights[n].double() * hg[n].double()).sum() for n in names))

    @staticmethod
    def _double_backward(f, weights, g, x, y, T):
        leaves = OrderedDict((n, w.clone().requires_grad_(True)) for n, w in weights.items())
        with torch.enable_grad():
            loss = F.cross_entropy(f(leaves, x) / T, y)
            gf = torch.autograd.grad(loss, list(leaves.values()), create_graph=True, allow_unused=True)
            if g is None:
                g = OrderedDict((n, d.detach()) for n, d in zip(leaves, gf) if d is not None)
            z = sum((g[n].detach() * d).sum() for n, d in zip(leaves, gf) if d is not None)
            hg = torch.autograd.grad(z, list(leaves.values()), allow_unused=True)
        return OrderedDict((n, torch.zeros_like(w) if h is None else h.detach())
                           for (n, w), h in zip(leaves.items(), hg))
