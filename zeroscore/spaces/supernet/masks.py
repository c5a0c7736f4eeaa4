"""What the op masks of a supernet mean, without the network: :class:`SupernetLayout`.

A supernet keeps one boolean mask per cell type, of shape ``(num_edges, num_ops)``: row ``e`` is edge
``edge_names[e]`` of the :class:`~zeroscore.spaces.layout.CellLayout`, column ``o`` is candidate op ``op_names[o]``.
Per-edge op weights (DARTS' ``softmax(alpha)``, GDAS's Gumbel samples) have the same shape. A layout reads and checks
these arrays and turns masks into an architecture and back; it holds no weights, so a search can use it without
building a network (the pruning search does).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import torch

from zeroscore.errors import InvalidArchError

from ..layout import CellLayout

__all__ = ["SupernetLayout", "name_index"]


def name_index(value: Any, names: Sequence[str], what: str) -> int:
    """Index of ``value`` (a name or an integer index) in ``names``; :class:`InvalidArchError` otherwise."""
    names = list(names)
    if isinstance(value, str):
        if value not in names:
            raise InvalidArchError(f"unknown {what} {value!r}; {what}s: {names}")
        return names.index(value)
    if not 0 <= int(value) < len(names):
        raise InvalidArchError(f"{what} index {value!r} out of range [0, {len(names)})")
    return int(value)


def _is_list_of_arrays(values: Any) -> bool:
    """A list whose items are 2-D (masks per cell type), rather than the rows of one 2-D array."""
    if not isinstance(values, (list, tuple)) or not values:
        return False
    first = values[0]
    if hasattr(first, "ndim"):
        return first.ndim == 2
    return isinstance(first, (list, tuple)) and bool(first) and isinstance(first[0], (list, tuple))


class SupernetLayout(abc.ABC):
    """Cell types x edges x candidate ops of a supernet, and the conversions between masks and architectures.

    Subclasses set :attr:`cell_types` and implement :meth:`to_arch`, :meth:`single_path_arch` and
    :meth:`single_path_masks` for their space's architecture value.
    """

    #: names of the cell types, in mask order (all cells of a type share one mask)
    cell_types: tuple[str, ...] = ()
    #: further accepted names of cell types -> index
    cell_type_aliases: dict[str, int] = {}

    def __init__(self, cell: CellLayout, op_names: Sequence[str], known_ops: Sequence[str], space: str):
        self.cell = cell
        self.op_names: tuple[str, ...] = tuple(op_names)
        if not self.op_names:
            raise InvalidArchError(f"a {space} supernet needs at least one candidate op; known ops: {list(known_ops)}")
        for o in self.op_names:
            if o not in known_ops:
                raise InvalidArchError(f"unknown {space} op {o!r} in ops; known ops: {list(known_ops)}")
        if len(set(self.op_names)) != len(self.op_names):
            raise InvalidArchError(f"ops lists an op twice: {list(self.op_names)}")

    # ------------------------------------------------------------------ layout
    @property
    def edge_names(self) -> tuple[str, ...]:
        return self.cell.edge_names

    @property
    def num_edges(self) -> int:
        return self.cell.num_edges

    @property
    def num_ops(self) -> int:
        return len(self.op_names)

    @property
    def mask_shape(self) -> tuple[int, int]:
        return (self.num_edges, self.num_ops)

    @property
    def intermediate_nodes(self) -> range:
        return self.cell.intermediate_nodes

    def edges_into(self, node: int) -> tuple[int, ...]:
        """Rows (edge numbers) of the edges entering intermediate node ``node``, in input order."""
        return self.cell.edges_into(node)

    def cell_type_index(self, cell_type: Any) -> int:
        """Index of a cell type given by index, name or alias."""
        if isinstance(cell_type, str):
            key = cell_type.strip().lower()
            if key in self.cell_types:
                return self.cell_types.index(key)
            if key in self.cell_type_aliases:
                return self.cell_type_aliases[key]
        elif isinstance(cell_type, int) and 0 <= cell_type < len(self.cell_types):
            return int(cell_type)
        known = " or ".join(f"{k}/{n!r}" for k, n in enumerate(self.cell_types))
        raise InvalidArchError(f"unknown cell type {cell_type!r}; cell types: {known}")

    def edge_index(self, edge: Any) -> int:
        """Row of an edge given by number or name (``"2<-1"``)."""
        return name_index(edge, self.edge_names, "edge")

    def op_index(self, op: Any) -> int:
        """Column of a candidate op given by number or name."""
        return name_index(op, self.op_names, "op")

    # ------------------------------------------------------------------ mask arrays
    def full_masks(self) -> list[torch.Tensor]:
        """Masks that keep every candidate op on every edge."""
        return [torch.ones(self.mask_shape, dtype=torch.bool) for _ in self.cell_types]

    def per_cell_type(self, values: Any, what: str = "mask") -> list[torch.Tensor]:
        """One ``(num_edges, num_ops)`` tensor per cell type from any accepted form.

        Forms: a list with one array per cell type; a dict ``{cell type: array}``; with a single cell type, the
        array itself. ``what="mask"`` gives bool tensors (copies); ``what="weights"`` keeps floating tensors as
        they are (so gradients flow) and makes tensors of anything else.
        """
        if isinstance(values, dict):
            by_index = {self.cell_type_index(k): v for k, v in values.items()}
            missing = [n for k, n in enumerate(self.cell_types) if k not in by_index]
            if missing:
                raise InvalidArchError(f"{what} for cell type(s) {missing} missing; "
                                       f"cell types: {list(self.cell_types)}")
            values = [by_index[k] for k in range(len(self.cell_types))]
        elif len(self.cell_types) == 1 and not _is_list_of_arrays(values):
            values = [values]  # the array itself (a tensor, or nested lists with one row per edge)
        if len(values) != len(self.cell_types):
            names = ", ".join(self.cell_types)
            raise InvalidArchError(f"expected {len(self.cell_types)} {what} array(s), one per cell type [{names}], "
                                   f"got {len(values)}")
        out = []
        for name, v in zip(self.cell_types, values):
            try:
                if what == "mask":
                    t = torch.as_tensor(v, dtype=torch.bool)
                else:
                    t = v if isinstance(v, torch.Tensor) else torch.as_tensor(v, dtype=torch.get_default_dtype())
            except (TypeError, ValueError, RuntimeError) as e:
                raise InvalidArchError(f"{what} of cell type {name!r} is not an (edges x ops) array: {e}") from None
            if what != "mask" and not t.is_floating_point():
                raise InvalidArchError(f"{what} of cell type {name!r} must be floating point, got {t.dtype}")
            if tuple(t.shape) != self.mask_shape:
                raise InvalidArchError(f"{what} shape {tuple(t.shape)} != {self.mask_shape} (edges x ops) "
                                       f"for cell type {name!r}")
            out.append(t)
        return out

    def kept_ops(self, masks: Any) -> list[list[list[str]]]:
        """Per cell type, per edge, the names of the kept ops."""
        return [[[o for o, k in zip(self.op_names, row) if k] for row in m.tolist()]
                for m in self.per_cell_type(masks)]

    # ------------------------------------------------------------------ architectures
    @abc.abstractmethod
    def to_arch(self, masks: Any) -> Any:
        """The architecture the masks select, leniently: on every edge the first kept op (in ``op_names`` order);
        what an edge with no kept op becomes depends on the space (NB201: ``none``; DARTS: no edge)."""

    @abc.abstractmethod
    def single_path_arch(self, masks: Any) -> Any:
        """The architecture of masks that are exactly one path; :class:`InvalidArchError` naming the edges or
        nodes that are not."""

    @abc.abstractmethod
    def single_path_masks(self, arch: Any) -> list[torch.Tensor]:
        """Masks that keep exactly the ops of ``arch`` (which may only use ``op_names``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.cell!r}, ops={list(self.op_names)})"
