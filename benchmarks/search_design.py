"""How the two-stage search's indicators were chosen: a design study on NAS-Bench-201 *validation* accuracy.

The honesty rule of the search table: every design choice is made on the benchmark's validation accuracy (never
the test accuracy that the search table reports), on cells the searches do not start from, and the searches
themselves never read either. This script documents that choice.

Input: a store written by ``zeroscore run`` on a design sample that no search uses (seed 1000), e.g.::

    zeroscore run --space nb201 --sample 200 --seed 1000 --dataset cifar10 --threads 1 \\
        --indicators naswot,synflow,meco_opt,zico,jacov,params,flops,az_*,zen,grad_norm,snip,l2_norm \\
        --store runs/design_c10.sqlite

Output (markdown): per indicator, Spearman rho with ``<dataset>_valid_acc`` and the median compute seconds on
this machine; then every rank ensemble of 2-4 indicators (sum of ranks and AZ-NAS's log-rank) ranked by the
quantity a search cares about, **the validation accuracy of the ensemble's top pick** among random subsets of the
design sample (``--pool`` cells, ``--draws`` bootstrap draws), with its Spearman rho beside it.

    python benchmarks/search_design.py --store runs/design_c10.sqlite --dataset cifar10 \\
        --out benchmarks/results/search_design.md

The refine study (search_design.md section 3): design searches (the screen alone, seeds no reported search
uses), every indicator on their survivors, then which refine rule picks the best survivor::

    python benchmarks/search_design.py --design-searches 100 101 102 103 104 105 --screen synflow,meco_opt \\
        --pool 60 --out-dir runs/design2
    zeroscore run --space nb201 --archs runs/design2/survivors.txt --seed 100 --indicators all --threads 1 \\
        --params '{"ntk_cond": {"batch_stats": "frozen"}, "ntk_generalization": {"batch_stats": "frozen"}}' \\
        --store runs/design2/pool.sqlite
    python benchmarks/search_design.py --histories runs/design2/screen_cifar10_10?.csv \\
        --store runs/design2/pool.sqlite --screen synflow,meco_opt --keeps 20 40 --max-size 2 --top 30
"""

from __future__ import annotations

import argparse
import itertools
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from zeroscore import truth
from zeroscore.ranking import AGGREGATIONS, higher_is_better, orient


def load(store: str) -> tuple[pd.DataFrame, pd.Series]:
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    rows = pd.read_sql("select arch, indicator, value, seconds from scores", con)
    con.close()
    wide = rows.pivot_table(index="arch", columns="indicator", values="value", aggfunc="first")
    seconds = rows.groupby("indicator")["seconds"].median()
    return wide, seconds


def pick_quality(signed: np.ndarray, target: np.ndarray, pool: int, draws: int, seed: int) -> tuple[float, float]:
    """Mean and std of the target of the best-scored cell among ``pool`` random cells, over ``draws`` draws."""
    rng = np.random.default_rng(seed)
    picks = []
    for _ in range(draws):
        idx = rng.choice(len(target), size=pool, replace=False)
        s = np.where(np.isnan(signed[idx]), -np.inf, signed[idx])
        picks.append(target[idx[int(np.argmax(s))]])
    return float(np.mean(picks)), float(np.std(picks))


def study(wide: pd.DataFrame, seconds: pd.Series, dataset: str, pool: int, draws: int, max_size: int,
          top: int, seed: int = 0) -> str:
    table = truth.load("nb201").set_index("arch_str")
    target_col = f"{dataset}_valid_acc"
    target = table.loc[wide.index, target_col].to_numpy(dtype=float)
    names = [c for c in wide.columns if wide[c].notna().mean() > 0.9]
    signed = {n: orient(wide[n].to_numpy(dtype=float), higher_is_better(n)) for n in names}
    oracle = pick_quality(target, target, pool, draws, seed)
    rand = float(np.mean(target))
    lines = [f"Design sample: {len(wide)} NB201 cells (`space.sample(n, seed=1000)`), scored on {dataset} images; "
             f"target `{target_col}` (validation, never the test accuracy). Pick quality = mean "
             f"{target_col} of the best-scored cell among {pool} random cells of the sample, {draws} draws "
             f"(oracle: {oracle[0]:.2f}, a random cell: {rand:.2f}).", "",
             "| indicator | Spearman rho | pick quality | median s / cell |", "|---|---|---|---|"]
    single = []
    for n in names:
        rho = spearmanr(signed[n], target, nan_policy="omit")[0]
        q = pick_quality(signed[n], target, pool, draws, seed)
        single.append((q[0], n, rho))
    for q, n, rho in sorted(single, reverse=True):
        lines.append(f"| {n} | {rho:.3f} | {q:.2f} | {seconds.get(n, float('nan')):.2f} |")
    ens = []
    for size in range(2, max_size + 1):
        for combo in itertools.combinations(names, size):
            cols = [signed[n] for n in combo]
            for agg, fn in AGGREGATIONS.items():
                s = fn(cols)
                rho = spearmanr(s, target, nan_policy="omit")[0]
                q = pick_quality(s, target, pool, draws, seed)
                ens.append((q[0], q[1], rho, agg, "+".join(combo)))
    ens.sort(reverse=True)
    lines += ["", f"Best {top} rank ensembles (2-{max_size} indicators) by pick quality:", "",
              "| ensemble | aggregation | pick quality (mean +- std) | Spearman rho |", "|---|---|---|---|"]
    for q, sd, rho, agg, combo in ens[:top]:
        lines.append(f"| {combo} | {agg} | {q:.2f} +- {sd:.2f} | {rho:.3f} |")
    return "\n".join(lines) + "\n"


class LookupObjective:
    """A population objective that reads published per-cell indicator values instead of computing them (the
    simulation below); cells missing from the table score NaN (ranked worst)."""

    def __init__(self, table: pd.DataFrame, names, aggregate: str):
        self.table, self.names, self.aggregate = table, list(names), aggregate
        self.higher_is_better = {n: True for n in self.names}

    def values(self, arch):
        if arch in self.table.index:
            row = self.table.loc[arch]
            return {n: float(row[n]) for n in self.names}
        return {n: float("nan") for n in self.names}

    def fitness(self, rows):
        cols = [np.array([r[n] for r in rows], dtype=float) for n in self.names]
        cols = [np.where(np.isnan(c), -np.inf, c) for c in cols]
        return AGGREGATIONS[self.aggregate](cols) if len(cols) > 1 else cols[0]


def simulate(screen, refine, settings, seeds, published: str) -> str:
    """Two-stage searches on NAS-Bench-Suite-Zero's published CIFAR-10 proxy values (NASLib's implementations, a
    different code base from ours), scored by NASLib's cifar10-valid accuracy: chooses explore / budget / keep
    without touching the test accuracy or our own indicators."""
    from zeroscore import spaces
    from zeroscore.search.screen_refine import two_stage

    df = pd.read_csv(published)
    df = df[df.dataset == "cifar10"].set_index("arch_str")
    target = df["val_accuracy"]
    space = spaces.get("nb201")
    lines = [f"Simulated two-stage searches on published proxy values (`{Path(published).name}`, NASLib, CIFAR-10, "
             f"{len(df)} cells; other cells score NaN), target NASLib's cifar10-valid accuracy "
             f"(max {target.max():.2f}); screen {'+'.join(screen)}, refine {'+'.join(refine)}; seeds {seeds[0]}.."
             f"{seeds[-1]}.", "", "| explore | budget | keep | aggregation | valid acc of the cell found "
             "(mean +- std) |", "|---|---|---|---|---|"]
    for explore, budget, keep, agg in settings:
        accs = []
        for seed in seeds:
            res = two_stage(space, LookupObjective(df, screen, agg), LookupObjective(df, refine, agg) if keep else
                            None, budget=budget, keep=keep, seed=seed, explore=explore, aggregate=agg)
            accs.append(float(target.get(res.best, np.nan)))
        lines.append(f"| {explore} | {budget} | {keep} | {agg} | {np.nanmean(accs):.2f} +- {np.nanstd(accs):.2f} |")
    return "\n".join(lines) + "\n"


SCREENS = [("synflow",), ("meco_opt",), ("synflow", "meco_opt"), ("params", "synflow"), ("flops", "meco_opt"),
           ("synflow", "meco_opt", "params")]
REFINES = [(), ("az_trainability",), ("jacov",), ("zico",), ("naswot",), ("az_trainability", "jacov"),
           ("az_trainability", "az_expressivity"), ("az_trainability", "jacov", "az_expressivity")]


def two_stage_policies(wide: pd.DataFrame, dataset: str, pool: int, keep: int, draws: int, top: int,
                       seed: int = 0) -> str:
    """The two-stage rule on the design sample: among ``pool`` random cells, keep the ``keep`` best by the screen,
    pick the best survivor by screen + refine; mean validation accuracy of the pick over ``draws`` draws."""
    table = truth.load("nb201").set_index("arch_str")
    target = table.loc[wide.index, f"{dataset}_valid_acc"].to_numpy(dtype=float)
    signed = {n: orient(wide[n].to_numpy(dtype=float), higher_is_better(n)) for n in wide.columns}
    rng = np.random.default_rng(seed)
    samples = [rng.choice(len(target), size=pool, replace=False) for _ in range(draws)]

    def combined(names, idx, agg):
        cols = [np.where(np.isnan(signed[n][idx]), -np.inf, signed[n][idx]) for n in names]
        return AGGREGATIONS[agg](cols) if len(cols) > 1 else cols[0]

    rows = []
    for screen in SCREENS:
        for refine in REFINES:
            if not set(screen) | set(refine) <= set(signed):
                continue
            for agg in AGGREGATIONS:
                picks = []
                for idx in samples:
                    first = combined(screen, idx, agg)
                    if not refine:
                        picks.append(target[idx[int(np.argmax(first))]])
                        continue
                    survivors = idx[np.argsort(-first, kind="stable")[:keep]]
                    final = combined(list(screen) + list(refine), survivors, agg)
                    picks.append(target[survivors[int(np.argmax(final))]])
                rows.append((float(np.mean(picks)), "+".join(screen), "+".join(refine) or "(none)", agg))
    rows.sort(reverse=True)
    oracle = float(np.mean([target[idx].max() for idx in samples]))
    lines = [f"Two-stage rule on the design sample: {pool} random cells, the {keep} best by the screen refined, "
             f"{draws} draws; mean {dataset}_valid_acc of the pick (oracle {oracle:.2f}).", "",
             "| screen | refine | aggregation | pick quality |", "|---|---|---|---|"]
    lines += [f"| {sc} | {rf} | {agg} | {q:.2f} |" for q, sc, rf, agg in rows[:top]]
    return "\n".join(lines) + "\n"


#: the refine stage of the first design (section 1 of search_design.md), shown beside the refine study's best rules
FIRST_DESIGN = ("az_trainability+jacov", "screen+refine", "log_rank")


def load_stores(stores) -> pd.DataFrame:
    """Indicator values of several ``zeroscore run`` stores (or CSVs written by ``--save-pool``), one row per
    architecture."""
    parts = [pd.read_csv(s, index_col="arch") if str(s).endswith(".csv") else load(s)[0] for s in stores]
    return pd.concat(parts).groupby(level=0).first()


def design_searches(seeds, dataset: str, out_dir: str) -> list[str]:
    """The screen stage alone, exactly as ``two_stage`` runs it (``run_search("two_stage", refine=())``), for design
    seeds no reported search uses; each search's history (every screened cell and its screen values) to a CSV."""
    import torch

    from zeroscore.search import run_search

    torch.set_num_threads(1)
    paths = []
    for seed in seeds:
        path = Path(out_dir) / f"screen_{dataset}_{seed}.csv"
        if not path.exists():
            res = run_search("two_stage", dataset=dataset, seed=seed, refine=())
            path.parent.mkdir(parents=True, exist_ok=True)
            res.history.to_csv(path, index=False)
        paths.append(str(path))
    return paths


def screen_survivors(history_csv: str, screen, keep: int) -> list[str]:
    """The ``keep`` best cells of one screened search, as :func:`~zeroscore.search.two_stage` ranks them (the
    screen objective's log-rank aggregation over every distinct cell it scored)."""
    h = pd.read_csv(history_csv).drop_duplicates("arch")
    cols = [orient(h[n].to_numpy(dtype=float), higher_is_better(n)) for n in screen]
    fit = AGGREGATIONS["log_rank"](cols)
    return list(h["arch"].to_numpy()[np.argsort(-fit, kind="stable")[:keep]])


def refine_study(histories, wide: pd.DataFrame, dataset: str, screen, keeps, max_size: int, top: int,
                 candidates=None) -> str:
    """Which refine indicators pick the best survivor: for each design search (its screen history, a seed no
    reported search uses), the survivors for each ``keep``, every refine ensemble of 1..``max_size`` candidates,
    the final ranking over screen + refine (what :func:`two_stage` does) or over the refine indicators alone; the
    pick's validation accuracy, averaged over the design searches."""
    table = truth.load("nb201").set_index("arch_str")
    target_col = f"{dataset}_valid_acc"
    candidates = candidates or [c for c in wide.columns if c not in screen and wide[c].notna().mean() > 0.9]
    survivors = {(h, k): screen_survivors(h, screen, k) for h in histories for k in keeps}
    missing = {a for s in survivors.values() for a in s} - set(wide.index)
    if missing:
        raise SystemExit(f"{len(missing)} survivors are not in the stores, e.g. {sorted(missing)[:2]}")
    union = sorted({a for s in survivors.values() for a in s})
    target = table.loc[union, target_col]
    lines = [f"Refine study: {len(histories)} design searches (screen {'+'.join(screen)}, their own seeds), "
             f"{len(union)} distinct survivors scored with every candidate; target `{target_col}`. Within the "
             "survivors (the region the refine stage decides in), Spearman rho of each candidate with the target:",
             "", "| indicator | Spearman rho among the survivors |", "|---|---|"]
    rhos = []
    for n in list(screen) + candidates:
        v = orient(wide.loc[union, n].to_numpy(dtype=float), higher_is_better(n))
        rhos.append((spearmanr(v, target.to_numpy(), nan_policy="omit")[0], n))
    lines += [f"| {n} | {r:.3f} |" for r, n in sorted(rhos, reverse=True)]
    oracle = {k: np.mean([target[survivors[(h, k)]].max() for h in histories]) for k in keeps}
    screen_pick = {k: np.mean([target[survivors[(h, k)][0]] for h in histories]) for k in keeps}
    # every indicator oriented once over all survivors; each design search's survivors are positions into them
    signed = {n: orient(wide.loc[union, n].to_numpy(dtype=float), higher_is_better(n))
              for n in list(screen) + candidates}
    position = {a: i for i, a in enumerate(union)}
    places = {hk: np.array([position[a] for a in surv]) for hk, surv in survivors.items()}
    t_union = target.to_numpy()

    def pick(names, idx, agg) -> int:
        """The position of the best of ``idx`` by the aggregation of ``names`` (a failed value ranks worst)."""
        return int(idx[int(np.argmax(AGGREGATIONS[agg]([signed[n][idx] for n in names])))])

    rows = []
    for size in range(1, max_size + 1):
        for combo in itertools.combinations(candidates, size):
            for scope in ("screen+refine", "refine"):
                names = (list(screen) if scope == "screen+refine" else []) + list(combo)
                for agg in AGGREGATIONS:
                    per_keep = [float(np.mean([t_union[pick(names, places[(h, k)], agg)] for h in histories]))
                                for k in keeps]
                    rows.append((float(np.mean(per_keep)), per_keep, "+".join(combo), scope, agg))
    rows.sort(key=lambda r: -r[0])
    # the design searches share most survivors (the screen converges to one region), so they are nearly one
    # decision per keep; a bootstrap over random subsets of all their survivors says how robust a rule is
    rng = np.random.default_rng(0)
    subsets = [rng.choice(len(union), size=min(keeps[0], len(union)), replace=False) for _ in range(2000)]

    def bootstrap(combo, scope, agg) -> float:
        names = (list(screen) if scope == "screen+refine" else []) + combo.split("+")
        return float(np.mean([t_union[pick(names, idx, agg)] for idx in subsets]))

    head = " | ".join(f"keep {k}" for k in keeps)
    boot_oracle = float(np.mean([t_union[idx].max() for idx in subsets]))
    lines += ["", f"Pick of the final ranking, mean {target_col} over the design searches, for each keep "
              f"(screen's own pick: {', '.join(f'{screen_pick[k]:.2f}' for k in keeps[:1])}; oracle among the "
              f"survivors: {', '.join(f'keep {k} {oracle[k]:.2f}' for k in keeps)}); last column: the pick among "
              f"{keeps[0]} random cells of all {len(union)} survivors, 2,000 draws (oracle {boot_oracle:.2f}, a "
              f"random survivor {t_union.mean():.2f}). Best {top} of {len(rows)}:",
              "", f"| refine | final ranking over | aggregation | mean over keeps | {head} | bootstrap |",
              "|---|---|---|---|" + "---|" * len(keeps) + "---|"]
    shown = rows[:top] + [r for r in rows[top:] if (r[2], r[3], r[4]) == FIRST_DESIGN]
    for q, per_keep, combo, scope, agg in shown:
        note = " (the first design's refine)" if (combo, scope, agg) == FIRST_DESIGN else ""
        lines.append(f"| {combo}{note} | {scope} | {agg} | {q:.2f} | " + " | ".join(f"{v:.2f}" for v in per_keep)
                     + f" | {bootstrap(combo, scope, agg):.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", default=None)
    p.add_argument("--simulate", default=None, metavar="CSV",
                   help="instead: simulated searches on published proxy values (naslib_zc_nb201.csv.gz)")
    p.add_argument("--screen", default="nwot,synflow")
    p.add_argument("--refine", default="jacov")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--dataset", default="cifar10", choices=["cifar10", "cifar100", "imagenet16"])
    p.add_argument("--pool", type=int, default=50, help="cells per simulated sample")
    p.add_argument("--draws", type=int, default=400)
    p.add_argument("--max-size", type=int, default=4)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--out", default=None)
    p.add_argument("--histories", nargs="+", default=None, metavar="CSV",
                   help="instead: the refine study over these design searches' screen histories (--store: the "
                        "stores holding every candidate indicator of their survivors, comma-separated)")
    p.add_argument("--keeps", type=int, nargs="+", default=[20, 40])
    p.add_argument("--design-searches", type=int, nargs="+", default=None, metavar="SEED",
                   help="instead: run the screen alone for these design seeds, write their histories to --out-dir "
                        "and the survivors (the best --pool of each) to <out-dir>/survivors.txt for `zeroscore run`")
    p.add_argument("--out-dir", default="runs/design2")
    p.add_argument("--save-pool", default=None, metavar="CSV",
                   help="with --histories: also write the survivors' indicator values (from --store) to this CSV")
    args = p.parse_args(argv)
    if args.design_searches:
        paths = design_searches(args.design_searches, args.dataset, args.out_dir)
        survivors = sorted({a for h in paths for a in screen_survivors(h, args.screen.split(","), args.pool)})
        (Path(args.out_dir) / "survivors.txt").write_text("\n".join(survivors) + "\n")
        print(f"{len(paths)} design searches, {len(survivors)} distinct survivors -> {args.out_dir}/survivors.txt")
        return 0
    if args.histories:
        wide = load_stores(args.store.split(","))
        text = refine_study(args.histories, wide, args.dataset, args.screen.split(","), args.keeps, args.max_size,
                            args.top)
        if args.save_pool:
            union = sorted({a for h in args.histories for a in screen_survivors(h, args.screen.split(","),
                                                                                max(args.keeps))})
            wide.loc[union].rename_axis("arch").to_csv(args.save_pool)
        if args.out:
            Path(args.out).write_text(text)
        print(text)
        return 0
    if args.simulate:
        settings = [(e, b, k, a) for e in ("evolve", "random") for b in (100, 300, 600) for k in (0, 20)
                    for a in ("rank_sum", "log_rank")]
        text = simulate(args.screen.split(","), args.refine.split(","), settings, list(range(args.seeds)),
                        args.simulate)
        if args.out:
            Path(args.out).write_text(text)
        print(text)
        return 0
    if not args.store:
        p.error("--store or --simulate is required")
    wide, seconds = load(args.store)
    text = study(wide, seconds, args.dataset, args.pool, args.draws, args.max_size, args.top)
    text += "\n" + two_stage_policies(wide, args.dataset, min(len(wide) * 2 // 3, 60), 10, args.draws, args.top)
    if args.out:
        Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
