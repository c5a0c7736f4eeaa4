"""MeCo: minimum eigenvalues of feature-map correlation matrices."""

from __future__ import annotations

import math
import warnings

import torch

from zeroscore.indicators._layers import first_tensor
from zeroscore.indicators.base import Indicator, IndicatorNotApplicable, register


@register
class MeCo(Indicator):
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
    higher_is_better = True
    needs = frozenset({"data"})
    paper = "MeCo (Jiang et al., NeurIPS 2023)"
    cost = "forward"

    #: channels drawn per module output (``None``: all); ``meco_opt`` makes it a hyper-parameter. A class attribute
    #: here so that MeCo's parameters (and the store keys of its scores) stay those of the paper.
    channels: int | None = None

    def __init__(self, batch_size: int = 1, bn_train: bool = True):
        self.batch_size = batch_size
        self.bn_train = bn_train

    def compute(self, probe) -> float:
        x = probe.inputs[: self.batch_size]
        corrs: list[torch.Tensor] = []
        scales: list[float] = []
        informative = [0]
        gen = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,)).item()))

        def hook(module, args, output):
            y = first_tensor(output)
            if y is None or y.dim() == 0 or not y.is_floating_point():
                return
            fea = y[0].detach().double()
            fea = fea.reshape(fea.shape[0], -1) if fea.dim() >= 1 else fea.reshape(1, 1)
            if fea.shape[0] >= 2 and fea.shape[1] >= 2:
                informative[0] += 1
            scale = 1.0
            if self.channels is not None and fea.shape[0] > self.channels:  # MeCo_opt: a random channel subset
                scale = fea.shape[0] / self.channels
                fea = fea[torch.randperm(fea.shape[0], generator=gen)[: self.channels].to(fea.device)]
            scales.append(scale)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                corr = torch.corrcoef(fea)
            if corr.dim() < 2:
                corr = corr.reshape(1, 1)
            corrs.append(torch.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0))

        handles = [m.register_forward_hook(hook) for m in probe.model.modules()]
        try:
            with torch.no_grad():
                try:
                    probe.functional(self.bn_train)({}, x)
                except ValueError as err:
                    if "Expected more than 1 value per channel" in str(err):
                        raise IndicatorNotApplicable(
                            f"meco forwards {self.batch_size} sample(s) and a BatchNorm in train mode cannot: {err}; "
                            "use bn_train=False or batch_size > 1") from err
                    raise
        finally:
            for h in handles:
                h.remove()
        if informative[0] == 0:
            raise IndicatorNotApplicable(
                "meco needs feature maps (a module output with several channels and several positions per sample); "
                "every module output here is a vector"
            )
        # eigenvalues on the CPU: one small symmetric solve per module call is far slower on a GPU (a solver
        # launch and a synchronisation each) than on the host
        values = [scale * float(torch.linalg.eigvalsh(c.cpu())[0]) for c, scale in zip(corrs, scales)]
        return float(sum(v for v in values if math.isfinite(v)))
