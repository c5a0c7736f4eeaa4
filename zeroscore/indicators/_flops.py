"""Operation counts of one forward pass (shared by ``flops`` and ``az_complexity``).

Two conventions:

``"macs"`` (default)
    Exact multiply-accumulates, counted per *functional call* with a ``TorchFunctionMode`` (so ``nn.Conv2d`` and a
    bare ``F.conv2d`` in a ``forward`` are both seen): convolutions ``out.numel() * (C_in / groups) * prod(k)``
    (transposed: ``in.numel() * (C_out / groups) * prod(k)``), ``F.linear`` ``out.numel() * in_features``,
    ``matmul``/``mm``/``bmm``/``@`` ``out.numel() * K``; normalisation (batch/layer/group/instance norm) one MAC
    per element (scale and shift folded); average/max pooling (fixed and adaptive) one accumulate/compare per
    input element of every window, counting only in-bounds elements (padding excluded). Biases, activations,
    element-wise additions and reshapes are not counted (the usual MAC convention).

``"naslib"``
    The count behind NAS-Bench-Suite-Zero's published ``flops`` column (NASLib ``find_measures`` ->
    ``tensorwatch.ModelStats(net, [1, C, H, W])``, torchstat's ``compute_flops``), reproduced exactly: forward
    hooks on *leaf modules* only (functional calls are invisible), each module counted once with its last call,
    ``Conv2d`` ``k_h k_w C_in (C_out / groups) H_out W_out`` (+ ``C_out H_out W_out`` with a bias),
    ``BatchNorm2d`` ``numel`` (``2 numel`` when affine), ``ReLU``/``ReLU6``/``PReLU``/``ELU``/``LeakyReLU``
    ``numel``, ``AvgPool2d``/``MaxPool2d`` ``C H_out W_out k_h k_w``, ``AdaptiveAvg/MaxPool2d``
    ``C * sum over outputs of (window_h + 1)(window_w + 1)`` (torchstat's off-by-one kept), ``Linear``
    ``in * out`` (no bias), ``Upsample`` output elements; everything else 0. On NAS-Bench-201 this gives the
    published MFLOPs exactly (``value / 1e6``; checked on the benchmark cells in
    ``benchmarks/proxy_correlation.py``).

Both count one sample (the first input of the batch, in eval mode), as the references do.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zeroscore._modes import MacCounter, as_tuple
from zeroscore._nn import first_tensor, forward_hooks
from zeroscore.indicators.base import Indicator

CONVENTIONS = ("macs", "naslib")


def _naslib_module_flops(module: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """torchstat ``compute_flops`` of one leaf-module call (see module docstring)."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        n, c_out, h_out, w_out = y.shape
        flops = kh * kw * x.shape[1] * (c_out // module.groups) * n * h_out * w_out
        if module.bias is not None:
            flops += c_out * n * h_out * w_out
        return flops
    if isinstance(module, nn.BatchNorm2d):
        return x.numel() * (2 if module.affine else 1)
    if isinstance(module, (nn.AvgPool2d, nn.MaxPool2d)):
        k = as_tuple(module.kernel_size, 2)
        s = as_tuple(module.stride, 2)
        p = as_tuple(module.padding, 2)
        out_w = math.floor((x.shape[3] + 2 * p[0] - k[0]) / float(s[0]) + 1)
        out_h = math.floor((x.shape[2] + 2 * p[1] - k[1]) / float(s[0]) + 1)
        return x.shape[0] * x.shape[1] * out_w * out_h * k[0] * k[1]
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        h, w = x.shape[2], x.shape[3]
        oh, ow = y.shape[2], y.shape[3]
        flops = 0
        for i in range(oh):
            ys, ye = math.floor(i * h / oh), math.ceil((i + 1) * h / oh)
            for j in range(ow):
                xs, xe = math.floor(j * w / ow), math.ceil((j + 1) * w / ow)
                flops += x.shape[0] * x.shape[1] * (ye - ys + 1) * (xe - xs + 1)
        return flops
    if isinstance(module, (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)):
        return x.numel()
    if isinstance(module, nn.Upsample):
        return y.numel()
    if isinstance(module, nn.Linear):
        return x.shape[:-1].numel() * x.shape[-1] * y.shape[-1]
    return 0


def count_flops(probe, convention: str = "macs") -> int:
    """Operation count of one forward pass of the probe's model on its first input (cached per convention)."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown flops convention {convention!r}; known: {CONVENTIONS}")

    def run() -> int:
        x = probe.inputs[:1]
        f = probe.functional(False)
        if convention == "macs":
            counter = MacCounter()
            with torch.no_grad(), counter:
                f({}, x)
            return int(counter.total)
        last: dict[str, int] = {}

        def make_hook(name):
            def hook(module, args, output):
                xin, yout = first_tensor(args), first_tensor(output)
                if xin is not None and yout is not None:
                    last[name] = int(_naslib_module_flops(module, xin, yout))
            return hook

        leaves = [(n, m) for n, m in probe.model.named_modules() if not any(True for _ in m.children())]
        with forward_hooks(leaves, make_hook), torch.no_grad():
            f({}, x)
        return int(sum(last.values()))

    return probe.cached(("flops", convention), run)


class FlopCount(Indicator):
    """Base of the indicators that are an operation count of one forward pass (``flops``, ``az_complexity``):
    one input (the first of the batch), eval mode, ``convention`` as documented in this module."""

    higher_is_better = True
    needs = frozenset()
    cost = "forward"
    min_batch = 1

    def __init__(self, convention: str = "macs"):
        self.convention = convention

    def compute(self, probe) -> float:
        return float(count_flops(probe, self.convention))
