"""Weight L2 norm (zero-cost-nas / NASLib ``l2_norm``)."""

from __future__ import annotations

from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import layer_weight_names


@register
class L2Norm(Indicator):
    """``sum_l ||W_l||_2`` over the weights of all conv/linear layers at initialisation.

    NASLib ``naslib/predictors/utils/pruners/measures/l2_norm.py`` (NAS-Bench-Suite-Zero, Krishnakumar et al.,
    NeurIPS 2022): per-layer Frobenius norm of every ``nn.Conv2d``/``nn.Linear`` weight, summed. Data-free and
    pass-free: it depends only on the architecture and the initialisation (a size proxy under PyTorch's default
    init). Higher is better.
    """

    name = "l2_norm"
    higher_is_better = True
    needs = frozenset()
    paper = "NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022)"
    cost = "none"
    min_batch = 1

    def __init__(self):
        pass

    def compute(self, probe) -> float:
        params = probe.params("*")
        return float(sum(params[n].double().norm() for n in layer_weight_names(probe)))
