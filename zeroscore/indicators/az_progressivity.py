"""AZ-NAS progressivity."""

from __future__ import annotations

from zeroscore.indicators._aznas import AZComponent
from zeroscore.indicators.base import register


@register
class AZProgressivity(AZComponent):
    """Minimum over consecutive blocks of the increase in expressivity (AZ-NAS ``s^P``).

    AZ-NAS (Lee & Ham, CVPR 2024; ``compute_az_nas_score.py``): with the per-block expressivities ``E_0..E_L`` of
    ``az_expressivity`` (same shared pass: Kaiming-normal re-initialisation, a Gaussian batch, train-mode
    BatchNorm, block features up to the global pool), the score is ``min_i (E_i - E_{i-1})``: a network whose every
    block increases the expressivity of its input scores high. One of the four AZ-NAS components (the final AZ-NAS
    score is a rank
    aggregation over a population). Higher is better. With ``inputs="data"`` (real images) NB201's two fixed
    reduction blocks dominate the minimum and the component loses most of its correlation with accuracy.
    """

    name = "az_progressivity"

    def compute(self, probe) -> float:
        e = self.components(probe)["expressivity"]
        return float(min(b - a for a, b in zip(e[:-1], e[1:])))
