"""The probe: one (model, batch) as every indicator sees it.

Indicators read from a :class:`Probe` instead of running the model themselves; the shared passes over it (loss
gradients, the per-sample NTK Jacobian, ReLU codes, ...) live in :mod:`zeroscore.passes` and are memoised in the
probe's cache, so indicators that need the same pass share it.

The probe works on a *private copy* of the caller's model: the caller's parameters, buffers, ``training`` flags,
``requires_grad`` flags and hooks are never touched, and the caller's hooks do not fire (hooks that define a layer,
such as legacy ``spectral_norm``/``weight_norm``/pruning pre-hooks, are kept: without them the copy would be a
different network). The batch is copied too (never aliased) and keeps its dtype: token ids stay integers. On a
CPU the copy's ``nn.AvgPool2d`` layers pool by depthwise convolution (same sums, several times faster: see
:mod:`zeroscore._cpu_routes`).
Between two indicators :meth:`Probe.restore` puts the copy back: weights, buffers, training flags, the batch, and
hooks an indicator forgot; a copy whose structure an indicator changed (a cast to float64, a deleted sub-module,
a replaced parameter) is rebuilt from the caller's model, so one indicator cannot influence the next.

Parameters are read as detached tensors and gradients are taken with :mod:`torch.func` / autograd on those, so an
architecture is scored as a whole whatever its ``requires_grad`` flags (frozen layers included).
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from zeroscore import _copies, _nn
from zeroscore._cpu_routes import faster_pooling, one_thread
from zeroscore.errors import InvalidInputError, MissingInputError

__all__ = ["Probe", "derived_seed", "check_batch"]


def derived_seed(seed: int, *keys: Any) -> int:
    """A stable 63-bit seed derived from ``seed`` and keys (e.g. an indicator name)."""
    text = "|".join([str(seed), *map(str, keys)]).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little") & ((1 << 63) - 1)


class Probe:
    """Shared state for one model and one batch.

    Args:
        model: any ``nn.Module`` mapping ``inputs`` to logits ``(N, num_classes)``.
        inputs: the batch (not empty; floats must be finite; integer inputs such as token ids are kept).
        targets: optional integer class labels ``(N,)``.
        seed: base seed; indicators derive their own seeds from it.
        device: where to compute (the private copies of the model and the batch are moved there).
        logits: which part of a tuple/dict output holds the logits (see :func:`zeroscore._nn.select_logits`).
        snapshot: keep a copy of the caller's parameters and buffers to restore the private copy from (the
            default). ``False`` restores from the caller's own tensors (read only; one clone of the weights fewer
            per probe): the model must then not change while the probe is in use, as for the scorer's own probes,
            which live for one ``score()`` call.
    """

    def __init__(self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None,
                 seed: int = 0, device: str | torch.device | None = None, logits: Any = None, snapshot: bool = True):
        with one_thread():  # copies and checks of a few MB: see zeroscore._cpu_routes.one_thread
            self._setup(model, inputs, targets, seed, device, logits, snapshot)

    def _setup(self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None, seed: int,
               device: str | torch.device | None, logits: Any, snapshot: bool) -> None:
        check_batch(model, inputs)
        self.device = torch.device(device if device is not None else _nn.model_device(model))
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise InvalidInputError(f"device {str(self.device)!r} requested, but this torch has no CUDA device "
                                    f"(torch {torch.__version__}); use device='cpu'")
        self.seed = int(seed)
        self.logits = logits
        self._source = model
        self._snapshot = snapshot
        self._inputs0 = inputs.detach().to(self.device, copy=True)
        self.inputs = self._inputs0.clone()
        self._targets0 = _checked_targets(targets, self._inputs0.shape[0], self.device)
        self.targets = None if self._targets0 is None else self._targets0.clone()
        self._labels_checked = False
        #: names of the indicators the current ``score`` call computes (set by the scorer): a pass that could be
        #: shared with a later indicator is computed in its shared form only when that indicator is coming
        self.planned: frozenset[str] = frozenset()
        self._cache: dict[Any, Any] = {}
        self._param_sets: dict[Any, OrderedDict[str, torch.Tensor]] = {}
        self._adopt_fresh_copy()

    # ------------------------------------------------------------------ the private copy
    def _adopt_fresh_copy(self) -> None:
        # without a snapshot, the values restore() puts back are the caller's tensors themselves (read only, under
        # no_grad) wherever the copy cloned one on the same device
        sources: dict[int, torch.Tensor] | None = None if self._snapshot else {}
        model = _copies.private_copy(self._source, sources)
        _nn.strip_user_hooks(model)
        faster_pooling(model)  # the same values, much faster on a CPU: see zeroscore._cpu_routes
        self.model = model
        self._structure, self._hooks, tensors, self._modules = _nn.walk(model)
        if any(t.device != self.device for _, t in tensors):
            model.to(self.device)
            self._structure, self._hooks, tensors, self._modules = _nn.walk(model)
            sources = None
        self._pristine_state = {}
        for name, t in tensors:
            source = None if sources is None else sources.get(id(t))
            self._pristine_state[name] = t.detach().clone() if source is None else source
        self._live_state = tensors
        self._pristine_training = [m.training for _, m in self._modules]
        self._parameters = [t for _, t in tensors if isinstance(t, nn.Parameter)]

    def restore(self) -> None:
        """Put the private copy and the batch back to their pristine state (see the module docstring)."""
        with one_thread():
            self._restore()

    def _restore(self) -> None:
        structure, hooks, _, _ = _nn.walk(self.model)
        if structure != self._structure:
            self._cache.clear()  # cached passes may hold the broken copy's tensors
            self._adopt_fresh_copy()
        else:
            if hooks != self._hooks:
                _nn.remove_hooks_except(self.model, dict(zip((n for n, _ in self._modules), self._hooks)))
            with torch.no_grad():
                _copy_all([t.data for _, t in self._live_state], [self._pristine_state[n] for n, _ in self._live_state])
            self._reset_training_flags()
        for p in self._parameters:
            if p.grad is not None:
                p.grad = None
        if self.inputs.shape != self._inputs0.shape or not torch.equal(self.inputs, self._inputs0):
            self.inputs = self._inputs0.clone()
        if self._targets0 is not None and (self.targets is None or self.targets.shape != self._targets0.shape
                                           or not torch.equal(self.targets, self._targets0)):
            self.targets = self._targets0.clone()

    @contextmanager
    def mode(self, train: bool) -> Iterator[nn.Module]:
        """The private copy in train (BatchNorm batch statistics) or eval mode, flags restored afterwards."""
        self.model.train(train)
        try:
            yield self.model
        finally:
            self._reset_training_flags()

    def _reset_training_flags(self) -> None:
        for (_, m), training in zip(self._modules, self._pristine_training):
            if m.training != training:  # nn.Module.__setattr__ is slow: hundreds of modules per restore
                m.training = training

    # ------------------------------------------------------------------ basics
    @property
    def batch_size(self) -> int:
        return self.inputs.shape[0]

    @property
    def num_classes(self) -> int:
        return self.forward().shape[1]

    def cached(self, key: Any, fn: Callable[[], Any]) -> Any:
        """Memoise ``fn()`` under ``key`` for the lifetime of the probe (passes share results this way)."""
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def peek(self, key: Any) -> Any:
        """What :meth:`cached` holds under ``key``, or ``None``: for a pass that can reuse a shared result when an
        earlier indicator computed it, and is cheaper computed its own way when not."""
        return self._cache.get(key)

    def clear_cache(self) -> None:
        """Forget the memoised passes (to free memory; they are recomputed on demand)."""
        self._cache.clear()
        self._param_sets.clear()

    def derived_seed(self, *keys: Any) -> int:
        return derived_seed(self.seed, *keys)

    def generator(self, *keys: Any) -> torch.Generator:
        """A CPU generator for random draws. With ``keys`` it is seeded from ``(seed, *keys)``, so indicators that
        ask with the same keys share their draws; without, from the calling indicator's own stream (the scorer
        seeds torch's RNG per indicator from ``(seed, name)``)."""
        seed = self.derived_seed(*keys) if keys else int(torch.randint(0, 2**62, (1,)).item())
        return torch.Generator().manual_seed(seed)

    def logits_of(self, output: Any) -> torch.Tensor:
        return _nn.select_logits(output, self.logits)

    def labels(self, num_classes: int | None = None) -> torch.Tensor:
        """The targets; with ``num_classes`` (the width of logits the caller computed anyway) they are checked once
        against it, so a label the model cannot output is one :class:`InvalidInputError`, not a deep error."""
        if self.targets is None:
            raise MissingInputError("this computation needs labels: pass `targets` (integer class labels)")
        if num_classes is not None and not self._labels_checked:
            top = int(self.targets.max())
            if top >= num_classes:
                raise InvalidInputError(f"labels go up to {top} but the model has {num_classes} outputs; labels "
                                        f"must be class indices in [0, {num_classes})")
            self._labels_checked = True
        return self.targets

    def cross_entropy(self, logits: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Mean cross-entropy of ``logits`` against ``labels`` (default: the probe's), the labels checked against
        the logits' width first."""
        checked = self.labels(logits.shape[-1])
        return F.cross_entropy(logits, checked if labels is None else labels)

    def unmet(self, indicator: Any) -> str | None:
        """Why ``indicator`` cannot run on this batch (a recorded NaN reason), or None."""
        if self.batch_size < indicator.min_batch:
            return (f"indicator {indicator.name!r} needs a batch of at least {indicator.min_batch} inputs (statistics, "
                    f"kernels or correlations over the batch), got {self.batch_size}")
        if "float_inputs" in indicator.requires() and not self.inputs.is_floating_point():
            return (f"indicator {indicator.name!r} needs float inputs (it differentiates with respect to the "
                    f"inputs or feeds synthetic inputs of their shape), but the batch holds {self.inputs.dtype} "
                    "values (token ids?)")
        return None

    # ------------------------------------------------------------------ parameters and functional calls
    def params(self, pattern: str = "*", repeat: int = 0, init: str | None = None) -> OrderedDict[str, torch.Tensor]:
        """Detached parameter tensors whose names match ``pattern`` (``"*weight*"`` for TE-NAS's choice).

        ``repeat=0, init=None``: the model's own weights. ``repeat=r > 0``: a re-initialisation with each
        module's ``reset_parameters`` seeded from ``(seed, "reinit", r)``, for indicators averaged over
        initialisations. ``init="gaussian"`` / ``"kaiming_fanin"``: the scheme of :func:`zeroscore._copies.reinitialize`
        seeded from ``(seed, "init", init)``, shared by every indicator that asks for it. The model is untouched.
        """
        key = (repeat, init)
        if key not in self._param_sets:
            seed = self.derived_seed("init", init, *([repeat] if repeat else [])) if init else \
                self.derived_seed("reinit", repeat)
            if init in _copies.SEEDED_SCHEMES:  # the same draws without copying the module tree
                self._param_sets[key] = _copies.reinitialized_parameters(self.model, init, seed)
            elif repeat or init:
                source = _copies.private_copy(self.model)
                _copies.reinitialize(source, init or "reset", seed)
                # a re-initialised private copy: its tensors need no second clone
                self._param_sets[key] = OrderedDict((n, p.detach()) for n, p in source.named_parameters())
            else:
                self._param_sets[key] = OrderedDict((n, p.detach().clone()) for n, p in self.model.named_parameters())
        out = OrderedDict((n, p) for n, p in self._param_sets[key].items() if fnmatch.fnmatchcase(n, pattern))
        if not out:
            raise ValueError(f"no parameter name matches {pattern!r}")
        return out

    def buffers(self) -> dict[str, torch.Tensor]:
        """Fresh clones of the pristine buffers (BatchNorm running stats), so train-mode passes don't leak."""
        return {n: self._pristine_state[n].detach().clone() for n in self._buffer_names()}

    def _buffer_names(self) -> list[str]:
        return self.cached(("buffer_names",), lambda: [n for n, _ in self.model.named_buffers()])

    def functional(self, train: bool, repeat: int = 0, init: str | None = None
                   ) -> Callable[[dict[str, torch.Tensor], torch.Tensor], torch.Tensor]:
        """``f(selected_params, x) -> logits`` running the copy with the given parameters (the rest fixed)."""
        base = self.params("*", repeat, init)
        model = self.model

        def f(selected: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            with self.mode(train):
                return self.logits_of(functional_call(model, {**base, **selected, **self.buffers()}, (x,)))

        return f

    def functional_module(self, module: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        """``g(x) = module(x)`` for a sub-module of the private copy, safe under ``torch.func`` transforms (buffers
        are cloned inside the call, so train-mode BatchNorm updates neither the copy nor a captured tensor)."""
        params = {n: p.detach() for n, p in module.named_parameters()}
        buffers = dict(module.named_buffers())

        def g(x: torch.Tensor) -> torch.Tensor:
            return functional_call(module, {**params, **{n: b.clone() for n, b in buffers.items()}}, (x,))

        return g

    def forward(self, train: bool = True) -> torch.Tensor:
        """Logits of the batch (no gradient), cached per BatchNorm mode."""

        def run():
            with torch.no_grad():
                return self.functional(train)({}, self.inputs).detach()

        return self.cached(("forward", train), run)

    @contextmanager
    def capture(self, modules: list[tuple[str, nn.Module]], make_hook: Callable[[str], Callable],
                with_kwargs: bool = False) -> Iterator[None]:
        """Forward hooks ``make_hook(name)`` on sub-modules of the copy for the body; removed whatever happens."""
        with _nn.forward_hooks(modules, make_hook, with_kwargs=with_kwargs):
            yield


def _copy_all(targets: list[torch.Tensor], sources: list[torch.Tensor]) -> None:
    """``t.copy_(s)`` for every pair, in one fused call where torch has it (a loop of small copies costs more
    than the copying on NAS networks)."""
    foreach_copy = getattr(torch, "_foreach_copy_", None)
    if foreach_copy is not None:
        try:
            foreach_copy(targets, sources)
            return
        except (RuntimeError, TypeError):  # mixed devices or dtypes the fused kernel refuses: the plain loop
            pass
    for t, s in zip(targets, sources):
        t.copy_(s)


# ---------------------------------------------------------------------------------------------------------------
# what is refused up front


def check_batch(model: Any, inputs: Any) -> None:
    """One clear :class:`InvalidInputError` for a model or batch that cannot be scored (checked before any work)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}")
    # one walk over the modules' own dicts (parameters() and buffers() walk twice, deduplicating as they go)
    params: list[torch.Tensor | None] = []
    buffers: list[torch.Tensor | None] = []
    for module in model.modules():
        state = module.__dict__
        params.extend(state["_parameters"].values())
        buffers.extend(state["_buffers"].values())
    if all(t is None for t in params):
        raise InvalidInputError("the model has no parameters: there is nothing for training-free indicators to "
                                "score")
    if any(t is not None and t.is_meta for t in params + buffers) or inputs.is_meta:
        raise InvalidInputError("the model (or the batch) is on the meta device, which holds shapes but no values; "
                                "build it on cpu/cuda, or call model.to_empty(device=...) and initialise it")
    if inputs.dim() == 0 or inputs.shape[0] == 0:
        raise InvalidInputError(f"the batch is empty (shape {tuple(inputs.shape)}); pass inputs (papers use 64-128)")
    # a finite sum means every value is finite (a NaN or Inf cannot cancel out); only a non-finite sum (or an
    # overflow) needs the element-wise look, several times slower on an image batch
    if ((inputs.is_floating_point() or inputs.is_complex()) and not bool(torch.isfinite(inputs.sum()))
            and not bool(torch.isfinite(inputs).all())):
        bad = int((~torch.isfinite(inputs)).sum())
        raise InvalidInputError(f"the batch holds {bad} NaN/Inf value(s); indicators of such inputs are meaningless")


def _checked_targets(targets: Any, n: int, device: torch.device) -> torch.Tensor | None:
    if targets is None:
        return None
    t = targets.detach() if isinstance(targets, torch.Tensor) else torch.as_tensor(targets)
    if t.dim() == 2 and t.shape[1] == 1:
        raise InvalidInputError(f"labels of shape {tuple(t.shape)}: pass one class index per input, shape ({n},) "
                                "(targets.squeeze(1))")
    if t.dim() == 2:
        raise InvalidInputError(f"labels of shape {tuple(t.shape)} look one-hot (or soft); pass class indices, "
                                f"shape ({n},) (targets.argmax(1))")
    if t.dim() != 1:
        raise InvalidInputError(f"labels must be one class index per input, shape ({n},); got {tuple(t.shape)}")
    if t.shape[0] != n:
        raise InvalidInputError(f"targets have {t.shape[0]} rows but inputs have {n}")
    if t.is_complex():
        raise InvalidInputError("labels must be integer class indices, got complex values")
    if t.is_floating_point() and (not bool(torch.isfinite(t).all()) or not bool((t == t.round()).all())):
        raise InvalidInputError("labels hold fractional or NaN values; pass integer class indices (labels were "
                                "never rounded for you)")
    if bool((t < 0).any()):
        raise InvalidInputError(f"labels must be class indices >= 0; the smallest is {int(t.min())}")
    return t.to(device=device, dtype=torch.long, copy=True)
