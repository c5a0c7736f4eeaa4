"""DARTS genotypes: the value type, the op names, the known genotypes and the parser (no torch)."""

from __future__ import annotations

import ast
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from zeroscore.errors import InvalidArchError

from ..layout import CellLayout

__all__ = ["Genotype", "PRIMITIVES", "BUILDABLE_OPS", "STEPS", "CELL_LAYOUT", "EDGES", "EDGE_NAMES", "DARTS_V1",
           "DARTS_V2", "DARTS", "NASNet", "AmoebaNet", "GENOTYPES", "parse_genotype"]

# ``module`` names the package users import it from, so pickles and ``Genotype.__module__`` do not depend on which
# file of the package defines it.
Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat", module="zeroscore.spaces.darts")

PRIMITIVES: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
_EXTRA_OPS = ("sep_conv_7x7", "conv_7x1_1x7")
BUILDABLE_OPS: tuple[str, ...] = PRIMITIVES + _EXTRA_OPS
STEPS = 4
#: nodes 0/1 are the cell inputs c_{k-2}/c_{k-1}, nodes 2..5 the intermediate nodes
CELL_LAYOUT = CellLayout(num_inputs=2, steps=STEPS)
#: edge e of a cell = (node, input) with nodes 2..5 and inputs 0..node-1; DARTS / TE-NAS edge order
EDGES: tuple[tuple[int, int], ...] = CELL_LAYOUT.edges
EDGE_NAMES: tuple[str, ...] = CELL_LAYOUT.edge_names


def _g(normal, normal_concat, reduce, reduce_concat) -> Genotype:
    return Genotype(tuple((o, int(j)) for o, j in normal), tuple(int(c) for c in normal_concat),
                    tuple((o, int(j)) for o, j in reduce), tuple(int(c) for c in reduce_concat))


# Genotypes from quark0/darts cnn/genotypes.py (DARTS = DARTS_V2).
DARTS_V1 = _g(
    [("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1), ("skip_connect", 0),
     ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2)], [2, 3, 4, 5],
    [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0), ("max_pool_3x3", 0),
     ("skip_connect", 2), ("skip_connect", 2), ("avg_pool_3x3", 0)], [2, 3, 4, 5])
DARTS_V2 = _g(
    [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 1),
     ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)], [2, 3, 4, 5],
    [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1), ("max_pool_3x3", 0),
     ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)], [2, 3, 4, 5])
DARTS = DARTS_V2
NASNet = _g(
    [("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 0), ("sep_conv_3x3", 0), ("avg_pool_3x3", 1),
     ("skip_connect", 0), ("avg_pool_3x3", 0), ("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("skip_connect", 1)],
    [2, 3, 4, 5, 6],
    [("sep_conv_5x5", 1), ("sep_conv_7x7", 0), ("max_pool_3x3", 1), ("sep_conv_7x7", 0), ("avg_pool_3x3", 1),
     ("sep_conv_5x5", 0), ("skip_connect", 3), ("avg_pool_3x3", 2), ("sep_conv_3x3", 2), ("max_pool_3x3", 1)],
    [4, 5, 6])
AmoebaNet = _g(
    [("avg_pool_3x3", 0), ("max_pool_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 2), ("sep_conv_3x3", 0),
     ("avg_pool_3x3", 3), ("sep_conv_3x3", 1), ("skip_connect", 1), ("skip_connect", 0), ("avg_pool_3x3", 1)],
    [4, 5, 6],
    [("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("max_pool_3x3", 0), ("sep_conv_7x7", 2), ("sep_conv_7x7", 0),
     ("avg_pool_3x3", 1), ("max_pool_3x3", 0), ("max_pool_3x3", 1), ("conv_7x1_1x7", 0), ("sep_conv_3x3", 5)],
    [3, 4, 6])
GENOTYPES: dict[str, Genotype] = {"DARTS_V1": DARTS_V1, "DARTS_V2": DARTS_V2, "DARTS": DARTS, "NASNet": NASNet,
                                  "AmoebaNet": AmoebaNet}


# ====================================================================== genotype parsing
def _eval_node(node: ast.AST, where: str):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        try:
            return tuple(range(*[ast.literal_eval(a) for a in node.args]))
        except (ValueError, TypeError):
            raise InvalidArchError(f"cannot read genotype field {ast.unparse(node)!r} in {where!r}") from None
    if isinstance(node, (ast.List, ast.Tuple)):
        return tuple(_eval_node(e, where) for e in node.elts)
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise InvalidArchError(f"cannot read genotype field {ast.unparse(node)!r} in {where!r}") from None


def _genotype_from_string(s: str):
    try:
        tree = ast.parse(s.strip(), mode="eval").body
    except SyntaxError as e:
        raise InvalidArchError(f"cannot parse genotype string ({e.msg}) in {s!r}") from None
    if not isinstance(tree, ast.Call):
        raise InvalidArchError("a genotype string must look like "
                               "'Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])', "
                               f"got {s!r}")
    fields = list(Genotype._fields)
    values: dict[str, Any] = {}
    for k, a in enumerate(tree.args):
        if k >= len(fields):
            raise InvalidArchError(f"too many positional fields in {s!r}")
        values[fields[k]] = _eval_node(a, s)
    for kw in tree.keywords:
        if kw.arg not in fields:
            raise InvalidArchError(f"unknown genotype field {kw.arg!r} in {s!r}")
        values[kw.arg] = _eval_node(kw.value, s)
    missing = [f for f in fields if f not in values]
    if missing:
        raise InvalidArchError(f"genotype field(s) {missing} missing in {s!r}")
    return values


def parse_genotype(arch: Any, ops: Sequence[str] = BUILDABLE_OPS) -> Genotype:
    """Validate a DARTS genotype (any accepted form) and return it with tuple fields.

    Raises :class:`~zeroscore.errors.InvalidArchError` (a ``ValueError``) naming the bad part, e.g.
    ``unknown op 'conv_9x9' at normal[3] (node 3) in ...``.
    """
    where = str(arch)
    if isinstance(arch, str):
        if arch.strip() in GENOTYPES:
            return GENOTYPES[arch.strip()]
        values = _genotype_from_string(arch)
    elif isinstance(arch, dict):
        values = arch
    elif all(hasattr(arch, f) for f in Genotype._fields):
        values = {f: getattr(arch, f) for f in Genotype._fields}
    else:
        raise InvalidArchError("a DARTS arch must be a Genotype (normal, normal_concat, reduce, reduce_concat) or its "
                               f"string, got {type(arch).__name__}: {arch!r}")
    missing = [f for f in Genotype._fields if f not in values]
    if missing:
        raise InvalidArchError(f"genotype field(s) {missing} missing in {where!r}")
    cells: dict[str, tuple[Any, ...]] = {}
    steps = None
    for kind in ("normal", "reduce"):
        edges = values[kind]
        if not isinstance(edges, (list, tuple)):
            raise InvalidArchError(f"{kind} must be a list of (op, input) pairs in {where!r}")
        if len(edges) == 0 or len(edges) % 2:
            raise InvalidArchError(f"{kind} needs two (op, input) pairs per node, got {len(edges)} entries "
                                   f"in {where!r}")
        out = []
        for k, e in enumerate(edges):
            if not isinstance(e, (list, tuple)) or len(e) != 2:
                raise InvalidArchError(f"{kind}[{k}] must be an (op, input) pair, got {e!r} in {where!r}")
            op, j = e
            node = k // 2 + 2
            if not isinstance(op, str) or op not in ops:
                raise InvalidArchError(f"unknown op {op!r} at {kind}[{k}] (node {node}) in {where!r}; "
                                       f"known ops: {list(ops)}")
            if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < node:
                raise InvalidArchError(f"invalid input {j!r} at {kind}[{k}]: node {node} takes inputs "
                                       f"0..{node - 1} in {where!r}")
            out.append((op, int(j)))
        if steps is None:
            steps = len(out) // 2
        cells[kind] = tuple(out)
        concat = values[kind + "_concat"]
        try:
            concat = tuple(concat)
        except TypeError:
            raise InvalidArchError(f"{kind}_concat must be a list of node indices in {where!r}") from None
        n_nodes = len(out) // 2 + 2
        if not concat:
            raise InvalidArchError(f"{kind}_concat is empty in {where!r}")
        for c in concat:
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < n_nodes:
                raise InvalidArchError(f"invalid node {c!r} in {kind}_concat (nodes 0..{n_nodes - 1}) in {where!r}")
        cells[kind + "_concat"] = tuple(int(c) for c in concat)
    return Genotype(cells["normal"], cells["normal_concat"], cells["reduce"], cells["reduce_concat"])

