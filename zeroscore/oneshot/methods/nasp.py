"""NASP (Yao, Xu, Tu, Zhu, AAAI 2020: differentiable NAS by proximal iterations), as the authors' public code
(``NASP-codes``: ``model_search.py``, ``architect.py``, ``train_search.py``) does it.

* Alphas start at 0.5 on every edge and op; no softmax; after every architecture update they are clipped to
  ``[0, 1]`` (``Hardtanh(0, 1)``).
* The proximal point: each edge one-hot at its largest alpha; on DARTS cells only the two strongest edges per node
  stay (:func:`~zeroscore.oneshot.paths.proximal_point`). Ties -- all of them at the start, every alpha is 0.5 --
  go to a random op (option ``ties="random"``, seeded, the default) or, as the code's numpy argmax does, to the
  first op (``ties="first"``). The code's own op list starts with ``skip_connect``; NB201's starts with ``none``, so
  ``"first"`` starts NB201 at the all-``none`` cell, whose output does not depend on any alpha: every gradient is
  0, the tie never breaks and NASP returns the all-``none`` cell. Random ties avoid that artefact of op order.
* Each step updates the architecture FIRST: the loss of a batch of architecture images is taken at the proximal
  point with EVERY op evaluated (weights 1 on the selected ops, 0 on the others, so each op gets a gradient), and
  that gradient is applied to the continuous alphas (Adam lr 3e-4, betas (0.5, 0.999), weight decay 1e-3), then
  clipped. Then the weight step trains only the selected path at the new proximal point.
* Optional complexity penalty ``penalty * sum(point**2 * share)`` on the normal cells (``--l2``; ``share``: each op's
  share of its edge's parameters), 0 by default as in the code.
* Derivation: the final proximal point.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zeroscore.errors import UsageError

from ..evaluation import count_correct
from ..paths import path_arch, path_from_weights, proximal_point
from .base import Method

__all__ = ["Nasp"]


class Nasp(Method):
    name = "nasp"
    OPTIONS = {"penalty": 0.0, "ties": "random"}
    arch_first = True

    def prepare(self, supernet, rng, generator):
        if self.options["ties"] not in ("random", "first"):
            raise UsageError(f"nasp option ties must be 'random' or 'first', got {self.options['ties']!r}")
        super().prepare(supernet, rng, generator)
        self._new_alphas(lambda shape: torch.full(shape, 0.5))
        self.share = self._parameter_share(supernet).to(self.device)

    def _parameter_share(self, supernet) -> torch.Tensor:
        """Each op's share of the parameters of its edge, in the first (normal) cell type."""
        counts = torch.zeros(self.layout.mask_shape, dtype=torch.float64)
        normal = self.layout.cell_types[0]
        for (cell_type, edge, op), params in supernet.op_parameters().items():
            if cell_type == normal:
                counts[self.layout.edge_index(edge), self.layout.op_index(op)] += sum(p.numel() for p in params)
        total = counts.sum(dim=1, keepdim=True)
        return torch.where(total > 0, counts / total.clamp(min=1), torch.zeros_like(counts)).float()

    def point(self) -> list[torch.Tensor]:
        if self.options["ties"] == "first":
            return proximal_point(self.layout, self.alphas)
        # a seeded random tie-break: jitter (in float64) far below any alpha difference Adam makes (steps ~3e-4)
        jittered = [a.detach().cpu().double() + 1e-12 * torch.rand(a.shape, generator=self.generator,
                                                                   dtype=torch.float64) for a in self.alphas]
        path = path_from_weights(self.layout, jittered)
        return [torch.as_tensor(m, dtype=a.dtype, device=a.device) for m, a in zip(path, self.alphas)]

    def weight_logits(self, supernet, x):
        point = self.point()
        supernet.set_op_mask([p.bool().cpu() for p in point])  # only the selected path is computed and trained
        return supernet(x, point)

    def arch_step(self, supernet, x, y, optimizer):
        self._full_masks(supernet)
        point = [p.requires_grad_() for p in self.point()]
        optimizer.zero_grad(set_to_none=True)
        logits = supernet(x, point)
        loss = F.cross_entropy(logits, y)
        if self.options["penalty"]:
            loss = loss + float(self.options["penalty"]) * (point[0] ** 2 * self.share).sum()
        loss.backward()
        for alpha, p in zip(self.alphas, point):
            alpha.grad = p.grad  # the gradient at the discrete point moves the continuous alphas
        optimizer.step()
        with torch.no_grad():
            for alpha in self.alphas:
                alpha.clamp_(0.0, 1.0)
        return float(loss.detach()), count_correct(logits.detach(), y), len(y)

    def arch_weights(self):
        return [a.detach().cpu().clone() for a in self.alphas]

    def derive(self, supernet, data):
        path = [p.bool().cpu().numpy() for p in self.point()]
        return path, {"selection": "final proximal point", "arch": str(path_arch(self.layout, path))}
