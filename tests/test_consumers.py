"""Every registered space through every consumer of the Scorer: ``score_many``, ``make_objective`` and, where the
space has a supernet, ``prune`` -- with ``linear_regions``, whose thin-network protocol depends on the space. The
consumers share one scoring path, so they give the same values for the same architecture, seed and batch."""

from __future__ import annotations

import json
import math

import pytest

from zeroscore import spaces
from zeroscore.runner import score_many
from zeroscore.search import make_objective, prune
from zeroscore.spaces.supernet import SUPERNETS

INDICATORS = {"linear_regions": {"batch_size": 50, "n_batches": 1}, "params": {}}


@pytest.mark.parametrize("name", spaces.list_spaces())
def test_space_through_score_many_and_make_objective(name):
    space = spaces.get(name)
    archs = space.sample(2, seed=3)
    frame = score_many(space, archs, indicators=INDICATORS, dataset="gaussian", batch_size=4, progress=False)
    assert frame["error"].isna().all(), frame[["indicator", "error"]]
    regions = frame[frame["indicator"] == "linear_regions"]
    networks = {json.loads(p).get("network", "full") for p in regions["params"]}
    assert networks == {"thin" if space.has_thin() else "full"}
    objective = make_objective(INDICATORS, space=name, dataset="gaussian", batch_size=4, seed=0)
    for arch in archs:
        values = objective.values(arch)
        stored = frame[frame["arch"] == str(space.canonical(arch))].set_index("indicator")["value"]
        assert all(math.isfinite(v) for v in values.values())
        assert values == {n: stored[n] for n in INDICATORS}, (name, arch)


@pytest.mark.parametrize("name", sorted(SUPERNETS))
def test_space_through_prune(name):
    ops = ("skip_connect", "nor_conv_3x3") if name == "nb201" else ("skip_connect", "sep_conv_3x3")
    result = prune(name, indicators=INDICATORS, dataset="gaussian", batch_size=2, repeats=1, ops=ops)
    network = spaces.get(name).build(result.best, num_classes=10, seed=0)
    assert sum(p.numel() for p in network.parameters()) > 0
    assert math.isfinite(result.values["linear_regions"])


@pytest.mark.parametrize("name", spaces.list_spaces())
def test_space_through_the_searchers(name):
    from zeroscore.search import evolve, random_search

    space = spaces.get(name)
    objective = make_objective({"params": {}}, space=name, dataset="gaussian", batch_size=4, seed=0)
    found = random_search(name, objective, budget=3, seed=0)
    assert space.canonical(found.best) == found.best  # an architecture, not an internal key
    evolved = evolve(name, objective, population=2, sample=2, cycles=2, seed=0)
    assert space.canonical(evolved.best) == evolved.best
    assert evolved.values["params"] == objective.values(evolved.best)["params"]
