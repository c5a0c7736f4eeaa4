"""Number of parameters."""

from __future__ import annotations

from zeroscore.indicators.base import Indicator, register


@register
class Params(Indicator):
    """Number of scalar parameters of the model (a raw count; shared tensors counted once).

    All ``nn.Parameter`` entries, BatchNorm affine weights included, whatever their ``requires_grad`` flag
    (``trainable_only=True`` counts only those with ``requires_grad``). This is the count of NAS-Bench-201's
    ``params`` and of NAS-Bench-Suite-Zero's ``params`` column (NASLib: ``tensorwatch.ModelStats(...).parameters``,
    the parameters of every leaf module that runs), which give millions: published value = ``value / 1e6``
    exactly on NB201. No forward pass is run. Higher correlates with accuracy in most NAS spaces.
    """

    name = "params"
    higher_is_better = True
    needs = frozenset()
    paper = "parameter-count baseline (NAS-Bench-Suite-Zero, Krishnakumar et al., NeurIPS 2022)"
    cost = "none"
    min_batch = 1

    def __init__(self, trainable_only: bool = False):
        self.trainable_only = trainable_only

    def compute(self, probe) -> float:
        return float(sum(p.numel() for p in probe.model.parameters() if p.requires_grad or not self.trainable_only))
