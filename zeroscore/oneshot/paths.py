"""Single paths of a supernet as op masks: random paths, paths from architecture weights, NASP's proximal point.

A path is one bool ``(num_edges, num_ops)`` array per cell type (the supernet's mask form). What a valid path is
depends on the space:

* NB201 (one cell type): every edge keeps exactly one op, ``none`` included (a cell string).
* DARTS (normal and reduce cells): every intermediate node keeps exactly two input edges with one op other than
  ``none`` each (a genotype); the other edges keep nothing.

The *decision units* are what a path chooses independently: an NB201 edge, or a DARTS node (its two inputs and
their ops). Random paths, SPOS's mutation and crossover work unit by unit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from zeroscore.errors import UsageError
from zeroscore.spaces.supernet import DartsLayout, SupernetLayout

__all__ = ["Unit", "decision_units", "sample_unit", "random_path", "path_from_weights", "proximal_point",
           "path_arch", "path_key", "PathSampler"]

#: a decision unit: (cell type index, mask rows it decides)
Unit = tuple[int, tuple[int, ...]]
Path = list[np.ndarray]


def _is_darts(layout: SupernetLayout) -> bool:
    return isinstance(layout, DartsLayout)


def _real_ops(layout: SupernetLayout) -> list[int]:
    """Columns of the ops a DARTS edge may keep (every op but ``none``; the absence of an edge is its ``none``)."""
    return [o for o, name in enumerate(layout.op_names) if name != "none"]


def decision_units(layout: SupernetLayout) -> list[Unit]:
    """Every decision unit of a path, in cell type / edge (NB201) or node (DARTS) order."""
    if _is_darts(layout):
        return [(t, layout.edges_into(node)) for t in range(len(layout.cell_types))
                for node in layout.intermediate_nodes]
    return [(t, (e,)) for t in range(len(layout.cell_types)) for e in range(layout.num_edges)]


def empty_path(layout: SupernetLayout) -> Path:
    return [np.zeros(layout.mask_shape, dtype=bool) for _ in layout.cell_types]


def sample_unit(layout: SupernetLayout, path: Path, unit: Unit, rng: np.random.Generator) -> None:
    """Redraw one unit of ``path`` uniformly: an NB201 edge's op, or a DARTS node's two inputs and their ops."""
    cell_type, rows = unit
    mask = path[cell_type]
    mask[list(rows)] = False
    if not _is_darts(layout):
        mask[rows[0], int(rng.integers(layout.num_ops))] = True
        return
    ops = _real_ops(layout)
    for row in rng.choice(len(rows), size=min(2, len(rows)), replace=False):
        mask[rows[int(row)], ops[int(rng.integers(len(ops)))]] = True


def random_path(layout: SupernetLayout, rng: np.random.Generator) -> Path:
    """A uniformly random path (RSPS / SPOS sampling; NB201's ``random_genotype``: one op per edge, shared by all
    cells of a type)."""
    path = empty_path(layout)
    for unit in decision_units(layout):
        sample_unit(layout, path, unit, rng)
    return path


def path_from_weights(layout: SupernetLayout, weights: Sequence[torch.Tensor]) -> Path:
    """The discrete path of architecture weights (ties go to the first op / edge).

    NB201: every edge's argmax, ``none`` included (the ``genotype()`` of NB201's DARTS / GDAS search models).
    DARTS: per node the two edges with the strongest op other than ``none``, each with that op (DARTS'
    ``genotype()`` parse)."""
    path = empty_path(layout)
    for t, w in enumerate(weights):
        values = w.detach().cpu().double().numpy()
        if not _is_darts(layout):
            path[t][np.arange(layout.num_edges), values.argmax(axis=1)] = True
            continue
        ops = _real_ops(layout)
        for node in layout.intermediate_nodes:
            rows = list(layout.edges_into(node))
            strength = [values[r, ops].max() for r in rows]
            for k in sorted(range(len(rows)), key=lambda k: -strength[k])[:2]:
                path[t][rows[k], ops[int(values[rows[k], ops].argmax())]] = True
    return path


def proximal_point(layout: SupernetLayout, alphas: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """NASP's proximal step (``binarization`` in the authors' ``model_search.py``): each edge one-hot at its
    largest alpha; on DARTS cells only the two edges per node with the largest selected alpha stay (the others are
    all zero), and ``none`` is never selected (NASP's DARTS op set has no ``none``). Float tensors on the alphas'
    device; ties go to the first op / edge."""
    path = path_from_weights(layout, alphas)
    return [torch.as_tensor(m, dtype=a.dtype, device=a.device) for m, a in zip(path, alphas)]


def path_arch(layout: SupernetLayout, path: Path) -> Any:
    """The architecture of a path (NB201 cell string, DARTS ``Genotype``)."""
    return layout.single_path_arch([torch.as_tensor(m) for m in path])


def path_key(path: Path) -> bytes:
    """A hashable key of a path."""
    return b"".join(np.packbits(m).tobytes() for m in path)


def _every_nb201_cell(layout: SupernetLayout) -> list[str]:
    from zeroscore.spaces.nb201.arch import format_arch

    return [format_arch(ops) for ops in itertools.product(layout.op_names, repeat=layout.num_edges)]


class PathSampler:
    """Uniform random paths of a whole space or of a part of it -- the reduced weight sharing of a sub-supernet.

    * ``allowed`` ``{edge name: [op names]}`` (NB201): each named edge draws only from its listed ops, the others
      from every op. One op on one edge is a Few-shot NAS sub-supernet (Zhao et al., ICML 2021); a few ops on every
      edge is a supernet shrunk before training (the training-free priors).
    * ``group`` ``(m, g)`` (NB201): the ``g``-th of ``m`` similarity groups of all 15,625 cells
      (:func:`zeroscore.oneshot.trust.similarity_groups`, Deeper Insights' grouping by shared op-string prefixes);
      paths are drawn uniformly from the group's cells.
    * ``joint_groups`` ``m`` (NB201): paths from the whole space, each with the index of its similarity group
      (:meth:`draw`): prefix sharing, where the groups share the first layers and own the rest (the supernet's
      ``suffix_copies``).

    Without any, :func:`random_path`. Bad edges, ops or groups are a :class:`UsageError`.
    """

    def __init__(self, layout: SupernetLayout, allowed: dict | None = None, group: Sequence[int] | None = None,
                 joint_groups: int | None = None):
        self.layout = layout
        self.allowed_columns: list[list[int]] | None = None
        self.cells: list[str] | None = None
        self.group_index: dict[str, int] | None = None
        if (allowed or group is not None or joint_groups) and _is_darts(layout):
            raise UsageError("restricted sampling (allowed ops, similarity groups) is for NB201 supernets only")
        if joint_groups and (allowed or group is not None):
            raise UsageError("joint groups (prefix sharing) sample the whole space; give no allowed ops or group")
        if joint_groups:
            from .trust import similarity_groups

            groups = similarity_groups(_every_nb201_cell(layout), int(joint_groups), layout.op_names)
            self.group_index = {a: g for g, members in groups.items() for a in members}
        if allowed and group is not None:
            raise UsageError("give either allowed ops or a similarity group, not both")
        if allowed:
            unknown = sorted(set(allowed) - set(layout.edge_names))
            if unknown:
                raise UsageError(f"unknown edge(s) {unknown} in allowed; edges: {list(layout.edge_names)}")
            columns = []
            for edge in layout.edge_names:
                ops = list(allowed.get(edge, layout.op_names))
                bad = [o for o in ops if o not in layout.op_names]
                if bad or not ops:
                    raise UsageError(f"edge {edge}: allowed ops must be a non-empty list of {list(layout.op_names)}, "
                                     f"got {ops}")
                columns.append(sorted({layout.op_names.index(o) for o in ops}))
            self.allowed_columns = columns
        if group is not None:
            from .trust import similarity_groups

            m, g = (int(v) for v in group)
            if not 0 <= g < m:
                raise UsageError(f"group must be (m, g) with 0 <= g < m, got {tuple(group)}")
            self.cells = similarity_groups(_every_nb201_cell(layout), m, layout.op_names)[g]
            self._cell_set = set(self.cells)

    @property
    def restricted(self) -> bool:
        return self.allowed_columns is not None or self.cells is not None

    def contains(self, arch: Any) -> bool:
        """Whether ``arch`` (an NB201 cell string) is a path this sampler can draw."""
        if self.cells is not None:
            return str(arch) in self._cell_set
        if self.allowed_columns is None:
            return True
        masks = self.layout.single_path_masks(arch)[0]
        return all(bool(masks[e, cols].any()) for e, cols in enumerate(self.allowed_columns))

    def draw(self, rng: np.random.Generator) -> tuple[Path, int]:
        """A path and the index of its joint group (0 without ``joint_groups``)."""
        path = self(rng)
        if self.group_index is None:
            return path, 0
        return path, self.group_index[str(path_arch(self.layout, path))]

    def __call__(self, rng: np.random.Generator) -> Path:
        if self.cells is not None:
            arch = self.cells[int(rng.integers(len(self.cells)))]
            return [m.numpy() for m in self.layout.single_path_masks(arch)]
        if self.allowed_columns is None:
            return random_path(self.layout, rng)
        path = empty_path(self.layout)
        for e, cols in enumerate(self.allowed_columns):
            path[0][e, cols[int(rng.integers(len(cols)))]] = True
        return path
