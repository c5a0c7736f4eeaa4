"""Weight-sharing search (``zeroscore.oneshot``): every method on a tiny supernet (C=4, N=1) and tiny synthetic
tensors, the methods' invariants, kill-and-resume, errors before training, and the official search splits."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from zeroscore.errors import UsageError
from zeroscore.oneshot import METHOD_NAMES, SearchData, search
from zeroscore.oneshot.config import default_config
from zeroscore.oneshot.engine import supernet_options
from zeroscore.oneshot.evaluation import evaluate
from zeroscore.oneshot.methods import GRADIENT_METHODS, METHODS, method_class
from zeroscore.oneshot.paths import path_arch, path_from_weights
from zeroscore.oneshot.trainer import Trainer
from zeroscore.spaces.nb201.arch import parse_arch
from zeroscore.spaces.supernet import build_supernet

TINY = dict(channels=4, cells=1)
#: cheap selection settings for the sampling methods
SELECTION = {"rsps": {"candidates": 4},
             "spos": {"population": 4, "generations": 1, "top": 2, "mutations": 2, "crossovers": 2}}


def tensors(n: int = 16, classes: int = 4, seed: int = 0) -> SearchData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2 * n, 3, 8, 8, generator=g)
    y = torch.randint(0, classes, (2 * n,), generator=g)
    return SearchData(x[:n], y[:n], x[n:], y[n:], num_classes=classes, name="synthetic")


def tiny_trainer(method: str, data: SearchData, seed: int = 0, **settings):
    config = default_config(method, **{"epochs": 2, "batch_size": 16, **settings})
    config.options = dict(SELECTION.get(method, {}))
    net = build_supernet("nb201", seed=seed, **supernet_options("nb201", method, 4, 1, data.num_classes))
    method_obj = method_class(method)(config)
    return net, method_obj, Trainer(net, method_obj, data, config, seed=seed)


# ---------------------------------------------------------------------------------------------------------------
# every method trains


def test_the_registry_matches_the_lazy_names():
    assert tuple(METHODS) == METHOD_NAMES


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_loss_goes_down_on_a_fixed_batch(method):
    data = tensors(16)  # one batch of 16 weight images, seen every step
    result = search(method, data=data, epochs=12, batch_size=16, lr=0.1, lr_min=0.1, options=SELECTION.get(method),
                    **TINY)
    losses = [row["train_loss"] for row in result.history]
    assert np.mean(losses[-3:]) < losses[0], losses
    assert result.images_seen > 0 and result.wall_seconds > 0
    assert result.space == "nb201" and result.arch.count("~") == 6  # a cell of the benchmark


def test_nasp_trains_one_op_per_edge_and_keeps_alphas_in_the_unit_interval(monkeypatch):
    net, nasp, trainer = tiny_trainer("nasp", tensors(32), epochs=3, arch_lr=0.05)
    seen = []
    weight_logits, arch_step = nasp.weight_logits, nasp.arch_step

    def checked_weight_logits(supernet, x):
        out = weight_logits(supernet, x)
        seen.append(supernet.masks[0].sum(dim=1).tolist())  # kept ops per edge during the weight step
        return out

    def checked_arch_step(*args):
        out = arch_step(*args)
        for alpha in nasp.alphas:
            assert float(alpha.detach().min()) >= 0.0 and float(alpha.detach().max()) <= 1.0
        return out

    monkeypatch.setattr(nasp, "weight_logits", checked_weight_logits)
    monkeypatch.setattr(nasp, "arch_step", checked_arch_step)
    start = [a.detach().clone() for a in nasp.alphas]
    assert all(torch.equal(a, torch.full_like(a, 0.5)) for a in start)  # the authors' initialisation
    trainer.train()
    assert seen and all(counts == [1] * 6 for counts in seen)
    assert any(not torch.equal(a, s) for a, s in zip(nasp.alphas, start))


def test_nasp_first_op_ties_stay_at_the_all_none_cell():
    """The code's argmax tie-break on NB201's op order (``none`` first): no gradient ever breaks the tie."""
    config = default_config("nasp", epochs=2, batch_size=16, options={"ties": "first"})
    result = search("nasp", data=tensors(32), config=config, **TINY)
    assert result.arch == "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.mark.parametrize("method", ["rf_darts", "rf_darts_bn"])
def test_rf_darts_keeps_every_conv_weight_and_trains_batchnorm_and_alphas(method):
    net, rf, trainer = tiny_trainer(method, tensors(32), epochs=3)
    before = copy.deepcopy(net.state_dict())
    alphas = [a.detach().clone() for a in rf.alphas]
    trainer.train()
    after = net.state_dict()
    convs = [n for n, m in net.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert convs
    for name in convs:
        assert torch.equal(before[f"{name}.weight"], after[f"{name}.weight"]), name
    bn_affine = [f"{n}.weight" for n, m in net.named_modules()
                 if isinstance(m, nn.BatchNorm2d) and m.affine and n.startswith("cells")]
    assert bn_affine and any(not torch.equal(before[k], after[k]) for k in bn_affine)
    assert all(not torch.equal(a, b) for a, b in zip(alphas, rf.alphas))


def test_rf_darts_bn_puts_a_batchnorm_after_every_parameter_free_op():
    net = build_supernet("nb201", seed=0, **supernet_options("nb201", "rf_darts_bn", 4, 1, 10))
    for place, module in net.candidate_ops():
        has_bn = any(isinstance(m, nn.BatchNorm2d) for m in module.modules())
        assert has_bn == (place.op != "none"), place


def test_gdas_samples_one_op_per_edge_and_anneals_tau(monkeypatch):
    net, gdas, trainer = tiny_trainer("gdas", tensors(32), epochs=3)
    forward = net.forward
    kept = []

    def recording_forward(x, weights=None):
        kept.append(net.masks[0].sum(dim=1).tolist())
        return forward(x, weights)

    monkeypatch.setattr(net, "forward", recording_forward)
    record = trainer.train()
    assert kept and all(counts == [1] * 6 for counts in kept)
    assert [row["tau"] for row in record.history] == pytest.approx([10.0, 5.05, 0.1])


def planted_task(kind: str, n: int = 512, size: int = 8, seed: int = 0) -> SearchData:
    """Two classes whose evidence lives where one op keeps it and the other destroys it.

    ``"high"``: the label is the phase of a checkerboard (the highest spatial frequency) under a large smooth
    (constant) nuisance; a 3x3 average pooling damps the checkerboard ninefold and keeps the nuisance, the identity
    keeps both, so ``skip_connect`` beats ``avg_pool_3x3`` on every edge. ``"low"``: the label is the image mean
    under a large checkerboard nuisance, which pooling removes and the identity passes on: pooling wins."""
    g = torch.Generator().manual_seed(seed)
    i = torch.arange(size)
    board = ((i[:, None] + i[None, :]) % 2 * 2 - 1).float()
    sign = torch.randint(0, 2, (n,), generator=g) * 2 - 1
    amplitude = ((0.5 + 0.5 * torch.rand(n, generator=g)) * sign)[:, None, None, None]
    nuisance = 3 * torch.randn(n, 3, 1, 1, generator=g)
    x = amplitude * board + nuisance if kind == "high" else amplitude + nuisance * board
    y = (sign > 0).long()
    half = n // 2
    return SearchData(x[:half], y[:half], x[half:], y[half:], num_classes=2, name=f"planted-{kind}")


PLANTED = {"high": "skip_connect", "low": "avg_pool_3x3"}


@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_every_gradient_method_finds_the_planted_op(method):
    # a faster architecture step than the full protocol's (arch lr 3e-2 instead of 3e-4, 20 short epochs); GDAS's
    # temperature starts at 1 instead of 10, since its 240-epoch schedule is compressed into 20
    options = {"tau_max": 1.0} if method == "gdas" else None
    result = search(method, data=planted_task("high"), epochs=20, batch_size=32, arch_lr=0.03, options=options,
                    supernet_kwargs={"ops": ("avg_pool_3x3", "skip_connect")}, **TINY)
    ops = parse_arch(result.arch)
    assert sum(op == PLANTED["high"] for op in ops) >= 5, result.arch


@pytest.mark.parametrize("method", ["darts"])
def test_the_found_op_follows_the_plant(method):
    # the control: with the evidence moved to where pooling keeps it, the same search finds pooling everywhere
    found = {kind: search(method, data=planted_task(kind), epochs=20, batch_size=32, arch_lr=0.03,
                          supernet_kwargs={"ops": ("avg_pool_3x3", "skip_connect")}, **TINY).arch
             for kind in PLANTED}
    for kind, op in PLANTED.items():
        assert parse_arch(found[kind]) == (op,) * 6, (kind, found[kind])


def test_sampling_methods_select_with_one_shot_accuracy():
    data = tensors(32)
    result = search("rsps", data=data, epochs=1, batch_size=16, options={"candidates": 3}, **TINY)
    assert result.selection["arch"] == result.arch
    again = evaluate(result.supernet, [result.arch], data)
    assert 0.0 <= again[0] <= 100.0


# ---------------------------------------------------------------------------------------------------------------
# checkpoints


@pytest.mark.parametrize("method", ["gdas", "nasp", "rsps"])
def test_kill_and_resume_ends_like_an_uninterrupted_run(method, tmp_path, monkeypatch):
    data = tensors(48)  # 3 steps per epoch
    kwargs = dict(data=data, epochs=3, batch_size=16, options=SELECTION.get(method), seed=3, **TINY)
    whole = search(method, checkpoint=tmp_path / "whole", **kwargs)

    cls = method_class(method)
    calls = {"n": 0}
    weight_logits = cls.weight_logits

    def killed(self, supernet, x):
        calls["n"] += 1
        if calls["n"] == 5:  # in the middle of the second epoch
            raise KeyboardInterrupt
        return weight_logits(self, supernet, x)

    monkeypatch.setattr(cls, "weight_logits", killed)
    with pytest.raises(KeyboardInterrupt):
        search(method, checkpoint=tmp_path / "killed", **kwargs)
    monkeypatch.setattr(cls, "weight_logits", weight_logits)
    resumed = search(method, checkpoint=tmp_path / "killed", **kwargs)

    assert resumed.resumed_at == 1 and whole.resumed_at == 0
    assert resumed.arch == whole.arch
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in whole.history]
    if method != "rsps":
        assert resumed.history[-1]["op_weights"] == whole.history[-1]["op_weights"]
    for key, value in whole.supernet.state_dict().items():
        assert torch.equal(value, resumed.supernet.state_dict()[key]), key


def test_a_checkpoint_of_another_search_is_refused(tmp_path):
    data = tensors(16)
    search("darts", data=data, epochs=1, batch_size=16, checkpoint=tmp_path, **TINY)
    with pytest.raises(UsageError, match="another search"):
        search("darts", data=data, epochs=1, batch_size=16, checkpoint=tmp_path, seed=1, **TINY)


def test_a_seed_gives_the_same_search_on_cpu():
    runs = [search("gdas", data=tensors(32), epochs=2, batch_size=16, seed=5, **TINY) for _ in range(2)]
    untimed = [[{k: v for k, v in row.items() if k != "seconds"} for row in run.history] for run in runs]
    assert untimed[0] == untimed[1] and runs[0].arch == runs[1].arch


# ---------------------------------------------------------------------------------------------------------------
# bad input: clear errors before any training


@pytest.fixture
def no_training(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr("zeroscore.oneshot.engine.Trainer", fail)
    monkeypatch.setattr("zeroscore.oneshot.engine.SearchData.load", fail)


def test_an_unknown_method_is_an_error_before_training(no_training):
    with pytest.raises(UsageError, match="unknown weight-sharing method 'dartz'.*darts"):
        search("dartz", "nb201", "cifar10", **TINY)


@pytest.mark.parametrize("epochs", [0, -2])
def test_epochs_must_be_positive(no_training, epochs):
    with pytest.raises(UsageError, match="epochs"):
        search("darts", "nb201", "cifar10", epochs=epochs, **TINY)


def test_a_split_file_of_another_dataset_is_an_error_before_training(no_training, tmp_path):
    wrong = tmp_path / "cifar100-test-split.txt"
    wrong.write_text(json.dumps({"xvalid": ["int", [str(i) for i in range(5000)]],
                                 "xtest": ["int", [str(i) for i in range(5000, 10000)]]}))
    with pytest.raises(UsageError, match="does not match dataset 'cifar10'.*cifar-split.txt"):
        search("darts", "nb201", "cifar10", split_file=wrong, **TINY)


@pytest.mark.parametrize("kwargs, needle", [
    (dict(dataset="gaussian"), "no search split"),
    (dict(space="nb101"), "no supernet"),
    (dict(options={"tau": 1}), "has no option"),
    (dict(device="cuda:7" if not torch.cuda.is_available() else "cpu", method="nope"), "nope"),
])
def test_other_bad_input_is_an_error_before_training(no_training, kwargs, needle):
    args = {"method": "gdas", "space": "nb201", "dataset": "cifar10", **kwargs}
    with pytest.raises(UsageError, match=needle):
        search(**args, **TINY)


# ---------------------------------------------------------------------------------------------------------------
# the DARTS space: NASP and RF-DARTS end to end at a tiny setting


@pytest.mark.parametrize("method", ["nasp", "rf_darts"])
def test_darts_space_search_returns_a_genotype_whose_network_builds(method):
    from zeroscore import spaces

    result = search(method, "darts", data=tensors(8), epochs=1, batch_size=8, channels=4, cells=3)
    genotype = result.arch
    assert len(genotype.normal) == 8 and len(genotype.reduce) == 8
    assert all(op != "none" for op, _ in genotype.normal + genotype.reduce)
    net = spaces.get("darts").build(genotype, num_classes=4)
    assert net(torch.randn(2, 3, 8, 8)).shape == (2, 4)


def test_paths_from_weights_follow_darts_parse():
    layout = build_supernet("darts", seed=0, C=4, layers=3).layout
    weights = [torch.zeros(layout.mask_shape) for _ in layout.cell_types]
    rows = layout.edges_into(3)  # 3<-0, 3<-1, 3<-2: the node keeps its two strongest real edges
    weights[0][rows[0], layout.op_index("none")] = 9.0  # none never counts
    weights[0][rows[1], layout.op_index("sep_conv_3x3")] = 1.0
    weights[0][rows[2], layout.op_index("dil_conv_3x3")] = 0.5
    genotype = path_arch(layout, path_from_weights(layout, weights))
    assert genotype.normal[2:4] == (("sep_conv_3x3", 1), ("dil_conv_3x3", 2))


# ---------------------------------------------------------------------------------------------------------------
# the official search splits (the project's data folder)


def test_the_cifar10_sample_gives_the_provenance_counts(data_root):
    data = SearchData.load("cifar10", root=data_root)
    assert (len(data.train_y), len(data.valid_y)) == (2541, 2629)
    assert "official cifar-split.txt" in data.source


def test_cifar100_trains_weights_on_all_train_images_and_alphas_on_xvalid(data_root):
    from zeroscore.data import load_images
    from zeroscore.oneshot.splits import read_split_file

    data = SearchData.load("cifar100", root=data_root)
    n_train, n_test = len(load_images("cifar100", data_root, "train")[1]), len(load_images("cifar100", data_root,
                                                                                             "test")[1])
    xvalid = read_split_file(data_root / "nas_splits" / "cifar100-test-split.txt", "cifar100")["xvalid"]
    assert len(data.train_y) == n_train and len(data.valid_y) == int((xvalid < n_test).sum())


def test_without_split_files_the_fallback_is_a_seeded_half(data_root, tmp_path):
    (tmp_path / "cifar10_sample").symlink_to(data_root / "cifar10_sample")
    first = SearchData.load("cifar10", root=tmp_path, seed=1)
    assert "fallback" in first.source and len(first.train_y) == 5170 // 2
    assert torch.equal(first.valid_y, SearchData.load("cifar10", root=tmp_path, seed=1).valid_y)


def test_oneshot_never_imports_truth():
    package = Path(__file__).resolve().parents[1] / "zeroscore" / "oneshot"
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any("truth" in n for n in names), path
