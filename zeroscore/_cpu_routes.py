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
  zeros disappear from the result. (15 % of NAS-Bench-201's cells have such a convolution.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn.utils import parametrize

__all__ = ["run_each", "dead_layers_skipped", "cpu_workers", "one_thread"]

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
