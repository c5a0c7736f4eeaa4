"""The probe's max pooling (maxima found in the channels-last layout, gathered in NCHW) is ``nn.MaxPool2d`` bit for
bit: outputs, indices, gradients and double backward, with ties (ReLU zeros, rounded values), NaN and -inf in the
windows; it runs natively wherever it is not certain or not measured; NAS-Bench-101 cells score the same with it.
(That the probe swaps it in on its copy only: ``tests/test_cpu_routes.py``.)"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import zeroscore
from zeroscore._cpu_routes import MaxPool2dByChannelsLast, faster_pooling

#: NB101's and DARTS's max_pool_3x3 (stride 1 and the reduction's stride 2), dilated, ceil mode, non-square, 5x5
POOLINGS = [dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=3, stride=2, padding=1),
            dict(kernel_size=3, stride=1, padding=1, dilation=2),
            dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
            dict(kernel_size=(3, 2), stride=(1, 1), padding=(1, 0), ceil_mode=True),
            dict(kernel_size=5, stride=1, padding=2), dict(kernel_size=2, stride=1)]


def _both(kwargs):
    native = nn.MaxPool2d(**kwargs)
    fast = nn.MaxPool2d(**kwargs)
    faster_pooling(fast)
    assert type(fast) is MaxPool2dByChannelsLast
    return native, fast


def _input(kind: str, dtype: torch.dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(3, 5, 11, 12, generator=g, dtype=dtype).relu() * 2).round()  # many tied maxima, zeros above all
    if kind == "nan":
        x[0, 0, 2:5, 3] = float("nan")
        x[1, 2, 4, 4:7] = float("nan")
    elif kind == "-inf":
        x[0, 0, 2:5, 3] = float("-inf")
        x[1, 1] = float("-inf")
    elif kind == "negative":
        x = -x - 1
    elif kind == "distinct":
        x = torch.randn(3, 5, 11, 12, generator=g, dtype=dtype)
    return x.requires_grad_()


@pytest.mark.parametrize("kwargs", POOLINGS, ids=str)
@pytest.mark.parametrize("kind, dtype", list(itertools.product(["ties", "nan", "-inf", "negative", "distinct"],
                                                                 [torch.float32, torch.float64])), ids=str)
def test_max_pooling_by_channels_last_is_max_pooling_bit_for_bit(kwargs, kind, dtype):
    native, fast = _both(kwargs)
    x = _input(kind, dtype)
    assert fast._by_channels_last(x)  # the route runs, not the native fallback
    y0, y1 = native(x), fast(x)
    assert torch.equal(y1.nan_to_num(), y0.nan_to_num()) and torch.equal(y1.isnan(), y0.isnan())
    g = torch.randn(y0.shape, dtype=dtype, generator=torch.Generator().manual_seed(1))
    (d0,), (d1,) = (torch.autograd.grad(y, x, g, create_graph=True) for y in (y0, y1))
    assert torch.equal(d1, d0) and d1.is_contiguous()  # the gradient leaves in the caller's layout
    # double backward (GraSP's Hessian-gradient products): through the pooling's backward
    cotangent = g.clone().requires_grad_()
    second = []
    for pool in (native, fast):
        d, = torch.autograd.grad(pool(x), x, cotangent, create_graph=True)
        second.append(torch.autograd.grad((d * d).sum(), cotangent)[0])
    assert torch.equal(second[1], second[0])
    with_indices = [nn.MaxPool2d(**kwargs, return_indices=True) for _ in range(2)]
    faster_pooling(with_indices[1])
    (v0, i0), (v1, i1) = (pool(x) for pool in with_indices)
    assert torch.equal(i1, i0) and torch.equal(v1.nan_to_num(), v0.nan_to_num())


class _SeenCalls(torch.overrides.TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.layouts = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is F.max_pool2d or func is torch.max_pool2d:
            self.layouts.append(args[0].is_contiguous(memory_format=torch.channels_last))
        return func(*args, **(kwargs or {}))


def test_max_pooling_runs_natively_where_the_route_is_not_certain_or_not_measured():
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    native, fast = _both(POOLINGS[0])
    _, downsampling = _both(dict(kernel_size=2, stride=2, ceil_mode=True))  # NB101's: no overlap, measured slower
    _, global_pool = _both(dict(kernel_size=8, stride=1))  # spans the map: observers look for global poolings
    for pool, odd in ((downsampling, x), (global_pool, x), (fast, x[0]), (fast, x.half()), (fast, x.transpose(2, 3)),
                      (fast, x.contiguous(memory_format=torch.channels_last))):
        assert not pool._by_channels_last(odd)
    assert torch.equal(downsampling(x), F.max_pool2d(x, 2, 2, ceil_mode=True))
    assert torch.equal(fast(x[0]), native(x[0]))  # an unbatched input: the native kernel
    # a mode that may look at pooling (a user's, zeroscore's FLOP counter) sees the native call on the input itself
    with _SeenCalls() as seen:
        fast(x)
    assert seen.layouts == [False]
    from zeroscore._modes import MacCounter
    with MacCounter() as counter:
        fast(x)
    with MacCounter() as reference:
        native(x)
    assert counter.total == reference.total > 0
    # under torch.func (no channels-last copies of batched tensors): the native kernel, the same per-sample Jacobian
    per_sample = [torch.func.vmap(torch.func.jacrev(lambda s, pool=pool: pool(s.unsqueeze(0)).sum()))(x)
                  for pool in (native, fast)]
    assert torch.equal(per_sample[1], per_sample[0])


#: a NAS-Bench-101 cell with two max_pool_3x3 vertices, on a narrow network (16 stem channels, two stacks)
NB101_ARCH = ('{"matrix":[[0,1,1,1,0],[0,0,1,0,1],[0,0,0,1,0],[0,0,0,0,1],[0,0,0,0,0]],'
              '"ops":["input","maxpool3x3","conv3x3-bn-relu","maxpool3x3","output"]}')


def test_indicators_on_a_max_pooling_cell_agree_with_native_pooling(monkeypatch):
    """Every gradient and activation indicator of an NB101 cell with max-pooling vertices, scored with and without
    the route: the same values (the route is exact; only the rest of the pass is the same computation)."""
    model = zeroscore.spaces.NB101Space(stem_channels=16, num_stacks=2, cells_per_stack=1).build(
        NB101_ARCH, num_classes=10, seed=0)
    assert sum(type(m) is nn.MaxPool2d for m in model.modules()) == 2 * 2 + 1  # two per cell, one downsampling
    x = torch.randn(8, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 10, (8,), generator=torch.Generator().manual_seed(1))
    names = ["ntk_cond", "grad_norm", "snip", "grasp", "synflow", "naswot", "zen", "jacobian_isometry", "fisher",
             "zico"]
    fast = zeroscore.score(model, x, y, indicators=names)
    monkeypatch.setattr(zeroscore.probe, "faster_pooling", lambda model: None)
    native = zeroscore.score(model, x, y, indicators=names)
    for name in names:
        assert fast.errors.get(name) is None, fast.errors.get(name)
        assert fast[name] == native[name], name
