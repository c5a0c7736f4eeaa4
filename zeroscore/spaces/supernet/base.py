"""Shared base of the cell supernets: :class:`Supernet`, its search cells and mixed ops.

A supernet holds every candidate op on every edge of its search cells. Which ops take part is set by boolean op
masks, one ``(num_edges, num_ops)`` buffer per cell type shared by all cells of that type (what rows and columns
mean: :class:`~zeroscore.spaces.supernet.masks.SupernetLayout`, ``supernet.layout``).

Forward
    ``forward(x)``: every edge outputs the sum of its kept ops (``combine="mean"``: their mean, which is what
    TE-NAS's softmax over equal, un-pruned architecture weights amounts to); an edge with no kept op contributes
    nothing and a node with no live input edge is zero.

    ``forward(x, weights)``: ``weights`` has the shape of the masks (one float ``(num_edges, num_ops)`` tensor per
    cell type, same forms as :meth:`Supernet.set_op_mask`) and every edge outputs ``sum over kept ops o of
    weights[e, o] * op_o(x)``; ``combine`` is not used. Weight-sharing searches pass their architecture weights
    here: DARTS ``softmax(alpha)``, GDAS a straight-through Gumbel one-hot, NASP a proximal one-hot; gradients flow
    into ``weights``. Ops that a mask removes are not computed, so single-path methods (RSPS, SPOS, GDAS) can also
    mask every edge down to the sampled op (:meth:`Supernet.set_single_path`) and skip the other ops' cost.

Parameters of the candidate ops
    :meth:`Supernet.candidate_ops` lists every op module with its place (cell, cell type, edge, op);
    :meth:`Supernet.op_parameters` gathers the parameters of each (cell type, edge, op) over the cells of that type
    (e.g. to freeze the convolutions, as RF-DARTS does); :meth:`Supernet.shared_parameters` is everything else
    (stem, preprocessing, reduction blocks, head).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

import torch
import torch.nn as nn

from zeroscore.errors import UsageError

from .masks import SupernetLayout

__all__ = ["Supernet", "SearchCell", "MixedOp", "CandidateOp", "with_output_bn"]

#: place of one candidate op module in a supernet
CandidateOp = namedtuple("CandidateOp", "cell cell_type edge op")


class MixedOp(nn.Module):
    """The candidate ops of one edge, in ``op_names`` order.

    ``forward(x, keep, combine, weights=None)`` mixes the ops whose ``keep`` entry is true (see the module
    docstring) and returns ``None`` when none is kept, so the caller can leave the edge out of its node's sum.
    """

    #: attribute that holds the ops; subclasses rename it so state dicts keep the official module names
    candidates_attribute = "ops"

    def __init__(self, candidates: Iterable[nn.Module]):
        super().__init__()
        setattr(self, self.candidates_attribute, nn.ModuleList(candidates))

    @property
    def candidates(self) -> nn.ModuleList:
        return getattr(self, self.candidates_attribute)

    def forward(self, x: torch.Tensor, keep: Sequence[bool], combine: str = "sum",
                weights: torch.Tensor | None = None) -> torch.Tensor | None:
        if weights is None:
            outs = [op(x) for op, k in zip(self.candidates, keep) if k]
        else:
            outs = [w * op(x) for op, k, w in zip(self.candidates, keep, weights) if k]
        if not outs:
            return None
        total = outs[0] if len(outs) == 1 else sum(outs)
        if weights is None and combine == "mean" and len(outs) > 1:
            return total / len(outs)
        return total


class SearchCell(nn.Module):
    """A cell of a supernet: one :class:`MixedOp` per edge of the cell layout.

    ``cell_type`` indexes the supernet's masks (and weights) that the cell reads.
    """

    cell_type: int = 0

    def mixed_ops(self) -> Sequence[MixedOp]:
        """The mixed ops in edge order."""
        raise NotImplementedError


def with_output_bn(op: nn.Module, name: str, channels: int, track_running_stats: bool = True,
                   include_none: bool = False) -> nn.Module:
    """``op`` followed by an affine BatchNorm when it has no parameters and is not ``none`` (skip, pooling), else
    ``op`` itself: the ``op_bn`` option of the supernets, which gives every candidate a trainable BatchNorm.
    ``include_none`` (``op_bn="all"``, DI-NAS's supernet) also puts one after ``none``: a BatchNorm of zeros
    outputs its bias, so ``none`` becomes a learnable constant, trained like every other op's BatchNorm."""
    if (name == "none" and not include_none) or any(True for _ in op.parameters()):
        return op
    return nn.Sequential(op, nn.BatchNorm2d(channels, affine=True, track_running_stats=track_running_stats))


def sum_or_none(terms: list[torch.Tensor]) -> torch.Tensor | None:
    """Sum of a node's input terms (the first term itself when alone, as the official search cells do)."""
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else cast(torch.Tensor, sum(terms))  # sum of >= 2 tensors is a tensor


class Supernet(nn.Module):
    """Base of :class:`~zeroscore.spaces.NB201Supernet` and :class:`~zeroscore.spaces.DartsSupernet`.

    Subclasses set :attr:`mask_buffer_names` and :attr:`layout_class`, build their modules after calling
    ``super().__init__(layout, combine)`` and implement :meth:`_forward` and :meth:`mask_layout`. They keep their
    search cells in ``self.cells`` (other blocks may sit between them).
    """

    #: names of the bool mask buffers, one per cell type (part of the state dict)
    mask_buffer_names: tuple[str, ...] = ()
    #: named constructor options (:func:`~zeroscore.spaces.supernet.build_supernet`)
    PRESETS: dict[str, dict[str, Any]] = {}
    #: the cells, set by the subclass (search cells, possibly with other blocks between them)
    cells: nn.ModuleList

    def __init__(self, layout: SupernetLayout, combine: str = "sum"):
        super().__init__()
        if combine not in ("sum", "mean"):
            raise UsageError(f"combine must be 'sum' or 'mean', got {combine!r}")
        self.layout = layout
        self.combine = combine
        for name in self.mask_buffer_names:
            self.register_buffer(name, torch.ones(layout.mask_shape, dtype=torch.bool))

    @classmethod
    def mask_layout(cls, ops: Sequence[str] | None = None) -> SupernetLayout:
        """The :class:`SupernetLayout` of a supernet built with these ``ops`` (subclasses add layout options such as
        DARTS' ``steps``), without building it."""
        raise NotImplementedError

    # ------------------------------------------------------------------ layout
    @property
    def op_names(self) -> tuple[str, ...]:
        return self.layout.op_names

    @property
    def edge_names(self) -> tuple[str, ...]:
        return self.layout.edge_names

    def edges_into(self, node: int) -> tuple[int, ...]:
        """Mask rows of the edges entering intermediate node ``node``."""
        return self.layout.edges_into(node)

    # ------------------------------------------------------------------ masks
    def _mask_buffers(self) -> list[torch.Tensor]:
        return [getattr(self, name) for name in self.mask_buffer_names]

    def set_mask(self, cell_type: Any, edge: Any, op: Any, keep: bool) -> None:
        """Keep (``True``) or remove (``False``) one op of one edge in all cells of ``cell_type`` (each given by
        index or name)."""
        buf = self._mask_buffers()[self.layout.cell_type_index(cell_type)]
        buf[self.layout.edge_index(edge), self.layout.op_index(op)] = bool(keep)

    @property
    def masks(self) -> list[torch.Tensor]:
        """Copies of the masks, one ``(num_edges, num_ops)`` bool tensor per cell type."""
        return [buf.detach().clone() for buf in self._mask_buffers()]

    def get_op_mask(self) -> list[torch.Tensor]:
        return self.masks

    def set_op_mask(self, masks: Any) -> None:
        """Set every mask: a list with one bool array per cell type, a dict ``{cell type: array}``, or (one cell
        type) the array itself. All are checked before any is written."""
        for buf, m in zip(self._mask_buffers(), self.layout.per_cell_type(masks, "mask")):
            buf.copy_(m)

    def set_single_path(self, arch: Any) -> None:
        """Mask every edge down to the op(s) of ``arch`` (which may only use ``op_names``)."""
        self.set_op_mask(self.layout.single_path_masks(arch))

    def kept_ops(self) -> list[list[list[str]]]:
        """Per cell type, per edge, the names of the kept ops."""
        return self.layout.kept_ops(self._mask_buffers())

    def to_arch(self, masks: Any = None) -> Any:
        """Architecture selected by ``masks`` (default: the current masks) on every edge's first kept op; see
        :meth:`SupernetLayout.to_arch`."""
        return self.layout.to_arch(self._mask_buffers() if masks is None else masks)

    def arch(self) -> Any:
        """The architecture once the masks are exactly one path (:class:`InvalidArchError` before)."""
        return self.layout.single_path_arch(self._mask_buffers())

    def genotype(self) -> Any:
        return self.arch()

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor, weights: Any = None) -> torch.Tensor:
        keep = [buf.tolist() for buf in self._mask_buffers()]
        rows = None if weights is None else self.layout.per_cell_type(weights, "weights")
        return self._forward(x, keep, rows)

    def _forward(self, x: torch.Tensor, keep: list[list[list[bool]]],
                 weights: list[torch.Tensor] | None) -> torch.Tensor:
        """Logits, given the masks as nested lists and the weights (or ``None``) per cell type."""
        raise NotImplementedError

    # ------------------------------------------------------------------ parameters of the candidate ops
    def search_cells(self) -> list[tuple[int, SearchCell]]:
        """``(index in self.cells, cell)`` of every search cell."""
        return [(k, c) for k, c in enumerate(self.cells) if isinstance(c, SearchCell)]

    def candidate_ops(self) -> Iterator[tuple[CandidateOp, nn.Module]]:
        """Every candidate op module with its place, in module order."""
        for index, cell in self.search_cells():
            cell_type = self.layout.cell_types[cell.cell_type]
            for edge, mixed in zip(self.edge_names, cell.mixed_ops()):
                for op, module in zip(self.op_names, mixed.candidates):
                    yield CandidateOp(index, cell_type, edge, op), module

    def op_parameters(self) -> dict[tuple[str, str, str], list[nn.Parameter]]:
        """Parameters of each candidate op, keyed ``(cell type, edge, op)`` and gathered over the cells of that
        type (they share one mask row); ops without parameters map to an empty list."""
        out: dict[tuple[str, str, str], list[nn.Parameter]] = {}
        for place, module in self.candidate_ops():
            out.setdefault((place.cell_type, place.edge, place.op), []).extend(module.parameters())
        return out

    def shared_parameters(self) -> list[nn.Parameter]:
        """Parameters outside the candidate ops (stem, preprocessing, reduction blocks, classifier)."""
        in_ops = {id(p) for params in self.op_parameters().values() for p in params}
        return [p for p in self.parameters() if id(p) not in in_ops]
