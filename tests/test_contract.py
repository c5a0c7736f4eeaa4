"""Contract tests, parametrized over EVERY registered indicator and three kinds of model.

Each indicator must: give a finite value or NaN with an error; leave the caller's model exactly as it was
(parameters, buffers incl. BN running stats, training flags, requires_grad, hooks), also when it raises
mid-way; leave no hook and no torch-function mode behind; be deterministic for a fixed seed; and, when named
explicitly, reject a missing `needs` before doing any work.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import zeroscore
from zeroscore.errors import MissingInputError
from zeroscore.indicators.base import indicator_class
from zeroscore.models import SmallResNet
from zeroscore.testing import C, H, N, assert_unchanged, make_model, snapshot  # noqa: F401

ALL = zeroscore.list_indicators()


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(N, C, H, H, generator=g), torch.randint(0, 5, (N,), generator=g)


def prepare_user_model(kind: str) -> tuple[nn.Module, list]:
    """A model in a deliberately unusual state: eval mode on one part, a frozen layer, a hook of its own."""
    model = make_model(kind)
    calls: list = []
    first = next(m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    first.weight.requires_grad_(False)
    first.register_forward_hook(lambda *a: calls.append(1))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
            break
    return model, calls


@pytest.mark.parametrize("kind", ["resnet", "mlp", "frelu"])
@pytest.mark.parametrize("name", ALL)
def test_value_and_model_untouched(name, kind, batch):
    x, y = batch
    model, calls = prepare_user_model(kind)
    before = snapshot(model)
    rng_before = torch.get_rng_state()
    result = zeroscore.score(model, x, y, indicators=[name], seed=0)
    value = result[name]
    assert isinstance(value, float)
    assert math.isfinite(value) or (math.isnan(value) and result.errors.get(name)), (value, result.errors)
    assert result.seconds[name] >= 0
    assert_unchanged(before, model)
    assert calls == [], "the caller's hook must not fire: scoring runs on a hook-free copy"
    assert torch.equal(rng_before, torch.get_rng_state()), "the global RNG state must be left as it was"


@pytest.mark.parametrize("name", ALL)
def test_deterministic_for_fixed_seed(name, batch):
    x, y = batch
    model = make_model("resnet")
    a = zeroscore.score(model, x, y, indicators=[name], seed=3)[name]
    b = zeroscore.score(model, x, y, indicators=[name], seed=3)[name]
    assert a == b or (math.isnan(a) and math.isnan(b))


class Exploding(RuntimeError):
    pass


class FlakyNet(nn.Module):
    """Raises from its `fail_at`-th forward call on (counted across copies through a shared list)."""

    def __init__(self, fail_at: int, counter: list):
        super().__init__()
        self.body = SmallResNet(num_classes=5, width=4)
        self.fail_at = fail_at
        self.counter = counter  # lists are shared by deepcopy only if we make it so, see __deepcopy__

    def __deepcopy__(self, memo):
        import copy

        new = FlakyNet.__new__(FlakyNet)
        memo[id(self)] = new
        new.__dict__.update({k: (v if k == "counter" else copy.deepcopy(v, memo)) for k, v in self.__dict__.items()})
        return new

    def forward(self, x):
        self.counter.append(1)
        if len(self.counter) >= self.fail_at:
            raise Exploding("boom in the middle of scoring")
        return self.body(x)


@pytest.mark.parametrize("fail_at", [1, 2])
@pytest.mark.parametrize("name", ALL)
def test_failure_midway_leaves_nothing_behind(name, fail_at, batch):
    x, y = batch
    model = FlakyNet(fail_at, [])
    before = snapshot(model)
    result = zeroscore.score(model, x, y, indicators=[name, "naswot"] if name != "naswot" else [name], seed=0)
    value = result[name]
    assert math.isfinite(value) or (math.isnan(value) and result.errors[name])
    if fail_at == 1 and indicator_class(name).cost != "none":  # every forward raises
        assert math.isnan(value) and "boom" in result.errors[name]
    assert_unchanged(before, model)


@pytest.mark.parametrize("name", [n for n in ALL if "labels" in indicator_class(n).needs])
def test_missing_labels_rejected_before_work(name, batch):
    x, _ = batch
    counter: list = []
    model = FlakyNet(10**9, counter)
    with pytest.raises(MissingInputError, match="labels"):
        zeroscore.score(model, x, None, indicators=[name])
    assert counter == [], "no forward pass may run before the needs are checked"


def test_all_without_labels_records_reason(batch):
    x, _ = batch
    result = zeroscore.score(make_model("mlp"), x, None, indicators="all")
    for name in ALL:
        if "labels" in indicator_class(name).needs:
            assert math.isnan(result[name]) and "labels" in result.errors[name]


@pytest.mark.parametrize("name", ALL)
def test_metadata(name):
    cls = indicator_class(name)
    assert cls.name == name and cls.paper and cls.__doc__ and len(cls.__doc__) > 80
    assert isinstance(cls.higher_is_better, bool)
    ind = zeroscore.get_indicator(name)
    params = ind.get_params()
    # constructor stores parameters verbatim
    assert zeroscore.get_indicator(name, **params).get_params() == params


def test_functional_relu_is_seen(batch):
    x, y = batch
    result = zeroscore.score(make_model("frelu"), x, y, indicators=["naswot", "linear_regions"])
    assert not result.errors


def test_no_relu_is_a_clear_error(batch):
    x, y = batch
    model = nn.Sequential(nn.Flatten(), nn.Linear(C * H * H, 16), nn.Tanh(), nn.Linear(16, 5))
    result = zeroscore.score(model, x, y, indicators=["naswot", "linear_regions", "ntk_cond"])
    assert "ReLU" in result.errors["naswot"] and "ReLU" in result.errors["linear_regions"]
    assert math.isfinite(result["ntk_cond"])


def test_all_core_indicators_on_the_three_models(batch):
    x, y = batch
    core = ["ntk_cond", "linear_regions", "naswot", "ntk_generalization", "jacobian_isometry", "block_isometry"]
    for kind in ["resnet", "mlp", "frelu"]:
        result = zeroscore.score(make_model(kind), x, y, indicators=core)
        assert not result.errors, (kind, result.errors)
        assert all(math.isfinite(result[n]) for n in core), (kind, dict(result))


def test_functional_relu_variants_are_recorded():
    from zeroscore._modes import ReluRecorder

    x = torch.randn(4, 6)
    with ReluRecorder(4) as rec:
        nn.ReLU()(x)
        F.relu(x)
        torch.relu(x)
        x.relu()
        nn.ReLU(inplace=True)(x.clone())
    assert len(rec.codes) == 5
    assert all(torch.equal(c, rec.codes[0]) for c in rec.codes)


# ---------------------------------------------------------------------------------------------------------------
# metadata that is checked: needs, cost, finiteness


#: indicators allowed to be NaN on all three contract models, with the reason (empty: none may be)
EXPECTED_NAN: dict[str, str] = {}


@pytest.mark.parametrize("name", ALL)
def test_finite_on_at_least_one_contract_model(name, batch):
    x, y = batch
    values = {kind: zeroscore.score(make_model(kind), x, y, indicators=[name], seed=0)[name]
              for kind in ("resnet", "mlp", "frelu")}
    if name in EXPECTED_NAN:
        return
    assert any(math.isfinite(v) for v in values.values()), (name, values)


def _requires(name: str) -> frozenset:
    return zeroscore.get_indicator(name).requires()


@pytest.mark.parametrize("name", [n for n in ALL if "data" not in _requires(n)])
def test_without_data_need_ignores_input_values(name, batch):
    x, y = batch
    other = torch.randn(x.shape, generator=torch.Generator().manual_seed(99)) * 3 + 1
    model = make_model("resnet")
    a = zeroscore.score(model, x, y, indicators=[name], seed=0)[name]
    b = zeroscore.score(model, other, y, indicators=[name], seed=0)[name]
    assert a == b or (math.isnan(a) and math.isnan(b)), (a, b)


@pytest.mark.parametrize("name", [n for n in ALL if "labels" not in _requires(n)])
def test_without_labels_need_ignores_labels(name, batch):
    x, y = batch
    model = make_model("resnet")
    a = zeroscore.score(model, x, y, indicators=[name], seed=0)[name]
    b = zeroscore.score(model, x, None, indicators=[name], seed=0)[name]
    assert a == b or (math.isnan(a) and math.isnan(b)), (a, b)


class _NoBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("backward through this model is forbidden")


class NoBackwardNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = make_model("resnet")

    def forward(self, x):
        return _NoBackward.apply(self.body(x))


@pytest.mark.parametrize("name", [n for n in ALL if "gradients" not in _requires(n)])
def test_without_gradients_need_runs_no_backward(name, batch):
    x, y = batch
    result = zeroscore.score(NoBackwardNet(), x, y, indicators=[name], seed=0)
    assert "forbidden" not in result.errors.get(name, ""), result.errors


@pytest.mark.parametrize("name", [n for n in ALL if indicator_class(n).cost == "none"])
def test_cost_none_runs_no_forward(name, batch):
    x, y = batch
    result = zeroscore.score(FlakyNet(1, []), x, y, indicators=[name], seed=0)
    assert math.isfinite(result[name]), result.errors


@pytest.mark.parametrize("name", ALL)
def test_float_inputs_need_on_a_token_model(name):
    from zeroscore.testing import contract_batch

    x, y = contract_batch("tokens")
    result = zeroscore.score(make_model("tokens"), x, y, indicators=[name], seed=0)
    error = result.errors.get(name, "")
    if "float_inputs" in _requires(name):
        assert math.isnan(result[name]) and "needs float inputs" in error
    else:
        for dtype_error in ("indices", "expected scalar type", "Long", "dtype"):
            assert dtype_error not in error, (name, error)


@pytest.mark.parametrize("name", ALL)
def test_relu_need(name, batch):
    x, y = batch
    model = nn.Sequential(nn.Flatten(), nn.Linear(C * H * H, 16), nn.Tanh(), nn.Linear(16, 5))
    result = zeroscore.score(model, x, y, indicators=[name], seed=0)
    if "relu" in _requires(name):
        assert "ReLU" in result.errors.get(name, ""), result.errors
    else:
        assert "ReLU" not in result.errors.get(name, "")


@pytest.mark.parametrize("name", ALL)
def test_probe_hooks_unchanged_after_each_indicator(name, batch):
    from zeroscore._nn import hook_keys
    from zeroscore.probe import Probe

    x, y = batch
    probe = Probe(make_model("resnet"), x, y, seed=0)
    before = hook_keys(probe.model)
    zeroscore.score(None, x, y, indicators=[name], probe=probe)
    assert hook_keys(probe.model) == before
