"""NTK kernel-regression error (TEG-NAS generalization)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import ntk


@register
class NTKGeneralization(Indicator):
    """Mean squared error of NTK kernel regression that predicts held-out labels from the rest of the batch.

    TEG-NAS (Chen et al., "Understanding and accelerating NAS with training-free and theory-grounded
    metrics", TPAMI 2023; ``get_ntk_n`` in VITA-Group/TEGNAS): with per-sample gradients ``g`` of the summed
    logits, ``K_xx = G_x G_x^T`` on a training batch and ``K_yx = G_y G_x^T`` for a held-out batch, the
    prediction of the centred one-hot labels is ``P_y = K_yx K_xx^{-1} Y_x`` and the score is
    ``mean_i ||P_y[i] - Y_y[i]||^2`` (each batch's one-hot labels centred by that batch's mean). Lower is better.

    Deviations, chosen so the indicator shares the NTK pass with ``ntk_cond``: both halves come from the probe's
    one batch (first ``holdout`` fraction is held out, i.e. the last part of the batch) and one forward pass
    (BatchNorm statistics over the whole batch; TEG-NAS ran two batches of 64 separately); gradients are taken
    w.r.t. all ``weight`` parameters (TEG-NAS used the cell weights only, which needs model-specific names);
    the linear system is solved in float64 with a pseudo-inverse instead of an explicit inverse (a kernel without
    information, as in cells whose output ignores the input, gives the error of predicting zero, the centred labels'
    mean, identically on CPU and GPU).
    ``batch_stats="frozen"``: the opt-in approximation described in ``ntk_cond``.
    """

    name = "ntk_generalization"
    higher_is_better = False
    needs = frozenset({"data", "labels", "gradients"})
    paper = "TEG-NAS (Chen et al., TPAMI 2023)"
    cost = "per-sample"

    def __init__(self, holdout: float = 0.5, repeats: int = 1, param_pattern: str = "*weight*", bn_train: bool = True,
                 batch_stats: str = "coupled"):
        self.holdout = holdout
        self.repeats = repeats
        self.param_pattern = param_pattern
        self.bn_train = bn_train
        self.batch_stats = batch_stats

    def compute(self, probe) -> float:
        n = probe.batch_size
        n_train = n - max(1, int(round(n * self.holdout)))
        if n_train < 1:
            raise ValueError(f"batch of {n} is too small to hold out {self.holdout:.0%}")
        labels = probe.labels(probe.num_classes)
        onehot = F.one_hot(labels, num_classes=probe.num_classes).double()
        y_train = onehot[:n_train] - onehot[:n_train].mean(0)
        y_test = onehot[n_train:] - onehot[n_train:].mean(0)
        errors = []
        for r in range(self.repeats):
            k = ntk(probe, self.bn_train, self.param_pattern, r, self.batch_stats)
            errors.append(kernel_regression_mse(k[:n_train, :n_train], k[n_train:, :n_train], y_train, y_test))
        return float(sum(errors) / len(errors))


def kernel_regression_mse(k_xx: torch.Tensor, k_yx: torch.Tensor, y_x: torch.Tensor, y_y: torch.Tensor) -> float:
    """``mean_i ||K_yx K_xx^+ y_x - y_y||^2_i`` (float64), ``K_xx^+`` the pseudo-inverse of the symmetric kernel
    (its eigenvalues above ``n * eps`` of the largest inverted): the inverse for a regular kernel, and for a singular
    one (a network whose output ignores its input or its weights) the same value on every device. A plain solve
    raised on a CPU and returned NaN or garbage on a GPU there; since ``K = G G^T``, every least-squares solution
    gives the same prediction, so the pseudo-inverse's is the one."""
    alpha = torch.linalg.pinv(k_xx, hermitian=True) @ y_x
    pred = k_yx @ alpha
    return ((pred - y_y) ** 2).sum(1).mean().item()
