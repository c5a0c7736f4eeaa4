"""GDAS (Dong & Yang, CVPR 2019) as NAS-Bench-201's baseline (``exps/NAS-Bench-201-algos/GDAS.py`` and the GDAS
search model of AutoDL-Projects).

Every forward samples one op per edge: ``probs = softmax((log_softmax(alpha) + Gumbel noise) / tau)``, the op is
``argmax(probs)``, and its output is multiplied by the straight-through weight ``one_hot - probs.detach() + probs``
(value 1, gradient of ``probs``). Only the sampled op is computed (the supernet's masks keep one op per edge). The
weight step and the architecture step each draw their own sample; samples with non-finite values are redrawn.
``tau`` falls linearly from ``tau_max`` (10) in the first epoch to ``tau_min`` (0.1) in the last. Derivation: every
edge's largest alpha (DARTS cells: DARTS' parse).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .darts import Darts

__all__ = ["Gdas"]


class Gdas(Darts):
    name = "gdas"
    OPTIONS = {"tau_max": 10.0, "tau_min": 0.1}

    def prepare(self, supernet, rng, generator):
        super().prepare(supernet, rng, generator)
        self.tau = float(self.options["tau_max"])

    def start_epoch(self, epoch, epochs):
        hi, lo = float(self.options["tau_max"]), float(self.options["tau_min"])
        self.tau = hi - (hi - lo) * epoch / max(1, epochs - 1)

    def epoch_info(self):
        return {"tau": self.tau}

    def sample(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Straight-through one-hot weights and the one-op masks of one Gumbel sample per cell type."""
        weights, masks = [], []
        for alpha in self.alphas:
            while True:
                noise = torch.empty(alpha.shape).exponential_(generator=self.generator).to(alpha.device)
                probs = F.softmax((F.log_softmax(alpha, dim=-1) - noise.log()) / self.tau, dim=-1)
                one_hot = torch.zeros_like(probs).scatter_(-1, probs.argmax(dim=-1, keepdim=True), 1.0)
                hard = one_hot - probs.detach() + probs
                if bool(torch.isfinite(hard).all()):
                    break
            weights.append(hard)
            masks.append(one_hot.detach().bool().cpu())
        return weights, masks

    def _sampled_logits(self, supernet, x, detach: bool):
        weights, masks = self.sample()
        supernet.set_op_mask(masks)
        return supernet(x, [w.detach() for w in weights] if detach else weights)

    def weight_logits(self, supernet, x):
        return self._sampled_logits(supernet, x, detach=True)

    def arch_step(self, supernet, x, y, optimizer):
        return self._gradient_step(lambda inputs: self._sampled_logits(supernet, inputs, detach=False), x, y,
                                   optimizer)

    def state_dict(self):
        return {**super().state_dict(), "tau": self.tau}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.tau = float(state["tau"])
