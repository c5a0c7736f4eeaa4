"""Weight-sharing architecture search beside the training-free one: a supernet whose shared weights are trained.

:func:`search` trains the NB201 (or DARTS) supernet with one of the methods and derives an architecture;
:func:`evaluate` gives the one-shot accuracy of any sub-network of a trained supernet.

==============  ===================================================================================================
``rsps``        random sampling with parameter sharing (Li & Talwalkar); best of 100 cells on one batch each
``spos``        single path one-shot (Guo et al.): the same training, selection by evolution
``darts``       first-order DARTS ("DARTS-V1" of NAS-Bench-201)
``gdas``        GDAS: Gumbel-softmax single path, tau 10 -> 0.1
``nasp``        NASP (Yao et al.): proximal one-hot alphas in [0, 1], as the authors' code
``rf_darts``    RF-DARTS (Zhang et al.) -- a RECONSTRUCTION, the paper's code is not public: DARTS where only
                BatchNorm trains and the convolutions stay random; ``rf_darts_bn`` adds an affine BatchNorm after
                every parameter-free op
``bn_only``     uniform single-path training of the BatchNorm affine parameters only (BN-NAS's supernet)
``di_nas``      DI-NAS (Luo et al.) -- a RECONSTRUCTION, no public code: dynamical-isometry init, a BatchNorm after
                every op, BN-only training, per-edge selection among well-conditioned ops
==============  ===================================================================================================

How far a supernet's ranking can be trusted (tau, precision at top-k, S-Tau, GT-Tau, few-shot partitions,
similarity groups, combination with training-free rankings): :mod:`zeroscore.oneshot.trust`, fed by
:func:`zeroscore.oneshot.evaluation.oneshot_accuracies`.

Data: NAS-Bench-201's official search splits from the data location (:mod:`zeroscore.oneshot.splits`), or
tensors (:class:`SearchData`). Defaults and their sources: :mod:`zeroscore.oneshot.config`. Checkpoints every
epoch, resume after a kill: :mod:`zeroscore.oneshot.checkpoint`. Like :mod:`zeroscore.search`, this package never
reads ground truth.

>>> from zeroscore.oneshot import search                                         # doctest: +SKIP
>>> result = search("darts", "nb201", "cifar10", epochs=2, channels=8, cells=1, seed=0)
>>> result.arch, result.images_seen, result.wall_seconds
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from zeroscore.oneshot.batches import SearchData
    from zeroscore.oneshot.config import TrainConfig, default_config
    from zeroscore.oneshot.engine import OneShotResult, search
    from zeroscore.oneshot.evaluation import evaluate
    from zeroscore.oneshot.methods import METHODS

# imported on first use, so that the CLI's argument parsing does not pay for torch
_LAZY = {"search": "engine", "OneShotResult": "engine", "evaluate": "evaluation", "SearchData": "batches",
         "TrainConfig": "config", "default_config": "config", "METHODS": "methods"}

__all__ = ["search", "OneShotResult", "evaluate", "SearchData", "TrainConfig", "default_config", "METHODS",
           "METHOD_NAMES"]

#: the methods by name (without importing torch)
METHOD_NAMES = ("rsps", "spos", "darts", "gdas", "nasp", "rf_darts", "rf_darts_bn", "bn_only", "di_nas")


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"zeroscore.oneshot.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zeroscore.oneshot' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
