"""Hyper-parameters of a weight-sharing search, with the default of each method and where it comes from.

Sources (read for this reimplementation; no code was copied):

* NB201: the official NAS-Bench-201 baselines in AutoDL-Projects (X. Dong): ``configs/nas-benchmark/algos/
  DARTS.config``, ``GDAS.config``, ``RANDOM.config`` (weights: SGD, lr 0.025 cosine to 0.001, momentum 0.9,
  nesterov, weight decay 5e-4, batch 64; epochs DARTS 50, GDAS 240, RANDOM 250), ``exps/NAS-Bench-201-algos/
  DARTS-V1.py`` / ``GDAS.py`` / ``exps/algos/RANDOM-NAS.py`` (gradient clipping 5; architecture Adam lr 3e-4,
  betas (0.5, 0.999), weight decay 1e-3), ``exps/NATS-algos/search-cell.py`` (GDAS tau 10 -> 0.1; 100 candidate
  cells for RSPS's selection, each on one validation batch).
* NASP: the authors' ``NASP-codes`` (``codes/train_search.py``: 50 epochs, batch 64, SGD lr 0.025 cosine to 0.001,
  momentum 0.9 without nesterov, weight decay 3e-4, gradient clipping 5; ``architect.py``: Adam lr 3e-4, betas
  (0.5, 0.999), weight decay 1e-3; ``--l2`` complexity penalty 0).
* SPOS: Guo et al., ECCV 2020, official ``SinglePathOneShot`` ``search.py`` (population 50, 20 generations, top 10,
  25 mutations with probability 0.1 per choice, 25 crossovers). The supernet training is RSPS's.
* RF-DARTS (Zhang et al., CVPR 2023) publishes no code: DARTS' settings, a reconstruction.

* BN-only and DI-NAS (a reconstruction, no public code) train like RSPS: its settings and 250 epochs.

NB201's GDAS.config says 240 epochs (the NB201 paper's text says 250 for the non-DARTS methods); we use the config.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from zeroscore.errors import UsageError

__all__ = ["TrainConfig", "default_config", "DEFAULT_EPOCHS"]

#: epochs of each method's official setting
DEFAULT_EPOCHS = {"rsps": 250, "spos": 250, "darts": 50, "gdas": 240, "nasp": 50, "rf_darts": 50, "rf_darts_bn": 50,
                  "bn_only": 250, "di_nas": 250}


@dataclass
class TrainConfig:
    """One search's training settings (defaults: NB201's baselines, see the module docstring)."""

    epochs: int = 50
    batch_size: int = 64
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    grad_clip: float = 5.0
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    #: batch size of selection / one-shot evaluation (NB201's RANDOM-NAS valid loader: the search batch size)
    eval_batch_size: int = 64
    #: method options (e.g. ``tau_max``, ``candidates``, ``penalty``); each method documents its own
    options: dict = field(default_factory=dict)

    def check(self) -> TrainConfig:
        if int(self.epochs) < 1:
            raise UsageError(f"epochs must be a positive integer, got {self.epochs}")
        for name in ("batch_size", "eval_batch_size"):
            if int(getattr(self, name)) < 1:
                raise UsageError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.lr < 0 or self.lr_min < 0 or self.arch_lr < 0 or self.grad_clip < 0:
            raise UsageError("learning rates and grad_clip must be >= 0")
        return self

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def default_config(method: str, **overrides) -> TrainConfig:
    """The default :class:`TrainConfig` of ``method`` (its official epochs; NASP's own weight optimiser), updated
    with ``overrides`` (unknown names are a :class:`UsageError`)."""
    from .methods import method_class

    method = method_class(method).name  # unknown method: a clear error before anything else
    base = TrainConfig(epochs=DEFAULT_EPOCHS[method])
    if method == "nasp":
        base = dataclasses.replace(base, nesterov=False, weight_decay=3e-4)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise UsageError(f"unknown training setting(s) {unknown}; settings: {sorted(known)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(base, **given).check()
