"""Training-free search on NAS-Bench-201: prune (TE-NAS), evolve and random search, several seeds, three datasets.

Each (method, dataset, seed) search runs with :func:`zeroscore.search.run_search`; only *after* it returns is the
found cell looked up in the ground-truth table (test accuracy of the dataset's default target). One CSV row per
search is appended to ``--csv`` (the run resumes: finished rows are skipped), and ``--report`` renders the markdown
table from the CSV.

ImageNet16-120: no ImageNet16 images exist offline, so the searches use ``imagenet16_standin`` (CIFAR-100 images
downsampled to 16x16, 120 classes) and the found cells are looked up in the ImageNet16-120 column. Those numbers
are labelled as such.

Usage (what produced benchmarks/results/search_nb201.md)::

    nohup python benchmarks/search_nb201.py --seeds 0 1 2 3 4 --csv benchmarks/results/search_nb201.csv &
    python benchmarks/search_nb201.py --report --csv benchmarks/results/search_nb201.csv
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16": "imagenet16_standin"}
PUBLISHED = {  # CIFAR-10 / CIFAR-100 / ImageNet16-120 test accuracy, as given in the papers
    "TE-NAS (published)": ("93.9 +- 0.47", "71.24 +- 0.56", "42.38 +- 0.46"),
    "NASWOT N=1000 (published)": ("92.96", "69.98", "44.44"),
    "random search (published, NB201 paper)": ("93.70", "71.04", "44.57"),
    "optimum of the table": ("94.37", "73.51", "47.31"),
}


def run(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    from zeroscore.search import run_search
    from zeroscore.truth import lookup_accuracy

    csv = Path(args.csv)
    done = set()
    if csv.exists():
        old = pd.read_csv(csv)
        done = {(r.method, r.dataset, int(r.seed)) for r in old.itertuples()}
    for seed in args.seeds:
        for ds_name in args.datasets:
            dataset = DATASETS[ds_name]
            for method in args.methods:
                if (method, ds_name, seed) in done:
                    continue
                t0 = time.perf_counter()
                if method == "prune":
                    res = run_search("prune", space="nb201", dataset=dataset, seed=seed, repeats=args.repeats,
                                     batch_size=args.prune_batch_size, root=args.data)
                else:
                    res = run_search(method, space="nb201", dataset=dataset, seed=seed, budget=args.budget,
                                     batch_size=args.batch_size, root=args.data, population=args.population,
                                     tournament_size=args.sample)
                wall = time.perf_counter() - t0
                acc, col, note = lookup_accuracy("nb201", res.best, dataset, root=args.data)
                row = {"method": method, "dataset": ds_name, "search_data": dataset, "seed": seed,
                       "arch": res.best, "accuracy": acc, "column": col, "archs_scored": res.archs_scored,
                       "evaluations": res.info.get("evaluations", res.archs_scored), "wall_seconds": round(wall, 2),
                       "indicators": "+".join(res.info.get("indicators", []) or [])
                       or res.info.get("objective", "").split(" on ")[0]}
                pd.DataFrame([row]).to_csv(csv, mode="a", header=not csv.exists(), index=False)
                print(f"{method:7s} {ds_name:10s} seed {seed}: {acc:.2f} {res.best} "
                      f"({res.archs_scored} scored, {wall:.0f}s)", flush=True)


def run_darts(args) -> None:
    """TE-NAS pruning in the DARTS space (no ground truth exists for it): record the genotype and check it builds."""
    import json

    import torch

    torch.set_num_threads(args.threads)
    from zeroscore import spaces
    from zeroscore.search import prune

    indicators = ("ntk_cond", "linear_regions")
    if args.darts_lr_batches:
        indicators = {"ntk_cond": {}, "linear_regions": {"n_batches": args.darts_lr_batches}}
    res = prune("darts", indicators=indicators, dataset="cifar10", seed=args.seeds[0], repeats=args.repeats,
                batch_size=args.darts_batch_size, root=args.data, ops=args.darts_ops, verbose=True)
    net = spaces.get("darts").build(res.best, num_classes=10, seed=0)
    with torch.no_grad():
        out = net.eval()(torch.randn(2, 3, 32, 32))
    record = {"genotype": str(res.best), "params": sum(p.numel() for p in net.parameters()),
              "output_shape": list(out.shape), "configs_measured": res.archs_scored,
              "wall_seconds": round(res.wall_seconds, 1), "repeats": args.repeats, "batch_size": args.darts_batch_size,
              "prune_number": res.info["prune_number"], "seed": args.seeds[0], "ops": res.info["ops"],
              "linear_region_batches": args.darts_lr_batches or 3, "trace": res.info["trace"]}
    Path(args.darts_json).write_text(json.dumps(record, indent=1, default=str))
    print(json.dumps({k: v for k, v in record.items() if k != "trace"}, indent=1))


def report(args) -> str:
    import torch

    df = pd.read_csv(args.csv)
    lines = []
    cols = list(DATASETS)
    head = (
        "| method | " + " | ".join(f"{c} test acc" for c in cols)
        + " | archs scored / search | wall s / search | seeds |"
    )
    lines += [head, "|" + "---|" * (len(cols) + 4)]
    for method, g in df.groupby("method", sort=False):
        cells = []
        for c in cols:
            a = g[g.dataset == c]["accuracy"]
            cells.append(f"{a.mean():.2f} +- {a.std(ddof=0):.2f}" if len(a) else "--")
        seeds = sorted(set(g.seed))
        lines.append(f"| {method} (ours) | " + " | ".join(cells) +
                     f" | {g.archs_scored.mean():.0f} | {g.wall_seconds.mean():.0f} | {len(seeds)}: {seeds} |")
    for name, vals in PUBLISHED.items():
        lines.append(f"| {name} | " + " | ".join(vals) + " | | | |")
    table = "\n".join(lines)
    cost = ["| method | " + " | ".join(f"{c}: wall s (mean, max)" for c in cols) + " | evaluations / search |",
            "|" + "---|" * (len(cols) + 2)]
    for method, g in df.groupby("method", sort=False):
        cells = []
        for c in cols:
            w = g[g.dataset == c]["wall_seconds"]
            cells.append(f"{w.mean():.0f}, {w.max():.0f}" if len(w) else "--")
        cost.append(f"| {method} | " + " | ".join(cells) + f" | {g.evaluations.mean():.0f} |")
    table += "\n\n" + "\n".join(cost)
    per = [
        "| method | dataset | seed | found cell | test acc | archs scored | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in df.sort_values(["method", "dataset", "seed"]).itertuples():
        per.append(
            f"| {r.method} | {r.dataset} | {r.seed} | `{r.arch}` | {r.accuracy:.2f} | {r.archs_scored} "
            f"| {r.wall_seconds:.0f} |"
        )
    info = (f"torch {torch.__version__}, Python {platform.python_version()}, {platform.machine()} "
            f"({os.cpu_count()} CPU cores, no GPU), {datetime.date.today().isoformat()}")
    return table + "\n\n" + "\n".join(per) + "\n\n" + info + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    p.add_argument("--methods", nargs="+", default=["prune", "evolve", "random"])
    p.add_argument("--budget", type=int, default=30, help="evaluations per evolve / random search")
    p.add_argument("--population", type=int, default=10)
    p.add_argument("--sample", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32, help="batch of the evolve/random objective")
    p.add_argument("--repeats", type=int, default=1, help="prune: initialisations per measurement")
    p.add_argument("--prune-batch-size", type=int, default=16, help="prune: NTK batch")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data", default=None)
    p.add_argument("--csv", default="benchmarks/results/search_nb201.csv")
    p.add_argument("--report", action="store_true", help="print the markdown table of --csv and exit")
    p.add_argument("--darts", action="store_true", help="run TE-NAS pruning in the DARTS space instead (CIFAR-10)")
    p.add_argument("--darts-batch-size", type=int, default=14, help="DARTS: NTK batch (TE-NAS launcher: 14)")
    p.add_argument("--darts-json", default="benchmarks/results/search_darts_prune.json")
    p.add_argument("--darts-ops", nargs="+", default=None, help="DARTS: candidate ops (default: all 8 PRIMITIVES)")
    p.add_argument("--darts-lr-batches", type=int, default=None, help="DARTS: batches of 1000 crops (TE-NAS: 3)")
    args = p.parse_args(argv)
    if args.report:
        print(report(args))
        return 0
    if args.darts:
        run_darts(args)
        return 0
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
