"""Reference values where the answer is known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import zeroscore
from zeroscore import passes
from zeroscore.indicators._isometry import isometry_gap, jacobian_moments
from zeroscore.indicators.naswot import naswot_kernel
from zeroscore.indicators.ntk_generalization import kernel_regression_mse
from zeroscore.probe import Probe


def linear_model(d_in: int, k: int, seed: int = 0) -> nn.Linear:
    torch.manual_seed(seed)
    return nn.Linear(d_in, k)


def test_ntk_of_linear_model_is_k_times_gram():
    # f(x) = W x + b with K outputs: d(sum_k f_k(x_i))/dW = 1_K x_i^T, so NTK_ij = K * <x_i, x_j> (bias excluded).
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(0))
    model = linear_model(6, 3)
    probe = Probe(model, x)
    expected = 3 * (x.double() @ x.double().T)
    assert torch.allclose(passes.ntk(probe), expected, rtol=1e-5, atol=1e-6)
    eig = np.linalg.eigvalsh(expected.numpy())
    value = zeroscore.score(model, x, indicators=["ntk_cond"])["ntk_cond"]
    assert value == pytest.approx(eig[-1] / eig[0], rel=1e-4)
    # more samples than input dimensions: the NTK is singular and the condition number infinite
    wide = torch.randn(8, 6)
    assert zeroscore.score(model, wide, indicators=["ntk_cond"])["ntk_cond"] == math.inf


def test_ntk_jacobian_matches_autograd_loop_with_batchnorm():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.LazyLinear(5))
    x = torch.randn(5, 3, 6, 6)
    model(x)  # materialise the lazy layer
    probe = Probe(model, x)
    fast = passes.sum_logit_jacobian(probe)
    slow = passes.sum_logit_jacobian_loop(probe, True, probe.params("*weight*"), 0)
    assert torch.allclose(fast, slow, atol=1e-5)
    # and against plain autograd on a train-mode copy, as TE-NAS computes it
    ref = []
    import copy

    m = copy.deepcopy(model).train()
    out = m(x)
    for i in range(5):
        m.zero_grad()
        out[i:i + 1].backward(torch.ones_like(out[i:i + 1]), retain_graph=True)
        ref.append(torch.cat([p.grad.reshape(-1) for n, p in m.named_parameters() if "weight" in n]))
    assert torch.allclose(fast, torch.stack(ref), atol=1e-5)


def test_ntk_generalization_matches_hand_computation():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 10, generator=g)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    model = linear_model(10, 3)
    value = zeroscore.score(model, x, y, indicators=["ntk_generalization"])["ntk_generalization"]
    k = 3 * (x.double() @ x.double().T).numpy()
    onehot = np.eye(3)[y.numpy()]
    ytr, yte = onehot[:4] - onehot[:4].mean(0), onehot[4:] - onehot[4:].mean(0)
    pred = k[4:, :4] @ np.linalg.solve(k[:4, :4], ytr)
    assert value == pytest.approx(((pred - yte) ** 2).sum(1).mean(), rel=1e-6)


def test_kernel_regression_interpolates_training_points():
    k = torch.eye(3, dtype=torch.float64) * 2
    y = torch.randn(3, 2, dtype=torch.float64)
    assert kernel_regression_mse(k, k, y, y) == pytest.approx(0.0, abs=1e-12)


def test_kernel_regression_of_a_singular_kernel_predicts_the_mean_and_agrees_with_least_squares():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(8, 3, generator=g, dtype=torch.float64)
    y = y - y.mean(0)
    constant = torch.full((8, 8), 2.5, dtype=torch.float64)  # every sample the same gradient: no information
    # the prediction is the training labels' mean, zero: the error is the held-out labels' squared norm
    assert kernel_regression_mse(constant[:4, :4], constant[4:, :4], y[:4] - y[:4].mean(0), y[4:]) == \
        pytest.approx(float((y[4:] ** 2).sum(1).mean()), rel=1e-12)
    feats = torch.randn(8, 3, generator=g, dtype=torch.float64)  # rank 3 < 4 training samples
    k = feats @ feats.T
    lstsq = torch.linalg.lstsq(k[:4, :4], y[:4], driver="gelsd").solution
    expected = float(((k[4:, :4] @ lstsq - y[4:]) ** 2).sum(1).mean())
    assert kernel_regression_mse(k[:4, :4], k[4:, :4], y[:4], y[4:]) == pytest.approx(expected, rel=1e-8)
    regular = k + torch.eye(8, dtype=torch.float64)  # and a regular kernel: the inverse
    solved = regular[4:, :4] @ torch.linalg.solve(regular[:4, :4], y[:4])
    assert kernel_regression_mse(regular[:4, :4], regular[4:, :4], y[:4], y[4:]) == \
        pytest.approx(float(((solved - y[4:]) ** 2).sum(1).mean()), rel=1e-10)


def orthogonal_linear_net(width: int, depth: int, scale: float = 1.0, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    layers = []
    for _ in range(depth):
        lin = nn.Linear(width, width, bias=False)
        nn.init.orthogonal_(lin.weight)
        with torch.no_grad():
            lin.weight.mul_(scale)
        layers.append(lin)
    return nn.Sequential(*layers)


def test_deep_orthogonal_linear_net_is_exactly_isometric():
    net = orthogonal_linear_net(16, 6).double()
    x = torch.randn(5, 16, dtype=torch.float64)
    result = zeroscore.score(net, x, indicators=["jacobian_isometry", "block_isometry"])
    # float32 orthogonal init, so "exact" means to float32 precision
    assert result["jacobian_isometry"] == pytest.approx(0.0, abs=1e-6)
    assert result["block_isometry"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("scale,depth", [(2.0, 3), (0.5, 4)])
def test_scaled_orthogonal_net_moments_are_closed_form(scale, depth):
    net = orthogonal_linear_net(12, depth, scale).double()
    x = torch.randn(3, 12, dtype=torch.float64)
    m1, m2 = jacobian_moments(net, x, 3, torch.Generator().manual_seed(0))
    assert m1 == pytest.approx(scale ** (2 * depth), rel=1e-6)
    assert m2 == pytest.approx(scale ** (4 * depth), rel=1e-6)
    assert isometry_gap(m1, m2) == pytest.approx(math.log(scale ** (2 * depth)) ** 2, rel=1e-5)


def test_moments_of_a_diagonal_jacobian():
    # J = diag(s) (tiled over the batch): m1 = mean s^2, m2 = mean s^4 in expectation over projections.
    s = torch.linspace(0.5, 1.5, 32, dtype=torch.float64)
    x = torch.randn(64, 32, dtype=torch.float64)
    m1, m2 = jacobian_moments(lambda z: z * s, x, 64, torch.Generator().manual_seed(0))
    assert m1 == pytest.approx(float((s ** 2).mean()), rel=0.02)
    assert m2 == pytest.approx(float((s ** 4).mean()), rel=0.05)
    assert isometry_gap(m1, m2) > 0.01


def relu_bank(breakpoints: list[float]) -> nn.Sequential:
    """x -> sum_i relu(x - b_i): the activation pattern changes exactly at the breakpoints b_i."""
    hidden = nn.Linear(1, len(breakpoints))
    with torch.no_grad():
        hidden.weight.fill_(1.0)
        hidden.bias.copy_(-torch.tensor(breakpoints))
    out = nn.Linear(len(breakpoints), 1)
    return nn.Sequential(hidden, nn.ReLU(), out)


@given(st.lists(st.floats(-0.9, 0.9), min_size=1, max_size=6, unique=True).filter(
    lambda b: min((abs(p - q) for p in b for q in b if p != q), default=1) > 0.05))
@settings(max_examples=25, deadline=None)
def test_linear_regions_of_a_1d_relu_net(breakpoints):
    model = relu_bank(breakpoints)
    grid = torch.linspace(-1, 1, 401).unsqueeze(1)
    value = zeroscore.score(model, grid, indicators={"linear_regions": {"crop_size": None}})["linear_regions"]
    assert value == len(breakpoints) + 1
    # the default sampler (points between pairs of inputs) finds the same regions
    sampled = zeroscore.score(model, grid, indicators=["linear_regions"])["linear_regions"]
    assert sampled == len(breakpoints) + 1


def test_naswot_kernel_on_hand_made_codes():
    codes = torch.tensor([[1, 0, 1], [1, 1, 0], [0, 0, 1]], dtype=torch.bool)
    expected = np.array([[3, 1, 2], [1, 3, 0], [2, 0, 3]], dtype=float)  # agreements per pair
    k = naswot_kernel([codes[:, :2], codes[:, 2:]])  # split over two "layers": the kernel sums over layers
    assert np.array_equal(k.numpy(), expected)


def test_naswot_score_on_a_1d_relu_net():
    model = relu_bank([-0.5, 0.0, 0.5])
    x = torch.tensor([[-0.75], [-0.25], [0.25], [0.75]])
    # codes (x > b_i): rows 000, 100, 110, 111 -> agreements 3 - hamming distance
    codes = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]])
    k = 3 - np.abs(codes[:, None, :] - codes[None, :, :]).sum(-1)
    value = zeroscore.score(model, x, indicators=["naswot"])["naswot"]
    assert value == pytest.approx(np.linalg.slogdet(k)[1], rel=1e-9)


class _FunctionalRelu(nn.Module):
    """ReLU through ``F.relu`` calls, not modules."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        h = torch.nn.functional.relu(self.bn(self.conv(x)))
        return self.head(torch.nn.functional.relu(h).mean(dim=(2, 3)))


def _jacobian_models() -> dict[str, nn.Module]:
    torch.manual_seed(0)
    bn_train = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                             nn.Flatten(), nn.Linear(4, 3))
    frozen = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                           nn.Flatten(), nn.Linear(4, 3))
    frozen[0].requires_grad_(False)  # a frozen layer: the indicator still scores the architecture's weights
    frozen.eval()  # and a model handed over in eval mode: the probe's own mode decides
    tied = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Conv2d(3, 3, 3, padding=1),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 3))
    tied[3].weight = tied[0].weight  # one tensor used twice: one set of columns holding both uses' gradients
    return {"batchnorm_train": bn_train, "frozen_layer": frozen, "tied_weights": tied,
            "functional_relu": _FunctionalRelu()}


def _tenas_jacobian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """TE-NAS's plain algorithm: one train-mode forward, one backward per sample's summed logits, weights only."""
    import copy

    model = copy.deepcopy(model).train().requires_grad_(True)
    weights = [p for n, p in model.named_parameters() if "weight" in n]
    out = model(x).sum(dim=1)
    rows = [torch.cat([g.reshape(-1) for g in torch.autograd.grad(out[i], weights, retain_graph=True)])
            for i in range(x.shape[0])]
    return torch.stack(rows)


@pytest.mark.parametrize("kind", ["batchnorm_train", "frozen_layer", "tied_weights", "functional_relu"])
def test_sum_logit_jacobian_routes_equal_the_plain_algorithm(kind):
    """The CPU route (one backward per sample, several at once), the vectorised route (jacrev, the GPU's) and the
    frozen-statistics variant's special case all agree with TE-NAS's plain loop, on models that are easy to get
    wrong."""
    model = _jacobian_models()[kind]
    x = torch.randn(6, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    probe = Probe(model, x)
    params = probe.params("*weight*")
    reference = _tenas_jacobian(model, x)
    loop = passes.sum_logit_jacobian_loop(probe, True, params)
    vectorised = passes.sum_logit_jacobian_vectorised(probe, True, params)
    assert loop.shape == reference.shape == vectorised.shape
    assert torch.allclose(loop, reference, rtol=1e-5, atol=1e-6)
    assert torch.allclose(vectorised, reference, rtol=1e-5, atol=1e-6)
    # the CPU default is the loop's backwards side by side (tests/test_cpu_routes.py): the same rows
    assert torch.allclose(passes.sum_logit_jacobian(probe), loop, rtol=1e-5, atol=1e-6)
    ntk = zeroscore.score(model, x, indicators=["ntk_cond"])["ntk_cond"]
    eig = np.linalg.eigvalsh((reference.double() @ reference.double().T).numpy())
    assert ntk == pytest.approx(eig[-1] / eig[0], rel=1e-5)


def test_frozen_batch_stats_jacobian():
    """With BatchNorm statistics held fixed each row is the gradient of one sample through a BatchNorm that
    normalises with the batch's statistics as constants; without BatchNorm it equals the exact Jacobian."""
    torch.manual_seed(0)
    x = torch.randn(5, 6)
    plain = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    probe = Probe(plain, x)
    assert torch.allclose(passes.sum_logit_jacobian(probe, batch_stats="frozen"), passes.sum_logit_jacobian(probe),
                          rtol=1e-5, atol=1e-6)
    bn = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    probe = Probe(bn, x)
    frozen = passes.sum_logit_jacobian(probe, batch_stats="frozen")
    with torch.no_grad():
        h = bn[0](x)
        mean, var = h.mean(0), h.var(0, unbiased=False)
    for i in range(5):  # by hand: sample i alone through the statistics of the batch, taken as constants
        w = {n: p.detach().clone().requires_grad_(True) for n, p in bn.named_parameters() if "weight" in n}
        h = torch.nn.functional.linear(x[i:i + 1], w["0.weight"], bn[0].bias)
        h = (h - mean) / torch.sqrt(var + bn[1].eps) * w["1.weight"] + bn[1].bias
        out = torch.nn.functional.linear(torch.relu(h), w["3.weight"], bn[3].bias).sum()
        grads = torch.autograd.grad(out, list(w.values()))
        row = torch.cat([g.reshape(-1) for g in grads])
        assert torch.allclose(frozen[i], row, rtol=1e-5, atol=1e-6)
    exact = passes.sum_logit_jacobian(probe)
    assert not torch.allclose(frozen, exact, rtol=1e-3)  # the coupling through the statistics is real
    with pytest.raises(zeroscore.UsageError, match="batch_stats"):
        passes.sum_logit_jacobian(probe, batch_stats="nope")
