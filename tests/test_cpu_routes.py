"""The CPU's routes (rows side by side, dead layers skipped, pooling by convolution) give the plain algorithm's values.

``zeroscore._cpu_routes`` changes how TE-NAS's per-sample Jacobian is scheduled, never what it is: every row is
the plain loop's row on models that are easy to get wrong (train-mode BatchNorm, frozen and tied weights, ``F.relu``
calls, NAS-Bench-201 cells with ``none`` edges feeding convolutions), whatever the number of workers; a layer
leaves the graph only when its input is an all-zero ReLU output.
"""

from __future__ import annotations

import copy

import pytest
import torch
from test_reference import _jacobian_models, _tenas_jacobian
from torch import nn

import zeroscore
from zeroscore import passes
from zeroscore._cpu_routes import (
    AvgPool2dByConvolution,
    MaxPool2dByChannelsLast,
    dead_layers_skipped,
    faster_pooling,
    run_each,
)
from zeroscore.probe import Probe

#: NB201 cells where node 1 is a ``none`` edge: two (or one) of their convolutions read an all-zero ReLU output
DEAD_EDGE_CELLS = ["|none~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|skip_connect~2|",
                   "|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_1x1~1|skip_connect~2|"]


def _count_nodes(output: torch.Tensor, name: str) -> int:
    seen, stack, count = set(), [output.grad_fn], 0
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        count += node.name() == name
        stack.extend(next_node for next_node, _ in node.next_functions)
    return count


class _DeadEdge(nn.Module):
    """A ``none`` edge (``x * 0``) into ReLU -> conv beside a live conv -> BatchNorm path. The dead conv's bias
    (when it has one) gets a real gradient: a BatchNorm right after it would make that gradient exactly zero."""

    def __init__(self, bias: bool = True):
        super().__init__()
        self.live = nn.Conv2d(3, 4, 3, padding=1)
        self.dead = nn.Conv2d(3, 4, 3, padding=1, bias=bias)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        h = self.bn(self.live(x)) + self.dead(torch.relu(x * 0.0))
        return self.head(torch.relu(h).mean(dim=(2, 3)))


def _models() -> dict[str, nn.Module]:
    models = _jacobian_models()
    space = zeroscore.spaces.get("nb201")
    for k, arch in enumerate(DEAD_EDGE_CELLS):
        models[f"nb201_dead_edges_{k}"] = space.build(arch, num_classes=4, seed=k)
    torch.manual_seed(0)
    models["dead_edge_with_bias"] = _DeadEdge()
    return models


@pytest.mark.parametrize("kind", sorted(_models()))
def test_rows_route_is_the_plain_loop_whatever_the_workers(kind):
    model = _models()[kind]
    size = 16 if kind.startswith("nb201") else 8
    x = torch.randn(6, 3, size, size, generator=torch.Generator().manual_seed(1))
    probe = Probe(model, x)
    for pattern in ("*weight*", "*"):  # biases too: a skipped layer's bias keeps its gradient
        params = probe.params(pattern)
        plain = passes.sum_logit_jacobian_loop(probe, True, params)
        one = passes.sum_logit_jacobian_rows(probe, True, params, workers=1)
        # the loop runs on torch's intra-op threads, each row here on one: the convolutions' weight-gradient sums
        # are split differently, so float32 rounding relative to the largest entries (seen: 1e-6 of them on an
        # AVX-512 CPU, in entries 400x smaller)
        assert torch.allclose(one, plain, rtol=1e-5, atol=1e-5 * float(plain.abs().max()))
        for workers in (2, 3, 8):  # each row on one thread with the same kernels: the same bits
            assert torch.equal(passes.sum_logit_jacobian_rows(probe, True, params, workers=workers), one)
    assert torch.equal(passes.sum_logit_jacobian(probe), passes.sum_logit_jacobian_rows(probe, True,
                                                                                        probe.params("*weight*")))
    # the probe's copy pools by convolution, the reference natively: float32 rounding differs (entries ~1)
    assert torch.allclose(passes.sum_logit_jacobian(probe), _tenas_jacobian(model, x), rtol=1e-5, atol=2e-5)


@pytest.mark.parametrize("arch, dead", list(zip(DEAD_EDGE_CELLS, [2, 2])))
def test_convolutions_on_dead_edges_leave_the_graph(arch, dead):
    """Per cell, the convolutions fed by node 1 (all zero): 5 cells per stage, 3 stages."""
    model = zeroscore.spaces.get("nb201").build(arch, num_classes=4, seed=0).train()
    x = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    full = _count_nodes(model(x), "ConvolutionBackward0")
    with dead_layers_skipped(model):
        cut = _count_nodes(model(x), "ConvolutionBackward0")
    assert full - cut == dead * 15
    assert all(not m._forward_hooks for m in model.modules())  # hooks gone


def test_only_a_zero_relu_output_is_dead():
    torch.manual_seed(0)
    model = _DeadEdge(bias=False).train()
    x = torch.randn(4, 3, 8, 8)
    with dead_layers_skipped(model):
        assert _count_nodes(model(x), "ConvolutionBackward0") == 1  # the dead conv left
        # an all-zero input that is not a ReLU's output may still receive a gradient: kept
        zero = torch.zeros(4, 3, 8, 8, requires_grad=True)
        out = model.dead(zero)
        assert out.requires_grad
        grad, = torch.autograd.grad(out.sum(), zero)
    assert torch.equal(grad, torch.autograd.grad(model.dead(zero).sum(), zero)[0]) and grad.abs().sum() > 0
    # a layer with its own forward hook (or a subclass) is never touched, and keeps its hook
    seen = []
    model.dead.register_forward_hook(lambda m, a, o: seen.append(o.requires_grad))
    with dead_layers_skipped(model):
        model(x)
    assert seen == [True] and len(model.dead._forward_hooks) == 1


def test_hooks_are_removed_when_the_body_raises():
    model = _DeadEdge()
    with pytest.raises(RuntimeError, match="boom"), dead_layers_skipped(model):
        assert model.live._forward_hooks
        raise RuntimeError("boom")
    assert all(not m._forward_hooks for m in model.modules())


def test_run_each_raises_an_error_of_an_item_and_restores_the_thread_count():
    threads = torch.get_num_threads()
    done = []

    def row(i):
        assert torch.get_num_threads() == 1
        if i == 3:
            raise ValueError("row 3")
        done.append(i)

    with pytest.raises(ValueError, match="row 3"):
        run_each(range(8), row, workers=2)
    assert torch.get_num_threads() == threads
    done.clear()
    run_each(range(5), lambda i: done.append(i), workers=16)  # more workers than rows
    assert sorted(done) == list(range(5)) and torch.get_num_threads() == threads


def test_score_leaves_the_model_untouched_by_the_route():
    model = zeroscore.spaces.get("nb201").build(DEAD_EDGE_CELLS[0], num_classes=4, seed=0)
    before = copy.deepcopy(model.state_dict())
    x = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    zeroscore.score(model, x, indicators=["ntk_cond"])
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(not m._forward_hooks for m in model.modules())


def test_swap_repeats_side_by_side_give_the_serial_scores_and_leave_the_global_rng():
    model = zeroscore.spaces.get("nb201").build(DEAD_EDGE_CELLS[1], num_classes=4, seed=0)
    x = torch.randn(16, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    threads, state = torch.get_num_threads(), torch.get_rng_state()
    try:
        torch.set_num_threads(1)  # one worker
        serial = zeroscore.score(model, x, indicators=["swap"], seed=3)["swap"]
        torch.set_num_threads(2)  # two workers, each re-initialising its own copy
        side = zeroscore.score(model, x, indicators=["swap"], seed=3)["swap"]
    finally:
        torch.set_num_threads(threads)
    assert serial == side and serial > 0
    assert torch.equal(torch.get_rng_state(), state)  # the seeded re-initialisations never touch torch's RNG


def test_isometry_pullbacks_side_by_side_are_the_projected_jacobian():
    from zeroscore.indicators._isometry import _haar_frame, compressed_gram

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                        nn.Linear(4 * 5 * 5, 6)).train()
    x = torch.randn(3, 3, 5, 5)
    m, d = compressed_gram(net, x, 8, torch.Generator().manual_seed(1))
    assert d == 18  # the output side (3 x 6) is the smaller
    u = _haar_frame(d, 8, torch.Generator().manual_seed(1))
    jac = torch.autograd.functional.jacobian(net, x).reshape(d, -1).double()
    assert torch.allclose(m, u.T @ jac @ jac.T @ u, rtol=1e-5, atol=1e-8)


# ------------------------------------------------------------------------------------------------------------------
# average pooling as a depthwise convolution

POOLINGS = [dict(kernel_size=3, stride=1, padding=1, count_include_pad=False),  # NB201's avg_pool_3x3
            dict(kernel_size=3, stride=1, padding=1),
            dict(kernel_size=2, stride=2),  # NB201's residual shortcut
            dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),  # DARTS's reduction pooling
            dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), count_include_pad=False),
            dict(kernel_size=5, stride=3, padding=2, count_include_pad=False)]


def _both(kwargs):
    native = nn.AvgPool2d(**kwargs)
    fast = nn.AvgPool2d(**kwargs)
    faster_pooling(fast)
    assert type(fast) is AvgPool2dByConvolution
    return native, fast


@pytest.mark.parametrize("kwargs", POOLINGS, ids=str)
@pytest.mark.parametrize("shape", [(4, 3, 9, 8), (3, 7, 7), (2, 5, 16, 16)], ids=str)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_pooling_by_convolution_is_pooling(kwargs, shape, dtype):
    """Forward, backward and double backward equal the native kernels', on batched and unbatched inputs."""
    native, fast = _both(kwargs)
    x = torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(0)).requires_grad_()
    assert fast._by_convolution(x) is not None  # the convolution runs, not the native fallback
    tol = dict(rtol=1e-6, atol=1e-7) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-14)
    y0, y1 = native(x), fast(x)
    torch.testing.assert_close(y1, y0, **tol)
    g = torch.randn(y0.shape, dtype=dtype, generator=torch.Generator().manual_seed(1))
    (d0,), (d1,) = (torch.autograd.grad(y, x, g, create_graph=True) for y in (y0, y1))
    torch.testing.assert_close(d1, d0, **tol)
    # double backward (GraSP's Hessian-gradient products): through the pooling's backward
    cotangent = g.clone().requires_grad_()
    second = []
    for pool in (native, fast):
        d, = torch.autograd.grad(pool(x), x, cotangent, create_graph=True)
        second.append(torch.autograd.grad((d * d).sum(), cotangent)[0])
    torch.testing.assert_close(second[1], second[0], **tol)
    if len(shape) == 4:  # channels-last inputs, per-sample gradients under torch.func
        xl = x.detach().contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(fast(xl), native(xl), **tol)
        per_sample = [torch.func.vmap(torch.func.jacrev(lambda s, pool=pool: pool(s).sum()))(x.detach())
                      for pool in (native, fast)]
        torch.testing.assert_close(per_sample[1], per_sample[0], **tol)


def test_window_counts_made_under_inference_mode_serve_autograd_later():
    _, fast = _both(POOLINGS[0])
    x = torch.randn(2, 3, 13, 11)  # a size no other test pools: its counts are made here
    with torch.inference_mode():
        fast(x)
    y = x.clone().requires_grad_()
    out = fast(y)
    assert out.grad_fn.name() == "DivBackward0"  # the convolution, divided by the counts made above
    (grad,) = torch.autograd.grad(out.sum(), y)
    assert torch.isfinite(grad).all()


class _SeenCalls(torch.overrides.TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.funcs = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.funcs.append(func)
        return func(*args, **(kwargs or {}))


def test_pooling_runs_natively_where_the_convolution_is_not_certain_or_not_measured():
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    for kwargs in (dict(kernel_size=3, stride=1, padding=1, ceil_mode=True), dict(kernel_size=3, divisor_override=2),
                   dict(kernel_size=8)):  # ceil mode, a divisor override, a global pooling
        native, fast = _both(kwargs)
        with _SeenCalls() as seen:
            assert torch.equal(fast(x), native(x))
        assert torch.nn.functional.avg_pool2d in seen.funcs and torch.nn.functional.conv2d not in seen.funcs
    native, fast = _both(POOLINGS[0])
    for odd in (x.half(), x.to(torch.int64)):  # dtypes not measured: the native kernel (or its error)
        assert fast._by_convolution(odd) is None
    # a mode that may look at pooling (a user's, zeroscore's FLOP counter) sees the pooling call
    with _SeenCalls() as seen:
        fast(x)
    assert torch.nn.functional.avg_pool2d in seen.funcs
    from zeroscore._modes import GlobalPoolRecorder, MacCounter
    with MacCounter() as counter:
        fast(x)
    with MacCounter() as reference:
        native(x)
    assert counter.total == reference.total > 0
    with GlobalPoolRecorder([]) as recorder:  # it looks for global poolings only: the convolution may run
        fast(x)
    assert recorder.events == []


@pytest.mark.parametrize("native, faster", [(nn.AvgPool2d, AvgPool2dByConvolution),
                                             (nn.MaxPool2d, MaxPool2dByChannelsLast)], ids=["avg", "max"])
def test_the_probe_swaps_pooling_on_its_copy_only(native, faster):
    class OwnPool(native):  # a subclass may override forward: left alone
        pass

    model = nn.Sequential(nn.Conv2d(3, 4, 3), native(3, 1, 1), OwnPool(2), nn.Flatten(), nn.LazyLinear(2))
    model(torch.randn(1, 3, 9, 9))
    probe = Probe(model, torch.randn(2, 3, 9, 9))
    assert [type(m) for m in probe.model] == [nn.Conv2d, faster, OwnPool, nn.Flatten, nn.Linear]
    assert type(model[1]) is native  # the caller's model keeps its class


@pytest.mark.parametrize("arch", ["|avg_pool_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|"
                                  "avg_pool_3x3~2|"])
def test_indicators_on_pooling_cells_agree_with_native_pooling(arch, monkeypatch):
    """Every indicator of an NB201 cell with three pooling edges, scored with and without the convolution: the same
    values to float rounding (indicators that cross a threshold, such as ReLU codes, exactly)."""
    model = zeroscore.spaces.get("nb201").build(arch, num_classes=10, seed=0)
    x = torch.randn(16, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 10, (16,), generator=torch.Generator().manual_seed(1))
    names = ["ntk_cond", "grad_norm", "snip", "grasp", "synflow", "naswot", "zen", "jacobian_isometry", "fisher"]
    fast = zeroscore.score(model, x, y, indicators=names)
    monkeypatch.setattr(zeroscore.probe, "faster_pooling", lambda model: None)
    native = zeroscore.score(model, x, y, indicators=names)
    for name in names:
        assert fast[name] == pytest.approx(native[name], rel=1e-4), name


@pytest.mark.parametrize("arch", DEAD_EDGE_CELLS)
def test_loss_gradients_with_dead_layers_skipped_are_the_plain_ones(arch, monkeypatch):
    """The loss gradients (grad_norm, snip, plain, GraSP) and ZiCo's chunk gradients skip dead convolutions: every
    parameter's gradient is the plain backward's, the dead convolutions' exact zeros included."""
    model = zeroscore.spaces.get("nb201").build(arch, num_classes=4, seed=0)
    x = torch.randn(8, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 4, (8,), generator=torch.Generator().manual_seed(1))
    probe = Probe(model, x, y)
    names = tuple(passes.layer_weight_names(probe))
    plain = copy.deepcopy(model).train()
    faster_pooling(plain)  # the probe's kernels
    skipping = passes.dead_layers_skipped_on_cpu
    used = []
    monkeypatch.setattr(passes, "dead_layers_skipped_on_cpu", lambda m, d: used.append(d) or skipping(m, d))

    def plain_gradients(start, end):
        plain.zero_grad()
        nn.functional.cross_entropy(plain(x[start:end]), y[start:end]).backward()
        return {n: p.grad for n, p in plain.named_parameters()}

    whole, expected = passes.loss_gradients(probe), plain_gradients(0, 8)
    assert list(whole) == list(expected)
    for name, g in whole.items():
        assert torch.allclose(g, expected[name], rtol=1e-5, atol=1e-8), name
    assert sum(not expected[n].any() for n in names) >= 15  # a dead convolution per cell at least, 15 cells
    chunks = passes.chunk_loss_gradients(probe, True, 2, names)
    for i, (start, end) in enumerate(((0, 4), (4, 8))):
        expected = plain_gradients(start, end)
        for name in names:
            assert torch.allclose(chunks[i][name], expected[name], rtol=1e-5, atol=1e-8), name
    assert used == [probe.device] * 2  # both passes skipped (the cells' dead layers: the test above)


def test_channels_last_on_cpu_relays_only_four_dimensional_cpu_tensors():
    from zeroscore._cpu_routes import channels_last_on_cpu

    weight, bias, batch = torch.randn(4, 3, 3, 3), torch.randn(4), torch.randn(2, 3, 5, 5)
    tensors, (x,) = channels_last_on_cpu(torch.device("cpu"), {"w": weight, "b": bias}, batch)
    assert tensors["w"].is_contiguous(memory_format=torch.channels_last) and torch.equal(tensors["w"], weight)
    assert tensors["b"] is bias and x.is_contiguous(memory_format=torch.channels_last) and torch.equal(x, batch)
    same, (y,) = channels_last_on_cpu(torch.device("meta"), {"w": weight}, batch)  # not a CPU: untouched
    assert same["w"] is weight and y is batch


def test_zen_in_channels_last_is_zen_in_nchw(monkeypatch):
    import zeroscore.indicators.zen as zen_module

    model = zeroscore.spaces.get("nb201").build(DEAD_EDGE_CELLS[0], num_classes=10, seed=0)
    x = torch.randn(16, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    fast = zeroscore.score(model, x, indicators=["zen"])["zen"]
    monkeypatch.setattr(zen_module, "channels_last_on_cpu", lambda device, tensors, *inputs: (tensors, inputs))
    plain = zeroscore.score(model, x, indicators=["zen"])["zen"]
    assert fast == pytest.approx(plain, rel=1e-5) and fast != 0


def test_az_expressivity_alone_runs_its_forward_without_a_graph_and_the_same_features():
    model = zeroscore.spaces.get("nb201").build(DEAD_EDGE_CELLS[1], num_classes=10, seed=0)
    x = torch.randn(8, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    probe = Probe(model, x)
    alone = zeroscore.score(model, x, indicators=["az_expressivity", "az_progressivity"], probe=probe)
    keys = [k for k in probe._cache if k[0] == "az_nas"]
    assert keys and all(k[-1] == "no graph" for k in keys)  # no trainability coming: no graph recorded
    assert all(not f.requires_grad for _, f in probe._cache[keys[0]])
    shared = zeroscore.score(model, x, indicators=["az_trainability", "az_expressivity", "az_progressivity"])
    assert alone.values == {k: shared[k] for k in alone.values}
