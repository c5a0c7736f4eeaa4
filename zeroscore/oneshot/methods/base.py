"""What every weight-sharing method is: :class:`Method`, a small strategy object the training loop calls.

A method decides four things and nothing else:

* which supernet it trains (:attr:`Method.supernet_options`: BatchNorm settings, extra BatchNorms) and which
  parameters the weight optimiser updates (:meth:`Method.weight_parameters`);
* the **weight step**'s path (:meth:`Method.weight_logits`: the logits of a training batch on the path or mixture
  the method trains; the loop computes the loss, clips the gradient and steps SGD);
* the **architecture step** (:meth:`Method.arch_step` on a batch of architecture images, with the method's own
  optimiser over :attr:`Method.alphas`; methods without architecture parameters have none);
* the **derivation** of the final architecture (:meth:`Method.derive`).

Randomness comes only from the generators handed to :meth:`Method.prepare` (a ``numpy.random.Generator`` for
paths and a CPU ``torch.Generator`` for initialisations and Gumbel noise), which the loop checkpoints.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeGuard

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from zeroscore.errors import UsageError
from zeroscore.spaces.supernet import Supernet

from ..batches import SearchData
from ..config import TrainConfig
from ..evaluation import count_correct

__all__ = ["Method", "StepResult", "is_batchnorm", "freeze_all_but_batchnorm"]

#: (loss, correct predictions, images) of one step
StepResult = tuple[float, int, int]


def is_batchnorm(module: nn.Module) -> TypeGuard[nn.modules.batchnorm._BatchNorm]:
    return isinstance(module, nn.modules.batchnorm._BatchNorm)


def freeze_all_but_batchnorm(supernet: nn.Module) -> None:
    """``requires_grad=False`` on every parameter that is not a BatchNorm weight or bias (convolutions, the linear
    classifier): the random-feature / BN-only supernets keep those at their initialisation."""
    for module in supernet.modules():
        if not is_batchnorm(module):
            for p in module.parameters(recurse=False):
                p.requires_grad_(False)


class Method:
    """Base of the weight-sharing methods (see the module docstring). Subclasses set :attr:`name` and override what
    they change; :attr:`OPTIONS` holds their options' defaults (``TrainConfig.options`` overrides them)."""

    name: ClassVar[str] = ""
    #: options of this method and their defaults
    OPTIONS: ClassVar[dict[str, Any]] = {}
    #: supernet constructor options: NB201's search models, ``affine=False`` and batch statistics
    supernet_options: ClassVar[dict[str, Any]] = {"affine": False, "track_running_stats": False}
    #: NASP updates the architecture before the weights in each step; the NB201 baselines the other way round
    arch_first: ClassVar[bool] = False

    def __init__(self, config: TrainConfig):
        self.config = config
        unknown = sorted(set(config.options) - set(self.OPTIONS))
        if unknown:
            known = ", ".join(sorted(self.OPTIONS)) or "none"
            raise UsageError(f"{self.name} has no option(s) {unknown}; its options: {known}")
        self.options = {**self.OPTIONS, **config.options}
        self.alphas: list[nn.Parameter] = []
        self.rng = np.random.default_rng(0)
        self.generator = torch.Generator().manual_seed(0)

    # ------------------------------------------------------------------ set-up
    def prepare(self, supernet: Supernet, rng: np.random.Generator, generator: torch.Generator) -> None:
        """Called once before training (also before a resume loads the state): keep the generators, create the
        architecture parameters, freeze what the method does not train."""
        self.rng, self.generator = rng, generator
        self.layout = supernet.layout
        self.device = next(supernet.parameters()).device

    def weight_parameters(self, supernet: Supernet) -> list[nn.Parameter]:
        return [p for p in supernet.parameters() if p.requires_grad]

    def _new_alphas(self, init) -> None:
        """One ``(num_edges, num_ops)`` parameter per cell type, from ``init(shape)`` (a CPU tensor)."""
        self.alphas = [nn.Parameter(init(self.layout.mask_shape).to(self.device)) for _ in self.layout.cell_types]

    def start_epoch(self, epoch: int, epochs: int) -> None:
        """Hook at the start of each epoch (GDAS sets its temperature)."""

    def epoch_info(self) -> dict[str, Any]:
        """Method settings that change by epoch, for the history (GDAS: ``tau``)."""
        return {}

    # ------------------------------------------------------------------ steps
    def weight_logits(self, supernet: Supernet, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def arch_step(self, supernet: Supernet, x: torch.Tensor, y: torch.Tensor,
                  optimizer: torch.optim.Optimizer | None) -> StepResult | None:
        """One architecture update on ``(x, y)``; None for methods without architecture parameters."""
        return None

    def _gradient_step(self, logits_fn, x, y, optimizer) -> StepResult:
        """Forward, cross-entropy, backward into the alphas, ``optimizer.step()``."""
        optimizer.zero_grad(set_to_none=True)
        logits = logits_fn(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        return float(loss.detach()), count_correct(logits.detach(), y), len(y)

    # ------------------------------------------------------------------ result
    def derive(self, supernet: Supernet, data: SearchData) -> tuple[list[np.ndarray], dict]:
        """The final path (masks) and details of how it was chosen."""
        raise NotImplementedError

    def arch_weights(self) -> list[torch.Tensor] | None:
        """What the method's alphas mean as op weights (DARTS: softmax), for the per-epoch trajectory."""
        return None

    def state_dict(self) -> dict:
        return {"alphas": [a.detach().cpu().clone() for a in self.alphas]}

    def load_state_dict(self, state: dict) -> None:
        with torch.no_grad():
            for a, saved in zip(self.alphas, state["alphas"]):
                a.copy_(saved.to(a.device))

    @staticmethod
    def _full_masks(supernet: Supernet) -> None:
        supernet.set_op_mask(supernet.layout.full_masks())
