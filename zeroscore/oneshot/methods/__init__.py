"""The weight-sharing methods, one small strategy object each (:class:`~zeroscore.oneshot.methods.base.Method`).

========== ==============================================================================================
rsps       random single path per step; best of 100 random cells, one validation batch each (NB201 baseline)
spos       the same training; SPOS evolution on one-shot validation accuracy
darts      first-order DARTS ("DARTS-V1"): softmax mixture, alternating weight / alpha steps
gdas       Gumbel-softmax single path, straight-through, tau 10 -> 0.1
nasp       NASP: alphas in [0, 1], proximal (one-hot) point, architecture step first (authors' code)
rf_darts   RF-DARTS, a RECONSTRUCTION (no public code): DARTS training only BatchNorm, convolutions random
rf_darts_bn  rf_darts with an affine BatchNorm after every parameter-free op (fairness variant)
bn_only    RSPS training of the BatchNorm affine parameters only, every other weight at its initialisation
di_nas     DI-NAS, a RECONSTRUCTION (no public code): isometric init, BN after every op, BN-only training,
           per-edge selection among well-conditioned ops by validation loss (or |gamma|)
========== ==============================================================================================
"""

from __future__ import annotations

from zeroscore.errors import UsageError

from .base import Method
from .bn_supernets import BnOnly, DiNas
from .darts import Darts, RfDarts, RfDartsBn
from .gdas import Gdas
from .nasp import Nasp
from .rsps import Rsps
from .spos import Spos

__all__ = ["Method", "METHODS", "method_class", "GRADIENT_METHODS"]

#: method name -> class
METHODS: dict[str, type[Method]] = {cls.name: cls for cls in (Rsps, Spos, Darts, Gdas, Nasp, RfDarts, RfDartsBn,
                                                                 BnOnly, DiNas)}
#: the methods with architecture parameters trained by gradient
GRADIENT_METHODS = ("darts", "gdas", "nasp", "rf_darts", "rf_darts_bn")


def method_class(name: str) -> type[Method]:
    """The class of a method by name; :class:`UsageError` naming the methods for an unknown one."""
    key = str(name).strip().lower().replace("-", "_")
    if key not in METHODS:
        raise UsageError(f"unknown weight-sharing method {name!r}; methods: {', '.join(METHODS)}")
    return METHODS[key]
