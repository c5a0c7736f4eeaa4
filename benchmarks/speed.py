"""CPU cost of every registered indicator on NAS-Bench-201 networks, alone and all together through one probe.

Usage (from the repository root)::

    ZEROSCORE_DATA=/work/shared/data python benchmarks/speed.py --cells 20 --threads 2 \
        --out benchmarks/results/speed_cpu.md

For each of ``--cells`` fixed NB201 cells (``spaces.get("nb201").sample(cells, seed=0)``, built with
``seed=<position>``) and one CIFAR-10 batch (``data.load_batch("cifar10", batch_size=64, seed=0)``):

* ``fwd+bwd``: one plain forward + cross-entropy backward of the model in train mode (``loss.backward()``), the
  unit of the ratios below (best of two runs);
* every indicator alone: the wall time of ``zeroscore.score(model, x, y, indicators=[name])`` (probe creation
  included, as a user calling it alone would pay it);
* all indicators together: the wall time of one ``zeroscore.score(model, x, y, indicators="all")`` call, where
  indicators share the probe's passes (loss gradients, input gradients, ReLU codes, the AZ-NAS pass, FLOP
  counts, NTK Jacobians).

Reported: per-indicator milliseconds per architecture (mean over cells) and as multiples of ``fwd+bwd``; the sum
of the one-by-one times vs the together time; and ``together / fwd+bwd``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning: on a machine whose cores are shared with other jobs, spinning
# threads made 2-thread runs 2-3x slower than 1-thread runs. Must be set before torch starts OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import zeroscore  # noqa: E402
from zeroscore import data, spaces  # noqa: E402
from zeroscore.machine import describe_cpu  # noqa: E402

BATCH_NOTE = """**Why not a batch of 64.** The per-sample indicators cost about one full-batch backward *per sample*
(`ntk_cond`/`ntk_generalization`: TE-NAS's per-sample Jacobians under train-mode BatchNorm, which couples the samples;
`gradsign`: 64 single-sample backwards), so relative to one forward+backward they grow linearly with the batch and
in absolute time quadratically. With a batch of 64 on this shared 2-core machine one cell took 4-13 minutes for the
one-by-one plus together runs (an aborted run of this script, 2 threads: cell 1, fwd+bwd 0.80 s, one-by-one 158.8 s,
together 72.5 s; cell 2, fwd+bwd 2.53 s, one-by-one 464.6 s, together 318.4 s), i.e. hours for 20 cells. Relative to
fwd+bwd (which grows linearly with the batch), indicators made of a fixed number of passes over the batch keep
their ratio at 64; the per-sample ones (`ntk_cond`, `ntk_generalization`, `gradsign`) are about 64/16 = 4 times more
expensive at 64, and those with batch-independent inputs (`params`, `l2_norm`, `flops`, `az_complexity`, `synflow`
and `meco` on one input, `linear_regions` on its 3,000 crops, `zen` when given its own `batch_size`) about 4 times
cheaper."""


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def fwd_bwd_seconds(model, x, y, repeats: int = 2) -> float:
    best = float("inf")
    model.train()
    for _ in range(repeats):
        model.zero_grad(set_to_none=True)
        _sync(x.device)
        start = time.perf_counter()
        F.cross_entropy(model(x), y).backward()
        _sync(x.device)
        best = min(best, time.perf_counter() - start)
    model.zero_grad(set_to_none=True)
    return best


def _machine(device: torch.device) -> str:
    cpu = describe_cpu()
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}), host {cpu}; timed on the GPU"
    return f"{cpu}, no GPU"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--indicators", default="all", help="comma-separated names, or 'all'")
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:k]; on cuda the model and batch live there")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--against-references", action="store_true",
                    help="time every indicator against its reference algorithm (speed_references.py) instead")
    ap.add_argument("--best-of", type=int, default=1,
                    help="with --against-references: time quick indicators this many times per side, keep the best")
    ap.add_argument("--best-of-under", type=float, default=3.0,
                    help="with --best-of: only indicators whose sides both took under this many seconds")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.against_references:
        return _against_references(args, argv)
    device = torch.device(args.device)
    names = zeroscore.list_indicators() if args.indicators == "all" else args.indicators.split(",")
    x, y = data.load_batch("cifar10", batch_size=args.batch_size, seed=0)
    x, y = x.to(device), y.to(device)
    space = spaces.get("nb201")
    archs = space.sample(args.cells, seed=0)
    alone = {n: [] for n in names}
    inside = {n: [] for n in names}
    together, base, errors = [], [], {}
    start_all = time.perf_counter()
    for i, arch in enumerate(archs):
        model = space.build(arch, num_classes=10, seed=i).to(device)
        if i == 0:  # warm-up (CUDA context, cuDNN autotuning, lazy kernels): not timed
            zeroscore.score(model, x, y, indicators=names, seed=0)
        base.append(fwd_bwd_seconds(model, x, y))
        for n in names:
            t = time.perf_counter()
            r = zeroscore.score(model, x, y, indicators=[n], seed=0)
            alone[n].append(time.perf_counter() - t)
            if r.errors:
                errors.setdefault(n, r.errors[n])
        t = time.perf_counter()
        r = zeroscore.score(model, x, y, indicators=names, seed=0)
        together.append(time.perf_counter() - t)
        for n in names:
            inside[n].append(r.seconds[n])
        print(f"[{i + 1}/{len(archs)}] fwd+bwd {base[-1]:.2f}s  one-by-one {sum(alone[n][-1] for n in names):.1f}s  "
              f"together {together[-1]:.1f}s  {arch}", flush=True)
    wall = time.perf_counter() - start_all
    base_ms = 1000 * float(np.mean(base))
    lines = [
        f"# Indicator cost on {'GPU' if device.type == 'cuda' else 'CPU'} (NAS-Bench-201, CIFAR-10 batch of "
        f"{args.batch_size})",
        "",
        f"Generated by `benchmarks/speed.py` on {datetime.date.today().isoformat()}.",
        "",
        "Command:",
        "",
        "```",
        "python benchmarks/speed.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "```",
        "",
        f"Machine: {_machine(device)}; "
        f"torch {torch.__version__} with {args.threads} threads "
        f"(OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}); Python {platform.python_version()}; total wall time "
        f"{wall / 60:.1f} min. Cells: `spaces.get(\"nb201\").sample({args.cells}, seed=0)`, built with "
        f"`seed=<position>`; times are means over the cells.",
        "",
        f"Unit: one forward + backward of the model (`F.cross_entropy(model(x), y).backward()`, train mode) = "
        f"**{base_ms:.0f} ms** per architecture (mean of the best of two runs per cell).",
        "",
        "| indicator | cost class | alone: ms / arch | alone / fwd+bwd | inside `score(\"all\")`: ms / arch |",
        "|---|---|---:|---:|---:|",
    ]
    for n in sorted(names, key=lambda k: -np.mean(alone[k])):
        cls = zeroscore.indicators.base.indicator_class(n)
        a = 1000 * float(np.mean(alone[n]))
        lines.append(f"| `{n}` | {cls.cost} | {a:.0f} | {a / base_ms:.2f} | {1000 * float(np.mean(inside[n])):.0f} |")
    one_by_one = 1000 * float(np.mean([sum(alone[n][i] for n in names) for i in range(len(archs))]))
    tog = 1000 * float(np.mean(together))
    lines += [
        "",
        f"- Sum of the {len(names)} indicators computed one by one: **{one_by_one:.0f} ms** per architecture "
        f"({one_by_one / base_ms:.1f} x fwd+bwd).",
        f"- All {len(names)} together through one probe (`zeroscore.score(..., indicators=\"all\")`): "
        f"**{tog:.0f} ms** per architecture, {tog / one_by_one:.2f} of the one-by-one sum.",
        f"- Ratio (all together) / (one forward+backward): **{tog / base_ms:.1f}**.",
        "",
        "\"Inside\" times are each indicator's share of the together run: the first indicator that needs a shared "
        "pass pays for it, later ones reuse it (e.g. `fisher` computes the loss backward that `grad_norm`, `snip`, "
        "`plain` and `grasp` reuse; `jacov`/`epe_nas` share the input gradients; `naswot`/`swap`/`linear_regions` "
        "(probe batch) share the ReLU codes; the four `az_*` share one feature pass; `flops`/`az_complexity` share "
        "the count).",
    ]
    if args.batch_size != 64:
        lines += ["", BATCH_NOTE]
    if errors:
        lines += ["", "Indicators that raised (their time is still counted):", ""]
        lines += [f"- `{k}`: {v[:160]}" for k, v in errors.items()]
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    sys.stdout.write(text)
    return 0


def _against_references(args, argv) -> int:
    import speed_references

    names = None if args.indicators == "all" else args.indicators.split(",")
    start = time.perf_counter()
    result = speed_references.run(args.cells, args.batch_size, names, device=args.device, best_of=args.best_of,
                                  best_of_under=args.best_of_under)
    wall = time.perf_counter() - start
    lines = [
        f"# zeroscore against the reference algorithms (NAS-Bench-201, CIFAR-10 batch of {args.batch_size}, "
        f"{'GPU' if args.device.startswith('cuda') else 'CPU'})",
        "",
        f"Generated by `benchmarks/speed.py --against-references` on {datetime.date.today().isoformat()}.",
        "",
        "Command:",
        "",
        "```",
        "python benchmarks/speed.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "```",
        "",
        f"Machine: {_machine(torch.device(args.device))}; torch {torch.__version__} with {args.threads} threads "
        f"(OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}); Python {platform.python_version()}; total wall "
        f"time {wall / 60:.1f} min. Cells: `spaces.get(\"nb201\").sample({args.cells}, seed=0)`, built with "
        "`seed=<position>`: " + ", ".join(f"`{a}`" for a in result["archs"]) + ". Times are means over the cells"
        + (f" (per cell the best of {args.best_of} runs for indicators under {args.best_of_under:g} s)"
           if args.best_of > 1 else "") + ", peak memory the largest over them.",
        "",
        speed_references.__doc__.split("\n\n", 1)[1].strip(),
        "",
        *speed_references.table(result),
    ]
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
