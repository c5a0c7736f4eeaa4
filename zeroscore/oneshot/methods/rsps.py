"""RSPS: random sampling with parameter sharing (Li & Talwalkar, UAI 2019), as NAS-Bench-201's baseline runs it.

Weight step: a uniformly random path per step (NB201's ``random_genotype``: one op per edge, the same in every
cell). No architecture parameters. Derivation (``exps/NATS-algos/search-cell.py``, ``get_best_arch``): sample
``candidates`` (100) paths and score each on ONE batch of the shuffled architecture images (the next batch of the
valid loader for each candidate); the best one-shot accuracy wins.

Reduced sharing (NB201): option ``allowed`` ``{edge: [ops]}`` or ``group`` ``(m, g)`` trains a sub-supernet that
samples only those cells (:class:`~zeroscore.oneshot.paths.PathSampler`: Few-shot NAS's split, Deeper Insights'
similarity groups, a supernet shrunk by training-free priors); selection then draws its candidates from the same
cells. Warm-start a sub-supernet from the one-shot weights with :func:`zeroscore.oneshot.search`'s ``init_state``.
Prefix sharing: option ``prefix_groups`` ``m`` with a supernet built with ``suffix_copies=m, shared_layers=k``
(``supernet_kwargs``) trains all ``m`` similarity groups at once, each path through its group's own copy of the
layers after the shared first ``k``; selection likewise. The path distribution is full sharing's (uniform).
"""

from __future__ import annotations

import itertools

import torch

from zeroscore.errors import UsageError
from zeroscore.spaces.supernet import Supernet

from ..batches import SearchData
from ..evaluation import evaluate
from ..paths import PathSampler, path_arch
from .base import Method

__all__ = ["Rsps"]


class Rsps(Method):
    name = "rsps"
    OPTIONS = {"candidates": 100, "allowed": None, "group": None, "prefix_groups": None}

    def prepare(self, supernet, rng, generator):
        super().prepare(supernet, rng, generator)
        groups = self.options.get("prefix_groups")
        if groups and getattr(supernet, "suffix_copies", 1) != int(groups):
            raise UsageError(f"prefix_groups={groups} needs a supernet with suffix_copies={groups} (supernet_kwargs), "
                             f"got {getattr(supernet, 'suffix_copies', 1)}")
        self.sample_path = PathSampler(self.layout, self.options.get("allowed"), self.options.get("group"),
                                       joint_groups=groups)

    def _draw(self, supernet: Supernet):
        path, group = self.sample_path.draw(self.rng)
        if self.options.get("prefix_groups"):
            supernet.active_copy = group  # the group's own layers after the shared prefix
        return path

    def weight_logits(self, supernet: Supernet, x: torch.Tensor) -> torch.Tensor:
        supernet.set_op_mask(self._draw(supernet))
        return supernet(x)

    def derive(self, supernet: Supernet, data: SearchData):
        batches = itertools.cycle(list(data.valid_batches(self.config.eval_batch_size, self.rng)))
        best, images = None, 0
        for _ in range(int(self.options["candidates"])):
            path = self._draw(supernet)
            batch = next(batches)
            acc = evaluate(supernet, [path], batch)[0]
            images += len(batch[1])
            if best is None or acc > best[1]:  # the first of equal accuracies, as numpy's argmax
                best = (path, acc)
        assert best is not None
        return best[0], {"selection": f"best of {self.options['candidates']} random cells, one validation batch "
                                      f"each", "one_shot_accuracy": best[1], "images": images,
                         "arch": str(path_arch(self.layout, best[0]))}
