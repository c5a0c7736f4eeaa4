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

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from zeroscore.spaces.supernet import DartsLayout, SupernetLayout

__all__ = ["Unit", "decision_units", "sample_unit", "random_path", "path_from_weights", "proximal_point",
           "path_arch", "path_key"]

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
