"""The NAS-Bench-201 supernet: :class:`NB201Supernet`, its :class:`NB201Layout` and :func:`nb201_supernet`."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, cast

import torch
import torch.nn as nn

from zeroscore.errors import InvalidArchError, UsageError

from ..base import seeded
from ..nb201.arch import CELL_LAYOUT, EDGE_NAMES, EDGES, NB201_OPS, format_arch, parse_arch
from ..nb201.ops import ResNetBasicblock, make_op
from .base import MixedOp, SearchCell, Supernet, sum_or_none, with_output_bn
from .masks import SupernetLayout

__all__ = ["NB201Layout", "NB201Supernet", "nb201_supernet"]


class NB201Layout(SupernetLayout):
    """One cell type (``"normal"``, also ``"cell"``), the six NB201 edges, ops from :data:`NB201_OPS`."""

    cell_types = ("normal",)
    cell_type_aliases = {"cell": 0}

    def __init__(self, op_names: Sequence[str] = NB201_OPS):
        super().__init__(CELL_LAYOUT, op_names, NB201_OPS, "NB201")

    def to_arch(self, masks: Any) -> str:
        """The cell string with every edge's first kept op; ``none`` on an edge with no kept op."""
        kept = self.kept_ops(masks)[0]
        return format_arch([ops[0] if ops else "none" for ops in kept])

    def single_path_arch(self, masks: Any) -> str:
        kept = self.kept_ops(masks)[0]
        bad = [f"{self.edge_names[e]}: {k}" for e, k in enumerate(kept) if len(k) != 1]
        if bad:
            raise InvalidArchError("not a single path; edges without exactly one kept op: " + "; ".join(bad))
        return format_arch([k[0] for k in kept])

    def single_path_masks(self, arch: Any) -> list[torch.Tensor]:
        mask = torch.zeros(self.mask_shape, dtype=torch.bool)
        for e, op in enumerate(parse_arch(arch, self.op_names)):
            mask[e, self.op_names.index(op)] = True
        return [mask]


class _MixedEdge(MixedOp):
    candidates_attribute = "ops"  # NB201 search cells: ``edges[name].ops[k]``


class _SearchCell(SearchCell):
    """An NB201 search cell: ``edges[name]`` holds every candidate op of that edge."""

    def __init__(self, op_names, C_in, C_out, affine, track_running_stats, op_bn=False):
        super().__init__()

        def candidate(o, c_in):
            op = make_op(o, c_in, C_out, 1, affine, track_running_stats)
            if not op_bn:
                return op
            return with_output_bn(op, o, C_out, track_running_stats, include_none=op_bn == "all")

        self.edges = nn.ModuleDict({
            name: _MixedEdge(candidate(o, C_in if j == 0 else C_out) for o in op_names)
            for name, (i, j) in zip(EDGE_NAMES, EDGES)
        })
        self.in_dim, self.out_dim = C_in, C_out

    def mixed_ops(self) -> list[MixedOp]:
        return list(self.edges.values())

    def forward(self, x, keep, combine, weights=None):
        nodes = [x]
        for node in CELL_LAYOUT.intermediate_nodes:
            terms = []
            for e in CELL_LAYOUT.edges_into(node):
                source = EDGES[e][1]
                t = self.edges[EDGE_NAMES[e]](nodes[source], keep[e], combine, None if weights is None else weights[e])
                if t is not None:
                    terms.append(t)
            total = sum_or_none(terms)
            if total is None:  # no live input edge: the node is zero
                total = x.new_zeros((x.shape[0], self.out_dim, x.shape[2], x.shape[3]))
            nodes.append(total)
        return nodes[-1]


class NB201Supernet(Supernet):
    """NB201 cell super network: every edge holds every candidate op; ops are switched off by masks.

    Masks: one boolean buffer ``op_mask`` of shape ``(6, len(op_names))`` shared by all cells (as the
    architecture parameters of DARTS / TE-NAS). Row ``e`` is edge ``EDGE_NAMES[e]`` (``1<-0, 2<-0, 2<-1,
    3<-0, 3<-1, 3<-2``), column ``o`` is ``op_names[o]``. Mask, weight and architecture API: :class:`Supernet`
    (``set_mask(cell_type, edge, op, keep)`` with ``cell_type`` 0 / ``"normal"`` / ``"cell"``, ``masks``,
    ``set_op_mask``, ``set_single_path``, ``kept_ops``, ``to_arch``, ``arch``, ``forward(x, weights=None)``).

    ``affine`` and ``track_running_stats`` set the BatchNorms of the search cells' ops (NB201's search models
    use ``affine=False``); stem, reduction blocks and head keep PyTorch's defaults, as in NB201. ``op_bn=True``
    adds an affine BatchNorm after every parameter-free op except ``none`` (skip, pooling), so that every candidate
    has a trainable BatchNorm (the fairness variant of BN-only supernets, RF-DARTS); off by default; ``op_bn="all"``
    also puts one after ``none`` (DI-NAS's supernet, :mod:`zeroscore.oneshot.methods.bn_supernets`).
    Layout options reproduce TE-NAS's networks (:attr:`PRESETS`): ``nb201_supernet(C=3, N=1)`` (NTK net) and
    ``nb201_supernet(C=1, N=1, depth=1, use_stem=False, in_channels=1)`` (linear-region net).
    ``depth`` keeps the first ``depth`` layers (cells and reduction blocks) as TE-NAS does.
    ``suffix_copies=m, shared_layers=k`` (prefix sharing, Deeper Insights): the stem and the first ``k`` layers are
    shared, everything after them (layers, last activation, classifier) exists ``m`` times; ``active_copy`` picks
    the copy ``forward`` uses (0, the supernet's own modules, by default). Search cells of copies 1.. are not listed by
    :meth:`candidate_ops`.
    """

    cell_types = NB201Layout.cell_types
    num_cell_types = len(cell_types)
    mask_buffer_names = ("op_mask",)
    #: TE-NAS's networks (``prune_tenas.py``): the NTK net and the thin (linear-region) net
    PRESETS: dict[str, dict[str, Any]] = {
        "tenas_ntk": dict(C=3, N=1),
        "tenas_thin": dict(C=1, N=1, depth=1, use_stem=False, in_channels=1),
    }

    def __init__(self, C: int = 16, N: int = 5, num_classes: int = 10, ops: Sequence[str] | None = None, *,
                 depth: int = -1, use_stem: bool = True, in_channels: int = 3, affine: bool = True,
                 track_running_stats: bool = True, combine: str = "sum", op_bn: bool | str = False,
                 suffix_copies: int = 1, shared_layers: int = 0):
        super().__init__(self.mask_layout(ops), combine)
        if use_stem:
            self.stem: nn.Sequential | None = nn.Sequential(nn.Conv2d(in_channels, C, kernel_size=3, padding=1,
                                                                      bias=False), nn.BatchNorm2d(C))
            c_prev = C
        else:
            self.stem = None
            c_prev = in_channels
        layer_channels = [C] * N + [C * 2] + [C * 2] * N + [C * 4] + [C * 4] * N
        layer_reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
        self.cells = nn.ModuleList()
        cell: ResNetBasicblock | _SearchCell
        for index, (c_curr, reduction) in enumerate(zip(layer_channels, layer_reductions)):
            if depth > 0 and index >= depth:
                break
            if reduction:
                cell = ResNetBasicblock(c_prev, c_curr, 2)
            else:
                cell = _SearchCell(self.op_names, c_prev, c_curr, affine, track_running_stats, op_bn)
            self.cells.append(cell)
            c_prev = cell.out_dim
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)
        self.suffix_copies, self.shared_layers, self.active_copy = int(suffix_copies), int(shared_layers), 0
        if self.suffix_copies < 1 or not 0 <= self.shared_layers <= len(self.cells):
            raise UsageError(f"suffix_copies must be >= 1 and shared_layers between 0 and {len(self.cells)}, got "
                             f"{suffix_copies} and {shared_layers}")
        # copies 1.. of everything after the shared prefix (copy 0 is the supernet's own), initialised identically
        self.suffixes = nn.ModuleList(
            nn.ModuleDict({"cells": copy.deepcopy(self.cells[self.shared_layers:]),
                           "lastact": copy.deepcopy(self.lastact), "classifier": copy.deepcopy(self.classifier)})
            for _ in range(self.suffix_copies - 1))

    def _suffix(self) -> tuple[Sequence[nn.Module], nn.Module, nn.Module]:
        if not 0 <= self.active_copy < self.suffix_copies:
            raise UsageError(f"active_copy must be between 0 and {self.suffix_copies - 1}, got {self.active_copy}")
        if self.active_copy == 0:
            return list(self.cells)[self.shared_layers:], self.lastact, self.classifier
        own = cast(nn.ModuleDict, self.suffixes[self.active_copy - 1])
        return list(cast(nn.ModuleList, own["cells"])), own["lastact"], own["classifier"]

    def expand_state(self, state: dict) -> dict:
        """The state dict of this supernet from that of the same supernet without suffix copies: every copy starts
        from the given suffix (Deeper Insights' prefix sharing warm-started from the one-shot weights)."""
        out = dict(state)
        layers = {f"cells.{j}.": f"cells.{j - self.shared_layers}." for j in range(self.shared_layers, len(self.cells))}
        for i in range(self.suffix_copies - 1):
            for key, value in state.items():
                for old, new in [*layers.items(), ("lastact.", "lastact."), ("classifier.", "classifier.")]:
                    if key.startswith(old):
                        out[f"suffixes.{i}.{new}{key[len(old):]}"] = value.clone()
        return out

    @classmethod
    def mask_layout(cls, ops: Sequence[str] | None = None) -> NB201Layout:
        return NB201Layout(NB201_OPS if ops is None else ops)

    def _forward(self, x, keep, weights):
        feature = self.stem(x) if self.stem is not None else x
        suffix, lastact, classifier = self._suffix()
        for cell in [*list(self.cells)[:self.shared_layers], *suffix]:
            if isinstance(cell, _SearchCell):
                feature = cell(feature, keep[0], self.combine, None if weights is None else weights[0])
            else:
                feature = cell(feature)
        out = self.global_pooling(lastact(feature))
        return classifier(out.flatten(1))


def nb201_supernet(C: int = 16, N: int = 5, num_classes: int = 10, ops: Sequence[str] | None = None,
                   seed: int | None = None, **kwargs) -> NB201Supernet:
    """Build an :class:`NB201Supernet` (deterministic init when ``seed`` is given)."""
    with seeded(seed):
        return NB201Supernet(C, N, num_classes, ops, **kwargs)
