"""Base of MeCo and MeCo_opt: minimum eigenvalues of feature-map correlation matrices (Jiang, Wang, Bie,
NeurIPS 2023). The protocol is in :class:`~zeroscore.indicators.meco.MeCo`'s docstring."""

from __future__ import annotations

import math
import warnings

import torch

from zeroscore._nn import first_tensor
from zeroscore.errors import IndicatorNotApplicable
from zeroscore.indicators.base import Indicator


class FeatureCorrelationMinimum(Indicator):
    """``sum over module calls of (C / k) * lambda_min(corrcoef(F_S))`` with ``F_S`` = ``k = channels`` random
    channels of one sample's output ``F`` (all of them, factor 1, when ``channels`` is None or >= C)."""

    higher_is_better = True
    needs = frozenset({"data"})
    cost = "forward"
    min_batch = 1

    #: channels drawn per module output (``None``: all); a subclass may make it a constructor parameter
    channels: int | None = None

    def __init__(self, batch_size: int = 1, bn_train: bool = True):
        self.batch_size = batch_size
        self.bn_train = bn_train

    def compute(self, probe) -> float:
        x = probe.inputs[: self.batch_size]
        corrs: list[torch.Tensor] = []
        scales: list[float] = []
        informative = [0]
        gen = probe.generator()

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

        with probe.capture(list(probe.model.named_modules()), lambda name: hook), torch.no_grad():
            try:
                probe.functional(self.bn_train)({}, x)
            except ValueError as err:
                if "Expected more than 1 value per channel" in str(err):
                    raise IndicatorNotApplicable(
                        f"{self.name} forwards {self.batch_size} sample(s) and a BatchNorm in train mode cannot: "
                        f"{err}; use bn_train=False or batch_size > 1") from err
                raise
        if informative[0] == 0:
            raise IndicatorNotApplicable(
                f"{self.name} needs feature maps (a module output with several channels and several positions "
                "per sample); every module output here is a vector"
            )
        # eigenvalues on the CPU: one small symmetric solve per module call is far slower on a GPU (a solver
        # launch and a synchronisation each) than on the host
        values = [scale * float(torch.linalg.eigvalsh(c.cpu())[0]) for c, scale in zip(corrs, scales)]
        return float(sum(v for v in values if math.isfinite(v)))
