"""One-shot accuracy: how well sub-networks of a trained supernet classify, with the shared weights as they are.

:func:`evaluate` masks the supernet down to each architecture in turn (``set_single_path``) and counts correct
predictions in eval mode (the official ``valid_func``: ``network.eval()``; with ``track_running_stats=False`` the
cells' BatchNorms still use batch statistics). The supernet's masks are restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import torch

from zeroscore.errors import UsageError
from zeroscore.spaces.supernet import Supernet

from .batches import SearchData

__all__ = ["evaluate", "count_correct", "unique_sample", "oneshot_accuracies"]


def count_correct(logits: torch.Tensor, targets: torch.Tensor) -> int:
    return int((logits.argmax(dim=1) == targets).sum())


def _batches(data: Any, batch_size: int, max_images: int | None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    if isinstance(data, SearchData):
        return list(data.valid_batches(batch_size, max_images=max_images))
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        x, y = data
        n = len(y) if max_images is None else min(len(y), max_images)
        return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, n, batch_size)]
    if isinstance(data, Iterable):
        return list(data)
    raise UsageError("data must be a SearchData, an (inputs, targets) pair of tensors or an iterable of such pairs")


@torch.no_grad()
def evaluate(supernet: Supernet, archs: Sequence[Any], data: Any, batch_size: int = 256,
             max_images: int | None = None, device=None) -> list[float]:
    """One-shot top-1 accuracy (%) of each architecture in ``archs`` (cell strings, genotypes, or paths as masks)
    on ``data``: a :class:`SearchData` (its architecture images, at most ``max_images``), an ``(inputs, targets)``
    pair of tensors, or an iterable of such pairs. ``device``: where to run (default: where the supernet is)."""
    if device is None:
        device = next(supernet.parameters()).device
    batches = _batches(data, batch_size, max_images)
    total = sum(len(y) for _, y in batches)
    if total == 0:
        raise UsageError("no images to evaluate on")
    saved_masks, was_training = supernet.masks, supernet.training
    supernet.eval()
    out = []
    try:
        for arch in archs:
            if isinstance(arch, list) and arch and hasattr(arch[0], "dtype"):
                supernet.set_op_mask(arch)
            else:
                supernet.set_single_path(arch)
            correct = sum(count_correct(supernet(x.to(device)), y.to(device)) for x, y in batches)
            out.append(100.0 * correct / total)
    finally:
        supernet.set_op_mask(saved_masks)
        supernet.train(was_training)
    return out


def unique_sample(n: int, seed: int = 0) -> list[str]:
    """``n`` NB201 cells drawn with ``space.sample`` (seeded), one per isomorphism class (``isomorphism_key``:
    cells that compute the same function count once), excluding cells whose output ignores the input."""
    from zeroscore.spaces import get, is_degenerate, isomorphism_key

    space = get("nb201")
    seen: set[str] = set()
    out: list[str] = []
    for arch in space.sample(15625, seed=seed):  # the whole space, in a seeded order
        key = isomorphism_key(arch)
        if key in seen or is_degenerate(arch):
            continue
        seen.add(key)
        out.append(arch)
        if len(out) == n:
            return out
    raise UsageError(f"NB201 has only {len(out)} non-degenerate isomorphism classes, fewer than {n}")


def oneshot_accuracies(supernet: Supernet, data: Any, n: int = 500, seed: int = 0, archs: Sequence[Any] | None = None,
                       **kwargs) -> pd.Series:
    """One-shot accuracy (%) of ``archs`` (default: :func:`unique_sample` ``(n, seed)``) as a Series indexed by
    cell: the supernet's ranking, for :mod:`zeroscore.oneshot.trust`. ``kwargs`` go to :func:`evaluate`."""
    cells = list(archs) if archs is not None else unique_sample(n, seed)
    return pd.Series(evaluate(supernet, cells, data, **kwargs), index=[str(a) for a in cells], name="oneshot_acc")
