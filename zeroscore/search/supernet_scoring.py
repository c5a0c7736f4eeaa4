"""Measuring indicators on TE-NAS's supernets for :func:`zeroscore.search.prune`, through the Scorer.

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

import torch

from zeroscore._copies import reinitialize
from zeroscore.probe import derived_seed
from zeroscore.scorer import Scorer, thin_batch

__all__ = ["SupernetScorer"]


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
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(s)
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
