"""zeroscore.oneshot.trust: ranking-quality and stability metrics against hand-computed values, and the
reduced-sharing partitions (every cell in exactly one part)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau, spearmanr

from zeroscore import spaces
from zeroscore.errors import UsageError
from zeroscore.oneshot.trust import (
    fewshot_partition,
    gt_tau,
    gt_tau_last_k,
    ranking_quality,
    s_tau,
    similarity_groups,
    summary,
    top_n_rank,
)
from zeroscore.spaces.nb201 import parse_arch

CELLS = ["a", "b", "c", "d"]
TRUTH = pd.Series([10.0, 20.0, 30.0, 40.0], index=CELLS)
SHUFFLED = pd.Series([2.0, 1.0, 4.0, 3.0], index=CELLS)  # by hand: C = 4, D = 2 pairs


def test_ranking_quality_by_hand():
    row = ranking_quality(SHUFFLED, TRUTH, top_fraction=0.5, precision_at=(0.25, 0.5), bootstrap=0).iloc[0]
    assert row["n"] == 4
    assert row["kendall"] == pytest.approx(1 / 3)            # (4 - 2) / 6
    assert row["spearman"] == pytest.approx(0.6)             # 1 - 6 * 4 / (4 * 15)
    assert row["kendall_top"] == pytest.approx(-1.0)         # c, d: one-shot 4 > 3, true 30 < 40
    assert row["precision_top25"] == 0.0                     # supernet's best c, true best d
    assert row["precision_top50"] == 1.0                     # {c, d} both ways
    assert row["best_true_rank"] == 2                        # c is second best
    assert np.isnan(row["kendall_lo"])                       # no bootstrap asked


def test_ranking_quality_matches_scipy_and_aligns_by_arch():
    rng = np.random.default_rng(0)
    archs = [f"cell{i}" for i in range(60)]
    truth = pd.Series(rng.normal(size=60), index=archs)
    pred = pd.Series(truth.to_numpy() + rng.normal(scale=0.5, size=60), index=archs)
    shuffled = pred.sample(frac=1.0, random_state=1)             # same values, other order
    extra = pd.concat([shuffled, pd.Series([9.0], index=["not_in_truth"])])
    row = ranking_quality(extra, truth, bootstrap=200, seed=0).iloc[0]
    assert row["n"] == 60
    assert row["kendall"] == pytest.approx(kendalltau(pred, truth).statistic)
    assert row["spearman"] == pytest.approx(spearmanr(pred, truth).statistic)
    assert row["kendall_lo"] <= row["kendall"] <= row["kendall_hi"]
    assert row["spearman_lo"] <= row["spearman"] <= row["spearman_hi"]


def test_stability_metrics_by_hand():
    ident = TRUTH.copy()
    reverse = pd.Series([4.0, 3.0, 2.0, 1.0], index=CELLS)
    seeds = pd.DataFrame({"s0": ident, "s1": ident, "s2": reverse})
    assert s_tau(seeds) == pytest.approx((1 - 1 - 1) / 3)
    checkpoints = pd.DataFrame({"e1": reverse, "e2": ident, "e3": SHUFFLED})
    assert list(gt_tau(checkpoints, TRUTH).round(6)) == [-1.0, 1.0, round(1 / 3, 6)]
    mean, std = gt_tau_last_k(checkpoints, TRUTH, 2)
    assert mean == pytest.approx(2 / 3) and std == pytest.approx(1 / 3)
    assert top_n_rank(SHUFFLED, TRUTH, 1) == 2 and top_n_rank(SHUFFLED, TRUTH, 2) == 1
    table = summary({"one": SHUFFLED, "two": ident}, TRUTH, bootstrap=0)
    assert list(table.index) == ["one", "two"] and table.loc["two", "kendall"] == pytest.approx(1.0)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(UsageError, match="at least 2 supernets"):
        s_tau(pd.DataFrame({"s0": TRUTH}))
    with pytest.raises(UsageError, match="k must be"):
        gt_tau_last_k(pd.DataFrame({"e1": TRUTH}), TRUTH, 2)
    with pytest.raises(UsageError, match="at least 2 cells"):
        ranking_quality(pd.Series([1.0], index=["a"]), TRUTH)
    with pytest.raises(UsageError, match="edge"):
        fewshot_partition([], edge=6)


ALL = [spaces.get("nb201").arch(i) for i in range(15625)]


@pytest.mark.parametrize("edge", [0, 3, "3<-2"])
def test_fewshot_parts_hold_exactly_the_cells_of_their_op(edge):
    parts = fewshot_partition(ALL, edge)
    index = edge if isinstance(edge, int) else 5
    assert sorted(parts) == sorted(["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"])
    for op, cells in parts.items():
        assert len(cells) == 3125
        assert all(parse_arch(a)[index] == op for a in cells)
    assert sorted(a for cells in parts.values() for a in cells) == sorted(ALL)


@pytest.mark.parametrize("m", [1, 4, 5, 25, 32])
def test_similarity_groups_put_every_cell_in_exactly_one_group(m):
    groups = similarity_groups(ALL, m)
    assert sorted(groups) == list(range(m)) and all(groups.values())
    members = [a for cells in groups.values() for a in cells]
    assert len(members) == len(set(members)) == len(ALL)
    # cells of one group share the prefix they were grouped by: no prefix is split between groups
    length = {1: 0, 4: 1, 5: 1, 25: 2, 32: 3}[m]
    owner: dict[tuple, int] = {}
    for g, cells in groups.items():
        for a in cells:
            assert owner.setdefault(parse_arch(a)[:length], g) == g
    if m == 25:
        assert {len(c) for c in groups.values()} == {625}


def test_unique_sample_and_oneshot_accuracies_on_a_tiny_supernet():
    import torch

    from zeroscore.oneshot.evaluation import oneshot_accuracies, unique_sample
    from zeroscore.spaces import is_degenerate, isomorphism_key
    from zeroscore.spaces.supernet import build_supernet

    cells = unique_sample(40, seed=3)
    assert len(cells) == 40 and cells == unique_sample(40, seed=3)
    assert len({isomorphism_key(a) for a in cells}) == 40 and not any(is_degenerate(a) for a in cells)
    torch.manual_seed(0)
    net = build_supernet("nb201", C=4, N=1, num_classes=10)
    data = (torch.randn(24, 3, 32, 32), torch.randint(0, 10, (24,)))
    acc = oneshot_accuracies(net, data, archs=cells[:5], batch_size=8)
    assert list(acc.index) == cells[:5] and ((acc >= 0) & (acc <= 100)).all()
    assert ranking_quality(acc, pd.Series(range(5), index=cells[:5], dtype=float), bootstrap=0)["n"].iloc[0] == 5
