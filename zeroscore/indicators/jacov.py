"""Jacobian covariance (NASWOT v1 score, NASLib ``jacov``)."""

from __future__ import annotations

import numpy as np

from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import input_gradients


def batch_jacobian_matrix(probe, train: bool) -> np.ndarray:
    """``(N, D)`` float64 rows ``d sum(logits) / d x_i`` (the probe's shared input-gradient pass)."""
    return input_gradients(probe, train).reshape(probe.batch_size, -1).double().cpu().numpy()


def _check_rows(jac: np.ndarray, what: str) -> None:
    flat = np.ptp(jac, axis=1) == 0
    if flat.any():
        raise ValueError(
            f"{what}: the input Jacobian of {int(flat.sum())} sample(s) is constant (e.g. the output does not depend "
            "on the input), so its correlation is undefined (the reference returns NaN here)"
        )


@register
class JacobianCovariance(Indicator):
    """``-sum_i [log(v_i + k) + 1/(v_i + k)]`` of the eigenvalues ``v`` of the correlation matrix of the batch Jacobian.

    The first NASWOT score (Mellor et al., arXiv:2006.04647v1, BayesWatch/nas-without-training, 2020), in the
    form of NASLib ``naslib/predictors/utils/pruners/measures/jacov.py`` (also zero-cost-nas ``jacob_cov``):
    ``J`` = gradient of the *sum of all logits* of the batch w.r.t. the input (one ``y.backward(ones)``, BatchNorm
    in train mode), one row per sample; ``C = corrcoef(J)``; ``k = 1e-5``. Eigenvalues in float64 with a
    symmetric solver (the reference used ``np.linalg.eig``). A sample whose Jacobian is constant makes ``C``
    undefined: the reference yields NaN (NASLib then stores -1e8); here it is an error with that explanation.
    Higher is better.
    """

    name = "jacov"
    higher_is_better = True
    needs = frozenset({"data", "gradients", "float_inputs"})
    paper = "NASWOT v1 / jacob_cov (Mellor et al. 2020; Abdelfattah et al., ICLR 2021)"
    cost = "backward"

    def __init__(self, k: float = 1e-5, bn_train: bool = True):
        self.k = k
        self.bn_train = bn_train

    def compute(self, probe) -> float:
        jac = batch_jacobian_matrix(probe, self.bn_train)
        _check_rows(jac, "jacov")
        corr = np.corrcoef(jac)
        v = np.linalg.eigvalsh(corr)
        return float(-np.sum(np.log(v + self.k) + 1.0 / (v + self.k)))
