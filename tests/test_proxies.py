"""Correctness of the zero-cost proxies: each against a value computed independently (by hand or with plain autograd
and numpy following the reference code), on toy networks with fixed weights. The whole file runs in well under a
minute on a CPU.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import zeroscore
from zeroscore import passes
from zeroscore.probe import Probe, derived_seed


def score1(model, x, y, name, seed=0, **params):
    ind = zeroscore.get_indicator(name, **params)
    r = zeroscore.score(model, x, y, indicators=[ind], seed=seed)
    assert not r.errors, r.errors
    return r[name]


def fixed_mlp(seed=0, sizes=(6, 5, 3), bias=True):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b, bias=bias), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def conv_net(seed=0, width=4, classes=3):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, classes),
    )


@pytest.fixture(scope="module")
def vec_batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(10, 6, generator=g), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 2])


@pytest.fixture(scope="module")
def img_batch():
    g = torch.Generator().manual_seed(1)
    return torch.randn(8, 3, 8, 8, generator=g), torch.tensor([0, 1, 2, 0, 1, 2, 0, 0])


def loss_grads(model, x, y):
    model = model.train()
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return [(m.weight.detach(), m.weight.grad.detach()) for m in model.modules()
            if isinstance(m, (nn.Linear, nn.Conv2d))]


# ---------------------------------------------------------------------------------------------- size baselines
def test_params_exact():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2, bias=False))
    assert score1(model, torch.randn(4, 3), None, "params") == 3 * 4 + 4 + 2 * 4 + 4 * 2
    model[0].weight.requires_grad_(False)
    assert score1(model, torch.randn(4, 3), None, "params", trainable_only=True) == 4 + 8 + 8


def test_flops_macs_by_formula():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AvgPool2d(2),
                          nn.Conv2d(4, 6, 1, groups=2, bias=False), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(6, 5))
    x = torch.randn(7, 3, 8, 8)  # counts are per sample
    expected = (
        4 * 8 * 8 * (3 * 3 * 3)   # conv 3x3, bias not counted
        + 4 * 8 * 8               # batch norm: one MAC per element
        + 4 * 8 * 8               # 2x2 average pool: every input element accumulated once
        + 6 * 4 * 4 * (4 // 2)    # grouped 1x1 conv
        + 6 * 4 * 4               # global average pool
        + 6 * 5                   # linear
    )
    assert score1(model, x, None, "flops") == expected


def test_flops_macs_functional_calls_and_padding():
    class Fn(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(2, 3, 3, 3))
            self.m = nn.Parameter(torch.randn(2, 4))

        def forward(self, x):
            h = F.avg_pool2d(F.conv2d(x, self.w, padding=1), 3, stride=1, padding=1, count_include_pad=False)
            return F.adaptive_avg_pool2d(h, 1).flatten(1) @ self.m

    # 3x3 windows with padding 1 on a 4x4 map: 4 corners x 4 + 8 edges x 6 + 4 inner x 9 = 100 in-bounds elements
    expected = 2 * 4 * 4 * 27 + 2 * 100 + 2 * 16 + 4 * 2
    assert score1(Fn(), torch.randn(2, 3, 4, 4), None, "flops") == expected


def test_flops_naslib_convention_quirks():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(4, 5))
    expected = (3 * 3 * 3 * 4 * 8 * 8 + 4 * 8 * 8) + 2 * 4 * 8 * 8 + 4 * 8 * 8 + 4 * (8 + 1) * (8 + 1) + 4 * 5
    assert score1(model, torch.randn(2, 3, 8, 8), None, "flops", convention="naslib") == expected


def test_params_and_flops_match_naslib_on_nb201(data_root):
    import pandas as pd

    from zeroscore import spaces

    ref = pd.read_csv(data_root / "zc_proxies_reference" / "naslib_zc_nb201.csv.gz")
    ref = ref[ref.dataset == "cifar10"].set_index("arch_str")
    arch = "|avg_pool_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_1x1~2|"
    net = spaces.get("nb201").build(arch, num_classes=10, seed=0)
    r = zeroscore.score(net, torch.randn(2, 3, 32, 32), None,
                        indicators={"params": {}, "flops": {"convention": "naslib"}})
    assert r["params"] / 1e6 == pytest.approx(ref.loc[arch, "params"], abs=5e-7)
    assert r["flops"] / 1e6 == pytest.approx(ref.loc[arch, "flops"], abs=5e-7)


# ---------------------------------------------------------------------------------------------- gradient saliencies
def test_grad_norm_snip_plain_l2_by_autograd(vec_batch):
    x, y = vec_batch
    model = fixed_mlp()
    pairs = loss_grads(fixed_mlp(), x, y)
    assert score1(model, x, y, "grad_norm") == pytest.approx(sum(float(g.norm()) for _, g in pairs), rel=1e-5)
    assert score1(model, x, y, "snip") == pytest.approx(sum(float((w * g).abs().sum()) for w, g in pairs), rel=1e-5)
    assert score1(model, x, y, "plain") == pytest.approx(sum(float((w * g).sum()) for w, g in pairs), rel=1e-4,
                                                         abs=1e-7)
    assert score1(model, x, y, "l2_norm") == pytest.approx(sum(float(w.norm()) for w, _ in pairs), rel=1e-6)


def test_gradient_proxies_use_train_mode_batchnorm(img_batch):
    x, y = img_batch
    model = conv_net()
    model.eval()  # the reference scores in train mode whatever the caller's mode
    pairs = loss_grads(conv_net(), x, y)
    assert score1(model, x, y, "snip") == pytest.approx(sum(float((w * g).abs().sum()) for w, g in pairs), rel=1e-4)


def test_fisher_by_hand(vec_batch):
    x, y = vec_batch
    model = fixed_mlp()
    ref = fixed_mlp().train()
    acts = []
    for m in ref:
        if isinstance(m, nn.Linear):
            m.register_forward_hook(lambda mod, i, o: (o.retain_grad(), acts.append((mod, o)), None)[-1])
    F.cross_entropy(ref(x), y).backward()
    expected = 0.0
    for mod, a in acts:
        sal = 0.5 * (a * a.grad).pow(2).mean(0)            # per output channel
        expected += float(sal.detach().abs().sum()) * mod.in_features  # broadcast over the channel's weights
    assert score1(model, x, y, "fisher") == pytest.approx(expected, rel=1e-5)
    once = sum(float((0.5 * (a * a.grad).pow(2).mean(0)).detach().sum()) for _, a in acts)
    assert score1(model, x, y, "fisher", per_weight=False) == pytest.approx(once, rel=1e-5)


def test_fisher_conv_sums_spatial_dims(img_batch):
    x, y = img_batch
    ref = conv_net().train()
    acts = []
    for m in ref.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(lambda mod, i, o: (o.retain_grad(), acts.append((mod, o)), None)[-1])
    F.cross_entropy(ref(x), y).backward()
    expected = 0.0
    for mod, a in acts:
        s = (a * a.grad).sum(dim=(2, 3)) if a.dim() == 4 else a * a.grad
        expected += float((0.5 * s.pow(2).mean(0)).detach().sum()) * mod.weight[0].numel()
    assert score1(conv_net(), x, y, "fisher") == pytest.approx(expected, rel=1e-4)


def test_grasp_with_explicit_hessian(vec_batch):
    x, y = vec_batch
    model = fixed_mlp(sizes=(6, 4, 3))
    w1, b1, w2, b2 = [p.detach() for p in model.parameters()]

    def loss(flat):
        a, c = flat[:24].reshape(4, 6), flat[24:].reshape(3, 4)
        return F.cross_entropy(F.linear(F.relu(F.linear(x, a, b1)), c, b2), y)

    flat = torch.cat([w1.reshape(-1), w2.reshape(-1)]).double().requires_grad_(True)
    x64 = x.double()

    def loss64(flat):
        a, c = flat[:24].reshape(4, 6), flat[24:].reshape(3, 4)
        return F.cross_entropy(F.linear(F.relu(F.linear(x64, a, b1.double())), c, b2.double()), y)

    g = torch.autograd.grad(loss64(flat), flat)[0]
    hess = torch.autograd.functional.hessian(loss64, flat.detach())
    expected = float(-(flat.detach() * (hess @ g)).sum())
    assert score1(model, x, y, "grasp") == pytest.approx(expected, rel=1e-3, abs=1e-6)


# ---------------------------------------------------------------------------------------------- synflow
def test_synflow_linear_chain_is_depth_times_path_sum():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 5, bias=False), nn.Linear(5, 3, bias=False), nn.Linear(3, 2, bias=False))
    mats = [m.weight.detach().abs().double() for m in model]
    r = torch.ones(1, 2, dtype=torch.float64) @ mats[2] @ mats[1] @ mats[0] @ torch.ones(4, 1, dtype=torch.float64)
    # R is degree-1 homogeneous in each layer, so sum_w w dR/dw = R per layer
    expected = math.log(3 * float(r))
    assert score1(model, torch.randn(5, 4), None, "synflow") == pytest.approx(expected, rel=1e-10)


def test_synflow_scalar_chain_product_of_abs_weights_and_bn_bypass():
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.BatchNorm1d(1), nn.ReLU(), nn.Linear(1, 1, bias=False))
    with torch.no_grad():
        model[0].weight.fill_(-3.0)
        model[3].weight.fill_(0.5)
        model[1].weight.fill_(100.0)  # bypassed
    assert score1(model, torch.randn(4, 1), None, "synflow") == pytest.approx(math.log(2 * 3.0 * 0.5), rel=1e-12)


def test_synflow_stays_finite_beyond_float64_products():
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)).double()
    with torch.no_grad():
        for m in model:
            m.weight.fill_(-1e200)  # R = 1e400 and w * dR/dw = 1e400 overflow float64; the log terms do not
    assert score1(model, torch.randn(3, 1).double(), None, "synflow") == pytest.approx(math.log(2) + 400 * math.log(10),
                                                                             rel=1e-12)


@pytest.mark.parametrize("scale", [1e-200, 1e-130])
def test_synflow_stays_exact_below_float64_products(scale):
    # w * dR/dw = scale**2 per layer: 1e-400 underflows float64 (the log-space fallback), 1e-260 stays above the
    # plain sum's 1e-280 guard (the reference's float64 sum): both give the exact value
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)).double()
    with torch.no_grad():
        for m in model:
            m.weight.fill_(scale)
    expected = math.log(2) + 2 * math.log(scale)
    assert score1(model, torch.randn(3, 1).double(), None, "synflow") == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------------------------------------- Jacobian proxies
def batch_jacobian(model, x):
    xr = x.clone().requires_grad_(True)
    model.train()(xr).sum().backward()
    return xr.grad.reshape(x.shape[0], -1).double().numpy()


def test_jacov_matches_reference_formula(vec_batch):
    x, y = vec_batch
    jac = batch_jacobian(fixed_mlp(sizes=(6, 16, 3)), x)
    v, _ = np.linalg.eig(np.corrcoef(jac))
    expected = -np.sum(np.log(v.real + 1e-5) + 1.0 / (v.real + 1e-5))
    assert score1(fixed_mlp(sizes=(6, 16, 3)), x, y, "jacov") == pytest.approx(float(expected), rel=1e-6)


class ConstOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 3)

    def forward(self, x):
        return self.lin(torch.ones_like(x)) + 0 * x[:, :3]


def test_jacov_constant_jacobian_is_an_error(vec_batch):
    x, y = vec_batch
    r = zeroscore.score(ConstOut(), x, y, indicators=["jacov", "epe_nas"])
    assert "constant" in r.errors["jacov"] and "constant" in r.errors["epe_nas"]


def test_epe_nas_matches_reference_formula(vec_batch):
    x, y = vec_batch
    y = y.clone()
    y[-1] = 3  # a class with a single sample
    model = fixed_mlp(sizes=(6, 16, 4))
    jac = batch_jacobian(fixed_mlp(sizes=(6, 16, 4)), x)
    expected = 0.0
    for c in np.unique(y.numpy()):
        rows = jac[y.numpy() == c]
        corr = np.corrcoef(rows) if rows.shape[0] > 1 else np.array(1.0)
        expected += abs(np.sum(np.log(np.abs(corr) + 1e-5)))
    assert score1(model, x, y, "epe_nas") == pytest.approx(float(expected), rel=1e-6)


# ---------------------------------------------------------------------------------------------- Zen, ZiCo, MeCo
def test_zen_matches_reference_procedure(img_batch):
    x, y = img_batch
    model = conv_net()
    probe = Probe(model, x, y, seed=0)
    gauss = probe.params("*", init="gaussian")
    for n, m in model.named_modules():  # the Gaussian init of Zen-NAS
        if isinstance(m, nn.BatchNorm2d):
            assert torch.equal(gauss[f"{n}.weight"], torch.ones(m.num_features))
            assert torch.equal(gauss[f"{n}.bias"], torch.zeros(m.num_features))
    ref = conv_net()
    ref.load_state_dict({**ref.state_dict(), **gauss})
    ref.train()
    with torch.random.fork_rng():
        torch.manual_seed(derived_seed(0, "zen"))
        a = torch.randn(x.shape)
        e = torch.randn(x.shape)
    pre = ref[:6]  # up to the input of the global average pool
    with torch.no_grad():
        out, out_mix = pre(a), pre(a + 1e-2 * e)
    nas = torch.mean(torch.sum(torch.abs(out - out_mix), dim=[1, 2, 3]))
    log_bn = sum(math.log(math.sqrt(float(m.running_var.mean()))) for m in ref.modules()
                 if isinstance(m, nn.BatchNorm2d))
    expected = math.log(float(nas)) + log_bn
    assert score1(model, x, y, "zen") == pytest.approx(expected, rel=1e-5)


def test_zen_needs_global_pool(vec_batch):
    x, y = vec_batch
    r = zeroscore.score(fixed_mlp(), x, y, indicators=["zen"])
    assert "global-pooling" in r.errors["zen"]


@pytest.mark.parametrize("accumulate", [True, False])
def test_zico_matches_reference_code(vec_batch, accumulate):
    # accumulate=True is the reference: no zero_grad between the two chunks, so the second chunk's "gradient" is
    # the sum of both; accumulate=False treats the chunks as independent samples.
    x, y = vec_batch
    ref = fixed_mlp(sizes=(6, 8, 3)).train()
    records = []
    for st, en in [(0, 5), (5, 10)]:
        if not accumulate:
            ref.zero_grad()
        F.cross_entropy(ref(x[st:en]), y[st:en]).backward()
        records.append([m.weight.grad.detach().reshape(-1).clone().numpy()
                        for m in ref.modules() if isinstance(m, nn.Linear)])
    expected = 0.0
    for layer in range(2):
        g = np.array([r[layer] for r in records])
        std = np.std(g, axis=0)
        nz = np.nonzero(std)[0]
        expected += np.log(np.sum(np.mean(np.abs(g), axis=0)[nz] / std[nz]))
    got = score1(fixed_mlp(sizes=(6, 8, 3)), x, y, "zico", accumulate=accumulate)
    assert got == pytest.approx(float(expected), rel=1e-5)


def test_meco_matches_reference_hooks(img_batch):
    x, y = img_batch
    ref = conv_net().train()
    values = []

    def hook(module, inp, out):
        fea = out[0].detach().double()
        fea = fea.reshape(fea.shape[0], -1)
        with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore")
            corr = np.nan_to_num(np.corrcoef(fea.numpy()), nan=0.0, posinf=0.0, neginf=0.0)
        values.append(float(np.min(np.real(np.linalg.eig(np.atleast_2d(corr))[0]))))

    for m in ref.modules():
        m.register_forward_hook(hook)
    with torch.no_grad():
        ref(x[:1])
    assert score1(conv_net(), x, y, "meco") == pytest.approx(sum(v for v in values if math.isfinite(v)), rel=1e-6,
                                                             abs=1e-9)


def test_meco_opt_uses_all_channels_when_they_fit_and_grows_with_width():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 8, 8)  # P = 64 positions per channel

    def conv(width):
        torch.manual_seed(width)
        return nn.Sequential(nn.Conv2d(3, width, 3, padding=1))

    plain = zeroscore.score(conv(16), x, indicators=["meco"])["meco"]
    assert zeroscore.score(conv(16), x, indicators={"meco_opt": {"channels": 16}})["meco_opt"] == pytest.approx(plain)
    # the full C x C minimum eigenvalue collapses as C approaches P; k random channels times C / k does not
    meco = {w: zeroscore.score(conv(w), x, indicators=["meco"])["meco"] for w in (8, 64)}
    opt = {w: zeroscore.score(conv(w), x, indicators=["meco_opt"])["meco_opt"] for w in (8, 64)}
    assert meco[64] < meco[8] and opt[64] > opt[8], (meco, opt)
    assert opt[8] == pytest.approx(meco[8])  # 8 channels: nothing to subsample


def test_meco_not_applicable_to_vectors(vec_batch):
    x, y = vec_batch
    assert "feature maps" in zeroscore.score(fixed_mlp(), x, y, indicators=["meco"]).errors["meco"]


# ---------------------------------------------------------------------------------------------- SWAP, GradSign
def copy_module(model):
    import copy

    return copy.deepcopy(model)


def test_swap_counts_distinct_neuron_patterns(vec_batch):
    x, y = vec_batch
    model = fixed_mlp(sizes=(6, 32, 3))
    with torch.no_grad():
        h = model[0](x) > 0  # the only ReLU
    patterns = {tuple(col.tolist()) for col in h.T}
    single = {"repeats": 1, "batch_size": None, "init": None}  # one pass over the whole batch, own weights
    assert score1(model, x, y, "swap", **single) == len(patterns)
    p = sum(t.numel() for t in model.parameters()) / 1e3
    assert score1(model, x, y, "swap", mu=0.1, sigma=2.0, **single) == pytest.approx(
        len(patterns) * math.exp(-((p - 0.1) ** 2) / 2.0))



@pytest.mark.parametrize("samples", [1, 5, 16, 20, 21, 62, 63, 70])
def test_swap_pattern_count_is_the_distinct_column_count(samples):
    """Every counting route (bincount of integer keys, sort of int64 keys, bit-packed rows) against
    ``torch.unique(dim=1)`` of the concatenated codes, with planted duplicate and constant columns."""
    from zeroscore.indicators.swap import count_distinct_columns

    g = torch.Generator().manual_seed(samples)
    codes = [torch.rand(samples, 6, 5, 5, generator=g) < p for p in (0.5, 0.9, 0.1)]
    codes += [codes[0].reshape(samples, -1)[:, :40].clone(), torch.zeros(samples, 3, dtype=torch.bool),
              torch.ones(samples, 2, dtype=torch.bool)]
    full = torch.cat([c.reshape(samples, -1) for c in codes], dim=1)
    assert count_distinct_columns(codes) == torch.unique(full, dim=1).shape[1]

def test_swap_reference_protocol_averages_gaussian_reinitialisations(vec_batch):
    """The default: the first 16 inputs, 32 re-initialisations with N(0, 1) weights, the mean count."""
    from zeroscore._copies import reinitialize
    from zeroscore.probe import derived_seed

    x, y = vec_batch
    x = torch.cat([x, x * 0.5 + 0.1, -x])[:20]  # more than 16 inputs: only the first 16 count
    model = fixed_mlp(sizes=(6, 32, 3))
    expected = []
    for r in range(32):
        copy = reinitialize(copy_module(model), "gaussian", derived_seed(0, "swap", r))
        with torch.no_grad():
            h = copy[0](x[:16]) > 0
        expected.append(len({tuple(col.tolist()) for col in h.T}))
    assert score1(model, x, y[:1].repeat(20), "swap") == pytest.approx(sum(expected) / 32)
    assert len(set(expected)) > 1  # the re-initialisations differ


def test_gradsign_per_sample_signs(img_batch):
    x, y = img_batch
    ref = conv_net().train()
    rows = []
    for i in range(x.shape[0]):  # every sample alone, BatchNorm on that sample
        ref.zero_grad()
        F.cross_entropy(ref(x[[i]]), y[[i]]).backward()
        rows.append(torch.cat([m.weight.grad.reshape(-1) for m in ref.modules()
                               if isinstance(m, (nn.Conv2d, nn.Linear))]).clone())
    expected = float(torch.sign(torch.stack(rows)).sum(0).abs().sum())
    assert score1(conv_net(), x, y, "gradsign") == expected


def test_per_sample_gradients_match_loop(vec_batch):
    x, y = vec_batch
    model = fixed_mlp()
    probe = Probe(model, x, y)
    g = passes.per_sample_loss_gradients(probe, True)
    for i in range(3):
        model.zero_grad()
        F.cross_entropy(model(x[[i]]), y[[i]]).backward()
        assert torch.allclose(g["0.weight"][i], model[0].weight.grad, atol=1e-6)


def test_layer_output_pass_shares_loss_gradients(img_batch):
    x, y = img_batch
    a = Probe(conv_net(), x, y)
    passes.layer_output_products(a, True)
    b = Probe(conv_net(), x, y)
    for (n, ga), gb in zip(passes.loss_gradients(a, True).items(), passes.loss_gradients(b, True).values()):
        assert torch.allclose(ga, gb, atol=1e-6), n


# ---------------------------------------------------------------------------------------------- AZ-NAS
class ThreeBlocks(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(5)
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4))
        self.cells = nn.ModuleList([
            nn.Sequential(nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)),
            nn.Sequential(nn.ReLU(), nn.Conv2d(4, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8)),
        ])
        self.lastact = nn.Sequential(nn.BatchNorm2d(8), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        h = self.stem(x)
        for c in self.cells:
            h = c(h)
        return self.fc(self.pool(self.lastact(h)).flatten(1))


def test_az_components_by_hand(img_batch):
    x, y = img_batch
    ref = ThreeBlocks().train()
    xr = x.clone().requires_grad_(True)
    f0 = ref.stem(xr)
    f1 = ref.cells[0](f0)
    f2 = ref.cells[1](f1)
    feats = [f0, f1, f2]  # lastact (BN+ReLU only) and the head are not blocks

    def entropy(f):
        rows = f.detach().double().permute(0, 2, 3, 1).reshape(-1, f.shape[1])
        rows = rows - rows.mean(0, keepdim=True)
        s = np.clip(np.linalg.eigvalsh((rows.T @ rows / rows.shape[0]).numpy()), 0, None)
        p = s / s.sum()
        return float(np.sum(-p * np.log(p + 1e-8)))

    e = [entropy(f) for f in feats]
    gen = torch.Generator().manual_seed(derived_seed(0, "az_nas", None, True))
    t = []
    for i in (2, 1):
        g_out = (torch.randint(0, 2, feats[i].shape, generator=gen, dtype=torch.int64).float() - 0.5) * 2
        g_in = torch.autograd.grad(feats[i], feats[i - 1], g_out, retain_graph=True)[0]
        if g_in.shape[2] != g_out.shape[2]:
            g_in = F.pixel_unshuffle(g_in, g_in.shape[2] // g_out.shape[2])
        a = g_in.permute(0, 2, 3, 1).reshape(-1, g_in.shape[1]).double()
        b = g_out.permute(0, 2, 3, 1).reshape(-1, g_out.shape[1]).double()
        s = float(torch.linalg.svdvals(a.T @ b / b.shape[0]).max())
        t.append(-s - 1 / (s + 1e-6) + 2)
    r = zeroscore.score(ThreeBlocks(), x, y, seed=0, indicators={
        "az_expressivity": {"init": None, "inputs": "data"}, "az_progressivity": {"init": None, "inputs": "data"},
        "az_trainability": {"init": None, "inputs": "data"}, "az_complexity": {}, "flops": {}})
    assert not r.errors, r.errors
    assert r["az_expressivity"] == pytest.approx(sum(e), rel=1e-6)
    assert r["az_progressivity"] == pytest.approx(min(e[1] - e[0], e[2] - e[1]), rel=1e-5, abs=1e-9)
    assert r["az_trainability"] == pytest.approx(sum(t) / 2, rel=1e-5)
    assert r["az_complexity"] == r["flops"]

    # alone, the trainability component gives the same value and computes no channel covariance
    probe = Probe(ThreeBlocks(), x, y, seed=0)
    alone = zeroscore.get_indicator("az_trainability", init=None, inputs="data").compute(probe)
    assert alone == pytest.approx(r["az_trainability"], rel=1e-12)
    assert not [k for k in probe._cache if k[0] == "az_expressivity"]


def test_az_default_input_is_a_seeded_gaussian_batch_of_the_batch_shape(img_batch):
    # the reference's NB201 protocol: az_nas gets no loader, compute_nas_score draws torch.randn(batch shape)
    x, y = img_batch
    gauss = torch.randn(x.shape, generator=torch.Generator().manual_seed(derived_seed(3, "az_nas_input")))
    names = ["az_expressivity", "az_progressivity", "az_trainability"]
    default = zeroscore.score(ThreeBlocks(), x, y, seed=3, indicators=names)
    on_gauss = zeroscore.score(ThreeBlocks(), gauss, y, seed=3, indicators={n: {"inputs": "data"} for n in names})
    on_data = zeroscore.score(ThreeBlocks(), x, y, seed=3, indicators={n: {"inputs": "data"} for n in names})
    for n in names:
        assert default[n] == pytest.approx(on_gauss[n], rel=1e-9), n
    assert default["az_expressivity"] != pytest.approx(on_data["az_expressivity"], rel=1e-3)
    with pytest.raises(ValueError, match="inputs must be"):
        zeroscore.get_indicator("az_expressivity", inputs="images").compute(Probe(ThreeBlocks(), x))


def test_az_identity_block_is_minus_inf(img_batch):
    x, y = img_batch
    model = ThreeBlocks()
    model.cells.insert(1, nn.Sequential(nn.Identity(), nn.Conv2d(4, 4, 1)))  # parameters, but an identity map:
    with torch.no_grad():
        model.cells[1][1].weight.copy_(torch.eye(4).reshape(4, 4, 1, 1))
        model.cells[1][1].bias.zero_()
    r = zeroscore.score(model, x, y, indicators={"az_trainability": {"init": None}})
    assert r["az_trainability"] == -math.inf


def test_block_discovery():
    from zeroscore.indicators._blocks import discover_blocks
    from zeroscore.models import FunctionalReluNet, SmallResNet, mlp

    assert [n for n, _ in discover_blocks(ThreeBlocks())] == ["stem", "cells.0", "cells.1", "fc"]
    assert [n for n, _ in discover_blocks(SmallResNet(width=4))] == ["stem", "layers.0", "layers.1", "layers.2", "fc"]
    assert [n for n, _ in discover_blocks(FunctionalReluNet(width=4))] == ["conv1", "conv2", "fc"]
    assert [n for n, _ in discover_blocks(mlp(in_features=12, hidden=(8, 4)))] == ["1", "3", "5"]


def test_az_blocks_on_nb201():
    from zeroscore import spaces
    from zeroscore.indicators._aznas import az_components

    net = spaces.get("nb201").build("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|",
                                    seed=0)
    probe = Probe(net, torch.randn(2, 3, 32, 32))
    names = az_components(probe, "kaiming_fanin", True, None)["names"]
    assert names == ["stem"] + [f"cells.{i}" for i in range(17)]


# ---------------------------------------------------------------------------------------------- probe helpers
def test_init_params_schemes_do_not_touch_model(img_batch):
    x, y = img_batch
    model = conv_net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    probe = Probe(model, x, y, seed=0)
    k = probe.params("*", init="kaiming_fanin")
    w = k["0.weight"]
    assert abs(float(w.std()) - math.sqrt(2 / 27)) < 0.15 * math.sqrt(2 / 27)
    assert torch.equal(k["3.bias"], torch.zeros(8))
    assert torch.equal(probe.params("*", init="kaiming_fanin")["0.weight"], Probe(model, x, y, seed=0).params("*", init=
        "kaiming_fanin")["0.weight"])
    for key, v in model.state_dict().items():
        assert torch.equal(v, before[key])


def test_indicator_doc_is_generated_from_the_registry():
    from pathlib import Path

    from zeroscore.indicators._doc import indicator_table_markdown

    doc = Path(__file__).resolve().parents[1] / "docs" / "indicators.md"
    assert doc.read_text() == indicator_table_markdown(), (
        "docs/indicators.md is stale: regenerate it with `python -m zeroscore.indicators._doc`")
    for name in zeroscore.list_indicators():
        assert f"| `{name}` |" in doc.read_text()


def test_shared_passes_are_computed_once(img_batch):
    x, y = img_batch
    probe = Probe(conv_net(), x, y)
    zeroscore.score(None, x, y, indicators=["grad_norm", "snip", "plain", "fisher", "grasp", "jacov", "epe_nas",
                                            "az_expressivity", "az_trainability", "flops", "az_complexity"],
                    probe=probe)
    keys = [k[0] for k in probe._cache]
    for key in ("layer_output_products", "loss_gradients", "input_gradients", "az_nas", "flops"):
        assert keys.count(key) == 1, (key, keys)
