"""SynFlow (log of the synaptic-flow score)."""

from __future__ import annotations

import math

import torch
from torch.func import functional_call

from zeroscore._modes import BatchNormBypass
from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import layer_weight_names


@register
class Synflow(Indicator):
    """``log`` of the SynFlow score ``sum |W * dR/dW|`` over conv/linear weights.

    SynFlow (Tanaka et al., NeurIPS 2020) as a NAS proxy (Abdelfattah et al., ICLR 2021,
    ``foresight/pruners/measures/synflow.py``; identical in NASLib, registered with ``bn=False``): the network is
    copied, every parameter and buffer replaced by its absolute value, every BatchNorm bypassed (its ``forward``
    returns the input), everything converted to float64, and ``R = sum(f(1))`` is computed for an all-ones input of
    the input's shape with batch size 1; the score is ``sum |W * dR/dW|`` over the weights of every
    ``nn.Conv2d``/``nn.Linear``. NAS-Bench-Suite-Zero stores ``log(score)`` (NASLib ``ZeroCost.query``), and this
    indicator returns that natural log too: per layer the float64 sum of the products, as the reference, or, where
    that sum would overflow or underflow, ``logsumexp(log|W| + log|dR/dW|)`` over its entries, and the layers
    combined in log space, so scores of ``1e400`` and beyond stay finite (the float64 gradient itself must stay below
    ~1e308). A network whose output does not depend on its weights scores ``-inf``.

    Here the copy is functional (absolute float64 tensors passed to ``torch.func.functional_call``; BatchNorm
    bypassed with a torch-function mode, so ``F.batch_norm`` calls are bypassed as well) and runs in eval mode
    (the reference ran in train mode, which only matters for dropout). Data-free. Higher is better.
    """

    name = "synflow"
    higher_is_better = True
    needs = frozenset({"gradients", "float_inputs"})
    paper = "SynFlow (Tanaka et al., NeurIPS 2020) as a NAS proxy (Abdelfattah et al., ICLR 2021)"
    cost = "backward"
    min_batch = 1

    def __init__(self, bn_bypass: bool = True):
        self.bn_bypass = bn_bypass

    def compute(self, probe) -> float:
        names = layer_weight_names(probe)
        model = probe.model
        tensors = {}
        for n, t in list(model.named_parameters()) + list(model.named_buffers()):
            t = t.detach()
            tensors[n] = t.abs().double() if t.is_floating_point() else t.clone()
        selected = {n: tensors[n] for n in names}
        x = torch.ones((1,) + tuple(probe.inputs.shape[1:]), dtype=torch.float64, device=probe.device)

        def total(sel):
            return probe.logits_of(functional_call(model, {**tensors, **sel}, (x,))).sum()

        with probe.mode(False):
            if self.bn_bypass:
                with BatchNormBypass():
                    grads = torch.func.grad(total)(selected)
            else:
                grads = torch.func.grad(total)(selected)
        per_layer = (_log_abs_dot(selected[n], grads[n]) for n in names)
        logs = [v for v in per_layer if v is not None]
        if not logs:
            return -math.inf
        return float(torch.logsumexp(torch.stack(logs), 0))


def _log_abs_dot(w: torch.Tensor, g: torch.Tensor) -> torch.Tensor | None:
    """``log sum |w * g|`` over one layer's entries, or None where every product is zero.

    The reference's float64 sum of products, then its log, wherever that sum is a normal float64 (a layer's products
    overflow only beyond ~1e308, and products that underflow are below 1e-308 against a sum above 1e-280); otherwise
    ``logsumexp(log|w| + log|g|)`` over the non-zero products, which no float64 range limits. The log-space form
    costs a log of every entry and a masked copy (about a quarter of the indicator's time on an NB201 cell): it is
    the fallback, not the rule."""
    total = (w * g).abs().sum()
    if 1e-280 < float(total) < math.inf:
        return total.log()
    w, g = w.abs().reshape(-1), g.abs().reshape(-1)
    keep = (w > 0) & (g > 0)
    if not keep.any():
        return None
    return torch.logsumexp(w[keep].log() + g[keep].log(), 0)
