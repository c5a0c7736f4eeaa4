"""DARTS (Liu et al., ICLR 2019) first order, NAS-Bench-201's "DARTS-V1", and RF-DARTS.

DARTS-V1 (``exps/NAS-Bench-201-algos/DARTS-V1.py``): architecture parameters ``1e-3 * N(0, 1)`` per edge and op;
every edge outputs ``sum_o softmax(alpha)_o * op_o(x)``. Each step first trains the weights on a batch of weight
images through the mixture, then the alphas (Adam) on a batch of architecture images. Derivation: NB201's
``genotype()`` -- every edge's strongest op, ``none`` included (DARTS' collapse to parameter-free cells shows here);
on DARTS cells the two strongest non-``none`` edges per node. Second-order DARTS is not implemented.

RF-DARTS (Zhang et al., CVPR 2023, "DARTS with random features") -- a RECONSTRUCTION: the paper's code is not
public. What it states: DARTS where only BatchNorm trains and the convolutions keep their random initialisation.
Here: the cells' BatchNorms are affine (``affine=True``), every parameter that is not a BatchNorm weight or bias
(convolutions, the linear classifier) is frozen at initialisation, and the weight step trains the BatchNorm affine
parameters with DARTS' optimiser; alphas as DARTS. Parameter-free ops carry no BatchNorm of their own, so
``rf_darts_bn`` adds an affine BatchNorm after every parameter-free op (skip, pooling; ``op_bn=True``), the
fairness variant.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..paths import path_arch, path_from_weights
from .base import Method, freeze_all_but_batchnorm

__all__ = ["Darts", "RfDarts", "RfDartsBn"]


class Darts(Method):
    name = "darts"

    def prepare(self, supernet, rng, generator):
        super().prepare(supernet, rng, generator)
        self._new_alphas(lambda shape: 1e-3 * torch.randn(shape, generator=self.generator))

    def _mixture(self, detach: bool) -> list[torch.Tensor]:
        return [F.softmax(a.detach() if detach else a, dim=-1) for a in self.alphas]

    def weight_logits(self, supernet, x):
        self._full_masks(supernet)
        return supernet(x, self._mixture(detach=True))

    def arch_step(self, supernet, x, y, optimizer):
        self._full_masks(supernet)
        return self._gradient_step(lambda inputs: supernet(inputs, self._mixture(detach=False)), x, y, optimizer)

    def arch_weights(self):
        return [w.cpu() for w in self._mixture(detach=True)]

    def derive(self, supernet, data):
        path = path_from_weights(self.layout, self.arch_weights())
        return path, {"selection": "strongest op per edge of softmax(alpha)", "arch": str(path_arch(self.layout,
                                                                                                      path))}


class RfDarts(Darts):
    """RF-DARTS, a reconstruction (see the module docstring): only BatchNorm affine parameters and alphas train."""

    name = "rf_darts"
    supernet_options = {"affine": True, "track_running_stats": False}

    def prepare(self, supernet, rng, generator):
        super().prepare(supernet, rng, generator)
        freeze_all_but_batchnorm(supernet)  # random features: convolutions and classifier stay as initialised


class RfDartsBn(RfDarts):
    """RF-DARTS (a reconstruction) with an affine BatchNorm after every parameter-free op (skip, pooling)."""

    name = "rf_darts_bn"
    supernet_options = {"affine": True, "track_running_stats": False, "op_bn": True}
