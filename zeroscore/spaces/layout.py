"""The graph of a NAS cell: which edge joins which two nodes, in the one order every part of the package uses.

NAS-Bench-201 and DARTS cells are the same kind of graph: ``num_inputs`` input nodes, then ``steps`` intermediate
nodes, each fed by one edge from every earlier node. Edges are numbered node by node, and within a node by input:

* NB201 (1 input, 3 steps): ``0: 1<-0, 1: 2<-0, 2: 2<-1, 3: 3<-0, 4: 3<-1, 5: 3<-2`` -- the order of the official
  cell string and the ``edge2index`` order of the NAS-Bench-201 / TE-NAS search cells;
* DARTS (2 inputs, 4 steps): ``0: 2<-0, 1: 2<-1, 2: 3<-0, ..., 13: 5<-4`` -- the row order of DARTS' ``alphas``
  (``model_search.Network``) and TE-NAS's ``edge2index``.

Arch parsers, networks, supernets and the pruning search all read edge numbers from a :class:`CellLayout`, so the
layout is written down once.
"""

from __future__ import annotations

from zeroscore.errors import UsageError

__all__ = ["CellLayout"]


class CellLayout:
    """The edges of a cell with ``num_inputs`` input nodes and ``steps`` fully connected intermediate nodes.

    ``edges[e] = (node, input)``, ``edge_names[e] = "node<-input"``; :meth:`edges_into` lists the edges that enter
    an intermediate node (in input order).
    """

    def __init__(self, num_inputs: int, steps: int):
        if int(num_inputs) < 1 or int(steps) < 1:
            raise UsageError(f"a cell needs at least one input and one step, got {num_inputs} and {steps}")
        self.num_inputs, self.steps = int(num_inputs), int(steps)
        self.edges: tuple[tuple[int, int], ...] = tuple((n, j) for n in self.intermediate_nodes for j in range(n))
        self.edge_names: tuple[str, ...] = tuple(f"{n}<-{j}" for n, j in self.edges)
        self._index: dict[tuple[int, int], int] = {e: k for k, e in enumerate(self.edges)}

    @property
    def num_nodes(self) -> int:
        return self.num_inputs + self.steps

    @property
    def num_edges(self) -> int:
        return len(self.edges)

    @property
    def intermediate_nodes(self) -> range:
        """The nodes computed by the cell (the output node of NB201 included: node 3)."""
        return range(self.num_inputs, self.num_inputs + self.steps)

    def edge_index(self, node: int, source: int) -> int:
        """Number of the edge ``node <- source``."""
        try:
            return self._index[(int(node), int(source))]
        except KeyError:
            raise UsageError(f"no edge {node}<-{source} in a cell with nodes 0..{self.num_nodes - 1} "
                             f"({self.num_inputs} input node(s))") from None

    def edges_into(self, node: int) -> tuple[int, ...]:
        """Numbers of the edges entering intermediate node ``node``, in input order."""
        if int(node) not in self.intermediate_nodes:
            raise UsageError(f"node {node} is not an intermediate node (nodes {self.num_inputs}.."
                             f"{self.num_nodes - 1})")
        return tuple(self._index[(int(node), j)] for j in range(int(node)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CellLayout) and (self.num_inputs, self.steps) == (other.num_inputs, other.steps)

    def __hash__(self) -> int:
        return hash((self.num_inputs, self.steps))

    def __repr__(self) -> str:
        return f"CellLayout(num_inputs={self.num_inputs}, steps={self.steps})"
