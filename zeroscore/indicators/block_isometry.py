"""Dynamical isometry between consecutive blocks."""

from __future__ import annotations

import math

import torch
from torch import nn

from zeroscore.errors import IndicatorNotApplicable
from zeroscore.indicators._isometry import isometry_gap, jacobian_moments
from zeroscore.indicators.base import Indicator, register


@register
class BlockIsometry(Indicator):
    """Mean isometry gap of the Jacobians of consecutive blocks (each block's output w.r.t. its input).

    In the spirit of AZ-NAS's trainability term (Lee & Ham, CVPR 2024), which asks each block to preserve the
    norm of back-propagated signals: for every block the same spectral measure as ``jacobian_isometry``
    (``log(m1)^2 + log(m2/m1^2)`` on the block Jacobian of the whole batch, from ``num_projections`` random
    orthonormal projections through vjps, or jvps where a block's input is smaller than its output) and the
    mean over blocks. Blocks are the model's top-level children (in call order) or the
    submodules named in ``blocks``; a block called with anything but one tensor is skipped, and a model with no
    usable block is an error. Parameter-free blocks (pooling, flatten, activations) are skipped unless named,
    since they are not what an architecture search changes. Lower is better.
    """

    name = "block_isometry"
    higher_is_better = False
    needs = frozenset({"data", "gradients"})
    paper = "AZ-NAS trainability (Lee & Ham, CVPR 2024)"
    cost = "jvp"

    def __init__(self, blocks: tuple[str, ...] | None = None, num_projections: int = 8, bn_train: bool = True):
        self.blocks = blocks
        self.num_projections = num_projections
        self.bn_train = bn_train

    def _candidates(self, model: nn.Module) -> list[tuple[str, nn.Module]]:
        if self.blocks is not None:
            named = dict(model.named_modules())
            missing = [b for b in self.blocks if b not in named]
            if missing:
                raise ValueError(f"no submodule named {missing}; known top-level children: "
                                 f"{[n for n, _ in model.named_children()]}")
            return [(b, named[b]) for b in self.blocks]
        return [(n, m) for n, m in model.named_children() if any(True for _ in m.parameters())]

    def compute(self, probe) -> float:
        gen = probe.generator()
        calls: dict[str, torch.Tensor] = {}
        order: list[str] = []
        with probe.mode(self.bn_train) as model:
            candidates = self._candidates(model)

            def make_hook(name):
                def hook(module, args, kwargs, output):
                    if name not in calls and len(args) == 1 and not kwargs and isinstance(args[0], torch.Tensor) \
                            and isinstance(output, torch.Tensor) and args[0].is_floating_point():
                        calls[name] = args[0].detach()
                        order.append(name)
                return hook

            with probe.capture(candidates, make_hook, with_kwargs=True), torch.no_grad():
                model(probe.inputs)
            if not order:
                raise IndicatorNotApplicable(
                    "found no block called with a single tensor; name the blocks with `blocks=(...)`"
                )
            modules = dict(candidates)
            gaps = []
            for name in order:
                m1, m2 = jacobian_moments(probe.functional_module(modules[name]), calls[name], self.num_projections,
                                          gen)
                gaps.append(isometry_gap(m1, m2))
        return float(sum(gaps) / len(gaps)) if all(math.isfinite(g) for g in gaps) else math.inf
