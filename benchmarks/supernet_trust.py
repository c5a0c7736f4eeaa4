"""How far can a trained NB201 supernet's ranking be trusted? Ranking quality and seed stability of the uniform
single-path supernets that ``benchmarks/oneshot_nb201.py`` trained (RSPS / SPOS; one supernet per seed).

For each (method, seed) the finished search is reloaded from its checkpoint (no training happens again), the
one-shot accuracy of ``--cells`` cells (``unique_sample(n, seed=--sample-seed)``: one per isomorphism class, no
degenerate cells) is measured on the search split's architecture images, and only then compared with
NAS-Bench-201's CIFAR-10 test accuracy: Kendall tau-b / Spearman with 95 % bootstrap CIs, tau within the true top
10 %, precision at the top 1 % / 5 %, the true rank of the supernet's best cell, TnR for n = 10; across seeds,
S-Tau (Deeper Insights' stability: mean pairwise tau between the seeds' rankings). Output: a markdown table and a
scatter plot per supernet (one-shot vs true accuracy, with tau). Same protocol as the table it reads (stated).

    python benchmarks/supernet_trust.py --methods rsps spos --seeds 0 1 2 --cells 500   # GPU / patient CPU
    python benchmarks/supernet_trust.py --methods rsps spos --seeds 0 1 2 --cells 200 --max-images 1000 \\
        --out benchmarks/results/supernet_trust.md                                         # what ran here
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oneshot_nb201 import PROTOCOLS  # noqa: E402  (the protocol of the supernets' own table)

from zeroscore.machine import describe_cpu  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", nargs="+", default=["rsps", "spos"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--cells", type=int, default=500)
    p.add_argument("--sample-seed", type=int, default=0)
    p.add_argument("--max-images", type=int, default=None,
                   help="architecture images per one-shot evaluation (default: all of the split)")
    p.add_argument("--protocol", default="reduced", choices=sorted(PROTOCOLS))
    p.add_argument("--checkpoints", default="runs/oneshot_nb201")
    p.add_argument("--data", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="benchmarks/results/supernet_trust.md")
    args = p.parse_args(argv)

    import torch

    from zeroscore.oneshot import SearchData, search
    from zeroscore.oneshot.evaluation import oneshot_accuracies, unique_sample
    from zeroscore.oneshot.trust import ranking_quality, s_tau, top_n_rank

    torch.set_num_threads(args.threads)
    protocol = PROTOCOLS[args.protocol]
    cells = unique_sample(args.cells, seed=args.sample_seed)
    rankings: dict[tuple[str, int], pd.Series] = {}
    for method in args.methods:
        for seed in args.seeds:
            ckpt = Path(args.checkpoints) / f"{method}-seed{seed}"
            if not ckpt.exists():
                print(f"skip {method} seed {seed}: no checkpoint {ckpt}")
                continue
            res = search(method, "nb201", "cifar10", epochs=protocol["epochs"], channels=protocol["channels"],
                         cells=protocol["cells"], seed=seed, root=args.data, checkpoint=ckpt,
                         options=protocol["options"].get(method))
            if res.resumed_at < res.epochs:
                print(f"note: {method} seed {seed} trained epochs {res.resumed_at}..{res.epochs} now")
            data = SearchData.load("cifar10", root=args.data, seed=seed, augment=False)
            rankings[(method, seed)] = oneshot_accuracies(res.supernet, data, archs=cells, max_images=args.max_images)
            print(f"{method} seed {seed}: {len(cells)} cells evaluated", flush=True)

    # ground truth only from here on
    from zeroscore.truth import load

    truth = load("nb201").set_index("arch_str")["cifar10_test_acc"]
    rows = []
    for (method, seed), acc in rankings.items():
        q = ranking_quality(acc, truth, bootstrap=1000, seed=0).iloc[0].to_dict()
        rows.append({"method": method, "seed": seed, **q, "TnR10": top_n_rank(acc, truth, 10)})
    table = pd.DataFrame(rows)
    images = "all" if args.max_images is None else f"the first {args.max_images}"
    lines = [f"# How far the supernet's ranking can be trusted ({args.protocol} protocol)", "",
             f"Supernets: `benchmarks/oneshot_nb201.py --protocol {args.protocol}` (C={protocol['channels']}, "
             f"N={protocol['cells']}, {protocol['epochs']} epochs, the project's CIFAR-10 sample split: 2,541 weight "
             f"/ 2,629 architecture images), reloaded from their checkpoints. Cells: `unique_sample({args.cells}, "
             f"seed={args.sample_seed})` (one per isomorphism class, no degenerate cell). One-shot accuracy on "
             f"{images} architecture images; target: NAS-Bench-201 CIFAR-10 test accuracy (200 epochs), read after the "
             "evaluation.", "",
             "| method | seed | n | Kendall tau [95 % CI] | Spearman [95 % CI] | tau in true top 10 % | precision top "
             "1 % | precision top 5 % | true rank of the supernet's best | TnR (n=10) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.method} | {r.seed} | {r.n:.0f} | {r.kendall:.3f} [{r.kendall_lo:.3f}, {r.kendall_hi:.3f}] "
                     f"| {r.spearman:.3f} [{r.spearman_lo:.3f}, {r.spearman_hi:.3f}] | {r.kendall_top:.3f} | "
                     f"{r.precision_top1:.3f} | {r.precision_top5:.3f} | {r.best_true_rank:.0f} | {r.TnR10} |")
    lines += ["", "| method | S-Tau (mean pairwise tau between seeds) | GT-Tau mean +- std over seeds |",
              "|---|---|---|"]
    for method in args.methods:
        cols = {seed: acc for (m, seed), acc in rankings.items() if m == method}
        if len(cols) >= 2:
            frame = pd.DataFrame(cols)
            taus = table[table.method == method]["kendall"]
            lines.append(f"| {method} | {s_tau(frame):.3f} | {taus.mean():.3f} +- {taus.std(ddof=0):.3f} |")
    lines += ["", "Anchors (full protocol, other code): a uniform single-path NB201 supernet trained 600 epochs on "
              "full CIFAR-10 reaches Kendall tau 0.485 / Spearman 0.677 over all 15,625 cells, within the true top "
              "10 % tau -0.23 and precision at top 5 % 1.3 % (Few-shot NAS authors' released per-cell supernet "
              "accuracies, as quoted in this project's issue); Deeper Insights reports S-Tau 0.54 across seeds on its "
              "64-model space.", ""]
    plot = _scatter(rankings, truth, Path(args.out).parent / "plots")
    if plot:
        lines += [f"![one-shot vs true accuracy]({plot})", ""]
    lines.append(f"torch {torch.__version__}, {describe_cpu()}, {args.threads} thread(s), "
                 f"{datetime.date.today().isoformat()}")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def _scatter(rankings, truth, folder: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from zeroscore.analysis.stats import kendall

    if not rankings:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(rankings), figsize=(3.2 * len(rankings), 3.0), squeeze=False)
    for ax, ((method, seed), acc) in zip(axes[0], rankings.items()):
        t = truth.reindex(acc.index)
        ax.scatter(t, acc, s=4, alpha=0.5)
        ax.set_title(f"{method} seed {seed}: tau {kendall(acc.to_numpy(), t.to_numpy()):.2f}", fontsize=8)
        ax.set_xlabel("CIFAR-10 test acc (NB201)", fontsize=7)
        ax.set_ylabel("one-shot acc", fontsize=7)
    fig.tight_layout()
    out = folder / "supernet_trust_scatter.png"
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return "plots/supernet_trust_scatter.png"


if __name__ == "__main__":
    sys.exit(main())
