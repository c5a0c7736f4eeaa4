"""Registry, score() API and probe behaviour."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import zeroscore
from zeroscore import passes
from zeroscore.indicators.base import Indicator, UnknownIndicatorError, register
from zeroscore.models import SmallResNet, mlp
from zeroscore.probe import Probe


def test_list_indicators_with_wildcards():
    names = zeroscore.list_indicators()
    assert names == sorted(names)
    for core in ["ntk_cond", "linear_regions", "naswot", "ntk_generalization", "jacobian_isometry", "block_isometry"]:
        assert core in names
    assert set(zeroscore.list_indicators("ntk*")) >= {"ntk_cond", "ntk_generalization"}
    assert zeroscore.list_indicators("no_such_*") == []


def test_unknown_indicator_lists_close_names():
    with pytest.raises(UnknownIndicatorError, match="ntk_cond") as info:
        zeroscore.get_indicator("ntk_condition")
    assert "did you mean" in str(info.value)
    with pytest.raises(UnknownIndicatorError):
        zeroscore.score(mlp(), torch.randn(2, 3, 32, 32), indicators=["nasWOT"])


def test_parameters_stored_verbatim_and_bad_parameter_named():
    ind = zeroscore.get_indicator("ntk_cond", repeats=3)
    assert ind.repeats == 3 and ind.get_params()["repeats"] == 3
    assert "repeats=3" in repr(ind)
    with pytest.raises(TypeError, match="ntk_cond"):
        zeroscore.get_indicator("ntk_cond", no_such_parameter=1)


def test_indicator_spec_forms():
    x, y = torch.randn(6, 3, 8, 8), torch.randint(0, 10, (6,))
    model = mlp(in_features=3 * 8 * 8, hidden=(8,))
    by_list = zeroscore.score(model, x, y, indicators=["naswot", "ntk_cond"])
    by_str = zeroscore.score(model, x, y, indicators="naswot,ntk_cond")
    by_pattern = zeroscore.score(model, x, y, indicators="ntk_c*")
    by_dict = zeroscore.score(model, x, y, indicators={"ntk_cond": {"repeats": 2}})
    by_instance = zeroscore.score(model, x, y, indicators=[zeroscore.get_indicator("naswot")])
    assert set(by_list) == set(by_str) == {"naswot", "ntk_cond"}
    assert list(by_pattern) == ["ntk_cond"] and by_pattern["ntk_cond"] == by_list["ntk_cond"]
    assert by_dict.params["ntk_cond"]["repeats"] == 2
    assert by_instance["naswot"] == by_list["naswot"]
    with pytest.raises(ValueError, match="twice"):
        zeroscore.score(model, x, y, indicators=["naswot", "naswot"])
    with pytest.raises(ValueError, match="no indicator matches"):
        zeroscore.score(model, x, y, indicators="zzz*")


def test_result_frame_and_repr():
    x, y = torch.randn(4, 3, 8, 8), torch.randint(0, 10, (4,))
    result = zeroscore.score(mlp(in_features=192, hidden=(8,)), x, y, indicators=["naswot", "ntk_cond"])
    frame = result.to_frame()
    assert list(frame.columns) == ["value", "seconds", "error"]
    assert frame.loc["naswot", "value"] == result["naswot"]
    assert "naswot=" in repr(result)


class _Exploding(Indicator):
    """Test-only indicator that registers a hook on the private copy and then raises."""

    name = "_test_exploding"
    paper = "test"

    def compute(self, probe):
        probe.model.register_forward_hook(lambda *a: None)
        raise RuntimeError("exploded on purpose")


def test_failing_indicator_records_error_and_others_run():
    register(_Exploding)  # registered only for this test, so other tests see the real registry
    try:
        x, y = torch.randn(4, 3, 8, 8), torch.randint(0, 10, (4,))
        model = mlp(in_features=192, hidden=(8,))
        result = zeroscore.score(model, x, y, indicators=["_test_exploding", "naswot"])
        assert math.isnan(result["_test_exploding"])
        assert "exploded on purpose" in result.errors["_test_exploding"]
        assert math.isfinite(result["naswot"])
        assert all(not m._forward_hooks for m in model.modules())
    finally:
        from zeroscore.indicators import base

        base._REGISTRY.pop("_test_exploding", None)


class _OutOfMemoryOnce(Indicator):
    """Test-only indicator that runs out of GPU memory on its first attempt (as when processes share a GPU)."""

    name = "_test_oom_once"
    paper = "test"
    attempts = 0

    def compute(self, probe):
        type(self).attempts += 1
        if type(self).attempts == 1:
            probe.cached("big pass", lambda: 1)
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        assert "big pass" not in probe._cache, "the retry must start from a cleared cache"
        return 7.0


def test_out_of_memory_is_retried_once_then_recorded():
    register(_OutOfMemoryOnce)
    try:
        x, y = torch.randn(4, 3, 8, 8), torch.randint(0, 10, (4,))
        model = mlp(in_features=192, hidden=(8,))
        result = zeroscore.score(model, x, y, indicators=["_test_oom_once"])
        assert result["_test_oom_once"] == 7.0 and not result.errors
        _OutOfMemoryOnce.attempts = -5  # fails on both attempts now
        _OutOfMemoryOnce.compute = lambda self, probe: (_ for _ in ()).throw(torch.OutOfMemoryError("still"))
        result = zeroscore.score(model, x, y, indicators=["_test_oom_once"])
        assert math.isnan(result["_test_oom_once"]) and "OutOfMemoryError" in result.errors["_test_oom_once"]
    finally:
        from zeroscore.indicators import base

        base._REGISTRY.pop("_test_oom_once", None)


def test_gpu_jacobian_chunk_shrinks_for_big_models():
    from zeroscore.passes import gpu_chunk_size as _gpu_chunk_size

    small, big = nn.Linear(100, 10), nn.Linear(10_000, 5_000)  # 1e3 vs 5e7 weights
    assert _gpu_chunk_size(small, 64) == 64
    assert 1 <= _gpu_chunk_size(big, 64) < 8
    assert _gpu_chunk_size(big, 16) >= _gpu_chunk_size(big, 64)


def test_probe_restores_batchnorm_stats_between_indicators():
    torch.manual_seed(0)
    model = SmallResNet(width=4)
    probe = Probe(model, torch.randn(4, 3, 8, 8))
    before = {k: v.clone() for k, v in probe.model.state_dict().items()}
    passes.relu_codes(probe, train=True)  # runs the copy in train mode: BN stats move, then are restored
    assert all(torch.equal(before[k], v) for k, v in probe.model.state_dict().items())


@pytest.mark.parametrize("snapshot", [True, False])
def test_probe_restores_from_a_snapshot_or_from_the_callers_tensors(snapshot):
    torch.manual_seed(0)
    model = SmallResNet(width=4)
    probe = Probe(model, torch.randn(4, 3, 8, 8), snapshot=snapshot)
    original = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in probe.model.parameters():
            p.mul_(3.0)  # an indicator scribbling on the copy
        model.stem[0].weight.add_(1.0)  # the caller changing the model while the probe lives
    probe.restore()
    restored = probe.model.state_dict()
    # a snapshot restores the values at construction; without, the caller's tensors as they are now
    expected = original if snapshot else model.state_dict()
    assert all(torch.equal(restored[k], expected[k]) for k in expected)
    assert not torch.equal(model.stem[0].weight, original["stem.0.weight"])  # the caller's change is the caller's


def test_a_probe_given_to_score_is_restored_after_the_last_indicator():
    torch.manual_seed(0)
    model = SmallResNet(width=4)
    x = torch.randn(4, 3, 8, 8)
    probe = Probe(model, x)
    before = {k: v.clone() for k, v in probe.model.state_dict().items()}

    class Scribbler(Indicator):
        name, higher_is_better, needs = "scribbler_for_test", True, frozenset()

        def compute(self, probe):
            with torch.no_grad():
                for p in probe.model.parameters():
                    p.zero_()
            return 1.0

    zeroscore.score(model, x, indicators=[Scribbler()], probe=probe)
    assert all(torch.equal(before[k], v) for k, v in probe.model.state_dict().items())


def test_seeded_rng_seeds_like_manual_seed_and_restores_only_what_it_seeded(monkeypatch):
    from zeroscore._nn import seeded_rng

    model = SmallResNet(width=4)
    torch.manual_seed(5)
    expected = torch.rand(3)
    state = torch.get_rng_state()
    # torch.manual_seed would also seed (or queue seeding of) every CUDA device: the caller's streams must not move
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: pytest.fail("seeded every CUDA device"))
    with seeded_rng(5):
        assert torch.equal(torch.rand(3), expected)
    assert torch.equal(torch.get_rng_state(), state)
    result = zeroscore.score(model, torch.ones(4, 3, 8, 8), indicators=["naswot", "synflow"])
    assert not result.errors and torch.equal(torch.get_rng_state(), state)


def test_probe_reinitialised_repeats_differ_and_are_seeded():
    torch.manual_seed(0)
    model = SmallResNet(width=4)
    x = torch.randn(4, 3, 8, 8)
    a = Probe(model, x, seed=0).params("*", repeat=1)
    b = Probe(model, x, seed=0).params("*", repeat=1)
    own = Probe(model, x, seed=0).params("*", repeat=0)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], own[k]) for k in a if k.endswith("conv1.weight"))


@pytest.mark.parametrize("scheme", ["gaussian", "kaiming_fanin"])
def test_seeded_reinitialisation_without_a_copy_is_the_copy_reinitialised(scheme):
    """The probe's seeded re-initialisations (Zen-NAS, AZ-NAS) skip the module copy: the same draws in the same
    order, tied weights included, and the model untouched."""
    from zeroscore._copies import private_copy, reinitialize, reinitialized_parameters

    torch.manual_seed(0)
    tied = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 1),
                         nn.GroupNorm(2, 4), nn.Flatten(), nn.LazyLinear(2))
    tied[3].weight = tied[2].weight
    tied(torch.randn(1, 3, 6, 6))
    tied.register_parameter("scale", nn.Parameter(torch.tensor(3.0)))  # kept by every scheme
    tied[0].to(memory_format=torch.channels_last)
    for model in (SmallResNet(width=4), tied, zeroscore.spaces.get("nb201").build(
            "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|none~1|nor_conv_3x3~2|", seed=0)):
        before = {k: v.clone() for k, v in model.state_dict().items()}
        fresh = reinitialized_parameters(model, scheme, seed=7)
        copied = reinitialize(private_copy(model), scheme, seed=7)
        expected = dict(copied.named_parameters())
        assert list(fresh) == list(expected)
        assert all(torch.equal(fresh[k], expected[k]) and not fresh[k].requires_grad for k in fresh)
        assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(ValueError, match="seeded scheme"):
        reinitialized_parameters(tied, "reset", seed=0)


def test_device_argument_cpu_and_results_are_floats():
    x = torch.randn(4, 3, 8, 8)
    result = zeroscore.score(mlp(in_features=192, hidden=(8,)), x, indicators=["naswot"], device="cpu")
    assert type(result["naswot"]) is float


def test_targets_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="targets"):
        zeroscore.score(mlp(in_features=192, hidden=(8,)), torch.randn(4, 3, 8, 8), torch.zeros(3, dtype=torch.long),
                        indicators=["naswot"])


def test_not_a_module_is_an_error():
    with pytest.raises(TypeError, match="nn.Module"):
        zeroscore.score(lambda x: x, torch.randn(2, 3))


def test_tuple_and_dict_outputs_are_understood():
    class TupleNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = mlp(in_features=192, hidden=(8,))

        def forward(self, x):
            out = self.body(x)
            return out.detach() * 0, out  # (features, logits) like NB201's reference networks

    x = torch.randn(4, 3, 8, 8)
    # (features, logits) is ambiguous: say which element holds the logits
    net = TupleNet()
    with pytest.raises(zeroscore.InvalidInputError, match="logits="):
        zeroscore.score(net, x, indicators=["naswot", "ntk_cond"])
    result = zeroscore.score(net, x, indicators=["naswot", "ntk_cond"], logits=-1)
    assert not result.errors
    by_key = zeroscore.score(net, x, indicators=["naswot", "ntk_cond"], logits=lambda out: out[1])
    assert by_key.values == result.values

    class DictNet(TupleNet):
        def forward(self, x):
            return {"logits": self.body(x), "aux": x}

    assert not zeroscore.score(DictNet(), x, indicators=["ntk_cond"]).errors


def test_score_pauses_the_cyclic_collector_and_gives_it_back_as_it_was():
    import gc

    model = SmallResNet(width=4)
    x = torch.randn(4, 3, 8, 8)
    seen = []

    class Peek(Indicator):
        name, higher_is_better, needs = "gc_peek_for_test", True, frozenset()

        def compute(self, probe):
            seen.append(gc.isenabled())
            return 1.0

    was = gc.isenabled()
    try:
        for enabled in (True, False):
            gc.enable() if enabled else gc.disable()
            zeroscore.score(model, x, indicators=[Peek()])
            assert gc.isenabled() is enabled
            with pytest.raises(zeroscore.errors.InvalidInputError):  # an error on the way out too
                zeroscore.score(model, x[:0], indicators=[Peek()])
            assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
    assert seen == [False, False]
