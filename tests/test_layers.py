"""The layer order of the package, read from the source (every import, top-level or inside a function):

errors / names / settings  <  _nn / _modes / data / spaces / models  <  probe / passes  <  indicators
<  scorer / ranking / testing  <  store / runner / truth  <  analysis  <  plots  <  search  <  cli

A module may import from its own layer and the layers below, never above; ``zeroscore.search`` never imports
``zeroscore.truth`` (a search must not see ground truth). Modules stay small.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "zeroscore"

LAYERS = [
    ["zeroscore._version", "zeroscore.errors", "zeroscore.names", "zeroscore.settings", "zeroscore.machine"],
    ["zeroscore._nn", "zeroscore._modes", "zeroscore._copies", "zeroscore._cpu_routes", "zeroscore.data",
     "zeroscore.spaces", "zeroscore.models"],
    ["zeroscore.probe", "zeroscore.passes"],
    ["zeroscore.indicators"],
    ["zeroscore.scorer", "zeroscore.results", "zeroscore.ranking", "zeroscore.testing"],
    ["zeroscore.store", "zeroscore.runner", "zeroscore.truth"],
    ["zeroscore.analysis"],
    ["zeroscore.plots"],
    ["zeroscore.search", "zeroscore.oneshot"],
    ["zeroscore.cli", "zeroscore.__main__"],
]


def _layer(module: str) -> int:
    best = None
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[1]):
                best = (rank, len(prefix))
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py")
    return best[0]


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((target, node.lineno))
            for alias in node.names:  # `from zeroscore import truth` imports the module zeroscore.truth
                out.append((f"{target}.{alias.name}", node.lineno))
    return [(t, line) for t, line in out if t == "zeroscore" or t.startswith("zeroscore.")]


MODULES = [m for m, _ in _modules() if m != "zeroscore"]


@pytest.mark.parametrize("module", MODULES)
def test_imports_follow_the_layer_order(module):
    path = dict(_modules())[module]
    own = _layer(module)
    for target, line in _imports(module, path):
        try:
            rank = _layer(target)
        except AssertionError:
            continue  # `from zeroscore.x import name`: the name itself is no module
        assert rank <= own, f"{module}:{line} imports {target} (layer {rank} above its own layer {own})"


def test_search_never_imports_truth():
    for module, path in _modules():
        if module.startswith("zeroscore.search"):
            for target, line in _imports(module, path):
                assert not target.startswith("zeroscore.truth"), f"{module}:{line} imports {target}"


def test_the_package_imports_nothing_heavy_at_import_time():
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {n.module for n in top if isinstance(n, ast.ImportFrom)} | {a.name for n in top if isinstance(n, ast.Import)
                                                                         for a in n.names}
    assert names <= {"__future__", "importlib", "typing", "zeroscore._version", "zeroscore.errors"}, names


@pytest.mark.parametrize("module", MODULES)
def test_modules_stay_small(module):
    lines = len(dict(_modules())[module].read_text().splitlines())
    assert lines <= 380, f"{module} has {lines} lines; split it by job (the project keeps modules under ~350)"
