"""AZ-NAS trainability."""

from __future__ import annotations

from zeroscore.errors import IndicatorNotApplicable
from zeroscore.indicators._aznas import AZComponent
from zeroscore.indicators.base import register


@register
class AZTrainability(AZComponent):
    """Mean over consecutive blocks of ``-s - 1/s + 2``, ``s`` the spectral norm of a block's gradient map
    (AZ-NAS ``s^T``).

    AZ-NAS (Lee & Ham, CVPR 2024; ``compute_az_nas_score.py``): in the shared pass of ``az_expressivity``
    (Kaiming-normal re-initialisation, a Gaussian batch, train-mode BatchNorm), for every pair of consecutive block
    features ``f_{i-1} -> f_i`` a random Rademacher ``g_out`` is back-propagated to
    ``g_in = d<f_i, g_out>/d f_{i-1}``
    (pixel-unshuffled to ``f_i``'s resolution after a reduction), ``M = g_in^T g_out / (B H W)`` (channels x
    channels) and ``s = sigma_max(M)``; ``-s - 1/(s + 1e-6) + 2`` is 0 when the block preserves gradient norms
    (``s = 1``) and negative otherwise. An exact identity block scores ``-inf`` (as in the reference), which then
    makes the mean ``-inf``. Pairs whose output does not depend on the previous feature are skipped. One of the
    four AZ-NAS components. Higher is better. (``block_isometry`` is a related, spectral-moment variant.)
    """

    name = "az_trainability"
    needs = frozenset({"float_inputs", "gradients"})
    cost = "backward"

    def compute(self, probe) -> float:
        t = self.components(probe, trainability=True)["trainability"]
        if not t:
            raise IndicatorNotApplicable("no pair of consecutive blocks where the later depends on the earlier")
        return float(sum(t) / len(t))
