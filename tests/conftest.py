"""Shared fixtures.

Most tests need no data: the benchmark tables ship with the package and everything else runs on synthetic inputs.
Tests that need the data location (real CIFAR images, the official NATS-Bench sample, published per-architecture
scores) take the ``data_root`` fixture. Where the data location lacks them the test is SKIPPED with a one-line
reason, except when ``ZEROSCORE_REQUIRE_DATA=1`` (CI sets it): then it FAILS, so CI never silently skips the
real-data checks. When ``ZEROSCORE_DATA`` is unset and a ``shared/data`` folder sits beside the checkout (the CI
layout), that folder is used.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[1]
_SIBLING_DATA = _REPO.parent / "shared" / "data"
if not os.environ.get("ZEROSCORE_DATA") and _SIBLING_DATA.is_dir():
    os.environ["ZEROSCORE_DATA"] = str(_SIBLING_DATA)

#: the benchmark scripts, which tests load by path (they are scripts, not a package)
BENCHMARKS = _REPO / "benchmarks"


def load_benchmark(name: str):
    """``benchmarks/<name>.py`` as a module (``from conftest import load_benchmark`` in a test file)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: what the data location must hold for the ``data_root`` tests (the project's shared data folder layout)
_EXPECTED = ("cifar10_sample", "cifar100_sample", "zc_proxies_reference", "natsbench_api_sample")


def data_required() -> bool:
    return os.environ.get("ZEROSCORE_REQUIRE_DATA", "") not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The data location with real images, official-format samples and published scores (see module docstring)."""
    from zeroscore.settings import data_root as resolve

    root = resolve()
    missing = [d for d in _EXPECTED if not (root / d).is_dir()]
    if missing:
        reason = (f"needs the shared data folder (real CIFAR images, NATS-Bench sample, published scores) at "
                  f"$ZEROSCORE_DATA; {root} lacks {', '.join(missing)}")
        if data_required():
            pytest.fail(reason + " (ZEROSCORE_REQUIRE_DATA=1: missing data is a failure)")
        pytest.skip(reason)
    return root
