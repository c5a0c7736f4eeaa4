"""MeCo_opt: MeCo on a fixed-size random channel subset, rescaled by the layer's width."""

from __future__ import annotations

from zeroscore.indicators._meco import FeatureCorrelationMinimum
from zeroscore.indicators.base import register


@register
class MeCoOpt(FeatureCorrelationMinimum):
    """``sum over module calls of (C / k) * lambda_min(corrcoef(F_S))``, ``F_S`` = ``k`` random channels of ``F``.

    The MeCo authors' ``meco_opt`` (``HamsterMimi/MeCo`` ``correlation/NAS_Bench_201.py``, measure ``meco_opt``,
    the variant their last committed NATS-Bench SSS run uses): as :class:`~zeroscore.indicators.meco.MeCo`, but
    each module output's correlation matrix is taken over ``k = channels`` (default 8) channels drawn at random
    (seeded), and its minimum eigenvalue is multiplied by ``C / k``. A ``k x k`` matrix's minimum eigenvalue does
    not shrink with the layer's width ``C`` the way the full ``C x C`` one does, and the factor ``C / k`` makes the
    score grow with width, so it suits spaces whose widths vary (NATS-Bench SSS). Layers with at most ``k``
    channels use all of them (factor 1). Higher is better.
    """

    name = "meco_opt"
    paper = "MeCo_opt (Jiang et al., NeurIPS 2023; authors' code)"

    def __init__(self, batch_size: int = 1, bn_train: bool = True, channels: int | None = 8):
        super().__init__(batch_size=batch_size, bn_train=bn_train)
        self.channels = channels
