"""The passes shared by indicators, as functions over a :class:`~zeroscore.probe.Probe`.

Each pass is memoised in the probe's cache under a key naming the pass and its arguments, so every indicator of one
``score`` call that needs, say, the loss gradients in train mode gets the same tensors from one backward pass.
Family-specific passes live with their family (the AZ-NAS feature pass in ``indicators/_aznas.py``, the FLOP
counts in ``indicators/_flops.py``), written the same way.

Protocol conventions: ``train=True`` runs BatchNorm on batch statistics (the references' default at
initialisation); losses are the mean cross-entropy of the batch; gradients are taken w.r.t. detached copies of the
parameters, independently of ``requires_grad``.
"""

from __future__ import annotations

import fnmatch
from collections import OrderedDict
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import jacrev

from zeroscore import _nn
from zeroscore._cpu_routes import dead_layers_skipped, dead_layers_skipped_on_cpu, run_each
from zeroscore._modes import BatchNormNoStats, BatchStatsRecorder, FrozenBatchStats, ReluRecorder
from zeroscore.errors import IndicatorNotApplicable, UsageError
from zeroscore.probe import Probe

__all__ = ["layer_weight_names", "loss_gradients", "shared_loss_gradients", "sum_logit_jacobian", "ntk",
           "relu_codes", "input_gradients", "per_sample_loss_gradients", "layer_output_products",
           "chunk_loss_gradients", "jacobian_chunk_size", "gpu_chunk_size", "sum_logit_jacobian_loop",
           "sum_logit_jacobian_rows", "frozen_stats_jacobian", "BATCH_STATS"]


def layer_weight_names(probe: Probe) -> list[str]:
    """Names of the conv/linear weights the zero-cost proxies score (see :func:`zeroscore._nn.layer_weight_names`)."""
    return list(probe.cached(("layer_weight_names",), lambda: _nn.layer_weight_names(probe.model)))


def loss_gradients(probe: Probe, train: bool = True, pattern: str = "*") -> OrderedDict[str, torch.Tensor]:
    """Gradient of the mean cross-entropy loss of the batch w.r.t. the parameters (needs labels); on a CPU dead
    layers are skipped (:mod:`zeroscore._cpu_routes`: their weight gradients are exact zeros either way)."""
    probe.labels()

    def run():
        # plain autograd on leaf copies: on CPU faster than torch.func.grad's per-op wrapping (as in the passes below)
        f = probe.functional(train)
        leaves = OrderedDict((n, p.clone().requires_grad_(True)) for n, p in probe.params("*").items())
        with torch.enable_grad(), dead_layers_skipped_on_cpu(probe.model, probe.device):
            grads = torch.autograd.grad(probe.cross_entropy(f(leaves, probe.inputs)), list(leaves.values()),
                                        allow_unused=True)
        return OrderedDict((n, torch.zeros_like(p) if g is None else g.detach())
                           for (n, p), g in zip(leaves.items(), grads))

    grads = probe.cached(("loss_gradients", train), run)
    return OrderedDict((n, g) for n, g in grads.items() if fnmatch.fnmatchcase(n, pattern))


#: indicators that read :func:`layer_output_products` (see :func:`shared_loss_gradients`)
CHANNEL_PRODUCT_USERS = frozenset({"fisher"})


def shared_loss_gradients(probe: Probe, train: bool) -> OrderedDict[str, torch.Tensor]:
    """The loss gradients; computed in the pass that also gives Fisher's channel products when ``fisher`` is among
    the indicators of this ``score`` call (``probe.planned``), so ``grad_norm``, ``snip``, ``plain`` and ``fisher``
    share one forward/backward whatever order they run in. Without ``fisher`` it is the plain pass: recording every
    layer's output and output gradient would cost ~8 % more for nothing."""
    if probe.planned & CHANNEL_PRODUCT_USERS or probe.peek(("layer_output_products", train)) is not None:
        layer_output_products(probe, train)
    return loss_gradients(probe, train)


def jacobian_chunk_size(probe: Probe) -> int:
    """vjps vectorised at once when building per-sample Jacobians: 8 was fastest on CPU; on a GPU see
    :func:`gpu_chunk_size`."""
    return 8 if probe.device.type == "cpu" else gpu_chunk_size(probe.model, probe.batch_size)


def gpu_chunk_size(model: nn.Module, batch_size: int, budget_bytes: float = 2e9) -> int:
    """Up to 64 vjps at once on a GPU, fewer for big models, so that the ``chunk x parameters`` float32 block (and
    its ``chunk x batch`` backward) stays within ~2 GB: several scoring processes may share one GPU, and
    NB101-sized networks (tens of millions of weights) ran out of memory at 64."""
    n = sum(p.numel() for p in model.parameters())
    return int(max(1, min(64, budget_bytes // max(1, 4 * n * max(1, batch_size // 16)))))


#: how train-mode BatchNorm enters per-sample Jacobians: "coupled" (TE-NAS: every sample's gradient goes through the
#: batch statistics, which depend on all samples) or "frozen" (statistics held fixed: an approximation, opt-in)
BATCH_STATS = ("coupled", "frozen")


def sum_logit_jacobian(probe: Probe, train: bool = True, pattern: str = "*weight*", repeat: int = 0,
                       batch_stats: str = "coupled") -> torch.Tensor:
    """Per-sample gradients of the summed logits w.r.t. the selected parameters, ``(N, P)``.

    Row ``i`` is ``d sum_k f_k(x_i) / d theta`` with the whole batch in one forward pass (so BatchNorm in train mode
    uses the batch statistics, as in TE-NAS, where each sample's logits are back-propagated from the same batched
    forward). Exact either way; the route is picked per device by measurement: on a CPU one backward per sample,
    the rows shared out among threads over a forward whose dead layers are skipped (:func:`sum_logit_jacobian_rows`,
    see :mod:`zeroscore._cpu_routes`; the probe's copy pools by convolution there); on a GPU ``jacrev`` with chunked
    vectorised vjps (a loop would leave the device idle between small kernels). ``benchmarks/results/ntk_routes_cpu.md``
    times every exact CPU route at batch 64 on NB201 cells against TE-NAS's loop (:func:`sum_logit_jacobian_loop`
    is that loop): this one 2.0-2.3x there and 2.0x on 12 more cells (1.15-4.3x per cell,
    ``ntk_routes_cpu_12cells.md``), ``jacrev`` and batched cotangents slower than the loop, channels-last moved the
    condition number by 4e-3: with train-mode BatchNorm each sample's cotangent is dense over the batch, so every
    exact route is one full backward per sample.

    ``batch_stats="frozen"`` holds BatchNorm's batch statistics fixed (recorded in one forward of the batch), so the
    samples no longer interact and all rows come from one vectorised per-sample backward (``vmap(grad)``): about
    10x cheaper on NB201 cells at batch 64, but an approximation of TE-NAS's Jacobian (the coupling through the
    statistics is dropped); never the default.
    """
    if batch_stats not in BATCH_STATS:
        raise UsageError(f"batch_stats must be one of {BATCH_STATS}, got {batch_stats!r}")

    def run():
        params = probe.params(pattern, repeat)
        if batch_stats == "frozen":
            return frozen_stats_jacobian(probe, train, params, repeat)
        if probe.device.type == "cpu":
            return sum_logit_jacobian_rows(probe, train, params, repeat)
        try:
            return sum_logit_jacobian_vectorised(probe, train, params, repeat)
        except Exception:  # a module vmap cannot batch: the loop is exact too
            return sum_logit_jacobian_loop(probe, train, params, repeat).detach()

    key = ("sum_logit_jacobian", train, pattern, repeat) + (() if batch_stats == "coupled" else (batch_stats,))
    return probe.cached(key, run)


def frozen_stats_jacobian(probe: Probe, train: bool, params: dict[str, torch.Tensor], repeat: int = 0
                          ) -> torch.Tensor:
    """Per-sample gradients of the summed logits with BatchNorm's batch statistics held at the values of one
    forward of the whole batch (see :func:`sum_logit_jacobian`), ``(N, P)``."""
    f = probe.functional(train, repeat)
    recorder = BatchStatsRecorder()
    with torch.no_grad(), recorder:
        f({}, probe.inputs)

    def summed_logits_of_one(p, x):
        with FrozenBatchStats(recorder.stats):
            return f(p, x.unsqueeze(0)).sum()

    chunk = 16 if probe.device.type == "cpu" else jacobian_chunk_size(probe)
    grads = torch.func.vmap(torch.func.grad(summed_logits_of_one), in_dims=(None, 0), chunk_size=chunk)(
        params, probe.inputs)
    return torch.cat([g.reshape(probe.batch_size, -1) for g in grads.values()], dim=1).detach()


def sum_logit_jacobian_vectorised(probe: Probe, train: bool, params: dict[str, torch.Tensor], repeat: int = 0
                                  ) -> torch.Tensor:
    """:func:`sum_logit_jacobian` by ``torch.func.jacrev``: chunks of vectorised vjps of the batched forward."""
    f = probe.functional(train, repeat)
    jac = jacrev(lambda p: f(p, probe.inputs).sum(dim=1), chunk_size=jacobian_chunk_size(probe))(params)
    return torch.cat([j.reshape(probe.batch_size, -1) for j in jac.values()], dim=1).detach()


def sum_logit_jacobian_loop(probe: Probe, train: bool, params: dict[str, torch.Tensor], repeat: int = 0
                            ) -> torch.Tensor:
    """:func:`sum_logit_jacobian` by plain autograd, one backward per sample (TE-NAS's own loop)."""
    f = probe.functional(train, repeat)
    leaves = [p.clone().requires_grad_(True) for p in params.values()]
    sizes = [p.numel() for p in leaves]
    jac = torch.zeros(probe.batch_size, sum(sizes), dtype=leaves[0].dtype, device=probe.device)
    with torch.enable_grad():
        out = f(dict(zip(params, leaves)), probe.inputs).sum(dim=1)
        for i in range(probe.batch_size):
            grads = torch.autograd.grad(out[i], leaves, retain_graph=i < probe.batch_size - 1, allow_unused=True)
            start = 0
            for g, size in zip(grads, sizes):  # straight into the row: no per-row concatenation
                if g is not None:
                    jac[i, start:start + size] = g.reshape(-1)
                start += size
    return jac


def sum_logit_jacobian_rows(probe: Probe, train: bool, params: dict[str, torch.Tensor], repeat: int = 0,
                            workers: int | None = None, skip_dead: bool = True) -> torch.Tensor:
    """:func:`sum_logit_jacobian_loop`'s backwards run side by side on ``workers`` threads (default: torch's thread
    count), over a forward whose dead layers are skipped (:mod:`zeroscore._cpu_routes`): the CPU route.
    ``skip_dead=False`` keeps every layer in the graph (for the benchmark's ablation)."""
    f = probe.functional(train, repeat)
    leaves = [p.clone().requires_grad_(True) for p in params.values()]
    offsets = [0]
    for p in leaves:
        offsets.append(offsets[-1] + p.numel())
    # not zero-filled: every row writes each of its segments, so filling 0.3 GB first would be a wasted pass
    jac = torch.empty(probe.batch_size, offsets[-1], dtype=leaves[0].dtype, device=probe.device)
    with torch.enable_grad(), dead_layers_skipped(probe.model) if skip_dead else nullcontext():
        out = f(dict(zip(params, leaves)), probe.inputs).sum(dim=1)

    def row(i: int) -> None:
        grads = torch.autograd.grad(out[i], leaves, retain_graph=True, allow_unused=True)
        for g, start, end in zip(grads, offsets, offsets[1:]):
            if g is None:  # a weight the summed logits do not reach
                jac[i, start:end] = 0.0
            else:
                jac[i, start:end] = g.reshape(-1)

    run_each(range(probe.batch_size), row, workers)
    return jac


def ntk(probe: Probe, train: bool = True, pattern: str = "*weight*", repeat: int = 0,
        batch_stats: str = "coupled") -> torch.Tensor:
    """Empirical NTK ``J J^T`` (float64, ``(N, N)``) of the summed logits, see :func:`sum_logit_jacobian`."""

    def run():
        return gram_float64(sum_logit_jacobian(probe, train, pattern, repeat, batch_stats))

    key = ("ntk", train, pattern, repeat) + (() if batch_stats == "coupled" else (batch_stats,))
    return probe.cached(key, run)


def gram_float64(jac: torch.Tensor, columns: int = 16384) -> torch.Tensor:
    """``J J^T`` in float64. On the CPU accumulated over blocks of ``columns`` columns: a float64 copy of a whole
    NB201 Jacobian at batch 64 is ~0.5 GB, and allocating it cost more than the products (0.39 s against 0.11 s
    by blocks, measured on the project's CPU); the sums only change order. On a GPU, one product as before."""
    if jac.device.type != "cpu" or jac.shape[1] <= columns:
        jac = jac.double()
        return jac @ jac.T
    gram = torch.zeros(jac.shape[0], jac.shape[0], dtype=torch.float64)
    for block in jac.split(columns, dim=1):
        block = block.double()
        gram.addmm_(block, block.T)
    return gram


def relu_codes(probe: Probe, train: bool = True, inputs: torch.Tensor | None = None) -> list[torch.Tensor]:
    """Binary ReLU codes of a forward pass: a list of ``(N, F_l)`` bool tensors, one per ReLU call.

    Without ``inputs`` the probe's batch is used and the result cached; with ``inputs`` (e.g. image crops) it is
    computed afresh. Raises :class:`IndicatorNotApplicable` when the forward pass has no ReLU.
    """

    def run(x):
        recorder = ReluRecorder(x.shape[0])
        with torch.no_grad(), probe.mode(train) as model, recorder:
            probe.logits_of(model(x))
        if not recorder.codes:
            raise IndicatorNotApplicable(
                "needs ReLU activations, but the forward pass evaluated none "
                "(looked for nn.ReLU modules and F.relu / torch.relu / Tensor.relu calls)")
        return recorder.codes

    try:
        if inputs is None:
            return probe.cached(("relu_codes", train), lambda: run(probe.inputs))
        return run(inputs.to(probe.device))
    finally:
        probe.restore()  # the forward ran the copy itself in train mode: put its BatchNorm statistics back


def input_gradients(probe: Probe, train: bool = True) -> torch.Tensor:
    """``d sum(logits) / d inputs`` of the whole batch in one backward pass (shape of the inputs).

    The "batch Jacobian" of NASWOT v1 / zero-cost-nas ``jacob_cov`` and EPE-NAS: ``y.backward(ones)`` with the batch
    forwarded together (in train mode BatchNorm couples the samples, as in the references).
    """

    def run():
        f = probe.functional(train)
        with BatchNormNoStats() if train else nullcontext():
            out, pullback = torch.func.vjp(lambda x: f({}, x), probe.inputs.clone())
            (g,) = pullback(torch.ones_like(out))
        probe._cache.setdefault(("forward", train), out.detach())  # the same logits as probe.forward(train)
        return g.detach()

    return probe.cached(("input_gradients", train), run)


def per_sample_loss_gradients(probe: Probe, train: bool = True, names: tuple[str, ...] | None = None
                              ) -> OrderedDict[str, torch.Tensor]:
    """Cross-entropy gradients of every sample forwarded *alone* (a batch of one): ``name -> (N, *shape)``.

    The GradSign protocol (``net.forward(inputs[[i]])`` per sample, BatchNorm in train mode on that single sample).
    ``names`` selects parameters (default: :func:`layer_weight_names`). Vectorised with ``torch.func.vmap`` (a plain
    per-sample loop for models ``vmap`` cannot handle); needs labels.
    """
    labels = probe.labels()
    names = tuple(layer_weight_names(probe) if names is None else names)

    def run():
        f = probe.functional(train)
        all_params = probe.params("*")
        sel = OrderedDict((n, all_params[n]) for n in names)

        probe.labels(probe.forward(train).shape[1])  # once, before vmap: the width of the logits

        def loss1(p, x, y):
            return F.cross_entropy(f(p, x.unsqueeze(0)), y.unsqueeze(0))

        chunk = 64 if probe.device.type == "cpu" else jacobian_chunk_size(probe)
        try:
            with BatchNormNoStats():
                g = torch.func.vmap(torch.func.grad(loss1), in_dims=(None, 0, 0), chunk_size=chunk)(
                    sel, probe.inputs, labels)
            return OrderedDict((n, g[n].detach()) for n in names)
        except Exception:
            with BatchNormNoStats():
                rows = [torch.func.grad(loss1)(sel, probe.inputs[i], labels[i]) for i in range(probe.batch_size)]
            return OrderedDict((n, torch.stack([r[n] for r in rows]).detach()) for n in names)

    return probe.cached(("per_sample_loss_gradients", train, names), run)


def layer_output_products(probe: Probe, train: bool = True) -> list[tuple[str, torch.Tensor]]:
    """Per-channel ``sum_positions(output * dL/doutput)`` of every conv/linear module call (one forward/backward).

    A list of ``(module_name, s)`` in call order (a module called twice appears twice) with ``s`` of shape
    ``(N, C)``: the output of the call times the cross-entropy gradient w.r.t. that output, summed over all
    dimensions after the channel dimension (Fisher / Taylor channel saliencies). The same backward gives the
    parameter gradients, stored as :func:`loss_gradients` of this BatchNorm mode when those are not computed yet.
    """
    probe.labels()

    def run():
        f = probe.functional(train)
        leaves = OrderedDict((n, p.clone().requires_grad_(True)) for n, p in probe.params("*").items())
        records: list[tuple[str, torch.Tensor]] = []

        def make_hook(name):
            def hook(module, args, output):
                if isinstance(output, torch.Tensor) and output.requires_grad:
                    records.append((name, output))
            return hook

        with probe.capture(_nn.layer_modules(probe.model), make_hook), torch.enable_grad():
            loss = probe.cross_entropy(f(leaves, probe.inputs))
            outs = [o for _, o in records]
            grads = torch.autograd.grad(loss, outs + list(leaves.values()), allow_unused=True)
        products = []
        for (n, o), g in zip(records, grads[: len(outs)]):
            prod = o.detach() * (torch.zeros_like(o) if g is None else g.detach())
            if prod.dim() > 2:
                prod = prod.sum(dim=tuple(range(2, prod.dim())))
            products.append((n, prod))
        pgrads = OrderedDict((n, torch.zeros_like(p) if g is None else g.detach())
                             for (n, p), g in zip(leaves.items(), grads[len(outs):]))
        probe._cache.setdefault(("loss_gradients", train), pgrads)
        return products

    return probe.cached(("layer_output_products", train), run)


def chunk_loss_gradients(probe: Probe, train: bool, chunks: int, names: tuple[str, ...]) -> list[dict]:
    """Cross-entropy gradients of ``names`` on ``chunks`` consecutive parts of the batch (``st = i N // chunks``),
    BatchNorm on each part (ZiCo's protocol), on a CPU dead layers skipped (:mod:`zeroscore._cpu_routes`: their
    weight gradients are exact zeros either way). Running the chunks' backwards side by side on one thread each did not
    pay on this project's CPU (two 32-sample backwards: within the noise of one after the other on two threads)."""
    labels = probe.labels()
    n = probe.batch_size

    def run():
        # plain autograd on leaf copies: on CPU faster than torch.func.grad's per-op wrapping, and the train-mode
        # BatchNorm updates only the fresh buffer clones of each functional call
        f = probe.functional(train)
        params = probe.params("*")
        leaves = {k: params[k].clone().requires_grad_(True) for k in names}
        out = []
        with torch.enable_grad(), dead_layers_skipped_on_cpu(probe.model, probe.device):
            for i in range(chunks):
                st, en = i * n // chunks, (i + 1) * n // chunks
                loss = probe.cross_entropy(f(leaves, probe.inputs[st:en]), labels[st:en])
                grads = torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)
                out.append({k: torch.zeros_like(v) if g is None else g.detach()
                            for (k, v), g in zip(leaves.items(), grads)})
        return out

    return probe.cached(("chunk_loss_gradients", train, chunks, tuple(names)), run)
