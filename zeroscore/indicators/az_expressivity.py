"""AZ-NAS expressivity."""

from __future__ import annotations

from zeroscore.indicators._aznas import AZComponent
from zeroscore.indicators.base import register


@register
class AZExpressivity(AZComponent):
    """Sum over blocks of the eigenvalue entropy of the feature covariance (AZ-NAS ``s^E``).

    AZ-NAS (Lee & Ham, CVPR 2024; ``compute_az_nas_score.py``): weights re-initialised Kaiming-normal (fan-in,
    ReLU gain; BatchNorm weight 1, bias 0; ``init=None`` keeps the model's weights), one forward pass in train
    mode of a standard-normal batch of the probe's batch shape (the reference's NB201 protocol: ``az_nas`` gets no
    data loader, so ``compute_nas_score`` draws ``torch.randn``; ``inputs="data"`` uses the probe's real batch),
    the features of the stem and of every block up to the global pool; for each, the
    channel covariance over all positions of all samples, its eigenvalues normalised to a distribution ``p``,
    and the entropy ``-sum p log(p + 1e-8)``; the score is the sum. Isotropic features (all directions used)
    score high. Blocks: see ``zeroscore/indicators/_blocks.py`` (or pass ``blocks=``). This is one of the four
    components; AZ-NAS's final score is a rank aggregation over a population (``sum log(rank / n)``), which is
    not a per-network value. Higher is better.
    """

    name = "az_expressivity"

    def compute(self, probe) -> float:
        return float(sum(self.components(probe)["expressivity"]))
