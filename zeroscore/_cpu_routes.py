"""How the CPU runs many independent passes over one network: exactly, and as fast as this machine allows.

TE-NAS's per-sample Jacobian needs one backward of the whole batch per sample (train-mode BatchNorm couples the
samples, so each cotangent is dense over the batch below the last BatchNorm; ``benchmarks/results/ntk_routes_cpu.md``
found no exact route that does less work); SWAP scores 32 re-initialisations; the isometry indicators pull back
16 projections. Two things make such passes cheaper without changing their values, both measured in
``ntk_routes_cpu.md`` (3 cells) and ``ntk_routes_cpu_12cells.md`` (12 more):

* **Side by side** (:func:`run_each`): the passes are shared out among Python threads, each running torch on one
  intra-op thread. NAS-Bench-201's convolutions (16-64 channels, 8-32 pixels) are too small for torch's intra-op
  parallelism: on this project's 2-core CPU one backward ran 1.0-1.3x faster on two threads than on one, while two
  single-threaded backwards side by side ran 1.6-1.7x faster than one after the other; TE-NAS's Jacobian came out
  1.4-1.6x faster than its own loop on two intra-op threads. Autograd supports concurrent backward passes over one
  retained graph; on a CPU each runs on its calling thread. Each pass runs on one thread with the same kernels, so
  the result does not depend on the number of workers. Only passes that share no mutable state run this way (the
  forward that builds the graph runs before, on the caller's thread; SWAP's workers each own a copy).
* **Dead layers skipped** (:func:`dead_layers_skipped`): a convolution or linear call whose input is exactly zero and
  is a ReLU's output (NAS-Bench-201's and DARTS's ``none`` edges feeding a ReLU-conv-BN) has an exactly zero weight
  gradient, and the gradient it sends back dies in that ReLU (zero output, zero derivative). Its output is detached
  (same values; a bias keeps its gradient), so no backward runs its convolution backward: only additions of exact
  zeros disappear from the result. (15 % of NAS-Bench-201's cells have such a convolution.) The loss-gradient
  passes (grad_norm, snip, plain, GraSP, ZiCo's chunks) skip them too.

Zen-NAS's forwards run in the **channels-last layout** (:func:`channels_last_on_cpu`): oneDNN's convolutions skip
NCHW's layout conversions; values move by rounding, so only a forward-only indicator uses it.

One thing makes every pass cheaper, on a private copy (the probe's): **average pooling as a depthwise convolution**
(:func:`faster_pooling`). torch's CPU kernels for ``avg_pool2d`` on NCHW tensors are slow: on this project's
CPU one 3x3 pooling of a (64, 16, 32, 32) batch took 17 ms forward and 24 ms backward, a depthwise convolution with
a ones kernel (then a division by the window count) 2-9 ms and 3-8 ms; pooling backwards were half the time of
TE-NAS's per-sample Jacobian on an NB201 cell with two ``avg_pool_3x3`` edges (74 % of NB201's cells have one). The
sums are the same terms (each input times exactly 1), so values agree to rounding (a relative 2e-7 on a backward,
forwards bit for bit on the sizes measured).

Overlapping **max pooling finds its maxima in the channels-last layout** (:class:`MaxPool2dByChannelsLast`,
NAS-Bench-101's and DARTS's ``max_pool_3x3``): torch's NCHW CPU kernel for a 3x3 stride-1 pooling of a
(64, 16, 32, 32) batch took 14-22 ms forward and about as long with its backward, the channels-last kernel on a
re-laid copy 2-6 ms (both scan each window in the same order and keep its first maximum, NaN included: the same
indices). The output is the input gathered at those indices in NCHW, so values and gradients (a scatter-add at the
same indices, in the same order) are bit for bit the native kernel's, and gradients leave in the caller's layout.
On the 2x2 stride-2 downsampling pooling (no overlap) the copy cost more than it saved: it runs natively.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.overrides import _get_current_function_mode_stack

__all__ = ["run_each", "dead_layers_skipped", "dead_layers_skipped_on_cpu", "cpu_workers", "one_thread",
           "faster_pooling", "AvgPool2dByConvolution", "MaxPool2dByChannelsLast", "channels_last_on_cpu"]

#: layer types whose output is ``W x + b`` (a convolution is linear in its input too) with nothing else in forward:
#: exact types only, since a subclass may override ``forward``
_PLAIN_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def cpu_workers(device: torch.device | str = "cpu") -> int:
    """Threads for :func:`run_each` on ``device``: one per intra-op thread torch would otherwise use on a CPU; one
    on a GPU (the device runs the kernels, Python threads would only interleave their launches)."""
    return max(1, torch.get_num_threads()) if torch.device(device).type == "cpu" else 1


def run_each(items: Iterable[int], fn: Callable[[int], None], workers: int | None = None) -> None:
    """``fn(i)`` for every ``i``, shared out among ``workers`` threads (default :func:`cpu_workers`; interleaved, so
    that items of similar cost spread evenly), torch on one intra-op thread meanwhile (:func:`one_thread`); an error
    is raised once every worker has stopped. ``fn`` runs with torch's thread-local defaults (gradients on, no
    modes): it sets what it needs."""
    order = list(items)
    workers = max(1, min(cpu_workers() if workers is None else workers, len(order)))
    with one_thread():  # every item on one thread, even with one worker: the same bits whatever the workers
        if workers == 1:
            for i in order:
                fn(i)
            return

        def share(part: list[int]) -> None:
            for i in part:
                fn(i)

        with ThreadPoolExecutor(workers, thread_name_prefix="zeroscore") as pool:
            futures = [pool.submit(share, order[k::workers]) for k in range(workers)]
            for future in futures:
                future.result()


@contextmanager
def one_thread() -> Iterator[None]:
    """torch on one intra-op thread for the body; the caller's count restored afterwards, also after an error.

    Also for the bookkeeping of every ``score()`` call (copying the model, cloning and restoring its tensors:
    memory-bound work on a few MB), where waking torch's thread pool for each copy costs more than it saves: with
    ``OMP_WAIT_POLICY=PASSIVE`` (sleeping OpenMP threads, as on a shared machine) one NB201 probe's setup took
    33-36 ms on two threads and 17-19 ms on one. The count is process-wide: ``score()`` calls from several Python
    threads at once may see each other's setting (values stay exact; only their last bits may then depend on it)."""
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def channels_last_on_cpu(device: torch.device, tensors: dict[str, torch.Tensor], *inputs: torch.Tensor
                         ) -> tuple[dict[str, torch.Tensor], tuple[torch.Tensor, ...]]:
    """On a CPU, the 4-d tensors among ``tensors`` (convolution weights) and ``inputs`` (image batches) in the
    channels-last layout, the rest as they are; elsewhere everything as it is. oneDNN's convolutions then skip the
    layout conversions NCHW costs them: Zen-NAS's two no-grad forwards ran 1.0-1.6x faster on six NB201 cells
    (batch 64, two threads; 1.3x on the median cell). Values move by rounding only (another summation order,
    ~1e-7 relative on Zen-NAS): for forward-only indicators, not for the NTK's condition number (4e-3 in
    ``benchmarks/results/ntk_routes_cpu.md``) nor where a pass is shared with one."""
    if torch.device(device).type != "cpu":
        return tensors, inputs

    def relaid(t: torch.Tensor) -> torch.Tensor:
        return t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t

    return {n: relaid(t) for n, t in tensors.items()}, tuple(relaid(t) for t in inputs)


def _skippable(module: nn.Module) -> bool:
    return (type(module) in _PLAIN_LAYERS and not module._forward_hooks and not module._forward_pre_hooks
            and not parametrize.is_parametrized(module))


def _detach_if_dead(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor | None:
    x = args[0] if args else None
    if not isinstance(x, torch.Tensor) or not isinstance(output, torch.Tensor) or not output.requires_grad:
        return None
    # only a ReLU's all-zero output is certain to pass no gradient back (its derivative is zero wherever the output
    # is); an all-zero leaf or any other producer may still receive one through this layer
    if x.requires_grad and (x.grad_fn is None or x.grad_fn.name() != "ReluBackward0"):
        return None
    if x.any():
        return None
    bias, weight = module.bias, module.weight
    if not isinstance(weight, torch.Tensor):
        return None
    if not isinstance(bias, torch.Tensor) or not bias.requires_grad:
        return output.detach()
    # values unchanged (b - b is exactly 0); the bias still gets its gradient, the sum of the output's cotangent
    spatial = weight.dim() - 2
    return output.detach() + (bias - bias.detach()).view(-1, *([1] * spatial))


@contextmanager
def dead_layers_skipped(model: nn.Module) -> Iterator[None]:
    """For forwards run in the body: conv/linear calls on an all-zero ReLU output leave the autograd graph (see the
    module docstring). Exact for every gradient w.r.t. parameters or inputs. Hooks removed whatever happens."""
    handles = [m.register_forward_hook(_detach_if_dead) for m in model.modules() if _skippable(m)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def dead_layers_skipped_on_cpu(model: nn.Module, device: torch.device) -> AbstractContextManager:
    """:func:`dead_layers_skipped` on a CPU; nothing elsewhere (on a GPU the all-zero test of every layer's input
    would wait for the device at each layer: not measured there)."""
    return dead_layers_skipped(model) if torch.device(device).type == "cpu" else nullcontext()


# ---------------------------------------------------------------------------------------------------------------
# average pooling as a depthwise convolution


class AvgPool2dByConvolution(nn.AvgPool2d):
    """``nn.AvgPool2d`` whose CPU forward is a depthwise convolution with a ones kernel divided by the window counts
    (the same sums, see the module docstring), so that its backward is a convolution backward too.

    Only where measured faster and certainly equal: float32/float64 CPU tensors of 3 or 4 dims, no ``ceil_mode``,
    no ``divisor_override``, a pooling that is not global. Anything else, and any forward run under a
    ``TorchFunctionMode`` that may look at pooling calls (zeroscore's FLOP counter, a user's mode: only modes with
    ``ignores_local_pooling = True`` are not), runs ``nn.AvgPool2d``'s own forward. On a GPU the native kernels are
    already fast (not measured otherwise): they run there."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = self._by_convolution(x)
        if shape is None:
            return super().forward(x)
        k, s, p, counts = shape
        channels = x.shape[-3]
        ones = torch.ones(channels, 1, *k, dtype=x.dtype, device=x.device)
        return F.conv2d(x, ones, None, s, p, 1, channels) / (counts if counts is not None else float(k[0] * k[1]))

    def _by_convolution(self, x: torch.Tensor):
        if (x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64) or x.dim() not in (3, 4)
                or self.ceil_mode or self.divisor_override is not None):
            return None
        if _local_pooling_watched():
            return None
        k, s, p = (_pair(v) for v in (self.kernel_size, self.stride, self.padding))
        if min(k) < 1 or min(s) < 1:
            return None
        size = tuple(x.shape[-2:])
        out = tuple((n + 2 * pad - kk) // ss + 1 for n, kk, ss, pad in zip(size, k, s, p))
        if min(out) < 1 or out == (1, 1) or any(2 * pad > kk for kk, pad in zip(k, p)):
            return None  # nothing to pool (native error message), a global pooling (cheap; observers look for it)
        counts = None if self.count_include_pad else _window_counts(size, k, s, p, x.dtype)
        return k, s, p, counts


def _pair(v) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


@lru_cache(maxsize=64)
def _window_counts(size: tuple[int, int], k: tuple[int, int], s: tuple[int, int], p: tuple[int, int],
                   dtype: torch.dtype) -> torch.Tensor:
    """In-bounds inputs of each window (``count_include_pad=False``'s divisor), shape (H_out, W_out), made without
    torch calls (a mode must not see them)."""
    per_axis = []
    for n, kk, ss, pad in zip(size, k, s, p):
        starts = [o * ss - pad for o in range((n + 2 * pad - kk) // ss + 1)]
        per_axis.append([min(a + kk, n) - max(a, 0) for a in starts])
    with torch.inference_mode(False):  # kept for later calls, some of which autograd records (it saves the divisor)
        return torch.tensor([[float(a * b) for b in per_axis[1]] for a in per_axis[0]], dtype=dtype)


def _local_pooling_watched() -> bool:
    """A ``TorchFunctionMode`` is active that may look at pooling calls (zeroscore's FLOP counter, a user's mode):
    only modes with ``ignores_local_pooling = True`` do not."""
    return torch._C._is_torch_function_mode_enabled() and not all(
        getattr(mode, "ignores_local_pooling", False) for mode in _get_current_function_mode_stack())


class MaxPool2dByChannelsLast(nn.MaxPool2d):
    """``nn.MaxPool2d`` whose CPU forward finds the window maxima with the channels-last kernel and gathers them
    from the input (the same indices, values and gradients: see the module docstring).

    Only where measured faster and certainly equal: float32/float64 NCHW-contiguous CPU batches (4 dims), windows
    that overlap (a stride smaller than the kernel on both axes) and do not span the whole map, outside
    ``torch.func`` transforms (no channels-last copies there) and outside modes that may look at pooling calls (as
    :class:`AvgPool2dByConvolution`). Anything else runs ``nn.MaxPool2d``'s own forward."""

    def forward(self, x: torch.Tensor):
        if not self._by_channels_last(x):
            return super().forward(x)
        with torch.no_grad():
            _, indices = F.max_pool2d(x.detach().contiguous(memory_format=torch.channels_last), self.kernel_size,
                                      self.stride, self.padding, self.dilation, self.ceil_mode, return_indices=True)
            indices = indices.contiguous()
        out = x.flatten(2).gather(2, indices.flatten(2)).view(indices.shape)
        return (out, indices) if self.return_indices else out

    def _by_channels_last(self, x: torch.Tensor) -> bool:
        if (x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64) or x.dim() != 4
                or not x.is_contiguous() or torch._C._functorch.is_functorch_wrapped_tensor(x)
                or _local_pooling_watched()):
            return False
        k, d, s = _pair(self.kernel_size), _pair(self.dilation), _pair(self.stride)  # nn.MaxPool2d fills in stride
        spans = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
        if spans[0] >= x.shape[-2] and spans[1] >= x.shape[-1]:
            return False  # a global pooling (cheap; observers look for it)
        return s[0] < k[0] and s[1] < k[1]


#: the pooling classes :func:`faster_pooling` swaps in (exact types: a subclass may override ``forward``)
_FASTER_POOLING = {nn.AvgPool2d: AvgPool2dByConvolution, nn.MaxPool2d: MaxPool2dByChannelsLast}


def faster_pooling(model: nn.Module) -> None:
    """Every ``nn.AvgPool2d`` of ``model`` becomes an :class:`AvgPool2dByConvolution` and every ``nn.MaxPool2d`` a
    :class:`MaxPool2dByChannelsLast`, in place, their state and hooks kept (exact types only: a subclass may
    override ``forward``). For private copies only (the probe's)."""
    for module in model.modules():
        faster = _FASTER_POOLING.get(type(module))
        if faster is not None:
            module.__class__ = faster
