"""Measuring indicators on TE-NAS's supernets, through the Scorer: supernet configurations for
:func:`zeroscore.search.prune` (:class:`SupernetScorer`), single cells for TEG-NAS's evolution
(:class:`SinglePathScorer`, behind ``make_objective(..., network="supernet")``).

Per (round, repeat) the NTK supernet and the thin supernet are built once from a seed derived from ``(seed,
"prune", round, repeat)`` (TE-NAS re-initialises them Kaiming-normal: ``fan_out`` for the NTK network, ``fan_in``
for the thin one, right after building) with a batch drawn from the same seed; every candidate configuration is then
measured by setting the op masks on those two networks, so all candidates of a repeat share initialisation and data.
Indicators that declare ``network = "thin"`` (``linear_regions``) are measured on the thin supernet fed one-channel
images, the others on the NTK supernet, as the Scorer does for architectures of a space.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from zeroscore._copies import reinitialize
from zeroscore._nn import seeded_rng
from zeroscore.probe import derived_seed
from zeroscore.scorer import Scorer, thin_batch

__all__ = ["SupernetScorer", "SinglePathScorer"]


class SupernetScorer:
    """``scorer(masks, round, repeat) -> {indicator: value}`` for the supernets of ``space``."""

    def __init__(self, space: str, indicators: Any, dataset: str, seed: int, batch_size: int, root: Any,
                 num_classes: int, ops, init: str, device: Any):
        from zeroscore.spaces.supernet import build_supernet

        self.scorer = Scorer(indicators, seed=seed, device=device)
        plan = self.scorer.plan(thin_available=True)
        self.full = [p.indicator for p in plan if p.network == "full"]
        self.thin = [p.indicator for p in plan if p.network == "thin"]
        self.make_ntk = lambda: build_supernet(space, "tenas_ntk", num_classes=num_classes, ops=ops)
        self.make_thin = lambda: build_supernet(space, "tenas_thin", num_classes=num_classes, ops=ops)
        self.dataset, self.seed, self.batch_size, self.root, self.init = dataset, seed, batch_size, root, init
        # the networks and batch of each repeat of the current round: pruning measures repeat by repeat, an
        # objective (every architecture on every repeat) cycles through all of them
        self._nets: dict[tuple[int, int], tuple] = {}

    def _prepare(self, rnd: int, repeat: int) -> tuple:
        from zeroscore.data import load_batch

        if (rnd, repeat) in self._nets:
            return self._nets[(rnd, repeat)]
        self._nets = {k: v for k, v in self._nets.items() if k[0] == rnd}
        s = derived_seed(self.seed, "prune", rnd, repeat) % (2**31)
        x, y = load_batch(self.dataset, root=self.root, batch_size=self.batch_size, seed=s)
        with seeded_rng(s):
            ntk_net = self.make_ntk() if self.full else None
            thin_net = self.make_thin() if self.thin else None
            if self.init == "kaiming_normal":  # continues the stream the builds drew from, as TE-NAS does
                if ntk_net is not None:
                    reinitialize(ntk_net, "kaiming_normal_fan_out")
                if thin_net is not None:
                    reinitialize(thin_net, "kaiming_normal_fan_in")
        self._nets[(rnd, repeat)] = (ntk_net, thin_net, x, y, s)
        return self._nets[(rnd, repeat)]

    def __call__(self, masks: list[torch.Tensor], rnd: int, repeat: int) -> dict[str, float]:
        ntk_net, thin_net, x, y, s = self._prepare(rnd, repeat)
        out: dict[str, float] = {}
        if ntk_net is not None:
            ntk_net.set_op_mask(masks)
            out.update(self.scorer.score(ntk_net, x, y, seed=s, indicators=self.full).values)
        if thin_net is not None:
            thin_net.set_op_mask(masks)
            xt, yt = thin_batch(x, y)
            out.update(self.scorer.score(thin_net, xt, yt, seed=s, indicators=self.thin).values)
        return {n: float(out.get(n, math.nan)) for n in self.scorer.names}


class SinglePathScorer:
    """``scorer(arch) -> {indicator: value}``: TEG-NAS's measurement of a cell (``te_reward_generator.py``): the
    cell is the single path of the supernets of :class:`SupernetScorer`, every indicator is averaged over
    ``repeats`` initialisations (each with its own batch; the same networks and batches for every cell)."""

    def __init__(self, space: str, indicators: Any, dataset: str, seed: int, batch_size: int, root: Any,
                 num_classes: int, repeats: int, device: Any):
        from zeroscore.errors import UsageError
        from zeroscore.spaces.supernet import SUPERNETS, supernet_class

        if space not in SUPERNETS:
            raise UsageError(f"network='supernet' needs a space with a supernet ({', '.join(sorted(SUPERNETS))}), "
                             f"not {space!r}")
        if repeats < 1:
            raise UsageError(f"repeats must be >= 1, got {repeats!r}")
        self.layout = supernet_class(space).mask_layout(None)
        self.measure = SupernetScorer(space, indicators, dataset, seed, batch_size, root, num_classes, None,
                                      "kaiming_normal", device)
        self.repeats = repeats

    def __call__(self, arch: Any) -> dict[str, float]:
        masks = self.layout.single_path_masks(arch)
        per_repeat = [self.measure([m.clone() for m in masks], 0, r) for r in range(self.repeats)]
        out = {}
        for name in self.measure.scorer.names:
            vals = [v[name] for v in per_repeat if not math.isnan(v[name])]
            out[name] = float(np.mean(vals)) if vals else math.nan  # a failed repeat does not sink the others
        return out
