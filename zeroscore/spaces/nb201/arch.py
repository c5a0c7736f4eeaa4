"""NB201 cell strings, dead ops and isomorphism (no torch): see :mod:`zeroscore.spaces.nb201` for the rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zeroscore.errors import InvalidArchError, UsageError

from ..layout import CellLayout

__all__ = ["NB201_OPS", "CELL_LAYOUT", "EDGES", "EDGE_NAMES", "NUM_NODES", "format_arch", "parse_arch",
           "unreachable_ops", "is_degenerate", "isomorphism_key"]

NB201_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: node 0 is the cell input, nodes 1..3 are computed, node 3 is the cell output
CELL_LAYOUT = CellLayout(num_inputs=1, steps=3)
#: (to_node, from_node) for the six edges, in edge-index order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2
EDGES: tuple[tuple[int, int], ...] = CELL_LAYOUT.edges
EDGE_NAMES: tuple[str, ...] = CELL_LAYOUT.edge_names
_EDGE_INDEX: dict[tuple[int, int], int] = {e: k for k, e in enumerate(EDGES)}
NUM_NODES = CELL_LAYOUT.num_nodes


# ====================================================================== arch strings
def format_arch(ops: Sequence[str]) -> str:
    """Official string of the 6 ops given in edge order."""
    o = list(ops)
    return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*o)


def parse_arch(arch: Any, op_names: Sequence[str] = NB201_OPS) -> tuple[str, ...]:
    """Validate an NB201 arch (string or 6 op names) and return the 6 ops in edge order.

    Raises :class:`~zeroscore.errors.InvalidArchError` (a ``ValueError``) naming the bad part, e.g.
    ``unknown op 'conv_9x9' on edge 2<-1 in '|...|'``.
    """
    if isinstance(arch, (list, tuple)):
        if len(arch) != len(EDGES):
            raise InvalidArchError(f"an NB201 op sequence needs {len(EDGES)} ops (one per edge), "
                                   f"got {len(arch)}: {arch!r}")
        ops = tuple(arch)
        for k, op in enumerate(ops):
            if not isinstance(op, str) or op not in op_names:
                raise InvalidArchError(f"unknown op {op!r} on edge {EDGE_NAMES[k]} in {arch!r}; "
                                       f"known ops: {list(op_names)}")
        return ops
    if not isinstance(arch, str):
        raise InvalidArchError(f"an NB201 arch must be the official cell string, got {type(arch).__name__}: {arch!r}")
    s = arch.strip()
    groups = s.split("+")
    if len(groups) != NUM_NODES - 1:
        raise InvalidArchError(f"an NB201 cell string has {NUM_NODES - 1} '+'-separated node groups, "
                               f"got {len(groups)} in {arch!r}")
    edge_ops: dict[tuple[int, int], str] = {}
    for i, group in enumerate(groups, start=1):
        g = group.strip()
        if not (g.startswith("|") and g.endswith("|")) or len(g) < 2:
            raise InvalidArchError(f"node {i} group {group!r} must look like '|op~j|...|' in {arch!r}")
        items = [t for t in g[1:-1].split("|")]
        if any(t == "" for t in items):
            raise InvalidArchError(f"empty edge entry in node {i} group {group!r} in {arch!r}")
        for item in items:
            if item.count("~") != 1:
                raise InvalidArchError(f"edge entry {item!r} of node {i} must be 'op~j' in {arch!r}")
            op, src = item.split("~")
            try:
                j = int(src)
            except ValueError:
                raise InvalidArchError(f"edge entry {item!r} of node {i} has a non-integer source {src!r} "
                                       f"in {arch!r}") from None
            if not 0 <= j < i:
                raise InvalidArchError(f"edge entry {item!r}: node {i} can only take inputs from nodes "
                                       f"0..{i - 1} in {arch!r}")
            if (i, j) in edge_ops:
                raise InvalidArchError(f"duplicate edge {i}<-{j} in {arch!r}")
            if op not in op_names:
                raise InvalidArchError(f"unknown op {op!r} on edge {i}<-{j} in {arch!r}; known ops: {list(op_names)}")
            edge_ops[(i, j)] = op
        missing = [j for j in range(i) if (i, j) not in edge_ops]
        if missing:
            raise InvalidArchError(f"node {i} is missing the edge(s) from node(s) {missing} in {arch!r} "
                                   "(use 'none~j' for no connection)")
    return tuple(edge_ops[e] for e in EDGES)


# ====================================================================== dead ops / isomorphism
def _reachability(ops: Sequence[str]):
    live = {(i, j) for (i, j), op in zip(EDGES, ops) if op != "none"}
    fwd = {0}
    for i in range(1, NUM_NODES):
        if any((i, j) in live and j in fwd for j in range(i)):
            fwd.add(i)
    bwd = {NUM_NODES - 1}
    for j in range(NUM_NODES - 2, -1, -1):
        if any((i, j) in live and i in bwd for i in range(j + 1, NUM_NODES)):
            bwd.add(j)
    return live, fwd, bwd


def unreachable_ops(arch: Any) -> list[tuple[str, str]]:
    """Non-``none`` ops that cannot influence the cell output: ``[(edge_name, op), ...]`` in edge order.

    An op on edge j->i is unreachable when node j cannot be reached from the input, or node i cannot
    reach the output, through non-``none`` edges.
    """
    ops = parse_arch(arch)
    live, fwd, bwd = _reachability(ops)
    return [
        (EDGE_NAMES[k], op)
        for k, ((i, j), op) in enumerate(zip(EDGES, ops))
        if (i, j) in live and not (j in fwd and i in bwd)
    ]


def is_degenerate(arch: Any) -> bool:
    """True when no path of non-``none`` edges joins the cell input to its output (output is always 0)."""
    _, fwd, _ = _reachability(parse_arch(arch))
    return (NUM_NODES - 1) not in fwd


def isomorphism_key(arch: Any, rule: str = "functional") -> str:
    """Key shared by cells that compute the same function (see the module docstring for the rules).

    ``rule="functional"`` (default): symbolic expression of the output with dead ops removed, skip
    connections flattened and parallel branches sorted; ``"0"`` for degenerate cells.
    ``rule="nb201"``: NAS-Bench-201's ``to_unique_str(consider_zero=True)``.
    """
    ops = parse_arch(arch)
    if rule == "functional":
        nodes: list[list[str]] = [["x"]]
        for i in range(1, NUM_NODES):
            terms: list[str] = []
            for j in range(i):
                op = ops[_EDGE_INDEX[(i, j)]]
                src = nodes[j]
                if op == "none" or not src:
                    continue
                if op == "skip_connect":
                    terms.extend(src)
                else:
                    terms.append(f"{op}({'+'.join(src)})")
            nodes.append(sorted(terms))
        return "+".join(nodes[-1]) if nodes[-1] else "0"
    if rule == "nb201":
        strs = {0: "0"}
        for i in range(1, NUM_NODES):
            cur = []
            for j in range(i):
                op = ops[_EDGE_INDEX[(i, j)]]
                if op == "none" or strs[j] == "#":
                    cur.append("#")
                elif op == "skip_connect":
                    cur.append(strs[j])
                else:
                    cur.append("(" + strs[j] + ")" + "@" + op)
            strs[i] = "+".join(sorted(cur))
        return strs[NUM_NODES - 1]
    raise UsageError(f"unknown isomorphism rule {rule!r}; use 'functional' or 'nb201'")
