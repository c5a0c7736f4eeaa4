#!/usr/bin/env python
"""Every exact way to compute TE-NAS's per-sample Jacobian on this machine, timed side by side, with its accuracy.

The NTK indicators (``ntk_cond``, ``ntk_generalization``) need ``J``: row ``i`` is the gradient of sample ``i``'s
summed logits w.r.t. the weights, with the whole batch in one train-mode forward (BatchNorm couples the samples).
For each of ``--cells`` NB201 cells (``spaces.get("nb201").sample(cells, seed=0)``, built with ``seed=<position>``)
and one CIFAR-10 batch (``load_batch("cifar10", batch_size, seed=0)``), in one process, each route on the same
network and batch:

* ``reference``: TE-NAS's algorithm as ``benchmarks/reference_algorithms.py`` writes it (one ``autograd.grad`` of
  each sample's summed logits, ``retain_graph``);
* ``zeroscore``: ``passes.sum_logit_jacobian_rows`` on the probe's copy, the CPU default: the same backwards, run
  side by side on as many threads as torch has (each on one intra-op thread), over a forward whose dead layers are
  skipped (convolutions reading an all-zero ReLU output) and whose average poolings are depthwise convolutions
  (see ``zeroscore/_cpu_routes.py``);
* ``rows side by side only``: the same without skipping dead layers, native pooling;
* ``dead layers skipped only``: the reference loop on a forward whose dead layers are skipped;
* ``pooling by convolution only``: the reference loop on a copy whose ``nn.AvgPool2d`` layers pool by convolution;
* ``channels_last loop``: the reference loop with the network and batch in channels-last memory order;
* ``jacrev, chunks of 8``: ``passes.sum_logit_jacobian_vectorised`` (``torch.func.jacrev``), the GPU default
  (native pooling, as every route but ``zeroscore`` and ``pooling by convolution only``);
* ``batched cotangents (8)``: ``autograd.grad(..., is_grads_batched=True)`` on 8 one-hot cotangents at a time;
* ``frozen statistics``: ``batch_stats="frozen"`` (``passes.frozen_stats_jacobian``), the opt-in approximation
  (BatchNorm statistics held fixed: not the same Jacobian, listed for its speed only).

Accuracy: ``||J - J64|| / ||J64||`` (Frobenius) against the reference loop run in float64 on a float64 copy, and the
relative difference of the NTK condition number from the float32 reference's. Ratio = reference seconds / route
seconds.

Usage::

    ZEROSCORE_DATA=/path/to/data python benchmarks/ntk_routes.py --cells 3 --out benchmarks/results/ntk_routes_cpu.md
"""

from __future__ import annotations

import argparse
import copy
import datetime
import os
import platform
import sys
import time
from functools import partial
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep: the 2 cores are shared

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_algorithms  # noqa: E402

from zeroscore import data, passes, spaces  # noqa: E402
from zeroscore._cpu_routes import AvgPool2dByConvolution, dead_layers_skipped, faster_pooling  # noqa: E402
from zeroscore.machine import describe_cpu  # noqa: E402
from zeroscore.probe import Probe  # noqa: E402


def channels_last_loop(model, x):
    net = copy.deepcopy(model).to(memory_format=torch.channels_last)
    return reference_algorithms._ntk_jacobian(net, x.contiguous(memory_format=torch.channels_last))


def batched_cotangents(model, x, chunk: int = 8):
    model.train()
    weights = [p for n, p in model.named_parameters() if "weight" in n]
    out = model(x).sum(dim=1)
    eye = torch.eye(x.shape[0], dtype=out.dtype)
    rows = []
    for start in range(0, x.shape[0], chunk):
        cotangents = eye[start:start + chunk]
        grads = torch.autograd.grad(out, weights, grad_outputs=cotangents, retain_graph=True,
                                    is_grads_batched=True, allow_unused=True)
        k = cotangents.shape[0]
        rows.append(torch.cat([torch.zeros(k, w.numel()) if g is None else g.reshape(k, -1)
                               for g, w in zip(grads, weights)], dim=1))
    return torch.cat(rows)


def _probe_route(fn, pooling_by_convolution: bool = False):
    def run(model, x):
        probe = Probe(model, x)
        if not pooling_by_convolution:  # the probe's copy pools by convolution on a CPU: undone to time fn alone
            for module in probe.model.modules():
                if type(module) is AvgPool2dByConvolution:
                    module.__class__ = nn.AvgPool2d
        return fn(probe, True, probe.params("*weight*"))
    return run


def dead_layers_skipped_loop(model, x):
    net = copy.deepcopy(model)
    with dead_layers_skipped(net):
        return reference_algorithms._ntk_jacobian(net, x)


def pooling_by_convolution_loop(model, x):
    net = copy.deepcopy(model)
    faster_pooling(net)
    return reference_algorithms._ntk_jacobian(net, x)


ROUTES = {
    "reference": lambda m, x: reference_algorithms._ntk_jacobian(copy.deepcopy(m), x),
    "zeroscore": _probe_route(passes.sum_logit_jacobian_rows, pooling_by_convolution=True),
    "rows side by side only": _probe_route(partial(passes.sum_logit_jacobian_rows, skip_dead=False)),
    "dead layers skipped only": dead_layers_skipped_loop,
    "pooling by convolution only": pooling_by_convolution_loop,
    "channels_last loop": channels_last_loop,
    "jacrev, chunks of 8": _probe_route(passes.sum_logit_jacobian_vectorised),
    "batched cotangents (8)": lambda m, x: batched_cotangents(copy.deepcopy(m), x),
    "frozen statistics (approximation)": _probe_route(passes.frozen_stats_jacobian),
}


def cond(jac: torch.Tensor) -> float:
    eig = torch.linalg.eigvalsh(jac.double() @ jac.double().T)
    return float(eig[-1] / eig[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sample-seed", type=int, default=0, help="seed of space.sample (the cells timed)")
    ap.add_argument("--routes", default=";".join(ROUTES),
                    help="routes to time, separated by ';' (the reference always runs)")
    ap.add_argument("--no-float64", action="store_true", help="skip the float64 Jacobian (no error column)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    routes = ["reference"] + [r for r in args.routes.split(";") if r and r != "reference"]
    unknown = sorted(set(routes) - set(ROUTES))
    if unknown:
        ap.error(f"unknown routes {unknown}; known: {sorted(ROUTES)}")
    torch.set_num_threads(args.threads)
    x, _ = data.load_batch("cifar10", batch_size=args.batch_size, seed=0)
    space = spaces.get("nb201")
    archs = space.sample(args.cells, seed=args.sample_seed)
    seconds: dict[str, list[float]] = {r: [] for r in routes}
    error: dict[str, list[float]] = {r: [] for r in routes}
    cond_diff: dict[str, list[float]] = {r: [] for r in routes}
    wall = time.perf_counter()
    for i, arch in enumerate(archs):
        model = space.build(arch, num_classes=10, seed=i)
        exact = None if args.no_float64 else reference_algorithms._ntk_jacobian(copy.deepcopy(model).double(),
                                                                                  x.double())
        order = routes if i % 2 == 0 else list(reversed(routes))  # alternate who runs first
        jacs = {}
        for route in order:
            start = time.perf_counter()
            jac = ROUTES[route](model, x).detach()
            seconds[route].append(time.perf_counter() - start)
            jacs[route] = jac
            print(f"cell {i} {route}: {seconds[route][-1]:.1f} s", file=sys.stderr, flush=True)
        ref_cond = cond(jacs["reference"])
        for route, jac in jacs.items():
            if exact is not None:
                error[route].append(float((jac.double() - exact).norm() / exact.norm()))
            cond_diff[route].append(abs(cond(jac) / ref_cond - 1))
    wall = time.perf_counter() - wall

    def mean(v):
        return sum(v) / len(v)

    ref_s = mean(seconds["reference"])
    lines = [
        f"# Exact routes to TE-NAS's per-sample Jacobian (NAS-Bench-201, CIFAR-10 batch of {args.batch_size}, CPU)",
        "",
        f"Generated by `benchmarks/ntk_routes.py` on {datetime.date.today().isoformat()}.",
        "",
        "Command:",
        "",
        "```",
        "python benchmarks/ntk_routes.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "```",
        "",
        f"Machine: {describe_cpu()}, no GPU; torch {torch.__version__} with "
        f"{args.threads} threads; Python {platform.python_version()}; wall time {wall / 60:.1f} min. Cells: "
        + ", ".join(f"`{a}`" for a in archs) + ". Seconds are means over the cells; errors the largest over them.",
        "",
        __doc__.split("\n\n", 1)[1].split("\n\nUsage::")[0].strip(),
        "",
        "| route | seconds | ratio (reference / route) | error vs float64 J | NTK cond. rel. diff. vs reference |",
        "|---|---:|---:|---:|---:|",
    ]
    for route in routes:
        s = mean(seconds[route])
        err = f"{max(error[route]):.1e}" if error[route] else "–"
        lines.append(f"| {route} | {s:.2f} | {ref_s / s:.2f} | {err} | {max(cond_diff[route]):.1e} |")
    exact_routes = [r for r in routes if r != "reference" and "approximation" not in r]
    lines += ["", "Per cell, in the order listed above (seconds; ratio = reference / route):", "",
              "| cell | reference | " + " | ".join(exact_routes) + " |",
              "|---|---:|" + "---:|" * len(exact_routes)]
    for i in range(len(archs)):
        ref_i = seconds["reference"][i]
        lines.append(f"| {i} | {ref_i:.2f} | " + " | ".join(
            f"{seconds[r][i]:.2f} ({ref_i / seconds[r][i]:.2f}x)" for r in exact_routes) + " |")
    if exact_routes:
        best = max(exact_routes, key=lambda r: ref_s / mean(seconds[r]))
        lines += ["", f"- Fastest exact route: **{best}**, {ref_s / mean(seconds[best]):.2f}x the reference (ratio "
                  "of the mean seconds). Every exact route runs one backward pass of the whole batch per sample "
                  "(train-mode BatchNorm makes each sample's cotangent dense over the batch below the last "
                  "BatchNorm): they differ in how the same kernels are scheduled, in whether a convolution "
                  "known to pass nothing back (an all-zero ReLU output in, a `none` edge's) is run at all, and in "
                  "which kernel sums the average poolings' windows (`avg_pool2d`'s or a depthwise convolution's)."]
    if error["reference"]:
        lines.append(f"- The float32 reference itself is {max(error['reference']):.1e} (Frobenius, relative) away "
                     "from the float64 Jacobian: differences between exact routes below that are rounding, not "
                     "error.")
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
