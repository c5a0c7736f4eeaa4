"""The reference algorithms, written plainly for the speed benchmark: what a user would otherwise run.

Each function follows the structure of the paper's published code (module hooks, ``.backward()`` into ``.grad``,
per-sample Python loops, ``torch.unique``), written here from the papers' and codes' descriptions, not copied.
They take ``(model, x, y)`` (a freshly built network, a batch and its labels, on one device: CPU or GPU) and
return the value; they may modify ``model`` (the benchmark passes a copy). ``REFERENCES`` maps indicator names to
them; indicators without published code (``jacobian_isometry``, ``block_isometry``) have no entry.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LAYERS = (nn.Conv2d, nn.Linear)


def _layers(model):
    return [m for m in model.modules() if isinstance(m, LAYERS)]


def _loss_backward(model, x, y):
    model.train()
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()


# ------------------------------------------------------------------ size baselines


def params(model, x, y):
    return float(sum(p.numel() for p in model.parameters()))


def l2_norm(model, x, y):
    return float(sum(m.weight.detach().norm() for m in _layers(model)))


def flops(model, x, y):
    """thop-style: forward hooks on conv/linear/BN/pooling layers adding their multiply-accumulates."""
    total = [0]

    def conv_hook(m, inp, out):
        total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inp, out):
        total[0] += out.numel() * m.in_features

    def elementwise_hook(m, inp, out):
        total[0] += inp[0].numel()

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, (nn.BatchNorm2d, nn.AvgPool2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d)):
            handles.append(m.register_forward_hook(elementwise_hook))
    model.eval()
    with torch.no_grad():
        model(x[:1])
    for h in handles:
        h.remove()
    return float(total[0])


# ------------------------------------------------------------------ zero-cost-nas gradient saliencies


def grad_norm(model, x, y):
    _loss_backward(model, x, y)
    return float(sum(m.weight.grad.norm() for m in _layers(model)))


def plain(model, x, y):
    _loss_backward(model, x, y)
    return float(sum((m.weight.grad * m.weight).sum() for m in _layers(model)))


def snip(model, x, y):
    """A multiplicative mask of ones on every conv/linear weight; the saliency is |d loss / d mask|."""
    layers = _layers(model)
    masks = []
    originals = {}
    for m in layers:
        mask = torch.ones_like(m.weight, requires_grad=True)
        masks.append(mask)
        m.weight.requires_grad_(False)
        originals[m] = m.forward

        def masked(inp, m=m, mask=mask):
            if isinstance(m, nn.Conv2d):
                return F.conv2d(inp, m.weight * mask, m.bias, m.stride, m.padding, m.dilation, m.groups)
            return F.linear(inp, m.weight * mask, m.bias)

        m.forward = masked
    model.train()
    F.cross_entropy(model(x), y).backward()
    for m, f in originals.items():
        m.forward = f
    return float(sum(mask.grad.abs().sum() for mask in masks))


def fisher(model, x, y):
    """Forward hooks keep each conv/linear output and its gradient; 0.5 * mean_n (sum_positions act * grad)^2
    per channel, broadcast over the channel's weights."""
    records = []

    def hook(m, inp, out):
        out.retain_grad()
        records.append((m, out))

    handles = [m.register_forward_hook(hook) for m in _layers(model)]
    model.train()
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    for h in handles:
        h.remove()
    total = 0.0
    for m, out in records:
        prod = out.detach() * out.grad
        if prod.dim() > 2:
            prod = prod.sum(dim=tuple(range(2, prod.dim())))
        per_channel = 0.5 * prod.pow(2).mean(0)
        total += float(per_channel.sum()) * m.weight[0].numel()
    return total


def grasp(model, x, y):
    """GraSP as zero-cost-nas sums it: g = dL/dW, then H g by a second differentiation of g . dL/dW."""
    weights = [m.weight for m in _layers(model)]
    model.train()
    grad_w = torch.autograd.grad(F.cross_entropy(model(x), y), weights)
    grad_f = torch.autograd.grad(F.cross_entropy(model(x), y), weights, create_graph=True)
    z = sum((gw.detach() * gf).sum() for gw, gf in zip(grad_w, grad_f))
    hg = torch.autograd.grad(z, weights)
    return float(sum((-w.detach() * h).sum() for w, h in zip(weights, hg)))


def synflow(model, x, y):
    """Absolute weights in float64, BatchNorm bypassed, an all-ones input of one sample: sum |W * dR/dW|."""
    net = copy.deepcopy(model).double()
    for module in list(net.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(module, child_name, nn.Identity())
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.eval()
    out = net(torch.ones((1,) + tuple(x.shape[1:]), dtype=torch.float64, device=x.device))
    out.sum().backward()
    total = sum((m.weight * m.weight.grad).abs().sum() for m in _layers(net))
    return float(torch.log(total))


# ------------------------------------------------------------------ input Jacobian scores


def jacov(model, x, y):
    x = x.clone().requires_grad_(True)
    model.train()
    out = model(x)
    out.backward(torch.ones_like(out))
    jac = x.grad.reshape(x.shape[0], -1).double().cpu().numpy()
    v = np.linalg.eigvalsh(np.corrcoef(jac))
    k = 1e-5
    return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


def epe_nas(model, x, y):
    x = x.clone().requires_grad_(True)
    model.train()
    out = model(x)
    out.backward(torch.ones_like(out))
    jac = x.grad.reshape(x.shape[0], -1).double().cpu().numpy()
    labels = y.cpu().numpy()
    total = 0.0
    for c in np.unique(labels):
        rows = jac[labels == c]
        if rows.shape[0] == 1:
            total += abs(float(np.log(1.0 + 1e-5)))
            continue
        total += abs(float(np.sum(np.log(np.abs(np.corrcoef(rows)) + 1e-5))))
    return total


# ------------------------------------------------------------------ activation patterns


def _relu_signs(model, x):
    codes = []
    handles = [m.register_forward_hook(lambda m, i, o: codes.append((o.detach() > 0).reshape(x.shape[0], -1).float()))
               for m in model.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return codes


def naswot(model, x, y):
    model.train()
    k = np.zeros((x.shape[0], x.shape[0]))
    for c in _relu_signs(model, x):
        c = c.double().cpu().numpy()
        k += c @ c.T + (1 - c) @ (1 - c).T
    return float(np.linalg.slogdet(k)[1])


def swap(model, x, y, repeats: int = 32, samples: int = 16):
    """The SWAP-NAS correlation protocol: 32 Gaussian re-initialisations, 16 inputs, mean distinct patterns."""
    inputs = x[:samples]
    scores = []
    for _ in range(repeats):
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.normal_(m.weight)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d) and m.weight is not None:
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
        model.train()
        signs = torch.cat([torch.sign(c) for c in _relu_signs(model, inputs)], dim=1)
        scores.append(torch.unique(signs.T, dim=0).shape[0])
    return float(np.mean(scores))


def linear_regions(model, x, y, n_batches: int = 3, crops: int = 1000, size: int = 3):
    """TE-NAS: ReLU sign patterns of random 3x3 crops of the inputs (on a full-width network all channels; TE-NAS's
    thin network takes one channel), counted with torch.unique."""
    model.train()
    g = torch.Generator().manual_seed(0)
    patterns = []
    for _ in range(n_batches):
        idx = torch.randint(0, x.shape[0], (crops,), generator=g)
        top = torch.randint(0, x.shape[2] - size + 1, (crops,), generator=g)
        left = torch.randint(0, x.shape[3] - size + 1, (crops,), generator=g)
        batch = torch.stack([x[i, :, t:t + size, w:w + size] for i, t, w in zip(idx, top, left)])
        patterns.append(torch.cat(_relu_signs(model, batch), dim=1))
    return float(torch.unique(torch.cat(patterns), dim=0).shape[0])


# ------------------------------------------------------------------ NTK (TE-NAS / TEG-NAS)


def _ntk_jacobian(model, x):
    model.train()
    weights = [p for n, p in model.named_parameters() if "weight" in n]
    logits = model(x)
    rows = []
    for i in range(x.shape[0]):
        grads = torch.autograd.grad(logits[i].sum(), weights, retain_graph=True, allow_unused=True)
        rows.append(torch.cat([(g if g is not None else torch.zeros_like(w)).reshape(-1)
                               for g, w in zip(grads, weights)]))
    return torch.stack(rows)


def ntk_cond(model, x, y):
    jac = _ntk_jacobian(model, x).double()
    eig = torch.linalg.eigvalsh(jac @ jac.T)
    return float(eig[-1] / eig[0])


def ntk_generalization(model, x, y, holdout: float = 0.5):
    jac = _ntk_jacobian(model, x).double()
    k = jac @ jac.T
    n = x.shape[0]
    n_train = n - max(1, int(round(n * holdout)))
    onehot = F.one_hot(y, max(10, int(y.max()) + 1)).double()
    y_train = onehot[:n_train] - onehot[:n_train].mean(0)
    y_test = onehot[n_train:] - onehot[n_train:].mean(0)
    pred = k[n_train:, :n_train] @ torch.linalg.solve(k[:n_train, :n_train], y_train)
    return float(((pred - y_test) ** 2).sum(1).mean())


# ------------------------------------------------------------------ per-sample and mini-batch gradients


def gradsign(model, x, y):
    """GradSign: every sample forwarded alone, the signs of its weight gradients summed over samples."""
    model.train()
    signs = None
    for i in range(x.shape[0]):
        model.zero_grad()
        F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
        s = [torch.sign(m.weight.grad).clone() for m in _layers(model)]
        signs = s if signs is None else [a + b for a, b in zip(signs, s)]
    return float(sum(t.abs().sum() for t in signs))


def zico(model, x, y, chunks: int = 2):
    """ZiCo: gradients of two halves of the batch, accumulated without zeroing (as the code does)."""
    model.train()
    model.zero_grad()
    grads = {m: [] for m in _layers(model)}
    n = x.shape[0]
    for i in range(chunks):
        st, en = i * n // chunks, (i + 1) * n // chunks
        F.cross_entropy(model(x[st:en]), y[st:en]).backward()
        for m in grads:
            grads[m].append(m.weight.grad.detach().reshape(-1).clone().cpu().numpy())  # .grad accumulates
    score = 0.0
    for layer_grads in grads.values():
        g = np.array(layer_grads)
        std = np.std(g, axis=0)
        nz = np.nonzero(std)[0]
        s = float(np.sum(np.mean(np.abs(g), axis=0)[nz] / std[nz]))
        if s != 0:
            score += math.log(s)
    return score


# ------------------------------------------------------------------ feature statistics


def meco(model, x, y, channels: int | None = None):
    """MeCo: a hook on every module takes the first sample's output, corrcoef over channels, smallest eigenvalue
    (``torch.linalg.eig`` as the reference); meco_opt: 8 random channels, scaled by C / 8."""
    values = []
    g = torch.Generator().manual_seed(0)

    def hook(m, inp, out):
        if not isinstance(out, torch.Tensor) or out.dim() == 0:
            return
        fea = out[0].detach().reshape(out[0].shape[0], -1) if out[0].dim() >= 1 else out[0].reshape(1, 1)
        scale = 1.0
        if channels is not None and fea.shape[0] > channels:
            scale = fea.shape[0] / channels
            fea = fea[torch.randperm(fea.shape[0], generator=g)[:channels]]
        corr = torch.nan_to_num(torch.corrcoef(fea), nan=0.0, posinf=0.0, neginf=0.0)
        corr = corr.reshape(1, 1) if corr.dim() < 2 else corr
        values.append(scale * float(torch.min(torch.real(torch.linalg.eig(corr)[0]))))

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    model.train()
    with torch.no_grad():
        model(x[:1])
    for h in handles:
        h.remove()
    return float(sum(v for v in values if math.isfinite(v)))


def meco_opt(model, x, y):
    return meco(model, x, y, channels=8)


def zen(model, x, y, gamma: float = 1e-2):
    """Zen-NAS: Gaussian weights, two forwards (x, x + gamma e) up to the global pool, plus BN variance terms."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, LAYERS):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
    feats = []
    pool = [m for m in model.modules() if isinstance(m, nn.AdaptiveAvgPool2d)][-1]
    handle = pool.register_forward_hook(lambda m, i, o: feats.append(i[0]))
    model.train()
    inp = torch.randn(x.shape, device=x.device)
    with torch.no_grad():
        model(inp)
        model(inp + gamma * torch.randn(x.shape, device=x.device))
    handle.remove()
    nas = torch.mean(torch.sum(torch.abs(feats[0] - feats[1]).reshape(x.shape[0], -1), dim=1))
    log_bn = sum(math.log(math.sqrt(float(m.running_var.mean()))) for m in model.modules()
                 if isinstance(m, nn.BatchNorm2d) and m.running_var is not None)
    return math.log(float(nas)) + log_bn


def _az_blocks(model):
    if hasattr(model, "stem") and hasattr(model, "cells"):
        return [model.stem, *model.cells]
    return [m for m in model.children() if any(True for _ in m.parameters())]


def _az_nas(model, x, component: str) -> float:
    """AZ-NAS: Kaiming-normal (fan-in) weights, a Gaussian batch, block features recorded by hooks; expressivity
    = eigenvalue entropy of each block's channel covariance, trainability = -s - 1/s + 2 for the spectral norm of
    each consecutive block pair's gradient map (Rademacher back-propagation)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, LAYERS):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
    feats = []
    handles = [b.register_forward_hook(lambda m, i, o: feats.append(o)) for b in _az_blocks(model)]
    model.train()
    inp = torch.randn(x.shape, device=x.device, requires_grad=True)
    model(inp)
    for h in handles:
        h.remove()
    if component == "trainability":
        values = []
        for i in reversed(range(1, len(feats))):
            g_out = (torch.randint(0, 2, feats[i].shape, device=feats[i].device).float() - 0.5) * 2
            (g_in,) = torch.autograd.grad(feats[i], feats[i - 1], g_out, retain_graph=True)
            if g_out.shape[2:] != g_in.shape[2:]:
                g_in = F.pixel_unshuffle(g_in, g_in.shape[2] // g_out.shape[2])
            a = g_in.movedim(1, -1).reshape(-1, g_in.shape[1])
            b = g_out.movedim(1, -1).reshape(-1, g_out.shape[1])
            s = float(torch.linalg.svdvals(a.T @ b / b.shape[0]).max())
            values.append(-s - 1.0 / (s + 1e-6) + 2.0)
        return float(np.mean(values))
    entropies = []
    for f in feats:
        rows = f.detach().movedim(1, -1).reshape(-1, f.shape[1])
        rows = rows - rows.mean(0, keepdim=True)
        eig = torch.linalg.eigvalsh(rows.T @ rows / rows.shape[0]).clamp_min(0)
        p = eig / eig.sum()
        entropies.append(float((-p * torch.log(p + 1e-8)).sum()))
    if component == "expressivity":
        return float(sum(entropies))
    return float(min(b - a for a, b in zip(entropies[:-1], entropies[1:])))


def az_expressivity(model, x, y):
    return _az_nas(model, x, "expressivity")


def az_progressivity(model, x, y):
    return _az_nas(model, x, "progressivity")


def az_trainability(model, x, y):
    return _az_nas(model, x, "trainability")


REFERENCES = {
    "params": params, "l2_norm": l2_norm, "flops": flops, "az_complexity": flops, "grad_norm": grad_norm,
    "plain": plain, "snip": snip, "fisher": fisher, "grasp": grasp, "synflow": synflow, "jacov": jacov,
    "epe_nas": epe_nas, "naswot": naswot, "swap": swap, "linear_regions": linear_regions, "ntk_cond": ntk_cond,
    "ntk_generalization": ntk_generalization, "gradsign": gradsign, "zico": zico, "meco": meco,
    "meco_opt": meco_opt, "zen": zen, "az_expressivity": az_expressivity, "az_progressivity": az_progressivity,
    "az_trainability": az_trainability,
}
