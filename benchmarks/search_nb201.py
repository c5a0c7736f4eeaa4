"""Training-free search on NAS-Bench-201 (and NATS-Bench SSS): two_stage, prune (TE-NAS), evolve and random search,
several seeds, three datasets.

Each (method, dataset, seed) search runs with :func:`zeroscore.search.run_search`; only *after* it returns is the
found cell looked up in the ground-truth table (test accuracy of the dataset's default target). One CSV row per
search is appended to ``--csv`` (the run resumes: finished rows are skipped), and ``--report`` renders the markdown
table from the CSV.

ImageNet16-120: no ImageNet16 images exist offline, so the searches use ``imagenet16_standin`` (CIFAR-100 images
downsampled to 16x16, 120 classes) and the found cells are looked up in the ImageNet16-120 column. Those numbers
are labelled as such.

Every row also records the found cell's test accuracy on all three datasets (``acc_cifar10``, ``acc_cifar100``,
``acc_imagenet16``: NAS-Bench-201's own protocol searches on CIFAR-10 once and reports the cell on all three), and
``<csv>_anytime.csv`` gets the *anytime curve* of each search: the test accuracy of the cell the searcher would return
after k architectures scored (its own aggregation over what it had scored by then), looked up after the search.

Usage (what produced benchmarks/results/search_nb201.md)::

    nohup python benchmarks/search_nb201.py --seeds 0 1 2 3 4 --csv benchmarks/results/search_nb201.csv &
    python benchmarks/search_nb201.py --report --csv benchmarks/results/search_nb201.csv
"""

from __future__ import annotations

import argparse
import datetime
import platform
import re
import sys
import time
from pathlib import Path

import pandas as pd

from zeroscore.machine import describe_cpu  # noqa: E402

DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16": "imagenet16_standin"}
ANYTIME_STEP = 10  # evaluations between two points of an anytime curve
PUBLISHED = {  # CIFAR-10 / CIFAR-100 / ImageNet16-120 test accuracy, as given in the papers
    "TE-NAS (published)": ("93.9 +- 0.47", "71.24 +- 0.56", "42.38 +- 0.46"),
    "NASWOT N=1000 (published)": ("92.96", "69.98", "44.44"),
    "random search (published, NB201 paper)": ("93.70", "71.04", "44.57"),
    "optimum of the table": ("94.37", "73.51", "47.31"),
}


def anytime(res, space: str, dataset: str, root) -> list[dict]:
    """The test accuracy of the cell the search would have returned after every ``ANYTIME_STEP`` new archs
    (ground truth read here, after the search), and of the cell it did return."""
    from zeroscore.ranking import AGGREGATIONS
    from zeroscore.truth import lookup_accuracy

    hist = res.history
    if "arch" not in hist:  # pruning: its history is supernet configurations, not architectures
        return []
    skip = {"step", "arch", "seconds", "new", "objective", "stage"}
    names = [c for c in hist.columns if c not in skip]
    agg = AGGREGATIONS[res.info.get("aggregate", "rank_sum")]
    if res.info.get("pick_from") == "population":
        # it answers with the best of its final population (TEG-NAS): after k evaluations that population is the
        # last `population` of them (aging), ranked within itself
        size = int(res.info["population"])
        windows = [(int(hist["new"].iloc[:k].sum()), hist.iloc[max(0, k - size):k].drop_duplicates("arch"))
                   for k in list(range(size, len(hist), ANYTIME_STEP)) + [len(hist)]]
        total = int(hist["new"].sum())
    else:
        if "stage" in hist:
            hist = hist[hist["stage"] == 1]
        hist = hist[hist["new"]] if "new" in hist else hist.drop_duplicates("arch")
        if not len(hist):
            return []
        windows = [(k, hist.iloc[:k]) for k in list(range(ANYTIME_STEP, len(hist), ANYTIME_STEP)) + [len(hist)]]
        total = len(hist)
    points = []
    for evaluations, part in windows:
        arch = _best_of(part, names, agg)
        points.append({"evaluations": evaluations, "arch": arch, "final": False,
                       "accuracy": lookup_accuracy(space, arch, dataset, root=root)[0]})
    points.append({"evaluations": total, "arch": res.best, "final": True,
                   "accuracy": lookup_accuracy(space, res.best, dataset, root=root)[0]})
    return points


def _best_of(part: pd.DataFrame, names: list[str], agg) -> str:
    """The arch of ``part`` the searcher's own aggregation of the indicators ``names`` ranks first."""
    import numpy as np

    from zeroscore.ranking import higher_is_better, orient

    cols = [np.where(np.isnan(c), -np.inf, c) for c in
            (orient(part[n].to_numpy(dtype=float), higher_is_better(n)) for n in names)]
    return part["arch"].iloc[int(np.argmax(agg(cols) if len(cols) > 1 else cols[0]))]


def append_rows(path: Path, rows: list[dict]) -> None:
    """Append rows to a CSV; when their columns differ from the file's, rewrite it with the union of columns
    (an appended row must never shift the file's columns)."""
    old_cols = list(pd.read_csv(path, nrows=0).columns) if path.exists() else None
    if old_cols is not None and old_cols != list(rows[0]):
        pd.concat([pd.read_csv(path), pd.DataFrame(rows)], ignore_index=True).to_csv(path, index=False)
    else:
        pd.DataFrame(rows).to_csv(path, mode="a", header=old_cols is None, index=False)


def run(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    from zeroscore.search import run_search
    from zeroscore.truth import lookup_accuracy

    csv = Path(args.csv)
    curves = csv.with_name(csv.stem + "_anytime.csv")
    done = set()
    if csv.exists():
        old = pd.read_csv(csv)
        done = {(r.method, r.dataset, int(r.seed)) for r in old.itertuples()}
    for seed in args.seeds:
        for ds_name in args.datasets:
            dataset = DATASETS[ds_name]
            for method in args.methods:
                label = args.label or method
                if not args.label and args.protocol and (method, args.protocol) in (("prune", "tenas"),
                                                                                   ("evolve", "tegnas")):
                    reduced = method == "evolve" and any(v is not None for v in (args.budget, args.population,
                                                                                   args.sample))
                    # never resumed into (or mixed with) the rows of the package's own settings
                    label = f"{method}_{args.protocol}_{'reduced' if reduced else 'protocol'}"
                if (label, ds_name, seed) in done:
                    continue
                t0 = time.perf_counter()
                if method == "prune":
                    res = run_search("prune", space=args.space, dataset=dataset, seed=seed, repeats=args.repeats,
                                     batch_size=args.prune_batch_size, root=args.data, device=args.device,
                                     indicators=args.prune_indicators, progress=args.progress,
                                     protocol="tenas" if args.protocol == "tenas" else None)
                elif method == "two_stage":
                    res = run_search("two_stage", space=args.space, dataset=dataset, seed=seed,
                                     budget=args.two_stage_budget, batch_size=args.two_stage_batch_size,
                                     root=args.data, indicators=args.screen, refine=args.refine, keep=args.keep,
                                     explore=args.explore, final=args.final, progress=args.progress,
                                     device=args.device)
                elif method == "evolve" and args.protocol == "tegnas":
                    # TEG-NAS's measurement per architecture; population / tournament / budget as given (stated)
                    res = run_search(method, space=args.space, dataset=dataset, seed=seed, budget=args.budget,
                                     root=args.data, population=args.population, tournament_size=args.sample,
                                     progress=args.progress, device=args.device, protocol="tegnas")
                else:
                    res = run_search(method, space=args.space, dataset=dataset, seed=seed, budget=args.budget or 30,
                                     batch_size=args.batch_size, root=args.data, population=args.population or 10,
                                     tournament_size=args.sample or 3, indicators=args.screen
                                     if args.same_indicators else args.evolve_indicators, progress=args.progress,
                                     device=args.device)
                wall = time.perf_counter() - t0
                # ground truth only from here on, after the search returned
                acc, col, note = lookup_accuracy(args.space, res.best, dataset, root=args.data)
                indicators = res.info.get("objective", "").split(" on ")[0] or "+".join(res.info.get("indicators", ()))
                if res.info.get("refine"):
                    indicators += " | refine " + res.info["refine"].split(" on ")[0]
                if res.method == "evolve":
                    supernet = re.search(r"batch (\d+).*TE-NAS supernets x(\d+)", res.info.get("objective", ""))
                    indicators += (f" (population {res.info['population']}, tournament {res.info['sample']}, ranked "
                                   f"within the {res.info['rank_within']}, best of the {res.info['pick_from']}"
                                   + (f", TE-NAS supernets x{supernet[2]} inits, batch {supernet[1]}" if supernet
                                      else "") + ")")
                row = {"method": label, "dataset": ds_name, "search_data": dataset, "seed": seed,
                       "arch": res.best, "accuracy": acc, "column": col, "archs_scored": res.archs_scored,
                       "evaluations": res.info.get("evaluations", res.archs_scored), "wall_seconds": round(wall, 2),
                       "indicators": indicators, "space": args.space,
                       "machine": f"{describe_cpu()}, {args.threads} torch thread(s)"}
                for other, other_data in DATASETS.items():
                    row[f"acc_{other}"] = lookup_accuracy(args.space, res.best, other_data, root=args.data)[0]
                points = [{"method": label, "dataset": ds_name, "seed": seed, "space": args.space, **point}
                          for point in anytime(res, args.space, dataset, args.data)]
                if points:
                    append_rows(curves, points)
                append_rows(csv, [row])
                print(f"{label:7s} {ds_name:10s} seed {seed}: {acc:.2f} {res.best} "
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
    if "space" in df:
        df = df[df["space"].fillna("nb201") == args.space]
    lines = []
    cols = list(DATASETS)
    head = (
        "| method | " + " | ".join(f"{c} test acc (best / worst)" for c in cols)
        + " | archs scored / search | wall s / search | seeds |"
    )
    lines += [head, "|" + "---|" * (len(cols) + 4)]
    for method, g in df.groupby("method", sort=False):
        cells = []
        for c in cols:
            a = g[g.dataset == c]["accuracy"]
            cells.append(f"{a.mean():.2f} +- {a.std(ddof=0):.2f} ({a.max():.2f} / {a.min():.2f})" if len(a) else "--")
        seeds = sorted(set(g.seed))
        lines.append(f"| {method} (ours) | " + " | ".join(cells) +
                     f" | {g.archs_scored.mean():.0f} | {g.wall_seconds.mean():.0f} | {len(seeds)}: {seeds} |")
    if args.space == "nb201":
        for name, vals in PUBLISHED.items():
            lines.append(f"| {name} | " + " | ".join(vals) + " | | | |")
    table = "\n".join(lines)
    if "acc_cifar100" in df:
        proto = ["| method | searched on | cifar10 test acc | cifar100 test acc | imagenet16 test acc | seeds |",
                 "|---|---|---|---|---|---|"]
        for method, g in df[(df.dataset == "cifar10") & df.acc_cifar100.notna()].groupby("method", sort=False):
            cells = [f"{g[f'acc_{c}'].mean():.2f} +- {g[f'acc_{c}'].std(ddof=0):.2f}" for c in cols]
            proto.append(f"| {method} | cifar10 | " + " | ".join(cells) + f" | {len(g)} |")
        table += ("\n\nNAS-Bench-201's protocol: search once on CIFAR-10, report the found cell on all three "
                  "datasets (test accuracy):\n\n" + "\n".join(proto))
    cost = ["| method | " + " | ".join(f"{c}: wall s (mean, max)" for c in cols) + " | evaluations / search |"
            " indicators |", "|" + "---|" * (len(cols) + 3)]
    for method, g in df.groupby("method", sort=False):
        cells = []
        for c in cols:
            w = g[g.dataset == c]["wall_seconds"]
            cells.append(f"{w.mean():.0f}, {w.max():.0f}" if len(w) else "--")
        inds = "; ".join(sorted(set(str(i).replace(" | ", "; ") for i in g.indicators)))
        cost.append(f"| {method} | " + " | ".join(cells) + f" | {g.evaluations.mean():.0f} | {inds} |")
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
    plot = plot_anytime(args)
    info = (f"torch {torch.__version__}, Python {platform.python_version()}, {describe_cpu()}, "
            f"no GPU, {datetime.date.today().isoformat()}")
    return table + "\n\n" + "\n".join(per) + ("\n\n" + plot if plot else "") + "\n\n" + info + "\n"


def mean_step_curve(points: pd.DataFrame) -> pd.Series:
    """Mean over seeds of the anytime curves in ``points`` (columns seed, evaluations, accuracy). A curve is a step
    function (the cell returned stays the same until the next point), so each seed's curve is carried forward
    onto the union of the seeds' points, over the range every seed covers: seeds sampled at different counts (an
    aging population counts new cells, a different number per seed) are averaged like for like."""
    import numpy as np

    seeds = [g.sort_values("evaluations") for _, g in points.groupby("seed")]
    lo = max(int(g.evaluations.min()) for g in seeds)
    hi = min(int(g.evaluations.max()) for g in seeds)
    grid = np.array(sorted(x for x in set(points.evaluations) if lo <= x <= hi))
    curves = [g.accuracy.to_numpy(dtype=float)[np.searchsorted(g.evaluations.to_numpy(), grid, side="right") - 1]
              for g in seeds]
    return pd.Series(np.mean(curves, axis=0), index=grid)


def plot_anytime(args) -> str:
    """Accuracy of the cell each searcher would return after k archs scored (mean over seeds), one panel per
    dataset, with TE-NAS, NASWOT (N=1000) and the NB201 paper's random search as reference lines."""
    csv = Path(args.csv)
    curves = csv.with_name(csv.stem + "_anytime.csv")
    if not curves.exists():
        return ""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    everything = pd.read_csv(curves)
    everything = everything[everything["space"].fillna("nb201") == args.space]
    is_final = everything["final"].astype(str).str.lower() == "true"
    df, finals = everything[~is_final], everything[is_final]
    datasets = [d for d in DATASETS if d in set(df.dataset)]
    if not datasets:
        return ""
    # one colour per method on every panel; methods whose curves coincide (same screen) stay visible as dashes
    colours = {m: f"C{i}" for i, m in enumerate(dict.fromkeys(df["method"]))}
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 5.0), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        sub = df[df.dataset == ds]
        for i, (method, g) in enumerate(sub.groupby("method", sort=False)):
            mean = mean_step_curve(g)
            ax.plot(mean.index, mean.values, marker=".", color=colours[method], linestyle=["-", "--", ":"][i % 3],
                    label=f"{method} (mean of {g.seed.nunique()} seeds)")
            final = finals[(finals.dataset == ds) & (finals.method == method)]
            if len(final):  # the cell actually returned (after a refine stage, it need not be on the curve)
                ax.scatter([final["evaluations"].max()], [final["accuracy"].mean()], marker="*", s=90,
                           color=colours[method], zorder=3, label=f"{method}: cell returned (mean)")
        if args.space == "nb201":
            i = list(DATASETS).index(ds)
            for (name, vals), style in zip(list(PUBLISHED.items())[:3], [":", "--", "-."]):
                ax.axhline(float(vals[i].split()[0]), color="gray", linestyle=style, linewidth=1, label=name)
        ax.set_title(f"{args.space} / {ds}")
        ax.set_xlabel("architectures scored")
        ax.set_ylabel("test accuracy of the cell returned (%)")
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()  # below the panels: it must not hide a curve
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0.04 + 0.045 * ((len(labels) + 3) // 4), 1, 1))
    out = Path("benchmarks/results/plots") / f"search_anytime_{args.space}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return f"![anytime curves]({out.relative_to('benchmarks/results')})"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    p.add_argument("--methods", nargs="+", default=["prune", "evolve", "random"],
                   choices=["two_stage", "prune", "evolve", "random"])
    p.add_argument("--space", default="nb201", choices=["nb201", "nats_sss"])
    p.add_argument("--two-stage-budget", type=int, default=None, help="two_stage: archs screened (default: TWO_STAGE)")
    p.add_argument("--two-stage-batch-size", type=int, default=64, help="two_stage: scoring batch")
    p.add_argument("--screen", default=None, help="two_stage screen indicators (default: the package's)")
    p.add_argument("--refine", default=None, help="two_stage refine indicators (default: the package's)")
    p.add_argument("--keep", type=int, default=None, help="two_stage survivors (default: the package's)")
    p.add_argument("--explore", default=None, choices=["evolve", "random"], help="two_stage exploration")
    p.add_argument("--final", default=None, choices=["refine", "screen+refine"],
                   help="two_stage: what ranks the survivors (default: the package's)")
    p.add_argument("--label", default=None, help="method name written to the CSV (e.g. an ablation's)")
    p.add_argument("--same-indicators", action="store_true",
                   help="evolve / random use --screen's indicators (a baseline with the same evidence)")
    p.add_argument("--progress", action="store_true")
    p.add_argument("--device", default=None, help="cpu (default) or cuda")
    p.add_argument("--prune-indicators", default=None, help="prune: indicators (default ntk_cond,linear_regions)")
    p.add_argument("--evolve-indicators", default=None,
                   help="evolve / random: indicators (default naswot,synflow; TEG-NAS: "
                        "ntk_cond,linear_regions,ntk_generalization)")
    p.add_argument("--budget", type=int, default=None,
                   help="evaluations per evolve / random search (default 30; --protocol tegnas: 1256)")
    p.add_argument("--population", type=int, default=None, help="evolve population (default 10; tegnas: 256)")
    p.add_argument("--sample", type=int, default=None, help="evolve tournament size (default 3; tegnas: 64)")
    p.add_argument("--protocol", default=None, choices=["tenas", "tegnas"],
                   help="a seed system at its own protocol: tenas (prune: 3 initialisations, NTK batch 72) or "
                        "tegnas (evolve: TEG-NAS's triple on the TE-NAS supernets, ranked within tournaments)")
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
