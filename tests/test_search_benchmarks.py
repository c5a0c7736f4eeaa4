"""The search benchmark scripts' own logic: the refine study picks the rule that picks the best survivor, and the
results CSVs stay well-formed when a later row brings a new column."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import load_benchmark as _load

from zeroscore import spaces, truth


def test_append_rows_rewrites_with_the_union_of_columns(tmp_path):
    search = _load("search_nb201")
    path = tmp_path / "curves.csv"
    search.append_rows(path, [{"method": "a", "evaluations": 10, "accuracy": 90.0}])
    search.append_rows(path, [{"method": "a", "evaluations": 20, "final": True, "accuracy": 91.0}])
    search.append_rows(path, [{"method": "b", "evaluations": 10, "final": False, "accuracy": 92.0}])
    df = pd.read_csv(path)
    assert list(df["accuracy"]) == [90.0, 91.0, 92.0]  # no value shifted into another column
    assert list(df["evaluations"]) == [10, 20, 10]
    assert df["final"].isna().tolist() == [True, False, False]


def test_refine_study_ranks_the_rule_that_picks_the_best_validation_cell_first(tmp_path):
    design = _load("search_design")
    archs = spaces.get("nb201").sample(30, seed=5)
    valid = truth.load("nb201").set_index("arch_str").loc[archs, "cifar10_valid_acc"].to_numpy()
    rng = np.random.default_rng(0)
    histories = []
    for seed in range(2):  # two "design searches" over the same cells, screen values that ignore accuracy
        h = pd.DataFrame({"arch": archs, "synflow": rng.normal(size=30), "meco_opt": rng.normal(size=30)})
        histories.append(str(tmp_path / f"screen_{seed}.csv"))
        h.to_csv(histories[-1], index=False)
    # candidates: one that follows validation accuracy (zen), one that is noise (jacov)
    wide = pd.DataFrame({"synflow": 0.0, "meco_opt": 0.0, "zen": valid, "jacov": rng.normal(size=30)}, index=archs)
    for h in histories:  # the screen values of the survivors as the stores would hold them
        wide.loc[pd.read_csv(h)["arch"], ["synflow", "meco_opt"]] = pd.read_csv(h)[["synflow", "meco_opt"]].values
    text = design.refine_study(histories, wide, "cifar10", ["synflow", "meco_opt"], [10, 20], 1, 5,
                               candidates=["zen", "jacov"])
    table = [line for line in text.splitlines() if line.startswith("| zen |") or line.startswith("| jacov |")]
    first = next(line for line in text.splitlines() if line.startswith("| zen") or line.startswith("| jacov"))
    assert table and "zen" in first
    best_rule = next(line for line in text.splitlines() if line.startswith("| zen | refine |"))
    oracle = {k: np.mean([max(valid[[archs.index(a) for a in design.screen_survivors(h, ["synflow", "meco_opt"], k)]])
                          for h in histories]) for k in (10, 20)}
    cells = [c.strip() for c in best_rule.split("|")]
    assert float(cells[5]) == round(oracle[10], 2) and float(cells[6]) == round(oracle[20], 2)


def test_anytime_curve_is_empty_for_a_history_without_architectures():
    """Pruning's history lists supernet configurations, not architectures: no anytime curve (and no crash after a
    finished search)."""
    from types import SimpleNamespace

    search = _load("search_nb201")
    res = SimpleNamespace(history=pd.DataFrame({"round": [0, 1], "edge": [2, 3]}), info={}, best="x")
    assert search.anytime(res, "nb201", "cifar10", None) == []


def test_population_anytime_follows_the_aging_population_of_a_tegnas_search():
    """An evolution that answers with the best of its final population (TEG-NAS) would, after k evaluations, have
    answered with the best of the last ``population`` evaluations, not of everything scored so far."""
    from types import SimpleNamespace

    search = _load("search_nb201")
    archs = spaces.get("nb201").sample(25, seed=7)
    score = list(range(25))
    score[3] = 100  # the best cell overall ages out of the population of 5 after evaluation 8
    hist = pd.DataFrame({"arch": archs, "synflow": score, "new": True})
    hist.loc[24, "new"] = False  # a repeat: counted as an evaluation, not as a new architecture
    res = SimpleNamespace(history=hist, best=archs[23],
                          info={"pick_from": "population", "population": 5, "aggregate": "rank_sum"})
    points = search.anytime(res, "nb201", "cifar10", None)
    assert [p["evaluations"] for p in points] == [5, 15, 24, 24]
    assert points[0]["arch"] == archs[3]  # still in the population after 5 evaluations
    assert points[1]["arch"] == archs[14]  # evaluations 11-15: archs[3] has aged out
    assert points[-1]["final"] and points[-1]["arch"] == archs[23]
    table = truth.load("nb201").set_index("arch_str")["cifar10_test_acc"]
    assert points[1]["accuracy"] == table[archs[14]]


def test_mean_anytime_curve_carries_each_seed_forward_onto_the_common_grid():
    search = _load("search_nb201")
    points = pd.DataFrame({"seed": [0, 0, 0, 1, 1, 1], "evaluations": [10, 20, 30, 10, 15, 25],
                           "accuracy": [90.0, 91.0, 92.0, 80.0, 82.0, 84.0]})
    curve = search.mean_step_curve(points)
    # seed 1 ends at 25: the mean stops there; at 20 seed 1 still returns its cell of 15
    assert list(curve.index) == [10, 15, 20, 25]
    assert list(curve.values) == [85.0, 86.0, 86.5, 87.5]
