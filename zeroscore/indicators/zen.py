"""Zen-score (Zen-NAS)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call

from zeroscore._cpu_routes import channels_last_on_cpu
from zeroscore.indicators._blocks import pre_gap_feature, run_with_features
from zeroscore.indicators.base import Indicator, register


@register
class Zen(Indicator):
    """Zen-score: ``log E|f(x) - f(x + gamma e)|_1 + sum_BN log sqrt(mean running_var)`` of the pre-GAP features.

    Zen-NAS (Lin et al., ICCV 2021; ``idstcv/ZenNAS`` ``ZeroShotProxy/compute_zen_score.py``, the NASLib
    ``measures/zen.py`` used for NAS-Bench-Suite-Zero is the same code): re-initialise the network with
    ``network_weight_gaussian_init`` (conv/linear weights ~ N(0, 1), biases 0, BatchNorm/GroupNorm weight 1 bias
    0); draw Gaussian inputs ``x``, ``e`` of the input's shape (``batch_size`` rows; default: the probe's batch
    size, which is what NASLib used; Zen-NAS's own scripts pass their batch size); run both ``x`` and
    ``x + mixup_gamma * e`` (``mixup_gamma = 1e-2``) through the network in train mode up to the input of the
    global average pool; score = ``log(mean_n sum |f(x) - f(x_mix)|)`` plus, for every ``BatchNorm2d``,
    ``log(sqrt(mean(running_var)))`` read *after* the two forward passes (train mode updates the running
    variance with momentum 0.1 from its current value, exactly as in the reference); averaged over ``repeats``
    draws (NASLib: 1).

    Here the Gaussian weights are a functional copy (:meth:`Probe.init_params` ``"gaussian"``) and the running
    statistics are updated on fresh clones of the buffers; on a CPU the two forwards run in the channels-last layout
    (faster; values to rounding, see :func:`zeroscore._cpu_routes.channels_last_on_cpu`). The pre-GAP map is the
    input of the last global pooling call (see ``_blocks.py``); a model without global pooling (an MLP) is not
    applicable. Data-free. Higher is better.
    """

    name = "zen"
    higher_is_better = True
    needs = frozenset({"float_inputs"})
    paper = "Zen-NAS (Lin et al., ICCV 2021)"
    cost = "forward"

    def __init__(self, mixup_gamma: float = 1e-2, repeats: int = 1, batch_size: int | None = None,
                 bn_train: bool = True):
        self.mixup_gamma = mixup_gamma
        self.repeats = repeats
        self.batch_size = batch_size
        self.bn_train = bn_train

    def compute(self, probe) -> float:
        model = probe.model
        params = probe.params("*", init="gaussian")
        shape = (self.batch_size or probe.batch_size,) + tuple(probe.inputs.shape[1:])
        bn_var_names = [(f"{n}.running_var" if n else "running_var") for n, m in model.named_modules()
                        if isinstance(m, nn.BatchNorm2d) and m.running_var is not None]
        scores = []
        for _ in range(self.repeats):
            x = torch.randn(shape, dtype=probe.inputs.dtype).to(probe.device)
            e = torch.randn(shape, dtype=probe.inputs.dtype).to(probe.device)
            buffers = probe.buffers()
            # the same values to rounding, faster on a CPU: see zeroscore._cpu_routes
            tensors, inputs = channels_last_on_cpu(probe.device, {**params, **buffers}, x, x + self.mixup_gamma * e)
            feats = []
            with torch.no_grad(), probe.mode(self.bn_train):
                for inp in inputs:
                    _, events = run_with_features(model, lambda: functional_call(model, tensors, (inp,)), [])
                    feats.append(pre_gap_feature(events))
            diff = (feats[0] - feats[1]).abs().double()
            nas = torch.mean(diff.reshape(diff.shape[0], -1).sum(dim=1))
            log_bn = sum(math.log(math.sqrt(float(buffers[n].double().mean()))) for n in bn_var_names)
            if not float(nas) > 0:
                raise ValueError("zen: the pre-pooling features do not change when the input is perturbed (the "
                                 "network's output does not depend on its input), so log(0) is undefined; the "
                                 "reference's torch.log gives -inf")
            scores.append(math.log(float(nas)) + log_bn)
        return float(sum(scores) / len(scores))
