"""MeCo: minimum eigenvalues of feature-map correlation matrices."""

from __future__ import annotations

from zeroscore.indicators._meco import FeatureCorrelationMinimum
from zeroscore.indicators.base import register


@register
class MeCo(FeatureCorrelationMinimum):
    """``sum over module calls of lambda_min(corrcoef(F))``, ``F`` = one sample's output as channels x positions.

    MeCo (Jiang, Wang, Bie, NeurIPS 2023; ``HamsterMimi/MeCo`` ``correlation/NAS_Bench_201.py::get_score``):
    one real input (the reference's loader has ``batch_size=1``; here the first ``batch_size`` inputs of the
    probe's batch, default 1) through the network in train mode; a forward hook on *every* module (the model
    itself and containers included, each call counted) takes ``output[0]`` (the first sample), reshapes it to
    ``(C, -1)`` and computes the Pearson correlation matrix between channels over positions; NaN/inf entries
    (constant channels) are set to 0; the minimum eigenvalue is recorded; NaN/inf results are dropped and the
    rest summed. Modules with a single position per channel (linear layers, pooled vectors) contribute 0, as in
    the reference. Eigenvalues in float64 with a symmetric solver (the reference: float32 ``torch.linalg.eig``).
    A model none of whose modules outputs a map with several channels and positions (an MLP) is not
    applicable. A BatchNorm1d in train mode cannot run on one sample: use ``bn_train=False`` there. Higher is
    better. The reference's ``meco_opt`` (random channel subsets) is registered as ``meco_opt``.

    Widths: for nearly independent channels ``lambda_min`` sits near the Marchenko-Pastur edge
    ``(1 - sqrt(C / P))^2`` (``P`` positions), so it falls as a layer gets wider and is 0 once ``C >= P``. On
    NAS-Bench-201 (fixed widths) MeCo ranks topologies; on NATS-Bench SSS (only widths vary) it ranks wider,
    more accurate networks lower (Spearman about -0.85 there). Use ``meco_opt`` where widths vary.
    """

    name = "meco"
    paper = "MeCo (Jiang et al., NeurIPS 2023)"
