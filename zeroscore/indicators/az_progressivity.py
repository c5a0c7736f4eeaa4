"""AZ-NAS progressivity."""

from __future__ import annotations

from zeroscore.indicators._aznas import az_components
from zeroscore.indicators.base import Indicator, register


@register
class AZProgressivity(Indicator):
    """Minimum over consecutive blocks of the increase in expressivity (AZ-NAS ``s^P``).

    AZ-NAS (Lee & Ham, CVPR 2024; ``compute_az_nas_score.py``): with the per-block expressivities ``E_0..E_L`` of
    ``az_expressivity`` (same shared pass: Kaiming-normal re-initialisation, a Gaussian batch, train-mode BatchNorm,
    block features up to the global pool), the score is ``min_i (E_i - E_{i-1})``: a network whose every block increases the
    expressivity of its input scores high. One of the four AZ-NAS components (the final AZ-NAS score is a rank
    aggregation over a population). Higher is better. With ``inputs="data"`` (real images) NB201's two fixed
    reduction blocks dominate the minimum and the component loses most of its correlation with accuracy.
    """

    name = "az_progressivity"
    higher_is_better = True
    needs = frozenset()  # a Gaussian batch of the probe's shape (inputs="data": the batch)
    paper = "AZ-NAS (Lee & Ham, CVPR 2024)"
    cost = "forward"

    def __init__(self, init: str | None = "kaiming_fanin", bn_train: bool = True,
                 blocks: tuple[str, ...] | None = None, inputs: str = "gaussian"):
        self.init = init
        self.bn_train = bn_train
        self.blocks = blocks
        self.inputs = inputs

    def compute(self, probe) -> float:
        e = az_components(probe, self.init, self.bn_train, self.blocks, self.inputs)["expressivity"]
        return float(min(b - a for a, b in zip(e[:-1], e[1:])))
