"""Fisher channel saliency (zero-cost-nas / NASLib ``fisher``)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import layer_output_products


@register
class Fisher(Indicator):
    """Sum of the Fisher channel saliencies of all conv/linear outputs (Turner et al. / Theis et al.).

    Protocol of Abdelfattah et al. (ICLR 2021, ``foresight/pruners/measures/fisher.py``, identical in NASLib),
    after Theis et al. 2018 and BlockSwap (Turner et al., ICLR 2020): one batch, cross-entropy, BatchNorm in train
    mode; for every conv/linear output ``a`` (``N x C x ...``) and its loss gradient ``g``,
    ``s_nk = sum_spatial a_nk * g_nk`` and the channel saliency ``F_k = 0.5 * mean_n s_nk^2`` (summed over calls
    of a module called several times). The reference then *broadcasts* every channel value over that channel's
    weights (``reshape_elements`` to ``weight.shape``) before the global sum, so channel ``k`` counts
    ``prod(weight.shape[1:])`` times (``C_in/groups * k_h * k_w`` for a conv, ``in_features`` for a linear);
    ``per_weight=True`` (default) reproduces that weighting and the published values, ``per_weight=False`` sums
    the channel saliencies once each. One shared forward/backward (:meth:`Probe.layer_output_products`), which
    also serves the probe's loss gradients. Higher is better.
    """

    name = "fisher"
    higher_is_better = True
    needs = frozenset({"data", "labels", "gradients"})
    paper = ("Fisher pruning (Theis et al. 2018; Turner et al., ICLR 2020) as a NAS proxy "
             "(Abdelfattah et al., ICLR 2021)")
    cost = "backward"

    def __init__(self, bn_train: bool = True, per_weight: bool = True):
        self.bn_train = bn_train
        self.per_weight = per_weight

    def compute(self, probe) -> float:
        records = layer_output_products(probe, self.bn_train)
        modules = dict(probe.model.named_modules())
        per_module: dict[str, Any] = defaultdict(lambda: 0)
        for name, s in records:
            s = s.double()
            if s.dim() == 1:
                s = s.unsqueeze(1)
            per_module[name] = per_module[name] + 0.5 * s.pow(2).mean(0)
        total = 0.0
        for name, sal in per_module.items():
            weight = modules[name].weight[0].numel() if self.per_weight else 1
            total += float(sal.abs().sum()) * weight
        return float(total)
