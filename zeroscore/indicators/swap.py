"""SWAP: sample-wise activation patterns."""

from __future__ import annotations

import math
import queue

import numpy as np
import torch

from zeroscore._copies import SEEDED_SCHEMES, private_copy, reinitialize
from zeroscore._cpu_routes import cpu_workers, run_each
from zeroscore._modes import ReluRecorder
from zeroscore.errors import IndicatorNotApplicable
from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import relu_codes

#: up to this many samples a neuron's pattern is one int64 key (bit i = sample i)
_KEY_BITS = 62
#: up to this many samples the keys are computed in float32 (exact below 2**24)
_FLOAT_KEY_BITS = 24
#: up to this many samples the keys are counted with a bincount (2**20 counters) instead of a sort
_BINCOUNT_BITS = 20


def count_distinct_columns(codes: list[torch.Tensor]) -> int:
    """Number of distinct per-neuron patterns: columns of the ``(N, F)`` concatenated binary codes.

    With ``N <= 62`` samples (SWAP's protocol: 16) every column is read as the integer ``sum_i bit_i 2**i`` (one
    float32 product per layer up to 24 samples, exact there; int64 arithmetic above), so counting distinct columns
    is counting distinct integers: a bincount (``N <= 20``) or a sort of one int64 per neuron, instead of sorting
    ``F`` byte strings (about 10x faster on NB201 networks, the same count). Larger batches compare bit-packed
    rows."""
    n = codes[0].shape[0]
    if n > _KEY_BITS:
        full = torch.cat([c.reshape(n, -1) for c in codes], dim=1).T.contiguous().cpu().numpy()
        packed = np.ascontiguousarray(np.packbits(full, axis=1))
        rows = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
        return int(np.unique(rows).shape[0])
    device = codes[0].device
    if n <= _FLOAT_KEY_BITS:
        powers = torch.pow(2.0, torch.arange(n, dtype=torch.float32, device=device)).view(1, n)
        keys = torch.cat([(powers @ c.reshape(n, -1).to(torch.float32)).view(-1) for c in codes]).long()
    else:
        powers = torch.pow(2, torch.arange(n, dtype=torch.int64, device=device)).view(n, 1)
        keys = torch.cat([(c.reshape(n, -1).to(torch.int64) * powers).sum(dim=0) for c in codes])
    if n <= _BINCOUNT_BITS:
        return int(torch.count_nonzero(torch.bincount(keys, minlength=1)))
    return int(torch.unique(keys).numel())


@register
class SWAP(Indicator):
    """Number of distinct sample-wise activation patterns of the ReLU units, averaged over re-initialisations.

    SWAP (Peng et al., "SWAP-NAS: Sample-Wise Activation Patterns for Ultra-Fast NAS", ICLR 2024; the authors'
    ``SampleWiseActivationPatterns`` class and their NAS-Bench-201 correlation script): the signs of all ReLU
    outputs of ``batch_size`` inputs (network in train mode) form a ``(samples, neurons)`` binary matrix;
    transposed, every neuron has a pattern over the samples; the score is the number of distinct patterns
    (``torch.unique(dim=0)``). The reference protocol, the default here: the first 16 inputs of the batch, and
    ``repeats = 32`` re-initialisations of the network (``network_weight_gaussian_init``: conv/linear weights
    ~ N(0, 1), biases 0, BatchNorm weight 1 / bias 0), the score averaged over them. ``init=None`` keeps the
    network's own weights (then one repeat is enough: the patterns do not change), ``batch_size=None`` uses the
    whole batch; ``repeats=1, batch_size=None, init=None`` is the single pass zeroscore computed before it
    followed the protocol (the committed correlation tables' ``swap`` rows).

    With ``mu`` and ``sigma`` given, the score is multiplied by the paper's size regulariser
    ``exp(-(P - mu)^2 / sigma)`` with ``P`` the parameter count in thousands; the reference's default sets
    ``mu = P`` and ``sigma = P`` from the network itself, so the factor is 1 there, as with the default ``None``.

    Deviations: the re-initialisations draw from generators seeded from ``(seed, repeat)`` (the reference: torch's
    global RNG); the reference hooks ``nn.ReLU`` modules with 4-D inputs only, here every ReLU evaluation (modules
    and ``F.relu``/``torch.relu``/``Tensor.relu``, any rank) counts. On NAS-Bench-201 all ReLUs are 4-D modules, so
    both agree. Distinct patterns are counted on bit-packed rows (the same count as ``torch.unique``, much faster).
    Higher is better.
    """

    name = "swap"
    higher_is_better = True
    needs = frozenset({"data", "relu"})
    paper = "SWAP-NAS (Peng et al., ICLR 2024)"
    cost = "forward"

    def __init__(self, repeats: int = 32, batch_size: int | None = 16, init: str | None = "gaussian",
                 mu: float | None = None, sigma: float | None = None, bn_train: bool = True):
        self.repeats = repeats
        self.batch_size = batch_size
        self.init = init
        self.mu = mu
        self.sigma = sigma
        self.bn_train = bn_train

    def compute(self, probe) -> float:
        if self.init is None and self.batch_size is None:
            scores = [count_distinct_columns(relu_codes(probe, self.bn_train))]  # the probe's shared codes
        else:
            scores = self._reinitialised(probe)
        score = float(np.mean(scores))
        if self.mu is not None and self.sigma is not None:
            p = sum(t.numel() for t in probe.model.parameters()) / 1e3
            score *= math.exp(-((p - self.mu) ** 2) / self.sigma)
        return score

    def _reinitialised(self, probe) -> list[int]:
        x = probe.inputs if self.batch_size is None else probe.inputs[: self.batch_size]
        repeats = self.repeats if self.init is not None else 1
        # the repeats side by side on a CPU (zeroscore._cpu_routes), each worker re-initialising its own copy in
        # place; the schemes that draw from torch's global RNG run one after another (that RNG is process-wide)
        workers = cpu_workers(probe.device) if self.init in SEEDED_SCHEMES else 1
        copies: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(min(workers, repeats)):
            copies.put(private_copy(probe.model))
        scores = [0] * repeats

        def score_repeat(r: int) -> None:
            network = copies.get()
            try:
                if self.init is not None:
                    reinitialize(network, self.init, probe.derived_seed("swap", r))
                recorder = ReluRecorder(x.shape[0])
                with torch.no_grad(), recorder:
                    network.train(self.bn_train)
                    probe.logits_of(network(x))
            finally:
                copies.put(network)
            if not recorder.codes:
                raise IndicatorNotApplicable("needs ReLU activations, but the forward pass evaluated none")
            scores[r] = count_distinct_columns(recorder.codes)

        run_each(range(repeats), score_repeat, workers)
        return scores
