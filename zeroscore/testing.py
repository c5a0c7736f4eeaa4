"""Helpers for testing indicators: the contract models, model snapshots, and :func:`check_indicator`.

zeroscore's own test suite uses them, and so can the author of a third-party indicator::

    from zeroscore import Indicator, register
    from zeroscore.testing import check_indicator

    @register
    class MyIndicator(Indicator):
        ...

    check_indicator("my_indicator")   # raises AssertionError naming what broke the contract
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from zeroscore._nn import seeded_rng
from zeroscore.models import FunctionalReluNet, SmallResNet, mlp

__all__ = ["CONTRACT_MODELS", "make_model", "contract_batch", "snapshot", "assert_unchanged", "check_indicator",
           "TokenClassifier", "spectral_norm_net"]

#: the kinds of model every registered indicator is checked on
CONTRACT_MODELS = ("resnet", "mlp", "frelu")

#: batch shape of the contract checks: (N, C, H, W)
N, C, H = 8, 3, 16


class TokenClassifier(nn.Module):
    """Integer token ids ``(N, L)`` -> an embedding, a ReLU MLP over the mean token, logits: a model whose inputs
    cannot be differentiated or replaced by Gaussian noise."""

    def __init__(self, vocab: int = 50, dim: int = 16, num_classes: int = 5):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.body = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU())
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.embed(tokens).mean(dim=1)))


def spectral_norm_net(num_classes: int = 5, legacy: bool = True) -> nn.Module:
    """A small CNN with spectral-normalised convolutions (legacy hook-based ``nn.utils.spectral_norm``, or the
    ``nn.utils.parametrizations`` version): the layer's weight is computed, not stored."""
    norm = nn.utils.spectral_norm if legacy else nn.utils.parametrizations.spectral_norm
    return nn.Sequential(norm(nn.Conv2d(C, 4, 3, padding=1)), nn.BatchNorm2d(4), nn.ReLU(),
                         norm(nn.Conv2d(4, 8, 3, stride=2, padding=1)), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(8, num_classes))


def make_model(kind: str, num_classes: int = 5, seed: int = 1) -> nn.Module:
    """A freshly built contract model: ``"resnet"`` (BatchNorm, residuals), ``"mlp"``, ``"frelu"`` (``F.relu``
    activations), ``"tokens"`` (integer inputs), ``"spectral"`` (hook-defined layers)."""
    with seeded_rng(seed):
        if kind == "resnet":
            return SmallResNet(num_classes=num_classes, width=4, blocks=1)
        if kind == "mlp":
            return mlp(num_classes=num_classes, in_features=C * H * H, hidden=(16, 8))
        if kind == "frelu":
            return FunctionalReluNet(num_classes=num_classes, width=4)
        if kind == "tokens":
            return TokenClassifier(num_classes=num_classes)
        if kind == "spectral":
            return spectral_norm_net(num_classes)
    raise ValueError(f"unknown model kind {kind!r}")


def contract_batch(kind: str = "resnet", num_classes: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded batch for ``make_model(kind)``: ``(N, C, H, H)`` Gaussian images, or token ids for ``"tokens"``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 50, (N, 12), generator=g) if kind == "tokens" else torch.randn(N, C, H, H, generator=g)
    return x, torch.randint(0, num_classes, (N,), generator=g)


_HOOK_ATTRS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
               "_forward_hooks_with_kwargs", "_state_dict_hooks")


def snapshot(model: nn.Module) -> dict:
    """Everything scoring must leave as it was: state, training flags, ``requires_grad``, gradients, hooks (the
    model's and the process-wide ones) and the torch-function mode stack."""
    return {
        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "dtypes": {k: v.dtype for k, v in model.state_dict().items()},
        "training": {n: m.training for n, m in model.named_modules()},
        "requires_grad": {n: p.requires_grad for n, p in model.named_parameters()},
        "grads": {n: None if p.grad is None else p.grad.clone() for n, p in model.named_parameters()},
        "hooks": {(n, a): list(getattr(m, a, {}).keys()) for n, m in model.named_modules() for a in _HOOK_ATTRS},
        "global_hooks": (len(nn.modules.module._global_forward_hooks),
                         len(nn.modules.module._global_forward_pre_hooks),
                         len(nn.modules.module._global_backward_hooks)),
        "torch_function_modes": torch._C._len_torch_function_stack(),
        "default_dtype": torch.get_default_dtype(),
    }


def assert_unchanged(before: dict, model: nn.Module) -> None:
    """AssertionError naming the first difference between ``before`` (a :func:`snapshot`) and ``model`` now."""
    after = snapshot(model)
    assert before["state"].keys() == after["state"].keys(), "the model's state keys changed"
    for k, v in before["state"].items():
        assert before["dtypes"][k] == after["dtypes"][k], f"dtype of {k} changed"
        assert torch.equal(v, after["state"][k]), f"state {k} changed"
    assert before["training"] == after["training"], "training flags changed"
    assert before["requires_grad"] == after["requires_grad"], "requires_grad flags changed"
    for k, g in before["grads"].items():
        same = (g is None) == (after["grads"][k] is None) and (g is None or torch.equal(g, after["grads"][k]))
        assert same, f"gradient of {k} changed"
    assert before["hooks"] == after["hooks"], "the model's hooks changed"
    assert before["global_hooks"] == after["global_hooks"], "process-wide module hooks changed"
    assert before["torch_function_modes"] == after["torch_function_modes"], "a torch-function mode was left behind"
    assert before["default_dtype"] == after["default_dtype"], "torch's default dtype changed"


def check_indicator(indicator: Any, kinds: tuple[str, ...] = CONTRACT_MODELS) -> dict[str, float]:
    """Run the contract every registered indicator passes on ``indicator`` (a name or an instance): on each
    model kind a float that is finite, or NaN with an error; the model, the global RNG state and the caller's
    batch unchanged; the caller's hooks silent; the same value for the same seed. Returns ``{kind: value}``."""
    import zeroscore

    values = {}
    for kind in kinds:
        model = make_model(kind)
        calls: list = []
        model.register_forward_hook(lambda *a: calls.append(1))
        x, y = contract_batch(kind)
        x0 = x.clone()
        before, rng = snapshot(model), torch.get_rng_state()
        result = zeroscore.score(model, x, y, indicators=[indicator], seed=0)
        name = next(iter(result.values))
        value = result[name]
        assert isinstance(value, float), f"{name} on {kind}: value of type {type(value).__name__}"
        assert math.isfinite(value) or (math.isnan(value) and result.errors.get(name)), \
            f"{name} on {kind}: {value} without an error"
        assert_unchanged(before, model)
        assert calls == [], f"{name} on {kind}: the caller's hook fired"
        assert torch.equal(rng, torch.get_rng_state()), f"{name} on {kind}: the global RNG state changed"
        assert torch.equal(x, x0), f"{name} on {kind}: the caller's batch changed"
        again = zeroscore.score(model, x, y, indicators=[indicator], seed=0)[name]
        assert again == value or (math.isnan(again) and math.isnan(value)), f"{name} on {kind}: not deterministic"
        values[kind] = value
    return values
