"""NTK condition number (TE-NAS trainability)."""

from __future__ import annotations

import math

import torch

from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import ntk, sum_logit_jacobian


@register
class NTKCondition(Indicator):
    """Condition number ``lambda_max / lambda_min`` of the empirical NTK at initialisation.

    Protocol of TE-NAS (Chen, Gong, Wang, ICLR 2021, ``lib/procedures/ntk.py`` of VITA-Group/TENAS and
    TEGNAS): BatchNorm in train mode; one batch (64 CIFAR images in the paper); for every sample the gradient
    of the *sum of its logits* w.r.t. every parameter whose name contains ``weight`` (conv, linear and BN
    weights); ``K = J J^T``; eigenvalues in float64 (the reference used float32 ``symeig``); the value is
    averaged over ``repeats`` initialisations (TE-NAS: 3 networks).

    Here ``repeat 0`` is the model as given and further repeats re-initialise a copy with each module's
    ``reset_parameters`` (PyTorch's default init). Deviation: TE-NAS re-initialised conv/linear weights with
    Kaiming-normal (fan-in) and BN with weight 1, bias 0; the condition number is scale-invariant under a
    global rescaling but not under a per-layer one, so values differ from the reference's. A numerically singular NTK
    (``lambda_min <= 10 * eps * lambda_max`` with ``eps`` of the gradients' dtype, i.e. below the rounding noise
    of a float32 Jacobian) gives ``inf`` where the reference recorded -1 as "bad gradients": ``inf`` sorts such
    networks as the worst, which is what the reference's post-processing intended. Weights the user froze
    (``requires_grad=False``) count like the others (TE-NAS skipped parameters without a gradient): the indicator
    scores the architecture at initialisation, not a fine-tuning set-up. Lower is better.

    ``batch_stats="frozen"`` (opt-in, never the default) holds BatchNorm's batch statistics fixed, so per-sample
    gradients come from one vectorised backward (about 10x cheaper on CPU at batch 64); it approximates TE-NAS's
    NTK, and how well it ranks NB201 cells like the exact value is measured in
    ``benchmarks/results/ntk_frozen_agreement.md``.
    """

    name = "ntk_cond"
    higher_is_better = False
    needs = frozenset({"data", "gradients"})
    paper = "TE-NAS (Chen et al., ICLR 2021)"
    cost = "per-sample"

    def __init__(self, repeats: int = 1, param_pattern: str = "*weight*", bn_train: bool = True,
                 batch_stats: str = "coupled"):
        self.repeats = repeats
        self.param_pattern = param_pattern
        self.bn_train = bn_train
        self.batch_stats = batch_stats

    def compute(self, probe) -> float:
        conds = []
        for r in range(self.repeats):
            eig = torch.linalg.eigvalsh(ntk(probe, self.bn_train, self.param_pattern, r, self.batch_stats))
            lo, hi = eig[0].item(), eig[-1].item()
            noise = hi * 10 * torch.finfo(sum_logit_jacobian(probe, self.bn_train, self.param_pattern, r,
                                                          self.batch_stats).dtype).eps
            conds.append(hi / lo if lo > noise else math.inf)
        return float(sum(conds) / len(conds))
