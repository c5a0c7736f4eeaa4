"""What a hostile user and a hostile indicator do, enrolled so it stays fixed: integer inputs, hook-defined layers,
bad batches and labels, ambiguous outputs, thread counts, indicators that break the probe, damaged stores."""

from __future__ import annotations

import copy
import math
import shutil
import sqlite3
import threading

import pytest
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

import zeroscore
from zeroscore.errors import InvalidInputError, StoreError
from zeroscore.indicators.base import Indicator, register, unregister
from zeroscore.probe import Probe
from zeroscore.testing import C, assert_unchanged, contract_batch, make_model, snapshot

ALL = zeroscore.list_indicators()


@pytest.fixture(scope="module")
def batch():
    return contract_batch("resnet")


# ---------------------------------------------------------------------------------------------------------------
# 7. integer inputs


def test_token_model_keeps_integer_inputs_and_most_indicators_work():
    x, y = contract_batch("tokens")
    model = make_model("tokens")
    before = snapshot(model)
    result = zeroscore.score(model, x, y)
    assert_unchanged(before, model)
    finite = [n for n in ALL if math.isfinite(result[n])]
    float_only = [n for n in ALL if "float_inputs" in zeroscore.get_indicator(n).requires()]
    for name in float_only:
        assert "needs float inputs" in result.errors[name]
    assert len(finite) >= 14, (finite, result.errors)
    assert not x.is_floating_point()  # the caller's token ids were not cast


# ---------------------------------------------------------------------------------------------------------------
# 8. layers defined by hooks; models that cannot be copied


def _hooked_models():
    torch.manual_seed(3)
    norm = nn.Sequential(nn.utils.weight_norm(nn.Conv2d(C, 4, 3, padding=1)), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 5))
    pruned = nn.Sequential(nn.Conv2d(C, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                           nn.Linear(4, 5))
    nn.utils.prune.random_unstructured(pruned[0], "weight", amount=0.5)
    return {"weight_norm": norm, "prune": pruned}


def _materialised(model: nn.Module) -> nn.Module:
    """The same network with every hook-computed weight stored as a plain parameter."""
    import copy

    plain = copy.deepcopy(model)
    conv = plain[0]
    weight = conv.weight.detach().clone()
    for hook_name in ("weight_g", "weight_v", "weight_orig", "weight_mask"):
        conv._parameters.pop(hook_name, None)
        conv._buffers.pop(hook_name, None)
    conv._forward_pre_hooks.clear()
    del conv.weight
    conv.weight = nn.Parameter(weight)
    return plain


@pytest.mark.parametrize("kind", ["weight_norm", "prune"])
def test_hook_defined_layers_are_kept_in_the_copy(kind, batch):
    x, y = batch
    model = _hooked_models()[kind]
    model(x)  # computes the hook's weight once, as a user's forward would
    calls: list = []
    model.register_forward_hook(lambda *a: calls.append(1))  # a user hook: stripped, never fires
    probe = Probe(model, x, y)
    with torch.no_grad():
        expected = model(x)
    calls.clear()
    assert torch.allclose(probe.forward(train=False), expected, atol=1e-6)
    # indicators of the network's function on the batch (swap with the network's own weights: a re-initialisation
    # of a weight-normalised layer draws its direction and magnitude, not a plain weight)
    forward_only = {"naswot": {}, "swap": {"repeats": 1, "batch_size": None, "init": None}, "linear_regions": {},
                    "jacov": {}, "jacobian_isometry": {}, "flops": {}}
    hooked = zeroscore.score(model, x, y, indicators=forward_only, seed=0)
    plain = zeroscore.score(_materialised(model), x, y, indicators=forward_only, seed=0)
    for name in hooked:
        assert hooked[name] == pytest.approx(plain[name], rel=1e-5), (name, hooked[name], plain[name])
    assert calls == []


def test_spectral_norm_models_score_without_dtype_errors(batch):
    x, y = batch
    for legacy in (True, False):
        from zeroscore.testing import spectral_norm_net

        model = spectral_norm_net(legacy=legacy)
        before = snapshot(model)
        result = zeroscore.score(model, x, y, indicators=["synflow", "snip", "naswot", "ntk_cond"])
        assert not result.errors, (legacy, result.errors)
        assert_unchanged(before, model)


def test_layer_weights_of_hook_defined_layers_are_scored(batch):
    from zeroscore._nn import layer_weight_names

    assert layer_weight_names(_hooked_models()["weight_norm"]) == ["0.weight_v", "4.weight"]
    assert layer_weight_names(_hooked_models()["prune"]) == ["0.weight_orig", "4.weight"]


def test_a_model_that_cannot_be_copied_names_the_module(batch):
    x, _ = batch
    model = make_model("mlp")
    model[1].lock = threading.Lock()
    with pytest.raises(InvalidInputError, match=r"sub-module '1'.*deepcopy|deepcopy.*sub-module '1'"):
        zeroscore.score(model, x, indicators=["naswot"])



def test_private_copy_is_a_deepcopy_in_every_way_scoring_sees():
    from zeroscore._copies import private_copy

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(2))
    model(torch.randn(2, 3, 6, 6))
    model[0].weight.requires_grad_(False)
    model[0].weight.data = model[0].weight.data.contiguous(memory_format=torch.channels_last)
    model.twin = nn.Linear(2, 2)
    model.twin2 = nn.Linear(2, 2)
    model.twin2.weight = model.twin.weight  # tied weights stay tied in the copy
    model[1].running_mean.tag = "carries an attribute"  # tensors with Python state: copy.deepcopy
    model[1].register_buffer("scratch", torch.ones(2), persistent=False)
    model[0].weight.grad = torch.ones_like(model[0].weight)
    copy = private_copy(model)
    for (name, a), (_, b) in zip(list(model.named_parameters()) + list(model.named_buffers()),
                                 list(copy.named_parameters()) + list(copy.named_buffers())):
        assert type(a) is type(b) and a.requires_grad == b.requires_grad, name
        assert torch.equal(a, b) and a.data_ptr() != b.data_ptr(), name
        assert a.is_contiguous(memory_format=torch.channels_last) == b.is_contiguous(
            memory_format=torch.channels_last), name
    assert copy.twin2.weight is copy.twin.weight
    assert copy[1].running_mean.tag == "carries an attribute"
    assert copy[1]._non_persistent_buffers_set == {"scratch"}
    assert copy[1]._non_persistent_buffers_set is not model[1]._non_persistent_buffers_set
    assert copy[0].weight.grad is None  # scoring clears gradients anyway
    assert copy[0].padding == model[0].padding and copy[0]._reversed_padding_repeated_twice == \
        model[0]._reversed_padding_repeated_twice
    x = torch.randn(2, 3, 6, 6)
    assert torch.equal(copy.eval()(x), model.eval()(x))

# ---------------------------------------------------------------------------------------------------------------
# 9. bad numbers in: one clear error up front (or NaN with a reason)


@pytest.mark.parametrize("case, match", [
    ("nan_inputs", "NaN/Inf"),
    ("empty", "empty"),
    ("fractional_labels", "fractional"),
    ("column_labels", r"squeeze\(1\)"),
    ("one_hot", r"argmax\(1\)"),
    ("negative_labels", ">= 0"),
    ("labels_out_of_range", "labels go up to"),
    ("no_parameters", "no parameters"),
    ("meta", "meta device"),
])
def test_bad_input_is_one_clear_error(case, match, batch):
    x, y = batch
    model = make_model("resnet")
    if case == "nan_inputs":
        x = x.clone()
        x[0, 0, 0, 0] = math.nan
    elif case == "empty":
        x, y = x[:0], y[:0]
    elif case == "fractional_labels":
        y = y.float() + 0.5
    elif case == "column_labels":
        y = y[:, None]
    elif case == "one_hot":
        y = nn.functional.one_hot(y, 5)
    elif case == "negative_labels":
        y = y - 10
    elif case == "labels_out_of_range":
        y = y + 50
    elif case == "no_parameters":
        model = nn.Sequential(nn.Flatten(), nn.ReLU())
    elif case == "meta":
        model = model.to("meta")
    with pytest.raises(InvalidInputError, match=match):
        zeroscore.score(model, x, y, indicators="all")


def test_only_real_nan_or_inf_inputs_are_refused(batch):
    from zeroscore.probe import check_batch

    x, _ = batch
    model = make_model("resnet")
    huge = torch.full((4, 3, 8, 8), 3e38)  # finite values whose sum overflows: accepted
    check_batch(model, huge)
    for bad in (math.inf, -math.inf, math.nan):
        x_bad = x.clone()
        x_bad[-1, -1, -1, -1] = bad
        with pytest.raises(InvalidInputError, match="NaN/Inf"):
            check_batch(model, x_bad)
    both = x.clone()
    both[0, 0, 0, 0], both[1, 0, 0, 0] = math.inf, -math.inf  # a sum of NaN, not a finite one
    with pytest.raises(InvalidInputError, match="holds 2 NaN/Inf"):
        check_batch(model, both)


def test_a_model_made_of_inference_tensors_scores_as_a_normal_one(batch):
    x, y = batch
    model = make_model("resnet")
    names = ["ntk_cond", "snip", "synflow", "naswot", "fisher", "zen"]
    expected = zeroscore.score(model, x, y, indicators=names, seed=0)
    with torch.inference_mode():
        frozen = copy.deepcopy(model)  # parameters and buffers become inference tensors
    assert all(t.is_inference() for t in [*frozen.parameters(), *frozen.buffers()])
    before = snapshot(frozen)
    result = zeroscore.score(frozen, x, y, indicators=names, seed=0)
    assert result.values == expected.values and not result.errors
    assert_unchanged(before, frozen)


def test_integral_float_labels_are_accepted(batch):
    x, y = batch
    a = zeroscore.score(make_model("resnet"), x, y, indicators=["snip"])
    b = zeroscore.score(make_model("resnet"), x, y.float(), indicators=["snip"])
    assert a["snip"] == b["snip"]


def test_batch_of_one_gives_reasons_not_garbage(batch):
    x, y = batch
    result = zeroscore.score(make_model("resnet"), x[:1], y[:1], indicators=["ntk_cond", "naswot", "meco", "params"])
    assert math.isnan(result["ntk_cond"]) and "at least 2 inputs" in result.errors["ntk_cond"]
    assert math.isnan(result["naswot"]) and "at least 2 inputs" in result.errors["naswot"]
    assert math.isfinite(result["meco"]) and math.isfinite(result["params"])


@pytest.mark.parametrize("context", ["inference_mode", "no_grad"])
def test_scoring_inside_inference_mode_or_no_grad(context, batch):
    x, y = batch
    model = make_model("resnet")
    names = ["ntk_cond", "snip", "jacov", "naswot"]
    outside = zeroscore.score(model, x, y, indicators=names)
    ctx = torch.inference_mode() if context == "inference_mode" else torch.no_grad()
    with ctx:
        xi, yi = x.clone(), y.clone()  # inference tensors when made in inference mode
        inside = zeroscore.score(model, xi, yi, indicators=names)
    assert inside.values == outside.values and not inside.errors


# ---------------------------------------------------------------------------------------------------------------
# 10. outputs


def test_logits_selector_forms_and_errors(batch):
    x, y = batch

    class Multi(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = make_model("resnet")

        def forward(self, x):
            logits = self.body(x)
            return {"features": logits.detach() * 2, "scores": logits}

    net = Multi()
    with pytest.raises(InvalidInputError, match="logits"):
        zeroscore.score(net, x, y, indicators=["naswot"])
    by_key = zeroscore.score(net, x, y, indicators=["ntk_cond"], logits="scores")
    by_fn = zeroscore.score(net, x, y, indicators=["ntk_cond"], logits=lambda out: out["scores"])
    assert by_key.values == by_fn.values and not by_key.errors
    with pytest.raises(InvalidInputError, match="does not select"):
        zeroscore.score(net, x, y, indicators=["ntk_cond"], logits="nope")


# ---------------------------------------------------------------------------------------------------------------
# 12. hostile custom indicators cannot corrupt the rest of the run or the caller's objects


class _EnterMode(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


HOSTILE = {
    "_hostile_float64": lambda probe: probe.model.double(),
    "_hostile_hook": lambda probe: probe.model.register_forward_hook(lambda m, a, o: o * 0),
    "_hostile_delete": lambda probe: delattr(probe.model, "fc"),
    "_hostile_inputs": lambda probe: probe.inputs.mul_(100.0),
    "_hostile_inputs_data": lambda probe: probe.inputs.data.add_(7.0),
    "_hostile_param": lambda probe: setattr(probe.model, "fc", nn.Linear(16, 5)),
    "_hostile_dtype": lambda probe: torch.set_default_dtype(torch.float64),
    "_hostile_mode": lambda probe: _EnterMode().__enter__(),
}


@pytest.fixture()
def hostile():
    classes = []
    for name, act in HOSTILE.items():
        cls = type(name, (Indicator,), {"name": name, "paper": "test", "__doc__": "hostile test indicator",
                                        "compute": lambda self, probe, act=act: (act(probe), 1.0)[1]})
        classes.append(register(cls))
    yield list(HOSTILE)
    for name in HOSTILE:
        unregister(name)


@pytest.mark.parametrize("order", ["before", "after"])
def test_hostile_indicator_cannot_corrupt_the_next_one(order, hostile, batch):
    x, y = batch
    honest = ["naswot", "ntk_cond", "snip", "meco"]
    model = make_model("resnet")
    alone = zeroscore.score(model, x, y, indicators=honest, seed=0)
    for name in hostile:
        x_caller = x.clone()
        before = snapshot(model)
        chosen = [name, *honest] if order == "before" else [*honest, name]
        result = zeroscore.score(model, x_caller, y, indicators=chosen, seed=0)
        for h in honest:
            assert result[h] == alone[h], (name, h, result[h], alone[h])
        assert torch.equal(x_caller, x), f"{name} changed the caller's batch"
        assert_unchanged(before, model)


# ---------------------------------------------------------------------------------------------------------------
# 13. stores: damaged, unwritable, copied while open, merged with their write-ahead log


def test_damaged_and_unwritable_stores_name_the_file(tmp_path):
    from zeroscore.store import load_scores, open_store

    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="bad.sqlite"):
        open_store(bad)
    with pytest.raises(StoreError, match="no score store"):
        load_scores(tmp_path / "missing.sqlite")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if not (folder / "probe").exists():
            try:
                (folder / "probe").write_text("x")
                writable = True
            except PermissionError:
                writable = False
            if not writable:
                with pytest.raises(StoreError, match="ro"):
                    open_store(folder / "s.sqlite")
    finally:
        folder.chmod(0o700)


def _rows(n: int) -> list[dict]:
    return [{"space": "toy", "arch": str(i), "dataset": "gaussian", "batch_size": 4, "split": "train", "seed": 0,
             "indicator": "params", "params_hash": "h", "params": "{}", "value": float(i), "seconds": 0.0,
             "error": None} for i in range(n)]


def test_closed_store_is_one_file_and_merge_sees_the_wal(tmp_path):
    from zeroscore.store import open_store

    path = tmp_path / "a.sqlite"
    st = open_store(path)
    st.add_rows(_rows(5))
    shutil.copy(path, tmp_path / "copied_open.sqlite")
    shutil.copy(str(path) + "-wal", str(tmp_path / "copied_open.sqlite") + "-wal")
    with open_store(tmp_path / "m.sqlite") as merged:
        assert merged.merge(tmp_path / "copied_open.sqlite") == 5  # rows still in the -wal file count
    st.backup(tmp_path / "backup.sqlite")
    st.close()
    shutil.copy(path, tmp_path / "copied_closed.sqlite")  # no -wal: close() checkpointed
    for name in ("copied_closed.sqlite", "backup.sqlite"):
        con = sqlite3.connect(tmp_path / name)
        assert con.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 5, name
        con.close()


def test_sigterm_marks_the_run_terminated(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from zeroscore.store import load_runs

    tests = Path(__file__).resolve().parent
    store = tmp_path / "t.sqlite"
    script = tmp_path / "job.py"
    script.write_text(f"""
import sys, time
sys.path.insert(0, {str(tests)!r})
import torch
torch.set_num_threads(1)
from test_runner import ToySpace
from zeroscore.runner import score_many

class Slow(ToySpace):
    def build(self, arch, num_classes=10, seed=None):
        time.sleep(0.2)
        return super().build(arch, num_classes, seed)

score_many(Slow(), [str(w) for w in range(2, 40)], indicators=["params"], dataset="gaussian", batch_size=4,
           store={str(store)!r}, progress=False)
""")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            con = sqlite3.connect(store, timeout=5)
            n = con.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
            con.close()
            if n >= 2:
                break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, (out, err)
    assert load_runs(store)["status"].iloc[-1] == "terminated"
