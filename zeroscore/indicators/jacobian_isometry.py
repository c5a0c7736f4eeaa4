"""Dynamical isometry of the input-output Jacobian."""

from __future__ import annotations

from zeroscore.indicators._isometry import isometry_gap, jacobian_moments
from zeroscore.indicators.base import Indicator, register


@register
class JacobianIsometry(Indicator):
    """How far the input-output Jacobian's singular values are from all being 1 (dynamical isometry).

    Dynamical isometry (Saxe et al. 2014; Pennington, Schoenholz, Ganguli 2017) asks that the squared singular
    values of the input-output Jacobian concentrate around 1; NAS work uses it as a trainability signal at
    initialisation. This indicator takes the Jacobian of the whole batch's logits w.r.t. the whole batch's
    inputs (train-mode BatchNorm, so the coupling through batch statistics is included), estimates
    ``m1 = mean s^2`` and ``m2 = mean s^4`` on its smaller side from ``num_projections`` Haar-random orthonormal
    projections (one forward and vectorised vjps; the Jacobian is never materialised), and returns
    ``log(m1)^2 + log(m2/m1^2)``: the squared log of the mean squared singular value plus the log of one plus
    the squared coefficient of variation of ``s^2`` (the spread of the spectrum). Exactly 0 for an isometry.
    Lower is better.
    """

    name = "jacobian_isometry"
    higher_is_better = False
    needs = frozenset({"data", "gradients", "float_inputs"})
    paper = "Dynamical isometry (Pennington et al., NeurIPS 2017)"
    cost = "jvp"

    def __init__(self, num_projections: int = 16, bn_train: bool = True):
        self.num_projections = num_projections
        self.bn_train = bn_train

    def compute(self, probe) -> float:
        f = probe.functional(self.bn_train)
        gen = probe.generator()
        m1, m2 = jacobian_moments(lambda x: f({}, x), probe.inputs, self.num_projections, gen)
        return isometry_gap(m1, m2)
