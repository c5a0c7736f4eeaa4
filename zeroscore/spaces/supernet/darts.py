"""The DARTS supernet: :class:`DartsSupernet` (``model_search.Network`` of DARTS), its :class:`DartsLayout` and
:func:`darts_supernet`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import torch
import torch.nn as nn

from zeroscore.errors import InvalidArchError

from ..base import seeded
from ..darts.genotypes import BUILDABLE_OPS, CELL_LAYOUT, PRIMITIVES, STEPS, Genotype, parse_genotype
from ..darts.ops import FactorizedReduce, ReLUConvBN, make_op
from ..layout import CellLayout
from .base import MixedOp, SearchCell, Supernet, sum_or_none, with_output_bn
from .masks import SupernetLayout

__all__ = ["DartsLayout", "DartsSupernet", "darts_supernet"]


class DartsLayout(SupernetLayout):
    """Two cell types (``"normal"``, ``"reduce"`` also ``"reduction"``), ``steps`` intermediate nodes fed by every
    earlier node, ops from :data:`BUILDABLE_OPS`; genotypes concatenate the last ``multiplier`` nodes."""

    cell_types = ("normal", "reduce")
    cell_type_aliases = {"reduction": 1}

    def __init__(self, op_names: Sequence[str] = PRIMITIVES, steps: int = STEPS, multiplier: int = 4):
        cell = CELL_LAYOUT if steps == STEPS else CellLayout(num_inputs=2, steps=steps)
        super().__init__(cell, op_names, BUILDABLE_OPS, "DARTS")
        self.steps, self.multiplier = int(steps), int(multiplier)
        self.concat = tuple(range(2 + self.steps - self.multiplier, self.steps + 2))

    def to_arch(self, masks: Any) -> Genotype:
        """The genotype with, node by node and input by input, every edge's first kept op other than ``none``;
        edges with no such op are left out (a node may then have fewer or more than two inputs)."""
        cells = []
        for kept in self.kept_ops(masks):
            edges = []
            for node in self.intermediate_nodes:
                for e in self.edges_into(node):
                    ops = [o for o in kept[e] if o != "none"]
                    if ops:
                        edges.append((ops[0], self.cell.edges[e][1]))
            cells.append(tuple(edges))
        return Genotype(cells[0], self.concat, cells[1], self.concat)

    def single_path_arch(self, masks: Any) -> Genotype:
        """Genotype once every node keeps exactly two edges with one non-``none`` op each."""
        cells = []
        for kind, kept in zip(self.cell_types, self.kept_ops(masks)):
            edges = []
            for node in self.intermediate_nodes:
                live = []
                for e in self.edges_into(node):
                    ops = [o for o in kept[e] if o != "none"]
                    if len(ops) > 1:
                        raise InvalidArchError(f"{kind} edge {self.edge_names[e]} still has {len(ops)} ops: {ops}")
                    if ops:
                        live.append((ops[0], self.cell.edges[e][1]))
                if len(live) != 2:
                    raise InvalidArchError(f"{kind} node {node} has {len(live)} live input edges (need 2)")
                edges.extend(live)
            cells.append(tuple(edges))
        return Genotype(cells[0], self.concat, cells[1], self.concat)

    def single_path_masks(self, arch: Any) -> list[torch.Tensor]:
        g = parse_genotype(arch, self.op_names)
        masks = []
        for edges in (g.normal, g.reduce):
            if len(edges) != 2 * self.steps:
                raise InvalidArchError(f"genotype has {len(edges) // 2} steps, supernet has {self.steps}")
            mask = torch.zeros(self.mask_shape, dtype=torch.bool)
            for k, (op, source) in enumerate(edges):
                mask[self.cell.edge_index(k // 2 + 2, source), self.op_names.index(op)] = True
            masks.append(mask)
        return masks


class _MixedOp(MixedOp):
    candidates_attribute = "_ops"  # DARTS model_search: ``cells[k]._ops[e]._ops[o]``


class _SearchCell(SearchCell):
    """A DARTS search cell (``model_search.Cell``): preprocessing of the two inputs, then ``_ops[e]`` holds every
    candidate op of edge ``e``; the output concatenates the last ``multiplier`` nodes."""

    def __init__(self, op_names, layout: CellLayout, multiplier, C_prev_prev, C_prev, C, reduction, reduction_prev,
                 affine, pool_bn, track_running_stats=True, op_bn=False):
        super().__init__()
        self.reduction = reduction
        self.cell_type = 1 if reduction else 0
        bn = dict(affine=affine, track_running_stats=track_running_stats)
        if reduction_prev:
            self.preprocess0: FactorizedReduce | ReLUConvBN = FactorizedReduce(C_prev_prev, C, **bn)
        else:
            self.preprocess0 = ReLUConvBN(C_prev_prev, C, 1, 1, 0, **bn)
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0, **bn)
        self.cell_layout = layout
        self._steps, self._multiplier = layout.steps, multiplier
        self._ops = nn.ModuleList()
        for _node, source in layout.edges:
            stride = 2 if reduction and source < 2 else 1
            candidates = []
            for name in op_names:
                op = make_op(name, C, stride, **bn)
                if op_bn:
                    op = with_output_bn(op, name, C, track_running_stats, include_none=op_bn == "all")
                elif pool_bn and "pool" in name:
                    op = nn.Sequential(op, nn.BatchNorm2d(C, affine=False, track_running_stats=track_running_stats))
                candidates.append(op)
            self._ops.append(_MixedOp(candidates))

    def mixed_ops(self) -> list[MixedOp]:
        return cast(list[MixedOp], list(self._ops))  # _ops holds only _MixedOp modules

    def forward(self, s0, s1, keep, combine, weights=None):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in self.cell_layout.intermediate_nodes:
            terms = []
            for e in self.cell_layout.edges_into(node):
                source = self.cell_layout.edges[e][1]
                t = self._ops[e](states[source], keep[e], combine, None if weights is None else weights[e])
                if t is not None:
                    terms.append(t)
            total = sum_or_none(terms)
            if total is None:  # no live input edge: zeros of the node's shape (halved in a reduction cell)
                ref = states[1]
                stride = 2 if self.reduction else 1
                total = ref.new_zeros((ref.shape[0], ref.shape[1], (ref.shape[2] + stride - 1) // stride,
                                       (ref.shape[3] + stride - 1) // stride))
            states.append(total)
        return torch.cat(states[-self._multiplier:], dim=1)


class DartsSupernet(Supernet):
    """DARTS cell super network (``model_search.Network``) with boolean op masks.

    Edge indexing (both cell types, ``steps=4``): edge ``e`` feeds intermediate node ``n`` from input ``j``
    with ``e = (n-2)(n+1)/2 + j``: ``0: 2<-0, 1: 2<-1, 2: 3<-0, 3: 3<-1, 4: 3<-2, 5: 4<-0, ..., 8: 4<-3,
    9: 5<-0, ..., 13: 5<-4`` (nodes 0/1 are the cell inputs c_{k-2}/c_{k-1}); names in ``edge_names``, the
    edges of node ``n`` in ``edges_into(n)``. This is DARTS' ``alphas`` row order and TE-NAS's ``edge2index``
    order (TE-NAS names the same edges ``"{n-2}<-{j}"``). Masks are bool buffers ``normal_mask`` and
    ``reduce_mask`` of shape ``(14, len(op_names))``; ``masks`` returns ``[normal_mask, reduce_mask]`` (cell type
    0 = normal, 1 = reduce); the rest of the mask, weight and architecture API is :class:`Supernet`'s
    (``genotype()`` is the strict single-path genotype, ``to_arch(masks)`` the lenient one). All cells of a type
    share the mask.

    Defaults follow DARTS' search network (``affine=False`` ops, BN after pooling, no final activation);
    ``affine`` and ``track_running_stats`` set every BatchNorm of the cells (stem and head keep PyTorch's
    defaults); ``op_bn=True`` puts an affine BatchNorm after every parameter-free op except ``none`` (skip,
    pooling; it replaces the pooling BatchNorm of ``pool_bn``), the fairness variant of BN-only supernets
    (RF-DARTS). TE-NAS's networks (:attr:`PRESETS`): ``darts_supernet(C=1, layers=3, depth=2, stem_multiplier=1,
    lastact=True, affine=True, pool_bn=False)`` (NTK net) and the same with ``use_stem=False, in_channels=1``
    (thin net); ``layers=3`` gives the normal/reduce/reduce order of TE-NAS's ``N=1``.
    """

    cell_types = DartsLayout.cell_types
    num_cell_types = len(cell_types)
    mask_buffer_names = ("normal_mask", "reduce_mask")
    _TENAS = dict(C=1, layers=3, depth=2, stem_multiplier=1, lastact=True, affine=True, pool_bn=False)
    #: TE-NAS's networks (``prune_tenas.py``): the NTK net and the thin (linear-region) net
    PRESETS: dict[str, dict[str, Any]] = {
        "tenas_ntk": dict(_TENAS),
        "tenas_thin": dict(_TENAS, use_stem=False, in_channels=1),
    }

    def __init__(self, C: int = 16, layers: int = 8, num_classes: int = 10, ops: Sequence[str] | None = None, *,
                 steps: int = STEPS, multiplier: int = 4, stem_multiplier: int = 3, depth: int = -1,
                 use_stem: bool = True, in_channels: int = 3, affine: bool = False, pool_bn: bool = True,
                 lastact: bool = False, combine: str = "sum", track_running_stats: bool = True,
                 op_bn: bool | str = False):
        super().__init__(self.mask_layout(ops, steps=steps, multiplier=multiplier), combine)
        self._steps, self._multiplier = steps, multiplier
        c_curr = stem_multiplier * C
        if use_stem:
            self.stem: nn.Sequential | None = nn.Sequential(nn.Conv2d(in_channels, c_curr, 3, padding=1, bias=False),
                                                            nn.BatchNorm2d(c_curr))
            c_pp = c_p = c_curr
        else:
            self.stem = None
            c_pp = c_p = in_channels
        c_curr = C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            if depth > 0 and i >= depth:
                break
            if i in (layers // 3, 2 * layers // 3):
                c_curr *= 2
                reduction = True
            else:
                reduction = False
            cell = _SearchCell(self.op_names, self.layout.cell, multiplier, c_pp, c_p, c_curr, reduction,
                               reduction_prev, affine, pool_bn, track_running_stats, op_bn)
            reduction_prev = reduction
            self.cells.append(cell)
            c_pp, c_p = c_p, multiplier * c_curr
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_p), nn.ReLU(inplace=False)) if lastact else None
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)

    @classmethod
    def mask_layout(cls, ops: Sequence[str] | None = None, steps: int = STEPS, multiplier: int = 4) -> DartsLayout:
        return DartsLayout(PRIMITIVES if ops is None else ops, steps, multiplier)

    def _forward(self, x, keep, weights):
        s0 = s1 = self.stem(x) if self.stem is not None else x
        for cell in self.cells:
            t = cell.cell_type
            s0, s1 = s1, cell(s0, s1, keep[t], self.combine, None if weights is None else weights[t])
        out = self.lastact(s1) if self.lastact is not None else s1
        return self.classifier(self.global_pooling(out).flatten(1))


def darts_supernet(C: int = 16, layers: int = 8, num_classes: int = 10, ops: Sequence[str] | None = None,
                   seed: int | None = None, **kwargs) -> DartsSupernet:
    """Build a :class:`DartsSupernet` (deterministic init when ``seed`` is given)."""
    with seeded(seed):
        return DartsSupernet(C, layers, num_classes, ops, **kwargs)
