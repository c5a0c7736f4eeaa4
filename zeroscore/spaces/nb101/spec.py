"""NAS-Bench-101 specs (no torch): parsing and validation, official pruning, the official hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from zeroscore.errors import InvalidArchError

__all__ = ["NB101_OPS", "INPUT", "OUTPUT", "CONV3X3", "CONV1X1", "MAXPOOL3X3", "MAX_VERTICES", "MAX_EDGES",
           "prune", "parse_spec", "format_spec", "nb101_hash"]

INPUT = "input"
OUTPUT = "output"
CONV3X3 = "conv3x3-bn-relu"
CONV1X1 = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"
#: the dataset's ``available_ops`` in canonical order (hash labels 0, 1, 2)
NB101_OPS: tuple[str, ...] = (CONV3X3, CONV1X1, MAXPOOL3X3)
MAX_VERTICES = 7
MAX_EDGES = 9
_NASLIB_OPS = (INPUT, OUTPUT, MAXPOOL3X3, CONV1X1, CONV3X3)

Spec = tuple[tuple[tuple[int, ...], ...], tuple[str, ...]]


# ====================================================================== spec handling
def format_spec(matrix: Sequence[Sequence[int]] | np.ndarray, ops: Sequence[str]) -> str:
    m = [[int(v) for v in row] for row in matrix]
    return json.dumps({"matrix": m, "ops": list(ops)}, separators=(",", ":"))


def _to_matrix_ops(arch: Any) -> tuple[Any, Any]:
    if isinstance(arch, str):
        try:
            obj = json.loads(arch)
        except json.JSONDecodeError as e:
            raise InvalidArchError("an NB101 arch string must be JSON like "
                                   f"'{{\"matrix\": [[...]], \"ops\": [...]}}': {e} in {arch!r}") from None
        return _to_matrix_ops(obj)
    if isinstance(arch, dict):
        for mk, ok in (("matrix", "ops"), ("adjacency", "ops"), ("matrix", "operations"), ("adjacency", "operations"),
                       ("module_adjacency", "module_operations")):
            if mk in arch and ok in arch:
                return arch[mk], arch[ok]
        raise InvalidArchError(f"an NB101 arch dict needs 'matrix' and 'ops' keys, got keys {sorted(arch)}")
    if hasattr(arch, "original_matrix") and hasattr(arch, "original_ops"):
        return arch.original_matrix, arch.original_ops
    if hasattr(arch, "matrix") and hasattr(arch, "ops") and not isinstance(arch, (list, tuple)):
        return arch.matrix, arch.ops
    if isinstance(arch, (list, tuple)):
        if len(arch) == 2:
            return arch[0], arch[1]
        if len(arch) == MAX_VERTICES * MAX_VERTICES + MAX_VERTICES and all(isinstance(v, (int, np.integer))
                                                                           for v in arch):
            flat = [int(v) for v in arch]
            matrix = [flat[r * MAX_VERTICES:(r + 1) * MAX_VERTICES] for r in range(MAX_VERTICES)]
            codes = flat[MAX_VERTICES * MAX_VERTICES:]
            ops = []
            for k, c in enumerate(codes):
                if not 0 <= c < len(_NASLIB_OPS):
                    raise InvalidArchError(f"unknown NASLib op code {c} at vertex {k} in {tuple(arch)!r}")
                ops.append(_NASLIB_OPS[c])
            return matrix, ops
        raise InvalidArchError("an NB101 arch sequence must be (matrix, ops) or NASLib's 56-integer tuple, "
                               f"got length {len(arch)}")
    raise InvalidArchError(f"cannot read an NB101 spec from {type(arch).__name__}: {arch!r}")


def _validate_raw(matrix: Any, ops: Any, where: str) -> tuple[np.ndarray, list[str]]:
    try:
        m = np.array(matrix)
    except Exception:  # pragma: no cover - numpy rarely fails here
        raise InvalidArchError(f"matrix is not an array in {where}") from None
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise InvalidArchError(f"matrix must be square, got shape {m.shape} in {where}")
    V = m.shape[0]
    if not isinstance(ops, (list, tuple)) or len(ops) != V:
        raise InvalidArchError(f"ops must be a list of {V} labels (one per matrix row), got {ops!r} in {where}")
    if V < 2:
        raise InvalidArchError(f"a spec needs at least the input and output vertices, got {V} vertices in {where}")
    if V > MAX_VERTICES:
        raise InvalidArchError(f"too many vertices ({V} > {MAX_VERTICES}) in {where}")
    if m.dtype == bool:
        m = m.astype(np.int64)
    if not np.issubdtype(m.dtype, np.integer) and not np.all(np.isin(m, [0, 1])):
        raise InvalidArchError(f"matrix entries must be 0/1 in {where}")
    bad = np.argwhere(~np.isin(m, [0, 1]))
    if len(bad):
        r, c = bad[0]
        raise InvalidArchError(f"matrix entry [{r}][{c}]={m[r, c]!r} is not 0/1 in {where}")
    m = m.astype(np.int64)
    lower = np.argwhere(np.tril(m) != 0)
    if len(lower):
        r, c = lower[0]
        raise InvalidArchError(f"matrix must be upper triangular: entry [{r}][{c}]=1 (edge {r}->{c}) in {where}")
    ops = list(ops)
    if ops[0] != INPUT:
        raise InvalidArchError(f"vertex 0 must be {INPUT!r}, got {ops[0]!r} in {where}")
    if ops[-1] != OUTPUT:
        raise InvalidArchError(f"vertex {V - 1} (last) must be {OUTPUT!r}, got {ops[-1]!r} in {where}")
    for k in range(1, V - 1):
        if ops[k] not in NB101_OPS:
            raise InvalidArchError(f"unknown op {ops[k]!r} at vertex {k} in {where}; known ops: {list(NB101_OPS)}")
    return m, ops


def prune(matrix: Any, ops: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Official ``ModelSpec._prune``: drop vertices not on an input->output path (order kept).

    Raises :class:`~zeroscore.errors.InvalidArchError` when the input is not connected to the output.
    """
    m = np.array(matrix, dtype=np.int64)
    V = m.shape[0]
    from_input = {0}
    frontier = [0]
    while frontier:
        top = frontier.pop()
        for v in range(top + 1, V):
            if m[top, v] and v not in from_input:
                from_input.add(v)
                frontier.append(v)
    to_output = {V - 1}
    frontier = [V - 1]
    while frontier:
        top = frontier.pop()
        for v in range(0, top):
            if m[v, top] and v not in to_output:
                to_output.add(v)
                frontier.append(v)
    keep = sorted(from_input & to_output)
    if 0 not in keep or (V - 1) not in keep:
        raise InvalidArchError("the input vertex is not connected to the output vertex (no input->output path)")
    m = m[np.ix_(keep, keep)]
    return m, [ops[k] for k in keep]


def parse_spec(arch: Any) -> tuple[np.ndarray, list[str]]:
    """Validate, prune and check an NB101 spec; returns ``(matrix, ops)`` of the pruned spec."""
    where = arch if isinstance(arch, str) else repr(arch)
    if len(where) > 300:
        where = where[:300] + "..."
    matrix, ops = _to_matrix_ops(arch)
    m, ops = _validate_raw(matrix, ops, where)
    try:
        m, ops = prune(m, ops)
    except ValueError as e:
        raise InvalidArchError(f"{e} in {where}") from None
    n_edges = int(m.sum())
    if n_edges > MAX_EDGES:
        raise InvalidArchError(f"too many edges after pruning ({n_edges} > {MAX_EDGES}) in {where}")
    return m, ops


def nb101_hash(matrix: Any, ops: Sequence[str]) -> str:
    """Official NAS-Bench-101 hash of a *pruned* spec (``ModelSpec.hash_spec(available_ops)``)."""
    m = np.array(matrix, dtype=np.int64)
    labeling = [-1] + [NB101_OPS.index(op) for op in ops[1:-1]] + [-2]
    V = m.shape[0]
    in_edges = [int(v) for v in m.sum(axis=0)]
    out_edges = [int(v) for v in m.sum(axis=1)]
    hashes = [hashlib.md5(str(h).encode("utf-8")).hexdigest() for h in zip(out_edges, in_edges, labeling)]
    for _ in range(V):
        new_hashes = []
        for v in range(V):
            in_n = [hashes[w] for w in range(V) if m[w, v]]
            out_n = [hashes[w] for w in range(V) if m[v, w]]
            new_hashes.append(hashlib.md5(("".join(sorted(in_n)) + "|" + "".join(sorted(out_n)) + "|"
                                           + hashes[v]).encode("utf-8")).hexdigest())
        hashes = new_hashes
    return hashlib.md5(str(sorted(hashes)).encode("utf-8")).hexdigest()

