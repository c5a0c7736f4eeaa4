"""The shared pass of the AZ-NAS components (Lee & Ham, "AZ-NAS: Assembling Zero-Cost Proxies for Network
Architecture Search", CVPR 2024; ``cvlab-yonsei/AZ-NAS`` ``ZeroShotProxy/compute_az_nas_score.py``).

One forward pass (train-mode BatchNorm, weights re-initialised with Kaiming-normal fan-in unless ``init`` is
``None``) of a standard-normal batch of the probe's batch shape (``inputs="gaussian"``: the reference's NB201
notebook ``tss_general.ipynb`` gives ``az_nas`` no data loader, so ``compute_nas_score`` draws ``torch.randn``;
``inputs="data"`` uses the probe's real batch instead) records the block features ``f_0 .. f_L`` (see
``_blocks.py``: on NAS-Bench-201 the stem and the 17 cells, as ``extract_cell_features`` of the reference); from
them

* per-block expressivity: the entropy ``-sum p log(p + 1e-8)`` of the normalised eigenvalues ``p = s / sum(s)``
  of the channel covariance of the feature (positions of all samples as observations, ``(B H W) x C``,
  centred, divided by ``B H W``);
* per-pair trainability, for ``i = L .. 1``: a Rademacher vector ``g_out`` of the shape of ``f_i``,
  ``g_in = d<f_i, g_out>/d f_{i-1}`` (pixel-unshuffled to ``f_i``'s resolution when it is larger),
  ``M = g_in^T g_out / (B H W)`` and ``-s - 1/(s + 1e-6) + 2`` with ``s`` the largest singular value of ``M``;
  a pair whose ``g_in`` equals ``g_out`` exactly (an identity block) scores ``-inf``, as in the reference.

2-D features (``B x C``, e.g. an MLP) are treated as ``H = W = 1``. Gram products in float32 (as the reference),
the small ``C x C`` matrices and their eigen/singular values in float64 (the reference: float32; eigenvalues are
clamped at 0 before normalising). The random input and
signs use generators seeded from the probe's seed, so all components see one computation.

Why the input matters: on real CIFAR-10 images the stem's features are far less isotropic than on noise and the
two fixed reduction blocks of NB201 cause the largest entropy drops, so ``min(E_i - E_{i-1})`` (progressivity)
is set by blocks every cell shares. On NB201 CIFAR-10 (n = 800) real images gave Spearman 0.17 for progressivity
and 0.77 for the ensemble; the reference's Gaussian input gives much higher values (``benchmarks/results/``).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call

from zeroscore.errors import IndicatorNotApplicable
from zeroscore.indicators._blocks import block_features, resolve_blocks, run_with_features
from zeroscore.indicators.base import Indicator


def _channel_rows(feat: torch.Tensor) -> torch.Tensor:
    """``(B, C, *spatial)`` -> ``(C, B * prod(spatial))``: one row per channel, every position of every sample as
    an observation (a 2-d ``(B, C)`` feature has one position)."""
    return feat.reshape(feat.shape[0], feat.shape[1], -1).transpose(0, 1).reshape(feat.shape[1], -1)


def expressivity_of(feat: torch.Tensor) -> float:
    # the channel covariance over every position of every sample: one (C, B H W) x (B H W, C) product
    x = _channel_rows(feat.detach())
    n = x.shape[1]
    mean = x.sum(dim=1, dtype=torch.float64) / n
    # E[x x^T] - mu mu^T: the Gram product in the feature's precision (one GEMM, like the reference; 4-5x faster
    # than float64 on a CPU, eigenvalues within ~1e-6 relative), the rest in float64
    sigma = (x @ x.T).double() / n - torch.outer(mean, mean)
    s = torch.linalg.eigvalsh(sigma).clamp_min(0)
    total = s.sum()
    if not total > 0:
        return 0.0
    p = s / total
    return float((-p * torch.log(p + 1e-8)).sum())


def trainability_of(f_out: torch.Tensor, f_in: torch.Tensor, gen: torch.Generator) -> float | None:
    # drawn straight in the feature's dtype: the same integers as an int64 draw, without the conversion pass
    g_out = torch.randint(0, 2, f_out.shape, generator=gen, dtype=f_out.dtype, device=f_out.device).mul_(2).sub_(1)
    (g_in,) = torch.autograd.grad(f_out, f_in, grad_outputs=g_out, retain_graph=True, allow_unused=True)
    if g_in is None:
        return None
    if g_in.shape == g_out.shape and torch.equal(g_in, g_out):
        return -math.inf
    if g_out.dim() == 4 and g_in.dim() == 4 and g_out.shape[2:] != g_in.shape[2:]:
        stride = g_in.shape[2] // g_out.shape[2]
        if stride < 1 or g_in.shape[2] != stride * g_out.shape[2] or g_in.shape[3] != stride * g_out.shape[3]:
            return None
        g_in = nn.functional.pixel_unshuffle(g_in, stride)
    if g_in.shape[0] != g_out.shape[0] or g_in[0, 0].numel() != g_out[0, 0].numel():
        return None
    a, b = _channel_rows(g_in.detach()), _channel_rows(g_out.detach())
    mat = (a @ b.T).double() / b.shape[1]  # summed over samples and positions, as the reference (float32 GEMM)
    s = float(torch.linalg.svdvals(mat).max())
    return -s - 1.0 / (s + 1e-6) + 2.0


def az_features(probe, init: str | None = "kaiming_fanin", bn_train: bool = True,
                blocks: tuple[str, ...] | None = None, inputs: str = "gaussian", graph: bool = True) -> list:
    """``[(block name, feature)]`` of the shared forward pass (cached per arguments): the expressivity components
    need only the features, the trainability component back-propagates through them (``graph=True``: with the
    autograd graph). Without ``graph`` the forward runs without recording one (cheaper), unless a graph-carrying
    pass is cached already; the features are the same."""
    if inputs not in ("gaussian", "data"):
        raise ValueError(f"AZ-NAS inputs must be 'gaussian' (the reference's protocol) or 'data', got {inputs!r}")

    def run(graph: bool) -> list:
        model = probe.model
        params = probe.params("*", init=init)
        chosen = resolve_blocks(model, blocks)
        if inputs == "gaussian":
            gen_x = probe.generator("az_nas_input")
            x = torch.randn(probe.inputs.shape, generator=gen_x, dtype=probe.inputs.dtype).to(probe.device)
        else:
            x = probe.inputs.clone()
        x.requires_grad_(graph)
        tensors = {**params, **probe.buffers()}
        with torch.set_grad_enabled(graph), probe.mode(bn_train):
            out, events = run_with_features(model, lambda: functional_call(model, tensors, (x,)), chosen)
            feats = block_features(events, probe.logits_of(out), probe.batch_size)
        if len(feats) < 2:
            raise IndicatorNotApplicable(
                f"AZ-NAS needs at least two block features before the global pool, found {len(feats)} "
                f"(blocks considered: {[n for n, _ in chosen]}); name them with blocks=(...)"
            )
        return feats

    key = ("az_nas", init, bn_train, blocks, inputs)
    if not graph and probe.peek(key) is None:
        return probe.cached(key + ("no graph",), lambda: run(False))
    return probe.cached(key, lambda: run(True))


def az_components(probe, init: str | None = "kaiming_fanin", bn_train: bool = True,
                  blocks: tuple[str, ...] | None = None, inputs: str = "gaussian",
                  trainability: bool = False) -> dict:
    """``names`` of the blocks and their per-block expressivity scores, or with ``trainability`` the per-pair
    trainability scores instead (each cached per arguments: ``az_trainability`` alone computes no covariance)."""
    key = (init, bn_train, blocks, inputs)
    # a graph only when a trainability component is computed now or coming in this call: it back-propagates
    feats = az_features(probe, *key, graph=trainability or "az_trainability" in probe.planned)
    out: dict = {"names": [n for n, _ in feats]}
    if not trainability:
        out["expressivity"] = probe.cached(("az_expressivity", *key), lambda: [expressivity_of(f) for _, f in feats])
    else:

        def run():
            gen = probe.generator("az_nas", init, bn_train)
            values = []
            with torch.enable_grad():
                for i in reversed(range(1, len(feats))):
                    t = trainability_of(feats[i][1], feats[i - 1][1], gen)
                    if t is not None:
                        values.append(t)
            return values

        out["trainability"] = probe.cached(("az_trainability", *key), run)
    return out


class AZComponent(Indicator):
    """Base of the four AZ-NAS components computed from the shared pass above (``az_expressivity``,
    ``az_progressivity``, ``az_trainability``; ``az_complexity`` is a FLOP count). Parameters: ``init`` (weights
    re-initialised Kaiming-normal fan-in, or ``None`` to keep the model's), ``bn_train``, ``blocks`` (explicit
    block names), ``inputs`` (``"gaussian"``: the reference's standard-normal batch of the probe's shape, the
    default, so the value does not depend on the batch's values; ``"data"``: the probe's batch)."""

    higher_is_better = True
    needs = frozenset({"float_inputs"})
    paper = "AZ-NAS (Lee & Ham, CVPR 2024)"
    cost = "forward"

    def __init__(self, init: str | None = "kaiming_fanin", bn_train: bool = True,
                 blocks: tuple[str, ...] | None = None, inputs: str = "gaussian"):
        self.init = init
        self.bn_train = bn_train
        self.blocks = blocks
        self.inputs = inputs

    def requires(self) -> frozenset[str]:
        # real images make the value depend on the batch; Gaussian inputs need a float input only
        return frozenset(self.needs | ({"data"} if self.inputs == "data" else set()))

    def components(self, probe, trainability: bool = False) -> dict:
        return az_components(probe, self.init, self.bn_train, self.blocks, self.inputs, trainability)
