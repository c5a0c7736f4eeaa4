"""Weight-sharing search on NAS-Bench-201: every method of :mod:`zeroscore.oneshot`, several seeds, one table.

The NAS-Bench-201 paper's protocol: search on CIFAR-10 (the official ``train`` / ``valid`` split), then look the
found cell up on CIFAR-10, CIFAR-100 and ImageNet16-120 (test accuracy, 200 epochs) -- only AFTER the search
returned. One CSV row per (method, seed) is appended to ``--csv`` (finished rows are skipped; each search also
checkpoints every epoch under ``--checkpoints``, so a killed run resumes mid-search), and ``--report`` renders the
markdown table (mean +- std over seeds, wall time, images processed) with the published full-protocol numbers
beside it, plus one PNG per run of the alpha trajectories (op weight per edge over epochs) when matplotlib is there.

Protocols (identical for every method within one table; the table states which):

* ``--protocol reduced`` (CPU): C=8, N=1, 10 epochs for every method, batch 64, the images of the data location
  (the project's CIFAR sample: 2,541 / 2,629 images), RSPS 100 candidates, SPOS 20 x 50 evolution on 1,000
  validation images. Everything else at the official defaults.
* ``--protocol full`` (GPU, ``--device cuda``): C=16, N=5, each method's official epochs (DARTS / NASP / RF-DARTS
  50, GDAS 240, RSPS / SPOS 250), the full CIFAR-10 download in the data location.

Usage::

    python benchmarks/oneshot_nb201.py --seeds 0 1 2 --csv benchmarks/results/oneshot_nb201.csv
    python benchmarks/oneshot_nb201.py --report --csv benchmarks/results/oneshot_nb201.csv
    python benchmarks/oneshot_nb201.py --protocol full --device cuda --csv benchmarks/results/oneshot_nb201_gpu.csv
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
from pathlib import Path

import pandas as pd

METHODS = ("rsps", "spos", "darts", "gdas", "nasp", "rf_darts", "rf_darts_bn")
LOOKUP = ("cifar10", "cifar100", "imagenet16")
PROTOCOLS = {
    "reduced": dict(channels=8, cells=1, epochs=10, options={"spos": {"fitness_images": 1000}}),
    "full": dict(channels=16, cells=5, epochs=None, options={}),
}
#: published full-protocol results (CIFAR-10 / CIFAR-100 / ImageNet16-120 test accuracy)
PUBLISHED = {
    "rsps": ("87.66 +- 1.69", "58.33 +- 4.34", "31.14 +- 3.88", "NB201 paper, Table 5"),
    "spos": ("-", "-", "-", "not an NB201 baseline (SETN, a related sampler: 86.19 on CIFAR-10)"),
    "darts": ("54.30", "15.61", "16.32", "NB201 paper, DARTS-V1"),
    "gdas": ("93.51 +- 0.13", "70.61 +- 0.26", "41.84 +- 0.90", "NB201 paper"),
    "nasp": ("-", "-", "-", "no NB201 result published"),
    "rf_darts": ("94.36 (best run)", "-", "-", "Zhang et al. CVPR 2023; ours is a reconstruction"),
    "rf_darts_bn": ("-", "-", "-", "fairness variant of the reconstruction"),
}


def run(args) -> None:
    import torch

    from zeroscore.oneshot import search
    from zeroscore.truth import lookup_accuracy

    torch.set_num_threads(args.threads)
    protocol = PROTOCOLS[args.protocol]
    csv = Path(args.csv)
    done = set()
    if csv.exists():
        done = {(r.method, int(r.seed)) for r in pd.read_csv(csv).itertuples()}
    for seed in args.seeds:
        for method in args.methods:
            if (method, seed) in done:
                continue
            epochs = args.epochs or protocol["epochs"]
            res = search(method, "nb201", "cifar10", epochs=epochs, channels=args.channels or protocol["channels"],
                         cells=args.cells or protocol["cells"], seed=seed, root=args.data, device=args.device,
                         checkpoint=Path(args.checkpoints) / f"{method}-seed{seed}", progress=args.progress,
                         options=protocol["options"].get(method))
            row = {"method": method, "seed": seed, "protocol": args.protocol, "arch": res.arch,
                   "epochs": res.epochs, "channels": res.supernet_options["C"], "cells": res.supernet_options["N"],
                   "wall_seconds": round(res.wall_seconds, 1), "images_seen": res.images_seen, "data": res.data,
                   "device": args.device or "cpu", "host": platform.node(),
                   "finished": datetime.datetime.now().isoformat(timespec="seconds"),
                   "history": json.dumps([{k: v for k, v in r.items() if k != "op_weights"} for r in res.history]),
                   "op_weights": json.dumps([r.get("op_weights") for r in res.history])}
            for ds in LOOKUP:  # ground truth only now, after the search returned
                row[f"{ds}_acc"] = lookup_accuracy("nb201", res.arch, ds, root=args.data)[0]
            pd.DataFrame([row]).to_csv(csv, mode="a", header=not csv.exists(), index=False)
            print(f"{method} seed {seed}: {res.arch} {row['cifar10_acc']:.2f} ({res.wall_seconds:.0f} s)",
                  flush=True)


def _mean_std(values: pd.Series) -> str:
    return f"{values.mean():.2f} +- {values.std(ddof=0):.2f}" if len(values) > 1 else f"{values.mean():.2f}"


def plot_trajectories(df: pd.DataFrame, folder: Path) -> None:
    """One PNG per run: the op weight of every edge over epochs (softmax(alpha); NASP: alpha)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    from zeroscore.spaces.nb201.arch import EDGE_NAMES, NB201_OPS

    folder.mkdir(parents=True, exist_ok=True)
    for r in df.itertuples():
        trajectory = [w for w in json.loads(r.op_weights) if w is not None]
        if not trajectory:
            continue
        fig, axes = plt.subplots(1, len(EDGE_NAMES), figsize=(3 * len(EDGE_NAMES), 2.6), sharey=True)
        for e, ax in enumerate(axes):
            for o, op in enumerate(NB201_OPS):
                ax.plot(range(1, len(trajectory) + 1), [w[0][e][o] for w in trajectory], marker=".", label=op)
            ax.set_title(f"edge {EDGE_NAMES[e]}")
            ax.set_xlabel("epoch")
        axes[0].set_ylabel("op weight")
        axes[-1].legend(fontsize=6)
        fig.suptitle(f"{r.method} seed {r.seed} ({r.protocol} protocol)")
        fig.tight_layout()
        fig.savefig(folder / f"oneshot_alphas_{r.method}_seed{r.seed}.png", dpi=80)
        plt.close(fig)


def report(args) -> None:
    df = pd.read_csv(args.csv)
    lines = [f"# Weight-sharing search on NAS-Bench-201 (search on CIFAR-10, {args.protocol} protocol)", "",
             "Found cells looked up after the search (test accuracy, 200 epochs). Settings in this table (from the "
             f"runs): C = {sorted(df.channels.unique().tolist())}, N = {sorted(df.cells.unique().tolist())}, "
             f"epochs = {sorted(df.epochs.unique().tolist())}, data: {'; '.join(sorted(df.data.unique()))}. "
             "rf_darts / rf_darts_bn are RECONSTRUCTIONS of RF-DARTS (no public code).", "",
             "| method | seeds | CIFAR-10 | CIFAR-100 | ImageNet16-120 | wall s (mean) | images (mean) | published "
             "C-10 / C-100 / IN16 (full protocol) |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for method in METHODS:
        rows = df[df.method == method]
        if rows.empty:
            continue
        pub = PUBLISHED[method]
        lines.append(f"| {method} | {len(rows)} | " + " | ".join(_mean_std(rows[f"{d}_acc"]) for d in LOOKUP)
                     + f" | {rows.wall_seconds.mean():.0f} | {rows.images_seen.mean():,.0f} | "
                     f"{pub[0]} / {pub[1]} / {pub[2]} ({pub[3]}) |")
    free = Path(args.csv).parent / "search_nb201.csv"
    if free.exists():  # the training-free searchers, searched on CIFAR-10 and looked up the same way
        tf = pd.read_csv(free)
        tf = tf[(tf.dataset == "cifar10") & tf.get("acc_cifar100", pd.Series(dtype=float)).notna()]
        for method, rows in tf.groupby("method", sort=False):
            lines.append(f"| training-free: {method} | {len(rows)} | "
                         + " | ".join(_mean_std(rows[f"acc_{d}"]) for d in LOOKUP)
                         + f" | {rows.wall_seconds.mean():.0f} | - (no training; {rows.archs_scored.mean():.0f} "
                         "cells scored) | see search_nb201.md |")
    if df.groupby("method").size().nunique() > 1:
        lines += ["", "The number of seeds differs between rows (the seeds column): not every method has run "
                  "all its seeds yet."]
    if args.protocol == "reduced":
        lines += ["", "At the reduced protocol the full-protocol behaviour need not appear: DARTS-V1's collapse to "
                  "parameter-free cells was reported after 50 epochs on the full split, and GDAS's temperature "
                  "schedule (10 -> 0.1 over 240 epochs) is compressed into the protocol's epochs. Wall times "
                  "depend on what else ran on the 2 shared cores."]
    lines += ["", "Cells found:", ""] + [f"- {r.method} seed {r.seed}: `{r.arch}`" for r in df.itertuples()]
    out = Path(args.csv).with_suffix(".md")
    out.write_text("\n".join(lines) + "\n")
    plot_trajectories(df, Path(args.csv).parent / "plots")
    print(out.read_text())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--protocol", choices=sorted(PROTOCOLS), default="reduced")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=None, help="override the protocol's epochs (smoke tests)")
    p.add_argument("--channels", type=int, default=None, help="override the protocol's C")
    p.add_argument("--cells", type=int, default=None, help="override the protocol's N")
    p.add_argument("--csv", default="benchmarks/results/oneshot_nb201.csv")
    p.add_argument("--checkpoints", default="runs/oneshot_nb201", help="checkpoint folder per run (resume)")
    p.add_argument("--data", default=None, help="data location (default: $ZEROSCORE_DATA)")
    p.add_argument("--device", default=None, help="cpu (default) or cuda")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--progress", action="store_true")
    p.add_argument("--report", action="store_true", help="render the markdown table and plots from --csv")
    args = p.parse_args(argv)
    if args.report:
        report(args)
    else:
        run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
