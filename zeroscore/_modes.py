"""Every ``TorchFunctionMode`` of zeroscore, in one place: they see functional calls (``F.relu``, ``F.batch_norm``,
``F.conv2d``, pooling) that module hooks miss, so models written with ``torch.nn.functional`` are scored like
models built from modules.

* :class:`ReluRecorder` -- the sign pattern of every ReLU (NASWOT, linear regions, SWAP);
* :class:`BatchNormNoStats` -- train-mode batch norm without the running-statistics update (``torch.func``);
* :class:`BatchNormBypass` -- every batch norm returns its input (SynFlow);
* :class:`GlobalPoolRecorder` -- the inputs of global pooling calls (Zen-NAS's pre-GAP map, AZ-NAS blocks);
* :class:`MacCounter` -- multiply-accumulates of one forward pass (``flops``, ``az_complexity``);
* :class:`BatchStatsRecorder`, :class:`FrozenBatchStats` -- record a batch's BatchNorm statistics, then replay them
  (the NTK with batch statistics held fixed).

All but :class:`MacCounter` set ``ignores_local_pooling = True``: they do not look at non-global pooling calls, so
the probe's private copy may compute those its own way under them (average pooling as a depthwise convolution, max
pooling through a channels-last copy: :class:`zeroscore._cpu_routes.AvgPool2dByConvolution`,
:class:`zeroscore._cpu_routes.MaxPool2dByChannelsLast`); global poolings always run as pooling calls.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from zeroscore._nn import first_tensor

__all__ = ["ReluRecorder", "BatchNormNoStats", "BatchNormBypass", "GlobalPoolRecorder", "MacCounter",
           "BatchStatsRecorder", "FrozenBatchStats", "as_tuple", "window_total", "adaptive_total"]

_RELU_FUNCS = {F.relu, F.relu_, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_}


class ReluRecorder(TorchFunctionMode):
    """Records the sign pattern of every ReLU evaluated while active.

    Catches ``nn.ReLU`` modules as well as ``F.relu``/``torch.relu``/``Tensor.relu`` calls in a model's
    ``forward`` (``nn.ReLU`` calls ``F.relu``), so models written either way are supported. ``codes[i]`` is a
    ``(batch, features)`` bool tensor: ``True`` where the ReLU's input was positive.
    """

    ignores_local_pooling = True

    def __init__(self, batch_size: int):
        super().__init__()
        self.batch_size = batch_size
        self.codes: list[torch.Tensor] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in _RELU_FUNCS and isinstance(out, torch.Tensor) and out.dim() >= 1 and out.shape[0] == self.batch_size:
            self.codes.append((out.detach() > 0).reshape(self.batch_size, -1))
        return out


_BN_ARGS = ("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")


class BatchNormNoStats(TorchFunctionMode):
    """Train-mode ``F.batch_norm`` without the in-place running-statistics update.

    In train mode the output of batch norm depends only on the batch statistics, so dropping the running
    buffers changes nothing in the result; it lets ``torch.func`` transforms (``vmap`` of per-sample gradients,
    forward-over-reverse Hessian-vector products) run through BatchNorm layers, which would otherwise try to
    write batched/dual values into plain buffers. Eval-mode calls are passed through unchanged.
    """

    ignores_local_pooling = True

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is F.batch_norm:
            call = dict(zip(_BN_ARGS, args))
            call.update(kwargs)
            if call.get("training", False):
                call["running_mean"] = None
                call["running_var"] = None
            return func(**call)
        return func(*args, **kwargs)


_BN_FUNCS = {F.batch_norm}


class BatchNormBypass(TorchFunctionMode):
    """Every ``F.batch_norm`` call (``nn.BatchNorm1d/2d/3d``) returns its input unchanged."""

    ignores_local_pooling = True

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _BN_FUNCS:
            return args[0] if args else kwargs["input"]
        return func(*args, **kwargs)


_POOL_FUNCS = {
    F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d,
    F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d,
    F.avg_pool1d, F.avg_pool2d, F.avg_pool3d, F.max_pool1d, F.max_pool2d, F.max_pool3d,
    torch.adaptive_avg_pool1d, torch.avg_pool1d, torch.max_pool1d, torch.max_pool2d, torch.max_pool3d,
}
_MEAN_FUNCS = {torch.mean, torch.Tensor.mean, torch.amax, torch.Tensor.amax}


class GlobalPoolRecorder(TorchFunctionMode):
    """Appends ``("pool", input)`` to ``events`` for every global pooling call evaluated while active."""

    ignores_local_pooling = True

    def __init__(self, events: list):
        super().__init__()
        self.events = events

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in _POOL_FUNCS or func in _MEAN_FUNCS:
            x = args[0] if args else kwargs.get("input")
            y = first_tensor(out)
            if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and x.dim() >= 3:
                if func in _MEAN_FUNCS:
                    dims = args[1] if len(args) > 1 else kwargs.get("dim")
                    if dims is None:
                        dims = ()
                    dims = {d % x.dim() for d in ((dims,) if isinstance(dims, int) else dims)}
                    is_global = dims == set(range(2, x.dim()))
                else:
                    spatial_in = x.shape[2:] if x.dim() == y.dim() else x.shape[1:]
                    spatial_out = y.shape[2:] if x.dim() == y.dim() else y.shape[1:]
                    is_global = all(s == 1 for s in spatial_out) and any(s > 1 for s in spatial_in)
                if is_global:
                    self.events.append(("pool", x))
        return out


_CONV = {F.conv1d, F.conv2d, F.conv3d, torch.conv1d, torch.conv2d, torch.conv3d}
_CONV_T = {F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d}
_MATMUL = {torch.matmul, torch.mm, torch.bmm, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.Tensor.mm,
           torch.Tensor.bmm}
_NORM = {F.batch_norm, F.layer_norm, F.group_norm, F.instance_norm}
_POOL = {F.avg_pool1d: 1, F.avg_pool2d: 2, F.avg_pool3d: 3, F.max_pool1d: 1, F.max_pool2d: 2, F.max_pool3d: 3,
         torch.avg_pool1d: 1, torch.max_pool1d: 1, torch.max_pool2d: 2, torch.max_pool3d: 3}
_ADAPTIVE = {F.adaptive_avg_pool1d: 1, F.adaptive_avg_pool2d: 2, F.adaptive_avg_pool3d: 3,
             F.adaptive_max_pool1d: 1, F.adaptive_max_pool2d: 2, F.adaptive_max_pool3d: 3,
             torch.adaptive_avg_pool1d: 1, torch.adaptive_max_pool1d: 1}


def as_tuple(v, d):
    if isinstance(v, (list, tuple)):
        return tuple(int(a) for a in v) if len(v) == d else tuple(int(v[0]) for _ in range(d))
    return (int(v),) * d


def window_total(length: int, out_len: int, k: int, stride: int, pad: int, dilation: int = 1) -> int:
    """Sum over output positions of the number of in-bounds input positions in the window."""
    total = 0
    for o in range(out_len):
        start = o * stride - pad
        total += sum(1 for j in range(k) if 0 <= start + j * dilation < length)
    return total


def adaptive_total(length: int, out_len: int) -> int:
    return sum(math.ceil((o + 1) * length / out_len) - math.floor(o * length / out_len) for o in range(out_len))


class MacCounter(TorchFunctionMode):
    """Counts multiply-accumulates of the functional calls evaluated while active (see module docstring)."""

    def __init__(self):
        super().__init__()
        self.total = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        try:
            self.total += self._count(func, args, kwargs, out)
        except Exception:  # an unusual call signature is not worth failing the forward pass for
            pass
        return out

    @staticmethod
    def _arg(args, kwargs, i, name, default=None):
        if len(args) > i:
            return args[i]
        return kwargs.get(name, default)

    def _count(self, func, args, kwargs, out) -> int:
        y = first_tensor(out)
        if y is None:
            return 0
        if func in _CONV:
            w = self._arg(args, kwargs, 1, "weight")
            return y.numel() * w[0].numel()
        if func in _CONV_T:
            x, w = args[0], self._arg(args, kwargs, 1, "weight")
            return x.numel() * w[0].numel()
        if func in (F.linear, torch._C._nn.linear):
            w = self._arg(args, kwargs, 1, "weight")
            return y.numel() * w.shape[-1]
        if func in _MATMUL:
            a = args[0]
            return y.numel() * a.shape[-1]
        if func in _NORM:
            return args[0].numel()
        if func in _POOL:
            d = _POOL[func]
            x = args[0]
            k = as_tuple(self._arg(args, kwargs, 1, "kernel_size"), d)
            s = self._arg(args, kwargs, 2, "stride", None)
            s = k if s is None or (isinstance(s, (list, tuple)) and len(s) == 0) else as_tuple(s, d)
            p = as_tuple(self._arg(args, kwargs, 3, "padding", 0), d)
            dil = as_tuple(kwargs.get("dilation", 1) if "max" in getattr(func, "__name__", "") else 1, d)
            lead = x.shape[: x.dim() - d].numel()
            total = lead
            for i in range(d):
                total *= window_total(x.shape[x.dim() - d + i], y.shape[y.dim() - d + i], k[i], s[i], p[i], dil[i])
            return total
        if func in _ADAPTIVE:
            d = _ADAPTIVE[func]
            x = args[0]
            total = x.shape[: x.dim() - d].numel()
            for i in range(d):
                total *= adaptive_total(x.shape[x.dim() - d + i], y.shape[y.dim() - d + i])
            return total
        return 0


_BN_CALL = ("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")


def _bn_call(args, kwargs) -> dict:
    call = dict(zip(_BN_CALL, args))
    call.update(kwargs or {})
    return call


class BatchStatsRecorder(TorchFunctionMode):
    """Records the batch statistics (mean, biased variance per channel) of every train-mode ``F.batch_norm``
    call, in call order, and runs the call without updating running statistics."""

    ignores_local_pooling = True

    def __init__(self):
        super().__init__()
        self.stats: list[tuple[torch.Tensor, torch.Tensor]] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is F.batch_norm:
            call = _bn_call(args, kwargs)
            if call.get("training", False):
                x = call["input"]
                dims = [0, *range(2, x.dim())]
                self.stats.append((x.mean(dims).detach(), x.var(dims, unbiased=False).detach()))
                call["running_mean"] = call["running_var"] = None
                return func(**call)
        return func(*args, **(kwargs or {}))


class FrozenBatchStats(TorchFunctionMode):
    """Train-mode ``F.batch_norm`` calls normalise with the recorded statistics of the same call (in call order)
    instead of the current batch's: samples no longer interact, so each can be differentiated alone (``vmap``)."""

    ignores_local_pooling = True

    def __init__(self, stats: list[tuple[torch.Tensor, torch.Tensor]]):
        super().__init__()
        self.stats = stats
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is F.batch_norm:
            call = _bn_call(args, kwargs)
            if call.get("training", False):
                mean, var = self.stats[self.calls]
                self.calls += 1
                return func(call["input"], mean, var, call.get("weight"), call.get("bias"), False, 0.0,
                            call.get("eps", 1e-5))
        return func(*args, **(kwargs or {}))
