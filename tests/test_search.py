"""Tests of zeroscore.search: searchers on synthetic problems with a known optimum, the objective plug-in
(caching, direction, modules, Optuna), the CLI, and TE-NAS pruning end to end on DARTS."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from zeroscore import spaces
from zeroscore.errors import UsageError
from zeroscore.indicators.base import _REGISTRY, Indicator, register
from zeroscore.search import SearchResult, evolve, make_objective, prune, random_search
from zeroscore.search.pruning import dense_ranks, relative_gain, round_sig
from zeroscore.spaces.nb201 import EDGE_NAMES, NB201_OPS, format_arch

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------------------------
# a toy space with the Space interface and a synthetic objective with a unique optimum


class ToySpace:
    """Archs are 4-tuples of digits 0..3 (256 archs)."""

    name = "toy"
    n, k = 4, 4

    def canonical(self, arch):
        a = tuple(int(v) for v in arch)
        if len(a) != self.n or not all(0 <= v < self.k for v in a):
            raise ValueError(f"bad toy arch {arch!r}")
        return a

    key = canonical

    def sample(self, n, seed=0):
        rng = random.Random(seed)
        allv = [(a, b, c, d) for a in range(4) for b in range(4) for c in range(4) for d in range(4)]
        return rng.sample(allv, n)

    def mutate(self, arch, rng):
        a = list(arch)
        i = rng.randrange(self.n)
        a[i] = rng.choice([v for v in range(self.k) if v != a[i]])
        return tuple(a)


TARGET = (2, 0, 3, 1)


def toy_objective(arch):
    return -float(sum((a - t) ** 2 for a, t in zip(arch, TARGET)))


def test_evolve_finds_optimum_of_toy_space():
    res = evolve(ToySpace(), toy_objective, population=10, sample=3, cycles=120, seed=1)
    assert isinstance(res, SearchResult)
    assert res.best == TARGET
    assert res.values["objective"] == 0.0
    assert res.method == "evolve" and res.seed == 1
    assert res.archs_scored == res.history["arch"].nunique() <= 130
    assert {"step", "arch", "objective", "seconds"} <= set(res.history.columns)


def test_evolve_is_deterministic_and_ages_out():
    a = evolve(ToySpace(), toy_objective, population=5, sample=2, cycles=10, seed=3)
    b = evolve(ToySpace(), toy_objective, population=5, sample=2, cycles=10, seed=3)
    assert list(a.history["arch"]) == list(b.history["arch"])
    assert len(a.info["final_population"]) == 5
    # the final population is the last 5 evaluated archs (aging), not the 5 best
    assert a.info["final_population"] == list(a.history["arch"])[-5:]


def test_random_search_with_full_budget_finds_optimum():
    res = random_search(ToySpace(), toy_objective, budget=256, seed=0)
    assert res.best == TARGET and res.archs_scored == 256
    small = random_search(ToySpace(), toy_objective, budget=5, seed=0)
    assert small.archs_scored == 5 and small.values["objective"] <= 0


# ---------------------------------------------------------------------------------------------------------------
# prune: ranking helpers, injected scorer, and a test-only indicator read from the supernet's masks


def test_prune_helpers_follow_te_nas_conventions():
    # ntk_cond (lower better): removal that lowers the condition number is a positive gain
    assert relative_gain(100.0, 80.0, higher_is_better=False) == pytest.approx(0.2)
    # linear regions (higher better): removal that increases regions is a positive gain
    assert relative_gain(100.0, 120.0, higher_is_better=True) == pytest.approx(0.2)
    assert relative_gain(math.inf, 50.0, higher_is_better=False) == math.inf
    assert relative_gain(math.inf, math.inf, higher_is_better=False) == 0.0
    assert round_sig(0.123456, 3) == 0.123 and round_sig(1234.5, 2) == 1200
    assert list(dense_ranks([0.5, 0.1, 0.5, float("nan"), -1])) == [0, 1, 0, 3, 2]


BEST_CELL = ("nor_conv_3x3", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3", "skip_connect")


def _synthetic_value(mask: torch.Tensor) -> float:
    """Higher is better: +10 for every target op still present, -1 for every other op still present."""
    v = 0.0
    for e, op in enumerate(BEST_CELL):
        for o, name in enumerate(NB201_OPS):
            if bool(mask[e, o]):
                v += 10.0 if name == op else -1.0 - 0.1 * o  # distinct penalties: no ties
    return v


def test_prune_with_injected_scorer_recovers_known_cell():
    calls = []

    def scorer(masks, rnd, repeat):
        calls.append((rnd, repeat))
        return {"synthetic_a": _synthetic_value(masks[0]), "synthetic_b": -_synthetic_value(masks[0])}

    class A(Indicator):
        name = "synthetic_a"
        higher_is_better = True

    class B(Indicator):
        name = "synthetic_b"
        higher_is_better = False  # same information, opposite direction: ranks must agree

    register(A)
    register(B)
    try:
        res = prune("nb201", indicators=["synthetic_a", "synthetic_b"], repeats=2, scorer=scorer, dataset="gaussian")
    finally:
        _REGISTRY.pop("synthetic_a", None)
        _REGISTRY.pop("synthetic_b", None)
    assert res.best == format_arch(BEST_CELL)
    assert res.info["rounds"] == 3  # 4 ops per edge after `none`, one pruned per edge per round
    assert res.archs_scored == (1 + 24) + (1 + 18) + (1 + 12) + 1
    assert {rep for _, rep in calls} == {0, 1}
    assert res.history["pruned"].sum() == 18


class _MaskIndicator(Indicator):
    """Test-only indicator: reads which ops the supernet copy in the probe still has."""

    name = "_test_supernet_mask"
    higher_is_better = True
    needs = frozenset({"data"})

    def compute(self, probe) -> float:
        return _synthetic_value(probe.model.op_mask)


@pytest.fixture
def mask_indicator():
    register(_MaskIndicator)
    yield _MaskIndicator.name
    _REGISTRY.pop(_MaskIndicator.name, None)


def test_prune_nb201_supernet_pipeline_recovers_known_cell(mask_indicator):
    res = prune("nb201", indicators=[mask_indicator], dataset="gaussian", batch_size=2, repeats=1)
    assert res.best == format_arch(BEST_CELL)
    assert spaces.get("nb201").canonical(res.best) == res.best


DARTS_TARGET = {  # (cell type, node) -> the two inputs and their ops the synthetic scorer prefers
    "normal": (("sep_conv_3x3", 1), ("skip_connect", 0), ("max_pool_3x3", 2), ("sep_conv_3x3", 0),
               ("skip_connect", 3), ("sep_conv_3x3", 1), ("max_pool_3x3", 4), ("skip_connect", 2)),
    "reduce": (("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("sep_conv_3x3", 1),
               ("sep_conv_3x3", 3), ("max_pool_3x3", 0), ("skip_connect", 4), ("sep_conv_3x3", 2)),
}


def test_prune_darts_with_injected_scorer_recovers_known_genotype():
    from zeroscore.spaces.darts import Genotype

    ops = ("none", "skip_connect", "sep_conv_3x3", "max_pool_3x3")
    edge_index = {f"{n}<-{j}": (n - 2) * (n + 1) // 2 + j for n in range(2, 6) for j in range(n)}
    wanted = []
    for ct, kind in enumerate(("normal", "reduce")):
        for k, (op, j) in enumerate(DARTS_TARGET[kind]):
            wanted.append((ct, edge_index[f"{k // 2 + 2}<-{j}"], ops.index(op)))

    def value(masks):
        v = 0.0
        for ct, m in enumerate(masks):
            for e in range(m.shape[0]):
                for o in range(m.shape[1]):
                    if bool(m[e, o]):
                        v += 10.0 if (ct, e, o) in wanted else -(1.0 + 0.01 * (e * 4 + o + 60 * ct))
        return v

    class S(Indicator):
        name = "synthetic_darts"

    register(S)
    try:
        res = prune("darts", indicators=["synthetic_darts"], repeats=1, dataset="gaussian", ops=ops,
                    scorer=lambda masks, r, rep: {"synthetic_darts": value(masks)})
    finally:
        _REGISTRY.pop("synthetic_darts", None)

    def norm(cell):  # the genotype lists a node's two inputs in input order
        return sorted(tuple(sorted(cell[2 * k:2 * k + 2], key=lambda t: t[1])) for k in range(4))

    assert norm(res.best.normal) == norm(DARTS_TARGET["normal"])
    assert norm(res.best.reduce) == norm(DARTS_TARGET["reduce"])
    assert isinstance(res.best, Genotype)
    spaces.get("darts").build(res.best, num_classes=10, seed=0)


@pytest.mark.slow
def test_prune_darts_end_to_end_builds():
    # the real pipeline (TE-NAS supernets, ntk_cond + linear_regions) with tiny settings
    res = prune("darts", indicators={"ntk_cond": {}, "linear_regions": {"batch_size": 100, "n_batches": 1}},
                dataset="gaussian", batch_size=2, repeats=1, ops=("none", "skip_connect", "max_pool_3x3"))
    g = res.best
    for cell in (g.normal, g.reduce):
        assert len(cell) == 8
        for k in range(4):
            (o1, j1), (o2, j2) = cell[2 * k], cell[2 * k + 1]
            assert j1 != j2 and o1 != "none" and o2 != "none"
    net = spaces.get("darts").build(g, num_classes=10, seed=0)
    with torch.no_grad():
        assert net.eval()(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert set(res.history["phase"]) == {"ops", "edges"}
    assert math.isfinite(res.values["linear_regions"])


def test_search_modules_never_import_truth():
    for name in ("pruning", "evolution", "random_sampling", "objective", "screen_refine"):
        lines = (REPO / "zeroscore" / "search" / f"{name}.py").read_text().splitlines()
        imports = [ln for ln in lines if ln.strip().startswith(("import ", "from "))]
        assert not [ln for ln in imports if "truth" in ln], name


# ---------------------------------------------------------------------------------------------------------------
# make_objective


def test_objective_caches_and_is_direction_aware():
    obj = make_objective("synflow", dataset="gaussian", batch_size=4)
    arch = spaces.get("nb201").sample(1, seed=0)[0]
    v1 = obj(arch)
    v2 = obj(arch)
    assert v1 == v2
    info = obj.cache_info()
    assert info["misses"] == 1 and info["hits"] == 1 and info["size"] == 1
    assert obj.values(arch)["synflow"] == pytest.approx(v1)  # higher is better: not negated

    small = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 10))
    lower = make_objective("ntk_cond", dataset="gaussian", batch_size=8)
    lower._batch = (torch.randn(8, 3, 8, 8), torch.randint(0, 10, (8,)))
    raw = lower.values(small)["ntk_cond"]
    assert math.isfinite(raw) and raw >= 1
    assert lower(small) == pytest.approx(-raw)  # lower is better: negated
    assert lower.cache_info()["size"] == 0  # modules are not cached


def test_multi_indicator_objective_uses_fixed_reference():
    obj = make_objective(["params", "synflow"], dataset="gaussian", batch_size=2, reference=3)
    space = spaces.get("nb201")
    a, b = space.sample(2, seed=5)
    fa = obj(a)
    assert obj.cache_info()["reference"] == 3
    fb = obj(b)
    assert obj(a) == fa  # stationary: scoring b did not change a's score
    assert isinstance(fb, float)
    big = format_arch(["nor_conv_3x3"] * 6)
    assert obj(big) > obj(format_arch(["skip_connect"] * 6))  # more params and more synflow
    fit = obj.fitness([obj.values(big), obj.values(a)])
    assert fit[0] > fit[1]
    res = evolve("nb201", obj, population=3, sample=2, cycles=2, seed=0)
    assert res.archs_scored <= 5 and {"params", "synflow"} <= set(res.history.columns)


def test_objective_with_optuna():
    import optuna  # a test dependency: missing is a failure, not a skip
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    obj = make_objective("params", dataset="gaussian", batch_size=2)

    def trial_fn(trial):
        ops = [trial.suggest_categorical(f"edge {e}", list(NB201_OPS)) for e in EDGE_NAMES]
        return obj(ops)

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(trial_fn, n_trials=6)
    best = obj.space.canonical([study.best_params[f"edge {e}"] for e in EDGE_NAMES])
    assert obj(best) == study.best_value
    assert obj.cache_info()["size"] <= 6


def test_user_loop_hill_climbing():
    space = spaces.get("nb201")
    obj = make_objective("params", dataset="gaussian", batch_size=2)
    rng = random.Random(0)
    best = space.sample(1, seed=0)[0]
    best_f = obj(best)
    for _ in range(12):
        cand = space.mutate(best, rng)
        f = obj(cand)
        if f > best_f:
            best, best_f = cand, f
    assert best_f >= obj(space.sample(1, seed=0)[0])


# ---------------------------------------------------------------------------------------------------------------
# CLI


def _search_cli(data_root, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m zeroscore search ARGS`` in a fresh process reading the data under ``data_root``."""
    return subprocess.run([sys.executable, "-m", "zeroscore", "search", *args], capture_output=True, text=True,
                          env={**os.environ, "ZEROSCORE_DATA": str(data_root)}, timeout=timeout, cwd=REPO)


@pytest.mark.slow
def test_cli_random_search_end_to_end(data_root):
    out = _search_cli(data_root, "--space", "nb201", "--method", "random", "--budget", "3", "--dataset", "cifar10",
                      "--batch-size", "8", "--threads", "1", "--seed", "0")
    assert out.returncode == 0, out.stderr
    assert "architecture:" in out.stdout and "|" in out.stdout
    assert "3 architectures scored" in out.stdout and "wall time" in out.stdout
    assert "accuracy:" in out.stdout and "cifar10_test_acc" in out.stdout


def test_searcher_names_stay_functions_after_their_modules_are_imported():
    """A searcher's module must not share its function's name: importing the module would replace the package
    attribute, and ``from zeroscore.search import evolve`` would then return a module."""
    import subprocess
    import sys

    code = ("import importlib, zeroscore.search as s\n"
            "for m in ('evolution', 'pruning', 'random_sampling', 'screen_refine', 'objective'):\n"
            "    importlib.import_module('zeroscore.search.' + m)\n"
            "import zeroscore.oneshot.evaluation, zeroscore.oneshot.engine\n"
            "from zeroscore.search import evolve, prune, random_search, two_stage, make_objective\n"
            "from zeroscore.oneshot import evaluate, search\n"
            "import zeroscore\n"
            "assert all(type(f).__name__ == 'function' for f in (evolve, prune, random_search, two_stage,\n"
            "           make_objective, zeroscore.evolve, evaluate, search))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


# ---------------------------------------------------------------------------------------------------------------
# TEG-NAS's evolution protocol: ranks within the tournament, the answer from the final population, the cell
# measured as the single path of the TE-NAS supernets


class _RecordingToyObjective:
    """Duck-typed population objective on the toy space that records the size of every population it ranks."""

    names = ["closeness", "spread"]

    def __init__(self):
        self.ranked_sizes: list[int] = []

    def values(self, arch):
        return {"closeness": toy_objective(arch), "spread": -float(max(arch) - min(arch))}

    def fitness(self, rows):
        from zeroscore.ranking import rank_sum

        self.ranked_sizes.append(len(rows))
        return rank_sum([[r["closeness"] for r in rows], [r["spread"] for r in rows]])


def test_evolve_ranks_within_the_tournament_and_picks_from_the_population():
    obj = _RecordingToyObjective()
    res = evolve(ToySpace(), obj, population=8, sample=3, cycles=40, seed=2, rank_within="sample",
                 pick_from="population")
    # every tournament ranks its 3 members only; the final answer ranks the distinct members of the population
    assert obj.ranked_sizes[:40] == [3] * 40
    final = res.info["final_population"]
    assert res.best in final and obj.ranked_sizes[40] == len(set(final))
    fit = obj.fitness([obj.values(a) for a in dict.fromkeys(final)])
    assert obj.values(res.best) == obj.values(list(dict.fromkeys(final))[int(fit.argmax())])
    assert len(res.history) == 8 + 40  # the budget is exact
    again = evolve(ToySpace(), _RecordingToyObjective(), population=8, sample=3, cycles=40, seed=2,
                   rank_within="sample", pick_from="population")
    assert list(again.history["arch"]) == list(res.history["arch"]) and again.best == res.best
    # the default ranks across the population at every cycle and answers with the best of the whole history
    default = _RecordingToyObjective()
    evolve(ToySpace(), default, population=8, sample=3, cycles=5, seed=2)
    assert default.ranked_sizes[:5] == [8] * 5
    with pytest.raises(UsageError, match="rank_within"):
        evolve(ToySpace(), toy_objective, rank_within="tournament")
    with pytest.raises(UsageError, match="pick_from"):
        evolve(ToySpace(), toy_objective, pick_from="best")


def test_supernet_objective_measures_the_single_path_averaged_over_repeats(mask_indicator):
    from zeroscore.spaces.supernet import supernet_class

    obj = make_objective(mask_indicator, dataset="gaussian", batch_size=2, network="supernet", repeats=2)
    layout = supernet_class("nb201").mask_layout(None)
    for arch in [format_arch(BEST_CELL), *spaces.get("nb201").sample(3, seed=4)]:
        expected = _synthetic_value(layout.single_path_masks(arch)[0])
        assert obj.values(arch)[mask_indicator] == pytest.approx(expected)
    assert obj(format_arch(BEST_CELL)) == pytest.approx(60.0)  # the planted optimum: 6 target ops, no other
    assert "TE-NAS supernets x2" in obj.describe()
    with pytest.raises(UsageError, match="modules"):
        obj.values(nn.Linear(2, 2))
    with pytest.raises(UsageError, match="supernet"):
        make_objective("synflow", space="nb101", network="supernet")
    with pytest.raises(UsageError, match="repeats"):
        make_objective("synflow", repeats=3)
    with pytest.raises(UsageError, match="network"):
        make_objective("synflow", network="thin")


def test_supernet_objective_values_match_the_pruning_measurement():
    """The evolution protocol and the pruning protocol measure a cell identically (same nets, data, averaging)."""
    from zeroscore.search.supernet_scoring import SupernetScorer
    from zeroscore.spaces.supernet import supernet_class

    torch.manual_seed(0)
    obj = make_objective(["ntk_cond", "linear_regions"], dataset="gaussian", batch_size=4, network="supernet",
                         repeats=2, seed=3)
    arch = format_arch(BEST_CELL)
    got = obj.values(arch)
    scorer = SupernetScorer("nb201", ["ntk_cond", "linear_regions"], "gaussian", 3, 4, None, 10, None,
                            "kaiming_normal", None)
    masks = supernet_class("nb201").mask_layout(None).single_path_masks(arch)
    per = [scorer(masks, 0, r) for r in range(2)]
    for n in ("ntk_cond", "linear_regions"):
        assert got[n] == pytest.approx((per[0][n] + per[1][n]) / 2)
        assert math.isfinite(got[n])
    assert per[0] != per[1]  # two initialisations, two batches


def test_run_search_protocols_set_the_seed_systems_settings(monkeypatch):
    import zeroscore.search.evolution as evolution_module
    from zeroscore.search import PROTOCOLS, run_search

    seen = {}

    def fake_evolve(space, objective, **kw):
        seen.update(kw, objective=objective)
        return "searched"

    monkeypatch.setattr(evolution_module, "evolve", fake_evolve)
    assert run_search("evolve", protocol="tegnas", dataset="gaussian") == "searched"
    obj = seen["objective"]
    assert obj.names == list(PROTOCOLS["tegnas"]["indicators"]) and obj.network == "supernet"
    assert obj.repeats == 3 and obj.batch_size == 64
    assert (seen["population"], seen["sample"], seen["cycles"]) == (256, 64, 1000)
    assert seen["rank_within"] == "sample" and seen["pick_from"] == "population"
    # a reduced run keeps the per-architecture measurement and states its own population and budget
    run_search("evolve", protocol="tegnas", dataset="gaussian", budget=40, population=16, tournament_size=4,
               indicators="synflow", batch_size=8)
    assert seen["objective"].names == list(PROTOCOLS["tegnas"]["indicators"]) and seen["objective"].batch_size == 64
    assert (seen["population"], seen["sample"], seen["cycles"]) == (16, 4, 24)
    import zeroscore.search.pruning as pruning_module

    monkeypatch.setattr(pruning_module, "prune", lambda space, **kw: seen.update(kw, space=space))
    run_search("prune", protocol="tenas", batch_size=16, repeats=1)
    assert (seen["repeats"], seen["batch_size"], tuple(seen["indicators"])) == (3, 72, ("ntk_cond", "linear_regions"))
    run_search("prune", protocol="tenas", space="darts")
    assert seen["batch_size"] == 14
    with pytest.raises(UsageError, match="unknown protocol"):
        run_search("evolve", protocol="nasnet")
    with pytest.raises(UsageError, match="by method 'prune'"):
        run_search("evolve", protocol="tenas")
    with pytest.raises(UsageError, match="defined on"):
        run_search("prune", protocol="tenas", space="nats_sss")


@pytest.mark.slow
def test_cli_tegnas_protocol_reduced_run_end_to_end(data_root):
    out = _search_cli(data_root, "--protocol", "tegnas", "--budget", "3", "--population", "2", "--tournament-size",
                      "2", "--dataset", "cifar10", "--threads", "1", "--json", "--no-progress", timeout=600)
    assert out.returncode == 0, out.stderr
    import json

    record = json.loads(out.stdout)
    assert record["method"] == "evolve" and record["archs_scored"] <= 3
    assert set(record["values"]) == {"ntk_cond", "linear_regions", "ntk_generalization", "objective"}
    assert record["accuracy_column"] == "cifar10_test_acc"
    bad = _search_cli(data_root, "--protocol", "tegnas", "--method", "prune", timeout=120)
    assert bad.returncode != 0 and "protocol 'tegnas' is a search by method 'evolve', not 'prune'" in bad.stderr
