"""GPU behaviour: every indicator gives the CPU value on CUDA, and a model living on the GPU is left untouched.

These tests need a CUDA device and are skipped without one (CI has none); they were run on an H100 (see
``benchmarks/results/gpu_checks.md``). Random draws of the indicators are made on the CPU and moved, and scoring
runs in full float32 (no TF32), so the two devices differ only by floating-point summation order.
"""

from __future__ import annotations

import math

import pytest
import torch

import zeroscore
from zeroscore.testing import assert_unchanged, contract_batch, make_model, snapshot

ALL = zeroscore.list_indicators()


@pytest.fixture(scope="module")
def batch():
    return contract_batch("resnet")


def prepare_user_model(kind: str):
    """A model in a deliberately unusual state: eval mode on one part, a frozen layer, a hook of its own."""
    model = make_model(kind)
    calls: list = []
    first = next(m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)))
    first.weight.requires_grad_(False)
    first.register_forward_hook(lambda *a: calls.append(1))
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()
            break
    return model, calls

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

#: relative tolerance CPU vs CUDA. Most indicators agree to ~1e-5; counts of distinct ReLU codes and condition
#: numbers of near-singular matrices can move more when an activation sits within rounding of zero.
RTOL = {"default": 1e-3, "linear_regions": 2e-2, "ntk_cond": 2e-2, "ntk_generalization": 2e-2,
        "gradsign": 2e-2, "swap": 2e-2, "epe_nas": 2e-2}


@pytest.mark.parametrize("kind", ["resnet", "mlp", "frelu"])
@pytest.mark.parametrize("name", ALL)
def test_cuda_value_matches_cpu(name, kind, batch):
    x, y = batch
    model = make_model(kind)
    cpu = zeroscore.score(model, x, y, indicators=[name], seed=0)
    gpu = zeroscore.score(model, x, y, indicators=[name], seed=0, device="cuda")
    a, b = cpu[name], gpu[name]
    assert math.isnan(a) == math.isnan(b), (a, b, cpu.errors, gpu.errors)
    if not math.isnan(a):
        assert b == pytest.approx(a, rel=RTOL.get(name, RTOL["default"]), abs=1e-6), (name, kind, a, b)


@pytest.mark.parametrize("kind", ["resnet", "frelu"])
def test_model_on_cuda_untouched_and_scored_there(kind, batch):
    x, y = batch
    model, calls = prepare_user_model(kind)
    model.cuda()
    before = snapshot(model)
    result = zeroscore.score(model, x.cuda(), y.cuda(), indicators="all", seed=0)
    assert_unchanged(before, model)
    assert calls == []
    assert all(p.is_cuda for p in model.parameters())
    assert torch.backends.cudnn.allow_tf32 is True, "scoring must restore the process-wide TF32 flag"
    failed = {k: v for k, v in result.errors.items() if not math.isfinite(result[k])}
    # the only acceptable failures are the documented not-applicable ones of the CPU contract tests
    cpu = zeroscore.score(model.cpu(), x, y, indicators="all", seed=0)
    assert set(failed) == {k for k, v in cpu.values.items() if math.isnan(v)}, (failed, cpu.errors)


def test_score_many_on_cuda_matches_cpu(data_root):
    from zeroscore.runner import score_many

    kw = dict(indicators=["naswot", "synflow", "grad_norm", "linear_regions"], dataset="cifar10", batch_size=16)
    cpu = score_many("nb201", 3, **kw, progress=False)
    gpu = score_many("nb201", 3, **kw, progress=False, device="cuda")
    assert gpu["error"].isna().all(), gpu["error"].dropna().tolist()
    for (a, b) in zip(cpu["value"], gpu["value"]):
        assert b == pytest.approx(a, rel=2e-2)
