#!/usr/bin/env python
"""The probe's CPU pooling routes against torch's native pooling, op by op and on whole networks, in one process.

zeroscore's probe swaps two pooling layers on its private copy (``zeroscore/_cpu_routes.py``, exact by
construction and by ``tests/test_max_pooling_route.py`` / ``tests/test_cpu_routes.py``):

* ``nn.AvgPool2d`` -> ``AvgPool2dByConvolution`` (a depthwise convolution with a ones kernel; NB201, DARTS);
* ``nn.MaxPool2d`` with overlapping windows -> ``MaxPool2dByChannelsLast`` (window maxima found by the
  channels-last kernel, gathered in NCHW; NB101's ``maxpool3x3``, DARTS's ``max_pool_3x3``).

Part 1 times forward, and forward plus backward, of each pooling the search spaces use at the sizes they meet
(batch 64), native against the route, each the median of ``--repeats`` runs, the two sides alternating. Part 2 times
one train-mode forward and backward of the summed cross-entropy (the pass ``grad_norm``/``snip``/``fisher`` share) of
``--cells`` NB101 cells that have ``maxpool3x3`` vertices (the first of ``spaces.get("nb101").sample(200, seed=0)``
with at least ``--min-pools`` of them, built with ``seed=0``, narrow networks: ``--stem-channels``) on a CIFAR-10
batch, with native pooling and with the route, on the same copy. Ratio = native / route (> 1: the route is faster).

Usage::

    ZEROSCORE_DATA=/path/to/data python benchmarks/pooling_routes.py --out benchmarks/results/pooling_routes_cpu.md
"""

from __future__ import annotations

import argparse
import copy
import datetime
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep: the 2 cores are shared

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from zeroscore import data, spaces  # noqa: E402
from zeroscore._cpu_routes import faster_pooling  # noqa: E402
from zeroscore.machine import describe_cpu  # noqa: E402

#: (where it is met, layer, input shape at batch 64)
OPS = [
    ("NB201 avg_pool_3x3, stage 1", lambda: nn.AvgPool2d(3, 1, 1, count_include_pad=False), (64, 16, 32, 32)),
    ("NB201 avg_pool_3x3, stage 3", lambda: nn.AvgPool2d(3, 1, 1, count_include_pad=False), (64, 64, 8, 8)),
    ("NB201 residual shortcut 2x2", lambda: nn.AvgPool2d(2, 2), (64, 16, 32, 32)),
    ("NB101 maxpool3x3, stack 1 (128 ch.)", lambda: nn.MaxPool2d(3, 1, 1), (64, 128, 32, 32)),
    ("NB101 maxpool3x3, stack 2", lambda: nn.MaxPool2d(3, 1, 1), (64, 128, 16, 16)),
    ("NB101 maxpool3x3, stack 3", lambda: nn.MaxPool2d(3, 1, 1), (64, 256, 8, 8)),
    ("NB101 maxpool3x3, narrow (16 ch.)", lambda: nn.MaxPool2d(3, 1, 1), (64, 16, 32, 32)),
    ("NB101 downsampling 2x2 (native)", lambda: nn.MaxPool2d(2, 2, ceil_mode=True), (64, 128, 32, 32)),
    ("DARTS max_pool_3x3, reduction", lambda: nn.MaxPool2d(3, 2, 1), (64, 16, 32, 32)),
    ("DARTS avg_pool_3x3, reduction", lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False), (64, 16, 32, 32)),
]


def _median_pair(native, route, repeats: int) -> tuple[float, float]:
    times: dict[int, list[float]] = {0: [], 1: []}
    native(), route()  # warm-up (allocations, oneDNN primitives)
    for r in range(repeats):
        for side, fn in ((0, native), (1, route)) if r % 2 == 0 else ((1, route), (0, native)):
            start = time.perf_counter()
            fn()
            times[side].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def op_rows(repeats: int) -> list[tuple[str, str, float, float, float, float]]:
    rows = []
    for where, make, shape in OPS:
        native, route = make(), make()
        faster_pooling(route)
        x = torch.randn(shape, generator=torch.Generator().manual_seed(0)).relu().requires_grad_()
        g = torch.randn(native(x).shape, generator=torch.Generator().manual_seed(1))
        assert torch.allclose(route(x), native(x), rtol=1e-6, atol=1e-6)

        def forward(pool):
            return lambda: pool(x.detach())

        def both(pool):
            return lambda: torch.autograd.grad(pool(x), x, g)

        f0, f1 = _median_pair(forward(native), forward(route), repeats)
        b0, b1 = _median_pair(both(native), both(route), repeats)
        rows.append((where, f"{type(native).__name__}{tuple(shape)}", f0, f1, b0, b1))
        print(f"{where}: forward {1000 * f0:.1f} / {1000 * f1:.1f} ms, with backward {1000 * b0:.1f} / "
              f"{1000 * b1:.1f} ms", flush=True)
    return rows


def network_rows(args) -> list[tuple[str, int, float, float]]:
    space = spaces.NB101Space(stem_channels=args.stem_channels)
    chosen = [a for a in space.sample(200, seed=0) if space.spec(a)[1].count("maxpool3x3") >= args.min_pools]
    x, y = data.load_batch("cifar10", batch_size=args.batch_size, seed=0)
    rows = []
    for arch in chosen[:args.cells]:
        model = space.build(arch, num_classes=10, seed=0).train()
        route = copy.deepcopy(model)
        faster_pooling(route)

        def step(net):
            def run():
                net.zero_grad(set_to_none=True)
                F.cross_entropy(net(x), y).backward()
            return run

        native_s, route_s = _median_pair(step(model), step(route), args.repeats_network)
        pools = space.spec(arch)[1].count("maxpool3x3")
        rows.append((arch, pools, native_s, route_s))
        print(f"{pools} maxpool vertices: {native_s:.2f} s native, {route_s:.2f} s route  {arch}", flush=True)
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=9, help="timed runs per side and pooling op")
    ap.add_argument("--cells", type=int, default=3, help="NB101 cells for the network timing (0: none)")
    ap.add_argument("--min-pools", type=int, default=1, help="maxpool3x3 vertices a chosen cell has at least")
    ap.add_argument("--stem-channels", type=int, default=128, help="NB101 stem width (128: the benchmark's)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats-network", type=int, default=3, help="timed runs per side and network")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="write the Markdown table here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    ops = op_rows(args.repeats)
    nets = network_rows(args) if args.cells else []
    wall = time.perf_counter() - started
    lines = [
        "# The probe's CPU pooling routes against native pooling", "",
        f"Generated by `benchmarks/pooling_routes.py` on {datetime.date.today().isoformat()}.", "",
        "Command:", "", "```",
        "python benchmarks/pooling_routes.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "```", "",
        f"Machine: {describe_cpu()}, shared, no GPU; torch {torch.__version__} with "
        f"{args.threads} threads (OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}); Python "
        f"{platform.python_version()}; wall time {wall / 60:.1f} min.", "",
        (__doc__ or "").split("Usage::")[0].split("\n\n", 1)[1].strip(), "",
        "| pooling | layer, input | forward native ms | forward route ms | ratio | fwd+bwd native ms "
        "| fwd+bwd route ms | ratio |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for where, layer, f0, f1, b0, b1 in ops:
        lines.append(f"| {where} | `{layer}` | {1000 * f0:.1f} | {1000 * f1:.1f} | {f0 / f1:.2f} | {1000 * b0:.1f} "
                     f"| {1000 * b1:.1f} | {b0 / b1:.2f} |")
    if nets:
        lines += ["", f"NB101 networks (stem {args.stem_channels}, batch {args.batch_size}), one train-mode forward "
                  "and backward of the cross-entropy:", "",
                  "| cell | maxpool3x3 vertices | native s | route s | ratio |", "|---|---:|---:|---:|---:|"]
        for arch, pools, n, r in nets:
            lines.append(f"| `{arch}` | {pools} | {n:.2f} | {r:.2f} | {n / r:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
