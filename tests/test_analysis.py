"""Correlation statistics (parity with scipy, properties), rank ensembles, tables, plots, score-frame shapes and
published values. :mod:`zeroscore.ranking` is tested in test_ranking.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from zeroscore import analysis as A


def _truth_and_scores(n=120, seeds=(0, 1), seed=0):
    rng = np.random.default_rng(seed)
    archs = [f"a{i}" for i in range(n)]
    acc = rng.normal(70, 5, n)
    truth = pd.DataFrame({"cifar10_test_acc": acc, "cifar100_test_acc": acc + rng.normal(0, 3, n)}, index=archs)
    truth.index.name = "arch"
    rows = []
    for s in seeds:
        noise = np.random.default_rng(100 + s)
        for i, a in enumerate(archs):
            rows.append({"arch": a, "seed": s, "indicator": "naswot", "value": acc[i] + noise.normal(0, 2)})
            rows.append({"arch": a, "seed": s, "indicator": "ntk_cond", "value": -acc[i] + noise.normal(0, 4)})
            rows.append({"arch": a, "seed": s, "indicator": "noise", "value": noise.normal()})
    tidy = pd.DataFrame(rows).assign(space="toy", dataset="cifar10")
    return truth, tidy


# ---------------------------------------------------------------------------------------------------------------
# parity with scipy


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ties", [False, True])
def test_parity_with_scipy(seed, ties):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=200), rng.normal(size=200) + 0.3 * np.arange(200) / 200
    if ties:
        x, y = np.round(x, 1), np.round(y * 2) / 2
    assert A.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert A.kendall(x, y) == pytest.approx(stats.kendalltau(x, y, variant="b").statistic, abs=1e-12)
    assert A.pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)


def test_correlate_matches_scipy_and_is_direction_aware():
    truth, tidy = _truth_and_scores()
    corr = A.correlate(tidy, truth, targets=["cifar10_test_acc"], bootstrap=0)
    wide = tidy.groupby(["arch", "indicator"])["value"].mean().unstack()
    acc = truth["cifar10_test_acc"].reindex(wide.index)
    for name, sign in [("naswot", 1), ("ntk_cond", -1), ("noise", 1)]:
        row = corr.set_index("indicator").loc[name]
        assert row["higher_is_better"] == (sign == 1)
        assert row["spearman"] == pytest.approx(sign * stats.spearmanr(wide[name], acc).statistic, abs=1e-12)
        assert row["kendall"] == pytest.approx(sign * stats.kendalltau(wide[name], acc).statistic, abs=1e-12)
        assert row["pearson"] == pytest.approx(sign * stats.pearsonr(wide[name], acc).statistic, abs=1e-12)
        assert row["n"] == 120 and row["n_failed"] == 0
    # lower-is-better ntk_cond agrees with accuracy -> positive after orientation
    assert corr.set_index("indicator").loc["ntk_cond", "spearman"] > 0.5
    # a wide frame gives the same numbers
    corr_w = A.correlate(wide, truth, targets=["cifar10_test_acc"], bootstrap=0)
    pd.testing.assert_series_equal(corr.set_index("indicator")["spearman"].sort_index(),
                                   corr_w.set_index("indicator")["spearman"].sort_index(), check_names=False)
    # an explicit direction override
    flipped = A.correlate(wide, truth, targets="cifar10_test_acc", bootstrap=0, directions={"naswot": False})
    assert flipped.set_index("indicator").loc["naswot", "spearman"] < -0.5


def test_failures_infinities_and_seed_averaging():
    truth, tidy = _truth_and_scores(n=50)
    tidy = tidy.copy()
    naswot = tidy["indicator"] == "naswot"
    # arch a0 fails on one seed only -> the arch counts as failed; a1/a2 are +inf / -inf on both seeds
    tidy.loc[naswot & (tidy["arch"] == "a0") & (tidy["seed"] == 1), "value"] = np.nan
    tidy.loc[naswot & (tidy["arch"] == "a1"), "value"] = np.inf
    tidy.loc[naswot & (tidy["arch"] == "a2"), "value"] = -np.inf
    corr = A.correlate(tidy, truth, targets="cifar10_test_acc", bootstrap=20).set_index("indicator")
    r = corr.loc["naswot"]
    assert (r["n"], r["n_failed"], r["n_inf"]) == (49, 1, 2)
    wide = A.wide_scores(tidy)
    assert math.isnan(wide.loc["a0", "naswot"]) and wide.loc["a1", "naswot"] == np.inf
    keep = wide.index != "a0"
    x, y = wide.loc[keep, "naswot"].to_numpy(), truth["cifar10_test_acc"].reindex(wide.index[keep]).to_numpy()
    # +-inf ranked at the extremes: equal to scipy on the ranks
    assert r["spearman"] == pytest.approx(stats.spearmanr(stats.rankdata(x), y).statistic)
    # Pearson ignores the infinities
    fin = np.isfinite(x)
    assert r["pearson"] == pytest.approx(stats.pearsonr(x[fin], y[fin]).statistic)
    dropped = A.correlate(tidy, truth, targets="cifar10_test_acc", bootstrap=0, inf="drop").set_index("indicator")
    assert (dropped.loc["naswot", "n"], dropped.loc["naswot", "n_failed"]) == (47, 3)


def test_bootstrap_interval_brackets_estimate_and_is_seeded():
    truth, tidy = _truth_and_scores(n=80)
    a = A.correlate(tidy, truth, targets="cifar10_test_acc", bootstrap=200, seed=3)
    b = A.correlate(tidy, truth, targets="cifar10_test_acc", bootstrap=200, seed=3)
    pd.testing.assert_frame_equal(a, b)
    for _, r in a.iterrows():
        assert r["spearman_lo"] <= r["spearman"] + 0.05 and r["spearman"] - 0.05 <= r["spearman_hi"]
        assert r["kendall_lo"] < r["kendall_hi"]
    noise = a.set_index("indicator").loc["noise"]
    assert noise["spearman_lo"] < 0 < noise["spearman_hi"]


def test_topk_precision_and_best_rank():
    acc = np.arange(100, dtype=float)  # arch i has true rank 100 - i
    perfect = A.topk_precision(acc, acc, 0.10)
    assert perfect == (1.0, 1.0)
    reverse = A.topk_precision(-acc, acc, 0.10)
    assert reverse == (0.0, 91.0)
    # a constant score: ties broken at random in expectation -> chance level k/n
    const = A.topk_precision(np.zeros(100), acc, 0.10)
    assert const[0] == pytest.approx(0.10) and const[1] == 1.0
    # 5 of the top-10 right
    s = acc.copy()
    s[[99, 98, 97, 96, 95]] = -1
    assert A.topk_precision(s, acc, 0.10)[0] == pytest.approx(0.5)
    # k = ceil(f n), at least one
    assert A.topk_precision(acc[:5], acc[:5], 0.01) == (1.0, 1.0)
    corr = A.correlate(pd.DataFrame({"x": acc}, index=[str(i) for i in range(100)]),
                       pd.DataFrame({"acc": acc}, index=[str(i) for i in range(100)]), targets="acc", bootstrap=0)
    assert list(corr[["top1", "top5", "top10"]].iloc[0]) == [1.0, 1.0, 1.0]
    assert list(corr[["best_rank_top1", "best_rank_top5", "best_rank_top10"]].iloc[0]) == [1.0, 1.0, 1.0]


# ---------------------------------------------------------------------------------------------------------------
# properties


_floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_floats, _floats), min_size=4, max_size=40),
       st.sampled_from(["exp", "cube", "affine", "arctan"]))
def test_rank_statistics_invariant_to_monotone_transforms(pairs, transform):
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    f = {"exp": lambda v: np.exp(v / 1e6 * 5), "cube": lambda v: v ** 3, "affine": lambda v: 3 * v + 7,
         "arctan": np.arctan}[transform]
    fx = f(x)
    if len(np.unique(fx)) != len(np.unique(x)):  # the transform must stay strictly monotone in floating point
        return
    for stat in (A.spearman, A.kendall):
        a, b = stat(x, y), stat(fx, y)
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_floats, _floats), min_size=4, max_size=40))
def test_direction_flip_negates(pairs):
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    idx = [str(i) for i in range(len(x))]
    truth = pd.DataFrame({"acc": y}, index=idx)
    up = A.correlate(pd.DataFrame({"s": x}, index=idx), truth, targets="acc", bootstrap=0, directions={"s": True})
    down = A.correlate(pd.DataFrame({"s": x}, index=idx), truth, targets="acc", bootstrap=0, directions={"s": False})
    for m in ("spearman", "kendall", "pearson"):
        a, b = up[m].iloc[0], down[m].iloc[0]
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(-b, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(_floats, min_size=3, max_size=30, unique=True), st.floats(0.01, 0.5))
def test_topk_precision_bounds(values, frac):
    acc = np.array(values)
    rng = np.random.default_rng(0)
    score = rng.permutation(acc)
    p, best = A.topk_precision(score, acc, frac)
    assert 0.0 <= p <= 1.0 and 1 <= best <= len(acc)
    assert A.topk_precision(acc, acc, frac)[0] == 1.0


# ---------------------------------------------------------------------------------------------------------------
# ensembles


def test_rank_aggregate_methods():
    wide = pd.DataFrame({"naswot": [1.0, 2.0, 3.0, 4.0], "ntk_cond": [40.0, 10.0, 30.0, 20.0]},
                        index=["a", "b", "c", "d"])
    # direction-aware ranks (n = best): naswot 1,2,3,4; ntk_cond (lower better) 1,4,2,3
    rs = A.rank_aggregate(wide, ["naswot", "ntk_cond"], method="rank_sum")
    assert list(rs["rank_sum(naswot+ntk_cond)"]) == [2.0, 6.0, 5.0, 7.0]
    lr = A.rank_aggregate(wide, ["naswot", "ntk_cond"], method="log_rank", name="az")
    expected = np.log(np.array([1, 2, 3, 4]) / 4) + np.log(np.array([1, 4, 2, 3]) / 4)
    np.testing.assert_allclose(lr["az"], expected)
    with pytest.raises(ValueError):
        A.rank_aggregate(wide, ["naswot"], method="log_rank")
    with pytest.raises(ValueError):
        A.rank_aggregate(wide, ["naswot", "ntk_cond"], method="vote")


def test_rank_aggregate_tidy_per_seed_and_nan():
    truth, tidy = _truth_and_scores(n=60)
    tidy = tidy.copy()
    tidy.loc[(tidy["arch"] == "a3") & (tidy["indicator"] == "ntk_cond") & (tidy["seed"] == 0), "value"] = np.nan
    out = A.rank_aggregate(tidy, ["naswot", "ntk_cond"], method="log_rank")
    ens = out[out["indicator"] == "log_rank(naswot+ntk_cond)"]
    assert len(ens) == 60 * 2 and set(ens["seed"]) == {0, 1}
    assert ens[(ens["arch"] == "a3") & (ens["seed"] == 0)]["value"].isna().all()
    assert ens[(ens["arch"] == "a3") & (ens["seed"] == 1)]["value"].notna().all()
    corr = A.correlate(out, truth, targets="cifar10_test_acc", bootstrap=0).set_index("indicator")
    # the ensemble is higher-is-better and at least as good as the weaker component here
    assert corr.loc["log_rank(naswot+ntk_cond)", "higher_is_better"]
    assert corr.loc["log_rank(naswot+ntk_cond)", "spearman"] > corr.loc["ntk_cond", "spearman"]
    assert corr.loc["log_rank(naswot+ntk_cond)", "n_failed"] == 1


# ---------------------------------------------------------------------------------------------------------------
# tables


def test_table_and_formats(tmp_path):
    truth, tidy = _truth_and_scores(n=60)
    corr = A.correlate(tidy, truth, targets=["cifar10_test_acc", "cifar100_test_acc"], bootstrap=0)
    tab = A.table(corr, metric=("spearman", "kendall"), rows="indicator", columns="target")
    assert list(tab.index) == ["naswot", "ntk_cond", "noise"]
    assert list(tab.columns) == [("cifar10_test_acc", "spearman"), ("cifar10_test_acc", "kendall"),
                                 ("cifar100_test_acc", "spearman"), ("cifar100_test_acc", "kendall")]
    md = A.to_markdown(tab)
    lines = md.strip().splitlines()
    assert lines[0].startswith("| indicator | cifar10_test_acc / spearman")
    assert len(lines) == 2 + 3
    best = tab[("cifar10_test_acc", "spearman")].idxmax()
    assert f"**{tab.loc[best, ('cifar10_test_acc', 'spearman')]:.3f}**" in md
    assert md.count("**") == 2 * 4  # one bold cell per column
    tex = A.to_latex(tab, caption="NB201", label="tab:nb201")
    assert r"\multicolumn{2}{c}{cifar10\_test\_acc}" in tex and r"\textbf{" in tex and r"\label{tab:nb201}" in tex
    assert tex.count(r"\\") == 2 + 3
    csv = A.to_csv(tab, tmp_path / "t.csv")
    assert csv.splitlines()[0] == ("indicator,cifar10_test_acc/spearman,cifar10_test_acc/kendall,"
                                   "cifar100_test_acc/spearman,cifar100_test_acc/kendall")
    assert (tmp_path / "t.csv").read_text() == csv
    single = A.table(corr, metric="spearman")
    assert list(single.columns) == ["cifar10_test_acc", "cifar100_test_acc"]
    # best_rank columns: lower is better
    br = A.table(corr, metric="best_rank_top10")
    md_br = A.to_markdown(br, digits=0)
    assert "**1**" in md_br or "**" in md_br
    with pytest.raises(KeyError):
        A.table(corr, metric="nope")


def test_table_by_dataset():
    truth, tidy = _truth_and_scores(n=40)
    both = pd.concat([tidy, tidy.assign(dataset="cifar100")])
    corr = A.correlate(both, truth, targets="cifar10_test_acc", bootstrap=0)
    assert set(corr["dataset"]) == {"cifar10", "cifar100"}
    tab = A.table(corr, metric="spearman", columns="dataset")
    assert list(tab.columns) == ["cifar10", "cifar100"]


# ---------------------------------------------------------------------------------------------------------------
# plots


def test_plots_write_pngs(tmp_path):
    from zeroscore import plots

    truth, tidy = _truth_and_scores(n=40)
    tidy = A.rank_aggregate(tidy, ["naswot", "ntk_cond"], method="rank_sum")
    p1 = plots.score_vs_accuracy_grid(tidy, truth, "cifar10_test_acc", tmp_path / "grid.png")
    p2 = plots.indicator_heatmap(tidy, tmp_path / "sub" / "heat.png")
    for p in (p1, p2):
        assert p.exists() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 2000


def test_plot_titles_labels_and_rho_match_correlate():
    from zeroscore import plots

    truth, tidy = _truth_and_scores(n=50)
    tidy = tidy.copy()
    naswot = tidy["indicator"] == "naswot"
    tidy.loc[naswot & tidy["arch"].isin(["a1", "a2"]), "value"] = np.inf  # ranked in rho, cannot be drawn
    tidy.loc[naswot & (tidy["arch"] == "a3"), "value"] = np.nan  # failed: in neither
    corr = A.correlate(tidy, truth, targets="cifar10_test_acc", bootstrap=0).set_index("indicator")
    fig = plots.score_vs_accuracy_figure(tidy, truth, "cifar10_test_acc", title="my run")
    suptitle = fig._suptitle.get_text()
    assert "my run" in suptitle and "toy" in suptitle and "cifar10" in suptitle and "cifar10_test_acc" in suptitle
    assert "n = 50" in suptitle
    panels = {ax.get_title().splitlines()[0]: ax for ax in fig.axes if ax.get_title()}
    assert set(panels) == {"naswot", "ntk_cond", "noise"}
    for name, ax in panels.items():
        # the rho and n of the correlation table, not of the drawn points
        assert f"\u03c1 = {corr.loc[name, 'spearman']:.3f} (n = {corr.loc[name, 'n']})" in ax.get_title()
        assert ax.get_ylabel() == "cifar10_test_acc"
    assert (corr.loc["naswot", "n"], corr.loc["naswot", "n_inf"]) == (49, 2)
    assert "not drawn: 2 infinite (ranked in \u03c1), 1 failed" in panels["naswot"].get_title()
    assert len(panels["naswot"].collections[0].get_offsets()) == 47
    assert panels["ntk_cond"].get_xlabel() == "ntk_cond (lower is better)"
    assert panels["naswot"].get_xlabel() == "naswot (higher is better)"
    # space and dataset from arguments or attrs when the frame has no such columns
    wide = A.wide_scores(tidy)
    wide.attrs["space"] = "nb201"
    title = plots.score_vs_accuracy_figure(wide, truth, "cifar10_test_acc", dataset="cifar100")._suptitle.get_text()
    assert title.startswith("nb201, cifar100: indicator score vs cifar10_test_acc")
    with pytest.raises(ValueError, match="several datasets"):
        plots.score_vs_accuracy_figure(pd.concat([tidy, tidy.assign(dataset="x")]), truth, "cifar10_test_acc")


def test_plot_log_scales_for_values_spanning_decades():
    from zeroscore import plots

    assert plots.axis_scale([1.0, 10.0, 999.0]) == ("linear", {})
    assert plots.axis_scale([1.0, 10.0, 1e3, np.inf, np.nan]) == ("log", {})
    assert plots.axis_scale([-1e5, -2.0, 0.0, 3.0]) == ("symlog", {"linthresh": 2.0})
    assert plots.axis_scale([0.0, 1e-12, 1e6])[1] == {"linthresh": 1.0}  # at most six decades of linear part
    assert plots.axis_scale([0.0, 0.0, 5.0])[0] == "linear"
    truth, tidy = _truth_and_scores(n=40)
    big = tidy[tidy["indicator"] == "naswot"].assign(indicator="synflow", value=lambda d: np.exp(d["value"] / 2))
    signed = big.assign(indicator="grasp", value=lambda d: d["value"] * np.where(d.index % 2, 1, -1))
    fig = plots.score_vs_accuracy_figure(pd.concat([tidy, big, signed]), truth, "cifar10_test_acc")
    scales = {ax.get_title().splitlines()[0]: ax.get_xscale() for ax in fig.axes if ax.get_title()}
    assert scales == {"naswot": "linear", "ntk_cond": "linear", "noise": "linear", "synflow": "log",
                      "grasp": "symlog"}


def test_heatmap_title_and_values(tmp_path):
    from zeroscore import plots

    truth, tidy = _truth_and_scores(n=40)
    tidy = tidy.copy()
    tidy.loc[(tidy["indicator"] == "noise") & (tidy["arch"] == "a0"), "value"] = np.nan
    fig = plots.indicator_heatmap_figure(tidy)
    ax = fig.axes[0]
    assert "Spearman" in ax.get_title() and "toy, cifar10: n = 39-40 architectures per pair" in ax.get_title()
    wide = A.wide_scores(tidy)
    # direction-aware: lower-is-better ntk_cond agrees with naswot
    expected = A.spearman(wide["naswot"], -wide["ntk_cond"])
    assert f"{expected:.2f}" in [t.get_text() for t in ax.texts]
    assert expected > 0.5
    assert plots.indicator_heatmap(tidy, tmp_path / "h.png", title="mine").exists()


# ---------------------------------------------------------------------------------------------------------------
# frames and published values


def test_indicator_labels_and_complete_prefix():
    tidy = pd.DataFrame({"arch": ["a", "a", "a", "b", "b"], "indicator": ["x", "x", "y", "x", "y"],
                         "value": [1.0, 2.0, 3.0, 4.0, 5.0],
                         "params_hash": ["abcdef12", "999999ff", "h", "abcdef12", "h"]}, index=[5, 6, 7, 8, 9])
    labels = A.indicator_labels(tidy)
    assert labels.tolist() == ["x@abcdef", "x@999999", "y", "x@abcdef", "y"]
    assert labels.index.tolist() == [5, 6, 7, 8, 9]
    assert A.indicator_labels(tidy.drop(columns="params_hash")).tolist() == ["x", "x", "y", "x", "y"]
    assert list(A.wide_scores(tidy).columns) == ["x@abcdef", "x@999999", "y"]
    # x has a complete prefix of two archs; y misses the first one
    rows = pd.DataFrame({"arch": ["p", "q", "r", "q", "r"], "indicator": ["x", "x", "x", "y", "y"], "value": 1.0})
    kept = A.complete_prefix(rows, ["p", "q", "s", "r"])
    assert sorted(kept[kept["indicator"] == "x"]["arch"]) == ["p", "q"]
    assert kept[kept["indicator"] == "y"].empty


def test_compare_scores_on_shared_cells():
    rng = np.random.default_rng(0)
    archs = [f"c{i}" for i in range(30)]
    acc = pd.Series(rng.normal(size=30), index=archs)
    ours = pd.Series(acc.to_numpy() + rng.normal(0, 0.3, 30), index=archs)
    theirs = pd.concat([ours.iloc[::-1] * 2, pd.Series([7.0], index=["elsewhere"])])
    theirs.iloc[0] = np.inf
    found = A.compare_scores(ours, theirs, acc)
    assert found["n"] == 29 and found["agreement"] == pytest.approx(1.0)
    keep = ours.index != "c29"
    assert found["ours"] == pytest.approx(stats.spearmanr(ours[keep], acc[keep]).statistic)
    assert A.compare_scores(ours.iloc[:5], theirs, acc) is None
