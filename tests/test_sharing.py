"""Reduced weight sharing and BN-only supernets (``zeroscore.oneshot``): restricted path sampling (Few-shot NAS
sub-supernets, similarity groups, supernets shrunk by priors), warm starts, per-epoch callbacks, BN-only and DI-NAS
(a reconstruction): isometric initialisation checked op by op, frozen weights, module selection; and the
training-free priors of :mod:`zeroscore.oneshot.trust`."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn

from zeroscore.errors import UsageError
from zeroscore.oneshot import SearchData, search
from zeroscore.oneshot.methods.bn_supernets import CRITICAL_GAIN, isometric_init, op_spectra
from zeroscore.oneshot.paths import PathSampler, path_arch
from zeroscore.oneshot.trust import combine_rankings, fewshot_partition, shrink_by_scores, similarity_groups
from zeroscore.spaces.nb201.arch import EDGE_NAMES, NB201_OPS, format_arch, parse_arch
from zeroscore.spaces.supernet import build_supernet

TINY = dict(channels=4, cells=1)
ALL_CELLS = [format_arch(ops) for ops in itertools.product(NB201_OPS, repeat=6)]


def tensors(n: int = 32, classes: int = 4, seed: int = 0) -> SearchData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2 * n, 3, 8, 8, generator=g)
    y = torch.randint(0, classes, (2 * n,), generator=g)
    return SearchData(x[:n], y[:n], x[n:], y[n:], num_classes=classes, name="synthetic")


def layout():
    return build_supernet("nb201", C=4, N=1).layout


def sampled_cells(sampler: PathSampler, n: int = 400, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [path_arch(sampler.layout, sampler(rng)) for _ in range(n)]


# ---------------------------------------------------------------------------------------------------------------
# restricted sampling


def test_a_fewshot_sub_supernet_samples_exactly_the_cells_of_its_op():
    for op in NB201_OPS:
        sampler = PathSampler(layout(), allowed={"3<-0": [op]})
        drawn = sampled_cells(sampler)
        assert all(parse_arch(a)[3] == op for a in drawn)
        # every other edge still draws every op
        assert all({parse_arch(a)[e] for a in drawn} == set(NB201_OPS) for e in (0, 1, 2, 4, 5))
        part = fewshot_partition(ALL_CELLS, edge="3<-0")[op]
        assert len(part) == 5 ** 5
        assert {a for a in ALL_CELLS if sampler.contains(a)} == set(part)


def test_a_shrunk_supernet_draws_only_and_all_of_its_kept_ops():
    allowed = {edge: ["nor_conv_3x3", "skip_connect"] for edge in EDGE_NAMES}
    drawn = sampled_cells(PathSampler(layout(), allowed=allowed))
    for e in range(6):
        assert {parse_arch(a)[e] for a in drawn} == {"nor_conv_3x3", "skip_connect"}


def test_similarity_group_samplers_partition_the_space():
    m = 10
    samplers = [PathSampler(layout(), group=(m, g)) for g in range(m)]
    seen = [a for s in samplers for a in s.cells]
    assert sorted(seen) == sorted(ALL_CELLS)  # every cell in exactly one group
    for s in samplers[:2]:
        assert set(sampled_cells(s, 100)) <= set(s.cells)
    assert samplers[0].cells == similarity_groups(ALL_CELLS, m)[0]


def test_unrestricted_sampling_is_rsps_sampling():
    from zeroscore.oneshot.paths import random_path

    a, b = np.random.default_rng(3), np.random.default_rng(3)
    sampler = PathSampler(layout())
    assert not sampler.restricted
    for _ in range(5):
        assert all(np.array_equal(x, y) for x, y in zip(sampler(a), random_path(sampler.layout, b)))


@pytest.mark.parametrize("kwargs, needle", [
    (dict(allowed={"9<-0": ["none"]}), "unknown edge"),
    (dict(allowed={"1<-0": ["conv_7x7"]}), "allowed ops"),
    (dict(allowed={"1<-0": []}), "allowed ops"),
    (dict(allowed={"1<-0": ["none"]}, group=(2, 0)), "either"),
    (dict(group=(3, 3)), "0 <= g < m"),
])
def test_bad_restrictions_are_clear_errors(kwargs, needle):
    with pytest.raises(UsageError, match=needle):
        PathSampler(layout(), **kwargs)


def test_restricted_sampling_is_for_nb201_only():
    darts = build_supernet("darts", C=4, layers=3).layout
    with pytest.raises(UsageError, match="NB201"):
        PathSampler(darts, allowed={"x": ["none"]})


def test_rsps_trains_and_selects_inside_its_sub_supernet(monkeypatch):
    data = tensors()
    seen: list[str] = []
    from zeroscore.oneshot.methods import rsps as rsps_module

    original = rsps_module.Rsps.weight_logits

    def recording(self, supernet, x):
        out = original(self, supernet, x)
        seen.append(supernet.arch())
        return out

    monkeypatch.setattr(rsps_module.Rsps, "weight_logits", recording)
    result = search("rsps", data=data, epochs=2, batch_size=16, options={"allowed": {"2<-1": ["avg_pool_3x3"]},
                                                                          "candidates": 5}, **TINY)
    assert seen and all(parse_arch(a)[2] == "avg_pool_3x3" for a in seen)
    assert parse_arch(result.arch)[2] == "avg_pool_3x3"
    group = search("rsps", data=data, epochs=1, batch_size=16, options={"group": [4, 1], "candidates": 5}, **TINY)
    assert group.arch in set(similarity_groups(ALL_CELLS, 4)[1])


def test_prefix_sharing_shares_the_prefix_and_copies_the_rest():
    single = build_supernet("nb201", C=4, N=1, seed=0)
    grouped = build_supernet("nb201", C=4, N=1, seed=1, suffix_copies=3, shared_layers=2)
    grouped.load_state_dict(grouped.expand_state(single.state_dict()))
    x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    single.eval()
    grouped.eval()
    for copy_index in range(3):  # every copy starts as the one-shot supernet
        grouped.active_copy = copy_index
        assert torch.allclose(grouped(x), single(x), atol=1e-6)
    # a step through copy 1 moves the shared prefix and copy 1's own layers, never copy 0's or copy 2's
    before = {k: v.clone() for k, v in grouped.state_dict().items()}
    grouped.train()
    grouped.active_copy = 1
    grouped(x).sum().backward()
    with torch.no_grad():
        for p in grouped.parameters():
            if p.grad is not None:
                p -= 0.1 * p.grad
    changed = {k for k, v in grouped.state_dict().items() if not torch.equal(v, before[k])}
    assert any(k.startswith("stem.") or k.startswith("cells.0.") for k in changed)
    assert any(k.startswith("suffixes.0.") for k in changed)
    untouched = ("suffixes.1.", "cells.2.", "cells.3.", "cells.4.", "lastact.", "classifier.")
    assert not any(k.startswith(untouched) for k in changed)
    with pytest.raises(UsageError, match="shared_layers"):
        build_supernet("nb201", C=4, N=1, suffix_copies=2, shared_layers=9)


def test_rsps_with_prefix_groups_routes_every_path_through_its_group(monkeypatch):
    m = 4
    groups = similarity_groups(ALL_CELLS, m)
    group_of = {a: g for g, members in groups.items() for a in members}
    routed = []
    from zeroscore.oneshot.methods import rsps as rsps_module

    original = rsps_module.Rsps.weight_logits

    def recording(self, supernet, x):
        out = original(self, supernet, x)
        routed.append((supernet.arch(), supernet.active_copy))
        return out

    monkeypatch.setattr(rsps_module.Rsps, "weight_logits", recording)
    shape = {"suffix_copies": m, "shared_layers": 1}
    search("rsps", data=tensors(), epochs=2, batch_size=8, options={"prefix_groups": m, "candidates": 3},
           supernet_kwargs=shape, **TINY)
    assert len(routed) == 8 and all(group_of[a] == g for a, g in routed)
    with pytest.raises(UsageError, match="suffix_copies=4"):
        search("rsps", data=tensors(), epochs=1, options={"prefix_groups": m}, **TINY)


# ---------------------------------------------------------------------------------------------------------------
# warm start and per-epoch callback


def test_a_warm_start_begins_at_the_given_weights():
    data = tensors()
    first = search("rsps", data=data, epochs=1, batch_size=16, seed=1, options={"candidates": 2}, **TINY)
    state = copy.deepcopy(first.supernet.state_dict())
    still = search("rsps", data=data, epochs=1, batch_size=16, seed=2, lr=0.0, lr_min=0.0, init_state=state,
                   options={"candidates": 2}, **TINY)
    for key, value in still.supernet.named_parameters():  # buffers (BatchNorm running stats) move with lr 0
        assert torch.equal(value, state[key]), key
    with pytest.raises(UsageError, match="init_state does not fit"):
        search("rsps", data=data, epochs=1, batch_size=16, channels=8, cells=1, init_state=state)


def test_a_checkpoint_remembers_its_warm_start(tmp_path):
    data = tensors()
    first = search("rsps", data=data, epochs=1, batch_size=16, options={"candidates": 2}, **TINY)
    search("rsps", data=data, epochs=1, batch_size=16, options={"candidates": 2}, checkpoint=tmp_path, **TINY)
    with pytest.raises(UsageError, match="another search"):
        search("rsps", data=data, epochs=1, batch_size=16, options={"candidates": 2}, checkpoint=tmp_path,
               init_state=first.supernet.state_dict(), **TINY)


def test_on_epoch_is_called_after_every_epoch_with_the_supernet():
    calls = []
    result = search("rsps", data=tensors(), epochs=3, batch_size=16, options={"candidates": 2},
                    on_epoch=lambda epoch, net: calls.append((epoch, net)), **TINY)
    assert [c[0] for c in calls] == [1, 2, 3]
    assert all(net is result.supernet for _, net in calls)


# ---------------------------------------------------------------------------------------------------------------
# BN-only and DI-NAS


@pytest.mark.parametrize("method", ["bn_only", "di_nas"])
def test_bn_supernets_keep_every_other_weight_bit_identical(method):
    data = tensors()
    captured = {}

    def first_epoch(epoch, net):  # the weights after epoch 1 equal those at initialisation except BatchNorm
        captured.setdefault("net", net)

    result = search(method, data=data, epochs=2, batch_size=16, lr=0.1, options={"candidates": 2}
                    if method == "bn_only" else {"paths": 4}, on_epoch=first_epoch, **TINY)
    net = result.supernet
    fresh = search(method, data=data, epochs=1, batch_size=16, lr=0.0, lr_min=0.0, weight_decay=0.0,
                   options={"candidates": 2} if method == "bn_only" else {"paths": 4}, **TINY).supernet
    before, after = fresh.state_dict(), net.state_dict()
    frozen = [n for n, m in net.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert frozen
    for name in frozen:
        assert torch.equal(before[f"{name}.weight"], after[f"{name}.weight"]), name
    bn = [f"{n}.weight" for n, m in net.named_modules() if isinstance(m, nn.BatchNorm2d) and m.affine]
    assert bn and any(not torch.equal(before[k], after[k]) for k in bn)


def test_di_nas_puts_an_affine_batchnorm_after_every_op():
    net = build_supernet("nb201", C=4, N=1, affine=True, track_running_stats=False, op_bn="all")
    for place, module in net.candidate_ops():
        norms = [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]
        assert norms and norms[-1].affine, place


def test_isometric_init_is_delta_orthogonal():
    net = build_supernet("nb201", C=4, N=1, affine=True, track_running_stats=False, op_bn="all")
    isometric_init(net, torch.Generator().manual_seed(0))
    for name, m in net.named_modules():
        if isinstance(m, nn.Conv2d):
            w = m.weight.detach()
            kh, kw = w.shape[2] // 2, w.shape[3] // 2
            centre = w[:, :, kh, kw].double()
            off = w.clone()
            off[:, :, kh, kw] = 0
            assert torch.count_nonzero(off) == 0, name
            small = centre @ centre.T if centre.shape[0] <= centre.shape[1] else centre.T @ centre
            assert torch.allclose(small, CRITICAL_GAIN ** 2 * torch.eye(small.shape[0], dtype=torch.float64),
                                  atol=1e-5), name


def test_every_candidate_op_passes_the_isometry_check_at_initialisation():
    net = build_supernet("nb201", C=8, N=1, affine=True, track_running_stats=False, op_bn="all")
    isometric_init(net, torch.Generator().manual_seed(0))
    x = torch.randn(8, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    spectra = op_spectra(net, x, torch.Generator().manual_seed(2), projections=32)
    assert len(spectra) == 3 * 6 * 5
    live = spectra[spectra.op != "none"]
    # every op that passes a signal keeps its norm: mean squared singular value 1 up to the ReLU factor
    assert live.m1.between(0.7, 2.0).all(), live
    assert spectra[spectra.op == "skip_connect"].spread.between(0.95, 1.1).all()
    convs = spectra[spectra.op.str.startswith("nor_conv")]
    assert convs.spread.between(1.6, 2.5).all()            # ReLU: half the directions, exactly spread 2
    assert (spectra[spectra.op == "none"].gap == math.inf).all()
    # the supernet itself is untouched by the measurement
    assert net.training and all(m.all() for m in net.masks)


def test_di_nas_selects_per_edge_among_well_conditioned_ops():
    result = search("di_nas", data=tensors(), epochs=2, batch_size=16, options={"paths": 8}, **TINY)
    sel = result.selection
    assert sel["arch"] == result.arch == sel["arch_val_loss"]
    gaps = pd.DataFrame(sel["op_spectra"]).set_index(["edge", "op"])["gap_trained"]
    for arch in (sel["arch_val_loss"], sel["arch_gamma"]):
        for edge, op in zip(EDGE_NAMES, parse_arch(arch)):
            assert gaps[(edge, op)] <= sel["threshold"], (edge, op)
            assert op != "none"
    by_gamma = search("di_nas", data=tensors(), epochs=2, batch_size=16,
                      options={"paths": 8, "selection": "gamma"}, **TINY)
    assert by_gamma.arch == by_gamma.selection["arch_gamma"]
    with pytest.raises(UsageError, match="selection"):
        search("di_nas", data=tensors(), epochs=1, options={"selection": "best"}, **TINY)


# ---------------------------------------------------------------------------------------------------------------
# training-free priors


def test_combine_rankings_by_hand():
    cells = ["a", "b", "c"]
    oneshot = pd.Series([3.0, 2.0, 1.0], index=cells)            # ranks (1 = worst): a 3, b 2, c 1
    scores = pd.DataFrame({"synflow": [1.0, 3.0, 2.0]}, index=cells)  # a 1, b 3, c 2
    combined = combine_rankings(oneshot, scores, aggregate="rank_sum")
    assert combined.to_dict() == {"a": 4.0, "b": 5.0, "c": 3.0}
    lower = combine_rankings(oneshot, scores, aggregate="log_rank", directions={"synflow": False})
    assert lower["a"] == pytest.approx(math.log(3 / 3) + math.log(3 / 3))  # best by both
    assert list(combine_rankings(oneshot.iloc[:2], scores).index) == ["a", "b"]  # cells of both only


def test_shrink_by_scores_keeps_the_ops_of_the_best_scored_cells():
    good = format_arch(["nor_conv_3x3"] * 6)
    mid = format_arch(["skip_connect"] * 6)
    bad = format_arch(["none"] * 6)
    scores = pd.DataFrame({"synflow": [3.0, 2.0, 1.0]}, index=[good, mid, bad])
    allowed = shrink_by_scores(scores, keep=2)
    assert allowed == {e: ["nor_conv_3x3", "skip_connect"] for e in EDGE_NAMES}
    assert shrink_by_scores(scores, keep=1, directions={"synflow": False})["1<-0"] == ["none"]
    with pytest.raises(UsageError, match="keep"):
        shrink_by_scores(scores, keep=0)


# ---------------------------------------------------------------------------------------------------------------
# the benchmark end to end, at a toy setting on the real search split


def test_the_sharing_benchmark_runs_resumes_and_reports(data_root, tmp_path):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "supernet_sharing.py"
    spec = importlib.util.spec_from_file_location("supernet_sharing", script)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    common = ["--seeds", "0", "--runs", str(tmp_path / "runs"), "--base", str(tmp_path / "base"), "--channels", "2",
              "--base-epochs", "1", "--extra-epochs", "2", "--groups", "2", "--cells", "12", "--epoch-cells", "4",
              "--max-images", "64", "--threads", "1"]
    assert bench.main(common) == 0
    written = {p.name for p in (tmp_path / "runs" / "seed0").glob("*.csv")}
    assert written == {f"{v}.csv" for v in bench.VARIANTS} | {"full_epochs.csv"}
    stamp = (tmp_path / "runs" / "seed0" / "full.csv").stat().st_mtime_ns
    assert bench.main(common) == 0                      # resumed: nothing is trained or evaluated again
    assert (tmp_path / "runs" / "seed0" / "full.csv").stat().st_mtime_ns == stamp
    out = tmp_path / "report.md"
    assert bench.main(common + ["--report", "--out", str(out)]) == 0
    text = out.read_text()
    for variant in bench.VARIANTS:
        assert f"| {variant} |" in text
    assert "DI-NAS (reconstruction)" in text and "Combination" in text


def test_di_nas_on_a_darts_supernet_is_a_clear_error():
    with pytest.raises(UsageError, match="NB201"):
        search("di_nas", "darts", data=tensors(8), epochs=1, batch_size=8, channels=4, cells=3)
