"""Private copies of a model and re-initialisation of their weights (shared by the probe and the indicators that
score re-initialised networks)."""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from zeroscore._nn import LAYER_TYPES, seeded_rng
from zeroscore.errors import InvalidInputError

__all__ = ["private_copy", "reinitialize", "reinitialized_parameters", "INIT_SCHEMES", "SEEDED_SCHEMES"]


def private_copy(model: nn.Module, sources: dict[int, torch.Tensor] | None = None) -> nn.Module:
    """``copy.deepcopy(model)``; a model that cannot be copied gets an error naming the sub-module at fault.
    With ``sources`` (a dict), every parameter and buffer the copy cloned is recorded there as
    ``id(clone) -> original`` (tensors copied by ``copy.deepcopy`` itself are not).

    Weights a hook computed during the caller's last forward (legacy ``weight_norm``/``spectral_norm``) are
    non-leaf tensors, which ``deepcopy`` refuses; the copy gets detached clones of them (its hook recomputes them
    on its first forward anyway)."""
    memo: dict[int, Any] = {}
    try:
        return _copy_module(model, memo, sources)
    except Exception as err:
        culprit = ""
        for name, sub in reversed(list(model.named_modules())):
            try:
                copy.deepcopy(sub)
            except Exception:
                culprit = f" (sub-module {name or '<root>'!r}, {type(sub).__name__})"
                break
        raise InvalidInputError(
            f"zeroscore scores a private copy of the model, but copy.deepcopy fails{culprit}: "
            f"{type(err).__name__}: {err}. Keep non-tensor state that cannot be copied (locks, open files, "
            "processes) outside the module, or give the module a __deepcopy__") from err


_ATOMIC = frozenset({int, float, bool, str, type(None), complex, bytes})


_PLAINLY_COPYABLE: dict[type, bool] = {}


def _plainly_copyable(cls: type) -> bool:
    """No custom copying protocol, except torch.nn's own ``__setstate__`` overrides (``_ConvNd``, ``BatchNorm``...),
    which only fill in attributes missing from old pickles: a direct copy of ``__dict__`` is what they rebuild.
    (Per class, cached: it is asked for every module of every copy.)"""
    known = _PLAINLY_COPYABLE.get(cls)
    if known is None:
        known = _PLAINLY_COPYABLE[cls] = _copies_plainly(cls)
    return known


def _copies_plainly(cls: type) -> bool:
    for hook in ("__deepcopy__", "__reduce_ex__", "__reduce__", "__getstate__", "__setstate__"):
        impl = getattr(cls, hook, None)
        if impl is getattr(nn.Module, hook, None):
            continue
        if hook == "__setstate__" and getattr(impl, "__module__", "").startswith("torch.nn.modules."):
            continue
        return False
    return True


def _copy_tensor(t: torch.Tensor, memo: dict[int, Any], sources: dict[int, torch.Tensor] | None) -> torch.Tensor:
    """``copy.deepcopy`` of a plain dense parameter or buffer without its ``.grad`` (scoring clears gradients
    anyway): a clone, in the same memory format, kept shared through ``memo``. ``Tensor.__deepcopy__`` goes
    through the storage and the pickling protocol, about ten times slower on the small tensors of NAS networks.
    Anything else (subclasses, tensors carrying Python attributes, sparse, quantized) gets ``copy.deepcopy``."""
    if id(t) in memo:
        return memo[id(t)]
    if (type(t) not in (torch.Tensor, nn.Parameter) or not t.is_leaf or t.layout != torch.strided
            or t.is_quantized or t.__dict__):
        return copy.deepcopy(t, memo)
    data = t.detach().clone()  # not under no_grad(): entering and leaving it per tensor cost more than the clone
    new = nn.Parameter(data, requires_grad=t.requires_grad) if type(t) is nn.Parameter else \
        data.requires_grad_(t.requires_grad)
    memo[id(t)] = new
    if sources is not None:
        sources[id(new)] = t
    return new


def _detach_computed_tensors(module: nn.Module, memo: dict[int, Any]) -> None:
    """Detached clones of the non-leaf tensors held by ``module`` and its sub-modules, put in ``memo`` before
    ``copy.deepcopy`` copies them: it refuses non-leaf tensors (see :func:`private_copy`)."""
    for m in module.modules():
        for value in vars(m).values():
            if isinstance(value, torch.Tensor) and not value.is_leaf:
                memo.setdefault(id(value), value.detach().clone())


def _copy_module(module: nn.Module, memo: dict[int, Any], sources: dict[int, torch.Tensor] | None) -> nn.Module:
    """``copy.deepcopy`` of a module tree, with a fast path for modules that do not customise copying: the
    parameter, buffer and sub-module dicts are rebuilt directly (tensors cloned once, shared ones staying shared
    through ``memo``) and only the other attributes go through ``copy.deepcopy``. The generic deepcopy of a module
    reduces and reconstructs every object it holds, which cost tens of milliseconds per call on NB201 networks."""
    if id(module) in memo:
        return memo[id(module)]
    cls = type(module)
    if not _plainly_copyable(cls):
        _detach_computed_tensors(module, memo)
        return copy.deepcopy(module, memo)
    new = object.__new__(cls)
    memo[id(module)] = new
    state: dict[str, Any] = {}
    # the branches in the order of how often they are taken (about 20 attributes per module, a dozen of them empty
    # hook dicts): this loop is most of the fixed cost of a score() call
    for key, value in module.__dict__.items():
        kind = type(value)
        if kind is dict or kind is OrderedDict:
            if not value:
                state[key] = kind()  # a fresh one: hooks registered on the copy must not reach the original
            elif key == "_modules":
                state[key] = {n: None if m is None else _copy_module(m, memo, sources) for n, m in value.items()}
            elif key == "_parameters" or key == "_buffers":
                state[key] = {n: None if t is None else _copy_tensor(t, memo, sources) for n, t in value.items()}
            else:
                state[key] = copy.deepcopy(value, memo)
        elif kind in _ATOMIC:
            state[key] = value  # immutable: nothing to copy (flags, names)
        elif kind is tuple and all(type(v) in _ATOMIC for v in value):
            state[key] = value  # kernel sizes, strides
        elif (kind is set or kind is list) and all(type(v) in _ATOMIC for v in value):
            state[key] = kind(value)  # non-persistent buffer names, conv paddings
        elif isinstance(value, torch.Tensor) and not value.is_leaf:  # see private_copy
            state[key] = memo.setdefault(id(value), value.detach().clone())
        else:
            state[key] = copy.deepcopy(value, memo)
    new.__dict__.update(state)
    return new


#: re-initialisation schemes of :func:`reinitialize`
INIT_SCHEMES = ("reset", "gaussian", "kaiming_fanin", "kaiming_normal_fan_in", "kaiming_normal_fan_out")
#: the schemes that draw from a generator of their own (seeded), not from torch's global RNG
SEEDED_SCHEMES = ("gaussian", "kaiming_fanin")


def reinitialize(model: nn.Module, scheme: str, seed: int | None = None) -> nn.Module:
    """Re-initialise ``model`` in place (use on copies) with ``scheme``; the one re-initialisation in zeroscore.

    * ``"reset"``: every module's own ``reset_parameters()`` (PyTorch's default init), from torch's global RNG;
    * ``"gaussian"`` (Zen-NAS ``network_weight_gaussian_init``): conv/linear weights ~ N(0, 1), biases 0;
    * ``"kaiming_fanin"`` (AZ-NAS ``kaiming_normal_fanin_init``): conv/linear weights ~ N(0, 2 / fan_in), biases 0;
      both draw float64 normals, module by module, from a ``torch.Generator`` seeded with ``seed`` (required);
    * ``"kaiming_normal_fan_in"`` / ``"kaiming_normal_fan_out"`` (TE-NAS ``init_model``): ``nn.init.kaiming_normal_``
      (ReLU gain) on conv/linear weights from torch's global RNG, biases 0.

    With ``seed`` the global-RNG schemes run inside ``fork_rng`` seeded with it (the caller's RNG is untouched);
    without, they continue the caller's stream (as TE-NAS initialises right after building). Every scheme except
    ``"reset"`` sets BatchNorm/GroupNorm affine weights to 1 and biases to 0 and keeps every other parameter.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; known: {', '.join(INIT_SCHEMES)}")
    if scheme in SEEDED_SCHEMES:
        if seed is None:
            raise ValueError(f"init scheme {scheme!r} needs a seed")
        # their own generator: torch's global RNG is never read, nor forked (forking it is not thread-safe, and
        # SWAP re-initialises copies on several threads at once)
        with torch.no_grad():
            return _reinitialize(model, scheme, torch.Generator().manual_seed(seed))
    if seed is None:
        with torch.no_grad():
            return _reinitialize(model, scheme, None)
    devices = sorted({t.device.index or 0 for t in model.parameters() if t.device.type == "cuda"})
    with torch.no_grad(), seeded_rng(seed, devices):
        return _reinitialize(model, scheme, None)


def reinitialized_parameters(model: nn.Module, scheme: str, seed: int) -> OrderedDict[str, torch.Tensor]:
    """``named_parameters()`` of ``model`` as :func:`reinitialize` with a seeded ``scheme`` would leave a copy of it
    (the same draws, in the same order, tied weights drawn once per module that holds them as there), built without
    copying the module tree: new tensors for what the scheme sets, clones of the rest; ``model`` untouched."""
    if scheme not in SEEDED_SCHEMES:
        raise ValueError(f"reinitialized_parameters takes a seeded scheme ({', '.join(SEEDED_SCHEMES)}), got "
                         f"{scheme!r}; re-initialise a private copy for the others")
    gen = torch.Generator().manual_seed(seed)
    fresh: dict[int, torch.Tensor] = {}
    with torch.no_grad():
        for m in model.modules():
            for param, value in _initial_values(m, scheme, gen):
                fresh[id(param)] = (param.new_full(param.shape, value) if isinstance(value, float) else
                                    value.to(dtype=param.dtype, device=param.device))
    return OrderedDict((n, fresh[id(p)] if id(p) in fresh else p.detach().clone())
                       for n, p in model.named_parameters())


def _initial_values(m: nn.Module, scheme: str, gen: torch.Generator | None):
    """``(parameter, value)`` pairs a non-``reset`` scheme sets on module ``m``: a float fill or a seeded float64
    draw (``gen``); a global-RNG Kaiming weight is drawn in place (``value`` None)."""
    w, b = getattr(m, "weight", None), getattr(m, "bias", None)
    if isinstance(m, LAYER_TYPES):
        if isinstance(w, nn.Parameter):
            if gen is None:
                yield w, None
            else:
                std = 1.0
                if scheme == "kaiming_fanin":
                    std = (2.0 / max(nn.init._calculate_fan_in_and_fan_out(w)[0], 1)) ** 0.5
                draw = torch.randn(w.shape, generator=gen, dtype=torch.float64)
                if std != 1.0:
                    draw.mul_(std)
                yield w, draw
        if isinstance(b, nn.Parameter):
            yield b, 0.0
    elif isinstance(m, (nn.modules.batchnorm._NormBase, nn.GroupNorm)):
        if isinstance(w, nn.Parameter):
            yield w, 1.0
        if isinstance(b, nn.Parameter):
            yield b, 0.0


def _reinitialize(model: nn.Module, scheme: str, gen: torch.Generator | None) -> nn.Module:
    if scheme == "reset":
        for m in model.modules():
            reset = getattr(m, "reset_parameters", None)
            if callable(reset):
                reset()
        return model
    for m in model.modules():
        for param, value in _initial_values(m, scheme, gen):
            if value is None:
                nn.init.kaiming_normal_(param, mode="fan_in" if scheme.endswith("fan_in") else "fan_out",
                                        nonlinearity="relu")
            elif isinstance(value, float):
                param.fill_(value)
            else:
                param.copy_(value)  # converts to the parameter's dtype and device in the same pass
    return model
