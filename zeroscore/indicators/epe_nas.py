"""EPE-NAS: per-class Jacobian correlations."""

from __future__ import annotations

import numpy as np

from zeroscore.indicators.base import Indicator, register
from zeroscore.indicators.jacov import batch_jacobian_matrix


@register
class EPENAS(Indicator):
    """Per-class correlation score of the batch Jacobian (Lopes, Alirezazadeh, Alexandre, ICANN 2021).

    EPE-NAS ``search.py::eval_score_perclass`` (VascoLopes/EPE-NAS), as in NASLib
    ``naslib/predictors/pruners/measures/epe_nas.py``: the batch Jacobian rows (gradient of the sum of all logits
    w.r.t. each input, BatchNorm in train mode, as for ``jacov``) are grouped by label; for each class ``c``
    present, ``s_c = sum(log(|corrcoef(J_c)| + k))`` with ``k = 1e-5`` (a class with one sample has
    ``corrcoef = 1``, so ``s_c = log(1 + k)``); with at most 100 classes (the number of logits) the score is
    ``sum_c |s_c|``; with more, every ``s_c`` is first divided by the class's sample count and the score is
    ``sum_{c, c'} |s_c - s_c'| / (number of classes seen)``. Needs labels. A constant Jacobian row gives NaN in
    the reference (undefined correlation). Higher is better.
    """

    name = "epe_nas"
    higher_is_better = True
    needs = frozenset({"data", "labels", "gradients", "float_inputs"})
    paper = "EPE-NAS (Lopes et al., ICANN 2021)"
    cost = "backward"

    def __init__(self, k: float = 1e-5, bn_train: bool = True):
        self.k = k
        self.bn_train = bn_train

    def compute(self, probe) -> float:
        jac = batch_jacobian_matrix(probe, self.bn_train)
        n_classes = probe.num_classes
        labels = probe.labels(n_classes).cpu().numpy()
        per_class: dict[int, float] = {}
        for c in np.unique(labels):
            rows = jac[labels == c]
            if rows.shape[0] == 1:
                if n_classes > 100:
                    continue  # the reference's len() of a scalar fails and the class is skipped
                s = float(np.log(1.0 + self.k))
            else:
                with np.errstate(invalid="ignore", divide="ignore"):
                    corrs = np.corrcoef(rows)
                s = float(np.sum(np.log(np.abs(corrs) + self.k)))
                if n_classes > 100:
                    s /= len(corrs)
            per_class[int(c)] = s
        values = np.array(list(per_class.values()), dtype=np.float64)
        if n_classes <= 100:
            score = float(np.sum(np.abs(values)))
        else:
            score = float(np.abs(values[:, None] - values[None, :]).sum() / max(len(values), 1))
        if np.isnan(score):
            raise ValueError("epe_nas: a per-class Jacobian correlation is undefined (a sample's input Jacobian is "
                             "constant); the reference yields NaN here")
        return score
