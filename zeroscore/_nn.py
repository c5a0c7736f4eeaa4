"""Private helpers about ``torch.nn`` modules shared by the probe, the passes and the indicators.

Which layers the zero-cost proxies score, how a model's output becomes logits, which hooks belong to a layer's
definition, how weights are re-initialised. Nothing here knows about indicators or probes.

Which parameters the NASLib-style proxies score: Abdelfattah et al. ("Zero-Cost Proxies for Lightweight NAS",
ICLR 2021, ``foresight/pruners/p_utils.py::get_layer_metric_array``; copied unchanged into NASLib) score only the
``weight`` of every ``nn.Conv2d`` and ``nn.Linear``: biases, BatchNorm affine parameters and anything else are
ignored. ZiCo and GradSign use the same set. :func:`layer_weight_names` returns exactly these names (generalised to
every convolution and ``nn.Linear``), so every such indicator sums over the same parameters.
"""

from __future__ import annotations

import gc
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from zeroscore.errors import IndicatorNotApplicable, InvalidInputError

#: modules whose ``weight`` the zero-cost-nas / NASLib proxies score
LAYER_TYPES = (nn.modules.conv._ConvNd, nn.Linear)

#: normalisation layers (no "compute" of their own for the block heuristics)
NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)

#: element-wise activations, dropout and shape-only layers
PASSIVE_TYPES = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish, nn.Sigmoid,
    nn.Tanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Identity, nn.Dropout, nn.Dropout2d, nn.Dropout3d,
    nn.Flatten,
)

#: the parameter that defines a layer's ``weight`` when ``weight`` itself is computed by a hook or a
#: parametrization (spectral norm, weight norm, pruning masks): the proxies score that parameter instead
_DEFINING_PARAMETERS = ("weight_orig", "weight_v", "parametrizations.weight.original")


def first_tensor(out: Any) -> torch.Tensor | None:
    """The output itself if it is a tensor, else the first tensor of a tuple/list output, else None."""
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)):
        for o in out:
            if isinstance(o, torch.Tensor):
                return o
    return None


# ---------------------------------------------------------------------------------------------------------------
# layers


def layer_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` of every conv/linear module with a weight, in ``named_modules`` order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, LAYER_TYPES) and _weight_parameter(m)]


def _weight_parameter(module: nn.Module) -> tuple[str, nn.Parameter] | None:
    """``(local name, parameter)`` that defines ``module.weight``: the weight itself, or the parameter a
    spectral-norm / weight-norm / pruning hook or a parametrization computes it from."""
    own = dict(module.named_parameters(recurse=True))
    w = module._parameters.get("weight")
    if isinstance(w, nn.Parameter):
        return "weight", w
    for local in _DEFINING_PARAMETERS:
        if local in own:
            return local, own[local]
    return None


def layer_weight_names(model: nn.Module) -> list[str]:
    """Parameter names (as in ``model.named_parameters()``) of the weights of all conv/linear modules.

    A weight shared by several modules appears once. For a layer whose ``weight`` is computed (spectral norm, weight
    norm, pruning, ``nn.utils.parametrize``) the parameter it is computed from counts. A model without conv/linear
    modules falls back to every parameter named ``*weight`` with at least 2 dimensions (e.g. raw ``nn.Parameter``
    matrices used with ``F.linear``); a model with neither raises :class:`IndicatorNotApplicable`.
    """
    by_id: dict[int, str] = {}
    for n, p in model.named_parameters():
        by_id.setdefault(id(p), n)
    names: list[str] = []
    for _, m in layer_modules(model):
        found = _weight_parameter(m)
        name = by_id.get(id(found[1])) if found else None
        if name is not None and name not in names:
            names.append(name)
    if not names:
        names = [n for n, p in model.named_parameters() if n.split(".")[-1].endswith("weight") and p.dim() >= 2]
    if not names:
        raise IndicatorNotApplicable(
            "needs conv/linear layers (the proxy scores the weights of nn.Conv*/nn.Linear modules), found none"
        )
    return names


def is_norm_or_passive(module: nn.Module) -> bool:
    """True when every leaf of ``module`` is a normalisation, activation, dropout or shape-only layer."""
    leaves = [m for m in module.modules() if not any(True for _ in m.children())]
    return bool(leaves) and all(isinstance(m, NORM_TYPES + PASSIVE_TYPES) for m in leaves)


# ---------------------------------------------------------------------------------------------------------------
# outputs


def select_logits(output: Any, selector: Any = None) -> torch.Tensor:
    """The logits tensor of a model output, ``(N, classes)``.

    ``selector``: ``None`` (a tensor; a dict's ``"logits"`` entry; an object's ``.logits``; the only tensor of a
    tuple/list), an ``int`` index or ``str`` key into a tuple/list/dict output, or a callable ``output -> tensor``.
    A tuple/list with several tensors and no selector is ambiguous (NB201's reference networks return
    ``(features, logits)``) and raises :class:`InvalidInputError` naming ``logits=``. 1-D outputs become
    ``(N, 1)``, outputs with more dimensions are flattened after the first.
    """
    if callable(selector):
        out = selector(output)
    elif selector is not None:
        try:
            out = output[selector] if not isinstance(selector, str) or isinstance(output, dict) \
                else getattr(output, selector)
        except (IndexError, KeyError, AttributeError, TypeError) as err:
            raise InvalidInputError(f"logits={selector!r} does not select anything in a model output of type "
                                    f"{type(output).__name__} ({err})") from None
    elif isinstance(output, torch.Tensor):
        out = output
    elif isinstance(output, dict) and "logits" in output:
        out = output["logits"]
    elif hasattr(output, "logits") and isinstance(output.logits, torch.Tensor):
        out = output.logits
    elif isinstance(output, (tuple, list)):
        tensors = [(i, o) for i, o in enumerate(output) if isinstance(o, torch.Tensor)]
        if len(tensors) != 1:
            shapes = ", ".join(f"[{i}] {tuple(o.shape)}" for i, o in tensors) or "none"
            raise InvalidInputError(
                f"the model returns a {type(output).__name__} of {len(tensors)} tensors ({shapes}); say which holds "
                "the logits with logits=<index> (e.g. logits=-1 for (features, logits)), a key, or a callable "
                "(CLI: --logits)")
        out = tensors[0][1]
    else:
        raise InvalidInputError(f"cannot find logits in a model output of type {type(output).__name__}; pass "
                                "logits=<index, key or callable>")
    if not isinstance(out, torch.Tensor):
        raise InvalidInputError(f"logits={selector!r} selected a {type(out).__name__}, not a tensor")
    if out.dim() == 1:
        out = out.unsqueeze(1)
    elif out.dim() > 2:
        out = out.flatten(1)
    return out


# ---------------------------------------------------------------------------------------------------------------
# hooks


_HOOK_DICTS = (
    "_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs", "_backward_hooks", "_backward_pre_hooks", "_state_dict_hooks",
    "_state_dict_pre_hooks", "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks",
)
_hook_dicts_of = operator.itemgetter(*_HOOK_DICTS)


def _hook_dicts(state: dict) -> tuple:
    """A module's hook dicts (``_HOOK_DICTS`` order) from its ``__dict__``, in one C call for the usual module."""
    try:
        return _hook_dicts_of(state)
    except KeyError:  # a module built without some of them (older torch, hand-made state)
        return tuple(state.get(a, {}) for a in _HOOK_DICTS)


def _defining_hook_types() -> tuple[type, ...]:
    """Hook objects that are part of a layer's definition: legacy ``nn.utils.spectral_norm`` / ``weight_norm``
    and ``nn.utils.prune`` compute the layer's ``weight`` in a forward pre-hook (and keep their state through
    state-dict hooks); without them the layer is a different function."""
    import importlib

    # the modules, not the same-named functions that torch.nn.utils exports
    spectral_norm = importlib.import_module("torch.nn.utils.spectral_norm")
    weight_norm = importlib.import_module("torch.nn.utils.weight_norm")
    prune = importlib.import_module("torch.nn.utils.prune")
    return (spectral_norm.SpectralNorm, spectral_norm.SpectralNormStateDictHook,
            spectral_norm.SpectralNormLoadStateDictPreHook, weight_norm.WeightNorm, prune.BasePruningMethod)


def _is_defining(hook: Any, types: tuple[type, ...]) -> bool:
    target = getattr(hook, "__self__", hook)  # state-dict hooks may be bound methods of the hook object
    return isinstance(target, types)


def strip_user_hooks(model: nn.Module) -> None:
    """Remove every module hook of ``model`` except those that define a layer (use on private copies only):
    the caller's hooks could have side effects on the caller's objects and must not fire during scoring."""
    types = _defining_hook_types()
    for module in model.modules():
        state = module.__dict__
        if not any(_hook_dicts(state)):
            continue  # most modules: not one hook
        for attr in ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_backward_pre_hooks",
                     "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
                     "_load_state_dict_post_hooks"):
            hooks = state.get(attr)
            if not hooks or not isinstance(hooks, dict):
                continue
            for key in [k for k, h in hooks.items() if not _is_defining(h, types)]:
                del hooks[key]
                for flags in ("_forward_hooks_with_kwargs", "_forward_hooks_always_called",
                              "_forward_pre_hooks_with_kwargs"):
                    getattr(module, flags, {}).pop(key, None)


def walk(model: nn.Module) -> tuple[tuple, tuple, list[tuple[str, torch.Tensor]], list[tuple[str, nn.Module]]]:
    """One traversal of ``model``: ``(structure, hooks, tensors, modules)``. ``structure`` is what must not change
    under an indicator (each module's name and type, each parameter's and buffer's identity, dtype, device and
    shape), ``hooks`` the keys of every module's hook dicts (to notice a leaked hook), ``tensors`` the
    ``(qualified name, tensor)`` of every parameter and buffer, ``modules`` the ``named_modules()``."""
    structure: list = []
    hooks: list = []
    tensors: list[tuple[str, torch.Tensor]] = []
    modules = list(model.named_modules())
    for name, m in modules:
        structure.append((name, type(m)))
        state = m.__dict__
        dicts = _hook_dicts(state)
        # () for the common module without any hook: this walk runs after every indicator
        hooks.append(tuple(tuple(d) for d in dicts) if any(dicts) else ())
        prefix = f"{name}." if name else ""
        for group in (state["_parameters"], state["_buffers"]):
            for local, t in group.items():
                if t is not None:
                    structure.append((prefix + local, id(t), t.dtype, t.device, tuple(t.shape)))
                    tensors.append((prefix + local, t))
    return tuple(structure), tuple(hooks), tensors, modules


def hook_keys(model: nn.Module) -> dict[str, tuple]:
    """Module name -> the keys of each of its hook dicts (to notice hooks an indicator left behind)."""
    return {name: tuple(tuple(getattr(m, a, {}).keys()) for a in _HOOK_DICTS) for name, m in model.named_modules()}


def remove_hooks_except(model: nn.Module, keep: dict[str, tuple]) -> None:
    """Remove every hook whose key is not in ``keep`` (a :func:`hook_keys` snapshot)."""
    for name, m in model.named_modules():
        kept = keep.get(name) or ((),) * len(_HOOK_DICTS)
        for attr, keys in zip(_HOOK_DICTS, kept):
            d = getattr(m, attr, None)
            if isinstance(d, dict):
                for k in [k for k in d if k not in keys]:
                    del d[k]


@contextmanager
def forward_hooks(modules: list[tuple[str, nn.Module]], make_hook: Callable[[str], Callable],
                  with_kwargs: bool = False) -> Iterator[None]:
    """Register ``make_hook(name)`` as a forward hook on every ``(name, module)``; removed whatever happens."""
    handles = []
    try:
        for name, m in modules:
            handles.append(m.register_forward_hook(make_hook(name), with_kwargs=with_kwargs))
        yield
    finally:
        for h in handles:
            h.remove()


@contextmanager
def no_global_module_hooks() -> Iterator[None]:
    """Process-wide module hooks (``nn.modules.module.register_module_forward_hook`` ...) switched off for the
    body: they belong to the caller and must not fire on the private copy."""
    from torch.nn.modules import module as m

    names = ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
             "_global_backward_pre_hooks", "_global_forward_hooks_always_called", "_global_forward_hooks_with_kwargs")
    saved = {n: dict(getattr(m, n)) for n in names if isinstance(getattr(m, n, None), dict)}
    for n in saved:
        getattr(m, n).clear()
    try:
        yield
    finally:
        for n, content in saved.items():
            getattr(m, n).clear()
            getattr(m, n).update(content)


@contextmanager
def seeded_rng(seed: int, devices: Iterable[int | torch.device] = ()) -> Iterator[None]:
    """torch's global RNG seeded with ``seed`` for the body, the caller's state put back afterwards: the CPU
    generator and the given CUDA devices' only. ``torch.manual_seed`` would also seed every other CUDA device,
    outside what ``fork_rng`` restores (the caller's CUDA streams would change), and before CUDA is initialised it
    queues that call with a captured stack trace (about a millisecond per call on a CPU-only torch)."""
    devices = list(devices)
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)
        for device in devices:
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        yield


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the body (as the caller had it afterwards, also after an error).

    A ``score()`` call builds a private copy of a few hundred modules (thousands of dicts); collections that run
    while it is alive promote it to the oldest generation, and every ten or so calls a full collection of the whole
    process follows (~100 ms with torch and pandas loaded): on an NB201 cell the mean cost of a ``score()`` call
    with no pass fell from ~24 ms to ~15 ms with the collector paused (the best calls unchanged). The copy holds no
    reference cycles and is freed by reference counting when the call ends; cyclic garbage made meanwhile is
    collected at the next collection after it. Process-wide, like the collector itself: calls on several threads
    at once may switch it back on early (nothing is lost, only the saving)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def model_device(model: nn.Module) -> torch.device:
    for t in itertools.chain(model.parameters(), model.buffers()):  # lazily: only the first is needed
        return t.device
    return torch.device("cpu")
