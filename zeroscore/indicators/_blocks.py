"""Blocks, the global-pool boundary and per-block feature maps (shared by ``zen`` and the ``az_*`` indicators).

*Global pool.* A call of ``F.adaptive_avg/max_pool{1,2,3}d``, ``F.avg/max_pool{1,2,3}d`` (modules or functional)
or ``mean``/``amax`` over all spatial dimensions whose output has spatial size 1 while its input does not.
:class:`GlobalPoolRecorder` records each such call with its input, so the *pre-GAP feature map* (Zen-NAS's
``forward_pre_GAP``) is the input of the last one.

*Blocks* (AZ-NAS's "layer features" are the outputs of the stem and of every cell/block in order; the
reference networks expose them with ``extract_cell_features``): by default the model's top-level children in
call order, where

* a ``ModuleList``/``ModuleDict`` child (never called itself) is replaced by its elements, and so is an
  ``nn.Sequential`` child all of whose elements have sub-modules (a stage of blocks, as in ResNets);
* a top-level child without parameters (pooling, flatten, activation) is skipped, and so is one made only of
  normalisation/activation layers (e.g. NAS-Bench-201's ``lastact`` BN-ReLU before the pool), which is the
  head's pre-activation rather than a block;
* when this leaves fewer than two blocks and the model has a single child, the rule is applied inside it.

Only outputs produced before the first global pool count (the head is excluded); on a model without a global
pool (an MLP) the output of the last block is dropped when it is the model's output (the classifier).
``blocks=("name", ...)`` overrides the rule with explicit submodule names.
"""

from __future__ import annotations

import torch
from torch import nn

from zeroscore._modes import GlobalPoolRecorder
from zeroscore._nn import first_tensor, forward_hooks, is_norm_or_passive
from zeroscore.errors import IndicatorNotApplicable


def _has_children(m: nn.Module) -> bool:
    return any(True for _ in m.children())


def _has_params(m: nn.Module) -> bool:
    return any(True for _ in m.parameters())


def discover_blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Default blocks of ``model`` (see the module docstring), as ``(qualified name, module)``."""

    def walk(root: nn.Module, prefix: str) -> list[tuple[str, nn.Module]]:
        out: list[tuple[str, nn.Module]] = []
        for name, child in root.named_children():
            full = f"{prefix}{name}"
            if isinstance(child, (nn.ModuleList, nn.ModuleDict)) or (
                    isinstance(child, nn.Sequential) and len(child) > 1 and all(_has_children(c) for c in child)):
                out.extend((f"{full}.{n}", c) for n, c in child.named_children())
            elif _has_params(child) and not is_norm_or_passive(child):
                out.append((full, child))
        return out

    root, prefix = model, ""
    blocks = walk(root, prefix)
    while len(blocks) < 2:
        kids = list(root.named_children())
        if len(kids) != 1 or not _has_children(kids[0][1]):
            break
        prefix = f"{prefix}{kids[0][0]}."
        root = kids[0][1]
        blocks = walk(root, prefix)
    return blocks


def resolve_blocks(model: nn.Module, blocks: tuple[str, ...] | None) -> list[tuple[str, nn.Module]]:
    if blocks is None:
        return discover_blocks(model)
    named = dict(model.named_modules())
    missing = [b for b in blocks if b not in named]
    if missing:
        raise ValueError(f"no submodule named {missing}; top-level children: {[n for n, _ in model.named_children()]}")
    return [(b, named[b]) for b in blocks]


def run_with_features(model: nn.Module, call, blocks: list[tuple[str, nn.Module]]):
    """Run ``call()`` (a forward of ``model``) recording block outputs and global-pool inputs in call order.

    Returns ``(output, events)``; ``events`` is a list of ``("block", name, tensor)`` and ``("pool", tensor)``.
    Hooks are removed and the recorder popped whatever happens.
    """
    events: list = []

    def make_hook(name):
        def hook(module, args, output):
            y = first_tensor(output)
            if isinstance(y, torch.Tensor) and y.is_floating_point():
                events.append(("block", name, y))
        return hook

    with forward_hooks(blocks, make_hook), GlobalPoolRecorder(events):
        out = call()
    return out, events


def pre_gap_feature(events: list) -> torch.Tensor:
    pools = [e[1] for e in events if e[0] == "pool"]
    if not pools:
        raise IndicatorNotApplicable(
            "needs a global-pooling boundary (nn.AdaptiveAvgPool2d / F.adaptive_avg_pool2d / a mean over all "
            "spatial dims) to find the pre-GAP feature map; the forward pass has none"
        )
    return pools[-1]


def block_features(events: list, output: torch.Tensor, batch_size: int) -> list[tuple[str, torch.Tensor]]:
    """Block outputs before the first global pool (see module docstring), batch dimension first."""
    feats: list[tuple[str, torch.Tensor]] = []
    pooled = False
    for e in events:
        if e[0] == "pool":
            pooled = True
            break
        _, name, y = e
        if y.dim() >= 2 and y.shape[0] == batch_size:
            feats.append((name, y))
    if not pooled and feats:
        last = feats[-1][1]
        if last.shape == output.shape and (last is output or last.data_ptr() == output.data_ptr()):
            feats.pop()
    return feats
