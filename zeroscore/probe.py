"""The probe: shared passes over one (model, batch).

Every indicator reads from a :class:`Probe` instead of running the model itself, so a forward pass, the loss
gradients, the per-sample NTK Jacobian or the ReLU activation codes are computed once and reused by all the
indicators that need them.

The probe works on a *private copy* of the caller's model: parameters, buffers, ``training`` flags,
``requires_grad`` flags and hooks of the caller's model are never touched. The copy is stripped of the caller's
hooks (they could have side effects on the caller's objects) and is moved to the scoring device. Between two
indicators :meth:`Probe.restore` puts the copy back to its pristine state, so an indicator that runs BatchNorm in
train mode (updating running stats) or re-initialises weights cannot influence the next one.

Gradients are computed with :mod:`torch.func` on detached copies of the parameters, independently of the
``requires_grad`` flags of the model (an architecture is scored as a whole, frozen layers included).
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
from collections import OrderedDict
from contextlib import contextmanager
from contextlib import nullcontext as _nullcontext
from typing import Any, Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, jacrev, vmap
from torch.overrides import TorchFunctionMode

_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs",
    "_backward_hooks",
    "_backward_pre_hooks",
    "_state_dict_hooks",
    "_state_dict_pre_hooks",
    "_load_state_dict_pre_hooks",
    "_load_state_dict_post_hooks",
)

_RELU_FUNCS = {F.relu, F.relu_, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_}


def strip_hooks(model: nn.Module) -> None:
    """Remove every module hook of ``model`` (use on copies only)."""
    for module in model.modules():
        for attr in _HOOK_DICTS:
            hooks = getattr(module, attr, None)
            if isinstance(hooks, dict):
                hooks.clear()


def derived_seed(seed: int, *keys: Any) -> int:
    """A stable 63-bit seed derived from ``seed`` and keys (e.g. an indicator name)."""
    text = "|".join([str(seed), *map(str, keys)]).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little") & ((1 << 63) - 1)


class ReluRecorder(TorchFunctionMode):
    """Records the sign pattern of every ReLU evaluated while active.

    Catches ``nn.ReLU`` modules as well as ``F.relu``/``torch.relu``/``Tensor.relu`` calls in a model's
    ``forward`` (``nn.ReLU`` calls ``F.relu``), so models written either way are supported. ``codes[i]`` is a
    ``(batch, features)`` bool tensor: ``True`` where the ReLU's input was positive.
    """

    def __init__(self, batch_size: int):
        super().__init__()
        self.batch_size = batch_size
        self.codes: list[torch.Tensor] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in _RELU_FUNCS and isinstance(out, torch.Tensor) and out.dim() >= 1 and out.shape[0] == self.batch_size:
            self.codes.append((out.detach() > 0).reshape(self.batch_size, -1))
        return out


_BN_ARGS = ("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")


class BatchNormNoStats(TorchFunctionMode):
    """Train-mode ``F.batch_norm`` without the in-place running-statistics update.

    In train mode the output of batch norm depends only on the batch statistics, so dropping the running
    buffers changes nothing in the result; it lets ``torch.func`` transforms (``vmap`` of per-sample gradients,
    forward-over-reverse Hessian-vector products) run through BatchNorm layers, which would otherwise try to
    write batched/dual values into plain buffers. Eval-mode calls are passed through unchanged.
    """

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is F.batch_norm:
            call = dict(zip(_BN_ARGS, args))
            call.update(kwargs)
            if call.get("training", False):
                call["running_mean"] = None
                call["running_var"] = None
            return func(**call)
        return func(*args, **kwargs)


class Probe:
    """Shared computations for one model and one batch.

    Args:
        model: any ``nn.Module`` mapping ``inputs`` to logits ``(N, num_classes)`` (a tuple/list output uses its
            last tensor element, a dict its ``"logits"`` entry).
        inputs: the batch.
        targets: optional integer class labels ``(N,)``.
        seed: base seed; indicators derive their own seeds from it.
        device: where to compute (the copy of the model and the batch are moved there).
    """

    def __init__(self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None,
                 seed: int = 0, device: str | torch.device | None = None):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}")
        if device is None:
            device = _model_device(model)
        self.device = torch.device(device)
        try:
            self.model = copy.deepcopy(model)
        except Exception as err:  # pragma: no cover - exotic modules
            raise TypeError(f"zeroscore scores a private copy of the model, but copy.deepcopy failed: {err}") from err
        strip_hooks(self.model)
        self.model.to(self.device)
        self.inputs = inputs.detach().to(self.device)
        if not self.inputs.is_floating_point():
            self.inputs = self.inputs.float()
        self.targets = None if targets is None else targets.detach().to(self.device).long()
        if self.targets is not None and self.targets.shape[0] != self.inputs.shape[0]:
            raise ValueError(f"targets have {self.targets.shape[0]} rows but inputs have {self.inputs.shape[0]}")
        self.seed = int(seed)
        self._pristine_state = {k: v.detach().clone() for k, v in self.model.state_dict(keep_vars=True).items()}
        self._pristine_training = {name: m.training for name, m in self.model.named_modules()}
        self._cache: dict[Any, Any] = {}
        #: vjps vectorised at once when building per-sample Jacobians (8 was fastest on CPU; larger on GPU)
        self.jacobian_chunk_size = 8 if self.device.type == "cpu" else _gpu_chunk_size(self.model, self.batch_size)
        self._param_sets: dict[int, dict[str, torch.Tensor]] = {}

    # ------------------------------------------------------------------ basics
    @property
    def batch_size(self) -> int:
        return self.inputs.shape[0]

    @property
    def num_classes(self) -> int:
        return self.forward().shape[1]

    def cached(self, key: Any, fn: Callable[[], Any]) -> Any:
        """Memoise ``fn()`` under ``key`` for the lifetime of the probe."""
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def clear_cache(self) -> None:
        """Forget the memoised passes (to free memory; they are recomputed on demand)."""
        self._cache.clear()

    def restore(self) -> None:
        """Put the private copy back to its pristine state (weights, buffers, training flags)."""
        with torch.no_grad():
            state = self.model.state_dict(keep_vars=True)
            for k, v in self._pristine_state.items():
                if state[k].data_ptr() != v.data_ptr():
                    state[k].data.copy_(v)
        for name, m in self.model.named_modules():
            m.training = self._pristine_training.get(name, m.training)
        for p in self.model.parameters():
            p.grad = None

    @contextmanager
    def mode(self, train: bool) -> Iterator[nn.Module]:
        """The private copy in train (BatchNorm batch statistics) or eval mode, restored afterwards."""
        self.model.train(train)
        try:
            yield self.model
        finally:
            for name, m in self.model.named_modules():
                m.training = self._pristine_training.get(name, m.training)

    def params(self, pattern: str = "*", repeat: int = 0) -> "OrderedDict[str, torch.Tensor]":
        """Detached parameter tensors whose names match ``pattern`` (``"*weight*"`` for TE-NAS's choice).

        ``repeat=0`` gives the model's own weights; ``repeat=r>0`` gives a fresh re-initialisation (each module's
        ``reset_parameters`` under a seed derived from ``(seed, r)``), for indicators averaged over
        initialisations.
        """
        if repeat not in self._param_sets:
            if repeat == 0:
                source = self.model
            else:
                source = copy.deepcopy(self.model)
                with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
                    torch.manual_seed(derived_seed(self.seed, "reinit", repeat))
                    for m in source.modules():
                        if hasattr(m, "reset_parameters") and callable(m.reset_parameters):
                            m.reset_parameters()
            self._param_sets[repeat] = OrderedDict((n, p.detach().clone()) for n, p in source.named_parameters())
        out = OrderedDict((n, p) for n, p in self._param_sets[repeat].items() if fnmatch.fnmatchcase(n, pattern))
        if not out:
            raise ValueError(f"no parameter name matches {pattern!r}")
        return out

    def buffers(self) -> dict[str, torch.Tensor]:
        """Fresh clones of the pristine buffers (BatchNorm running stats), so train-mode passes don't leak."""
        return {n: self._pristine_state[n].clone() for n, _ in self.model.named_buffers()}

    def functional(self, train: bool, repeat: int = 0) -> Callable[[dict[str, torch.Tensor], torch.Tensor], torch.Tensor]:
        """``f(selected_params, x) -> logits`` running the copy with the given parameters (others fixed)."""
        base = self.params("*", repeat)
        model = self.model

        def f(selected: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            tensors = {**base, **selected, **self.buffers()}
            model.train(train)
            try:
                return logits_of(functional_call(model, tensors, (x,)))
            finally:
                for name, m in model.named_modules():
                    m.training = self._pristine_training.get(name, m.training)

        return f

    def functional_module(self, module: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        """``g(x) = module(x)`` for a submodule of the private copy, safe under ``torch.func`` transforms.

        Buffers are cloned inside the call, so train-mode BatchNorm updates neither the copy nor a tensor
        captured by the transform.
        """
        params = {n: p.detach() for n, p in module.named_parameters()}
        buffers = dict(module.named_buffers())

        def g(x: torch.Tensor) -> torch.Tensor:
            return functional_call(module, {**params, **{n: b.clone() for n, b in buffers.items()}}, (x,))

        return g

    # ------------------------------------------------------------------ shared passes
    def forward(self, train: bool = True) -> torch.Tensor:
        """Logits of the batch (no gradient), cached per BatchNorm mode."""

        def run():
            with torch.no_grad():
                return self.functional(train)({}, self.inputs).detach()

        return self.cached(("forward", train), run)

    def loss_gradients(self, train: bool = True, pattern: str = "*") -> "OrderedDict[str, torch.Tensor]":
        """Gradient of the mean cross-entropy loss of the batch w.r.t. the parameters (needs targets)."""
        if self.targets is None:
            raise ValueError("this computation needs labels: pass `targets` to zeroscore.score")

        def run():
            f = self.functional(train)
            params = self.params("*")

            def loss_fn(p):
                return F.cross_entropy(f(p, self.inputs), self.targets)

            return OrderedDict(torch.func.grad(loss_fn)(params))

        grads = self.cached(("loss_gradients", train), run)
        return OrderedDict((n, g) for n, g in grads.items() if fnmatch.fnmatchcase(n, pattern))

    def sum_logit_jacobian(self, train: bool = True, pattern: str = "*weight*", repeat: int = 0) -> torch.Tensor:
        """Per-sample gradients of the summed logits w.r.t. the selected parameters, ``(N, P)``.

        Row ``i`` is ``d sum_k f_k(x_i) / d theta`` with the whole batch in one forward pass (so BatchNorm in
        train mode uses the batch statistics, as in TE-NAS, where each sample's logits are back-propagated from
        the same batched forward). Computed with ``torch.func.jacrev`` (one forward, vectorised vjps).
        """

        def run():
            f = self.functional(train, repeat)
            params = self.params(pattern, repeat)

            def summed(p):
                return f(p, self.inputs).sum(dim=1)

            try:
                jac = jacrev(summed, chunk_size=self.jacobian_chunk_size)(params)
                rows = [j.reshape(self.batch_size, -1) for j in jac.values()]
            except Exception:
                rows = [self._sum_logit_jacobian_loop(train, params, repeat)]
            return torch.cat(rows, dim=1).detach()

        return self.cached(("sum_logit_jacobian", train, pattern, repeat), run)

    def _sum_logit_jacobian_loop(self, train: bool, params: dict[str, torch.Tensor], repeat: int) -> torch.Tensor:
        # Fallback for models that torch.func cannot transform: plain autograd, one backward per sample.
        f = self.functional(train, repeat)
        leaves = {n: p.clone().requires_grad_(True) for n, p in params.items()}
        with torch.enable_grad():
            out = f(leaves, self.inputs).sum(dim=1)
            rows = []
            for i in range(self.batch_size):
                grads = torch.autograd.grad(out[i], list(leaves.values()), retain_graph=True, allow_unused=True)
                rows.append(torch.cat([
                    (g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, leaves.values())
                ]))
        return torch.stack(rows)

    def ntk(self, train: bool = True, pattern: str = "*weight*", repeat: int = 0) -> torch.Tensor:
        """Empirical NTK ``J J^T`` (float64, ``(N, N)``) of the summed logits, see :meth:`sum_logit_jacobian`."""

        def run():
            jac = self.sum_logit_jacobian(train, pattern, repeat).double()
            return jac @ jac.T

        return self.cached(("ntk", train, pattern, repeat), run)

    def relu_codes(self, train: bool = True, inputs: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Binary ReLU codes of a forward pass: a list of ``(N, F_l)`` bool tensors, one per ReLU call.

        Without ``inputs`` the probe's batch is used and the result cached; with ``inputs`` (e.g. image crops)
        it is computed afresh. Raises :class:`IndicatorNotApplicable` when the forward pass has no ReLU.
        """
        from zeroscore.indicators.base import IndicatorNotApplicable

        def run(x):
            recorder = ReluRecorder(x.shape[0])
            with torch.no_grad(), self.mode(train) as model, recorder:
                logits_of(model(x))
            if not recorder.codes:
                raise IndicatorNotApplicable(
                    "needs ReLU activations, but the forward pass evaluated none "
                    "(looked for nn.ReLU modules and F.relu / torch.relu / Tensor.relu calls)"
                )
            return recorder.codes

        try:
            if inputs is None:
                return self.cached(("relu_codes", train), lambda: run(self.inputs))
            return run(inputs.to(self.device))
        finally:
            self.restore()

    # ------------------------------------------------------------------ passes shared by the zero-cost proxies
    def layer_weight_names(self) -> list[str]:
        """Names of the ``weight`` parameters of all conv/linear modules (the set zero-cost-nas/NASLib score)."""
        from zeroscore.indicators._layers import layer_weight_names

        return list(self.cached(("layer_weight_names",), lambda: layer_weight_names(self.model)))

    def init_params(self, scheme: str) -> "OrderedDict[str, torch.Tensor]":
        """A re-initialised copy of all parameters (cached per scheme; the model itself is untouched).

        ``"gaussian"`` (Zen-NAS ``network_weight_gaussian_init``): conv/linear weights ~ N(0, 1), their biases 0;
        ``"kaiming_fanin"`` (AZ-NAS ``kaiming_normal_fanin_init``): conv/linear weights ~ N(0, 2 / fan_in),
        biases 0. Both: BatchNorm/GroupNorm affine weight 1, bias 0; every other parameter is kept. The random
        draws use a generator seeded from ``(seed, scheme)``, so every indicator asking for a scheme gets the
        same weights.
        """
        if scheme not in ("gaussian", "kaiming_fanin"):
            raise ValueError(f"unknown init scheme {scheme!r}; known: 'gaussian', 'kaiming_fanin'")

        def run():
            from zeroscore.indicators._layers import LAYER_TYPES

            gen = torch.Generator().manual_seed(derived_seed(self.seed, "init", scheme))
            by_id = {}
            for n, p in self.model.named_parameters():
                by_id.setdefault(id(p), n)
            out = OrderedDict((n, p.detach().clone()) for n, p in self.params("*").items())
            for m in self.model.modules():
                w, b = getattr(m, "weight", None), getattr(m, "bias", None)
                wn = by_id.get(id(w)) if isinstance(w, nn.Parameter) else None
                bn = by_id.get(id(b)) if isinstance(b, nn.Parameter) else None
                if isinstance(m, LAYER_TYPES):
                    if wn is not None:
                        std = 1.0
                        if scheme == "kaiming_fanin":
                            fan_in = nn.init._calculate_fan_in_and_fan_out(w)[0]
                            std = (2.0 / max(fan_in, 1)) ** 0.5
                        out[wn] = (torch.randn(w.shape, generator=gen, dtype=torch.float64) * std).to(out[wn])
                    if bn is not None:
                        out[bn] = torch.zeros_like(out[bn])
                elif isinstance(m, (nn.modules.batchnorm._NormBase, nn.GroupNorm)):
                    if wn is not None:
                        out[wn] = torch.ones_like(out[wn])
                    if bn is not None:
                        out[bn] = torch.zeros_like(out[bn])
            return out

        return self.cached(("init_params", scheme), run)

    def input_gradients(self, train: bool = True) -> torch.Tensor:
        """``d sum(logits) / d inputs`` of the whole batch in one backward pass (shape of the inputs).

        This is the "batch Jacobian" of NASWOT v1 / zero-cost-nas ``jacob_cov`` and EPE-NAS: ``y.backward(ones)``
        with the batch forwarded together (in train mode BatchNorm couples the samples, as in the references).
        """

        def run():
            f = self.functional(train)
            with BatchNormNoStats() if train else _nullcontext():
                out, pullback = torch.func.vjp(lambda x: f({}, x), self.inputs.clone())
                (g,) = pullback(torch.ones_like(out))
            self._cache.setdefault(("forward", train), out.detach())  # the same logits as forward(train)
            return g.detach()

        return self.cached(("input_gradients", train), run)

    def per_sample_loss_gradients(self, train: bool = True, names: tuple[str, ...] | None = None
                                  ) -> "OrderedDict[str, torch.Tensor]":
        """Cross-entropy gradients of every sample forwarded *alone* (a batch of one): ``name -> (N, *shape)``.

        The GradSign protocol (``net.forward(inputs[[i]])`` per sample, BatchNorm in train mode on that single
        sample). ``names`` selects parameters (default: :meth:`layer_weight_names`). Vectorised with
        ``torch.func.vmap`` (a plain per-sample loop for models ``vmap`` cannot handle); needs targets.
        """
        if self.targets is None:
            raise ValueError("this computation needs labels: pass `targets` to zeroscore.score")
        names = tuple(self.layer_weight_names() if names is None else names)

        def run():
            f = self.functional(train)
            all_params = self.params("*")
            sel = OrderedDict((n, all_params[n]) for n in names)

            def loss1(p, x, y):
                return F.cross_entropy(f(p, x.unsqueeze(0)), y.unsqueeze(0))

            try:
                with BatchNormNoStats():
                    g = torch.func.vmap(torch.func.grad(loss1), in_dims=(None, 0, 0),
                                        chunk_size=64 if self.device.type == "cpu" else self.jacobian_chunk_size
                                        )(sel, self.inputs, self.targets)
                return OrderedDict((n, g[n].detach()) for n in names)
            except Exception:
                rows = []
                with BatchNormNoStats():
                    for i in range(self.batch_size):
                        rows.append(torch.func.grad(loss1)(sel, self.inputs[i], self.targets[i]))
                return OrderedDict((n, torch.stack([r[n] for r in rows]).detach()) for n in names)

        return self.cached(("per_sample_loss_gradients", train, names), run)

    def layer_output_products(self, train: bool = True) -> list[tuple[str, torch.Tensor]]:
        """Per-channel ``sum_positions(output * dL/doutput)`` of every conv/linear module call (one forward/backward).

        A list of ``(module_name, s)`` in call order (a module called twice appears twice) with ``s`` of shape
        ``(N, C)``: the output of the call times the cross-entropy gradient w.r.t. that output, summed over all
        dimensions after the channel dimension (Fisher / Taylor channel saliencies). The same backward gives the
        parameter gradients, which are stored as :meth:`loss_gradients` of this BatchNorm mode when those are not
        computed yet, so indicators calling this first share one backward pass with the gradient saliencies.
        """
        if self.targets is None:
            raise ValueError("this computation needs labels: pass `targets` to zeroscore.score")

        def run():
            from zeroscore.indicators._layers import layer_modules

            f = self.functional(train)
            leaves = OrderedDict((n, p.clone().requires_grad_(True)) for n, p in self.params("*").items())
            records: list[tuple[str, torch.Tensor]] = []

            def make_hook(name):
                def hook(module, args, output):
                    if isinstance(output, torch.Tensor) and output.requires_grad:
                        records.append((name, output))
                return hook

            handles = [m.register_forward_hook(make_hook(n)) for n, m in layer_modules(self.model)]
            try:
                with torch.enable_grad():
                    loss = F.cross_entropy(f(leaves, self.inputs), self.targets)
                    outs = [o for _, o in records]
                    grads = torch.autograd.grad(loss, outs + list(leaves.values()), allow_unused=True)
            finally:
                for h in handles:
                    h.remove()
            products = []
            for (n, o), g in zip(records, grads[: len(outs)]):
                prod = o.detach() * (torch.zeros_like(o) if g is None else g.detach())
                if prod.dim() > 2:
                    prod = prod.sum(dim=tuple(range(2, prod.dim())))
                products.append((n, prod))
            pgrads = OrderedDict((n, torch.zeros_like(p) if g is None else g.detach())
                                 for (n, p), g in zip(leaves.items(), grads[len(outs):]))
            self._cache.setdefault(("loss_gradients", train), pgrads)
            return products

        return self.cached(("layer_output_products", train), run)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def logits_of(output: Any) -> torch.Tensor:
    """The logits tensor of a model output (tensor, tuple/list -> last tensor, dict -> 'logits')."""
    if isinstance(output, torch.Tensor):
        out = output
    elif isinstance(output, dict) and "logits" in output:
        out = output["logits"]
    elif isinstance(output, (tuple, list)) and any(isinstance(o, torch.Tensor) for o in output):
        out = [o for o in output if isinstance(o, torch.Tensor)][-1]
    elif hasattr(output, "logits"):
        out = output.logits
    else:
        raise TypeError(f"cannot find logits in a model output of type {type(output).__name__}")
    if out.dim() == 1:
        out = out.unsqueeze(1)
    elif out.dim() > 2:
        out = out.flatten(1)
    return out


def _gpu_chunk_size(model: nn.Module, batch_size: int, budget_bytes: float = 2e9) -> int:
    """vjps vectorised at once on a GPU: up to 64, fewer for big models, so that the ``chunk x parameters``
    float32 Jacobian block (and its ``chunk x batch`` backward) stays within ~2 GB: several scoring processes may
    share one GPU, and NB101-sized networks (tens of millions of weights) ran out of memory at 64."""
    n = sum(p.numel() for p in model.parameters())
    return int(max(1, min(64, budget_bytes // max(1, 4 * n * max(1, batch_size // 16)))))


def _model_device(model: nn.Module) -> torch.device:
    for t in list(model.parameters()) + list(model.buffers()):
        return t.device
    return torch.device("cpu")


__all__ = ["BatchNormNoStats", "Probe", "ReluRecorder", "derived_seed", "logits_of", "strip_hooks", "vmap"]
