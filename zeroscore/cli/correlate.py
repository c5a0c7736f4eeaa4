"""``zeroscore correlate``: rank correlation of the scores in a store with the benchmark's accuracies."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zeroscore.cli._common import data_option, say, seed
from zeroscore.errors import NoGroundTruthError, StoreError, UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Correlate the indicator scores of a store (written by `zeroscore run`) with the "
                          "benchmark's accuracies and print a paper-style table. Positive always means 'agrees "
                          "with accuracy' (lower-is-better indicators are negated).")
    parser.add_argument("store", help="SQLite score store written by `zeroscore run`")
    parser.add_argument("--target", default=None,
                        help="accuracy column(s), comma-separated (default: the benchmark's test accuracy for the "
                             "stored dataset; zeroscore.truth.describe(space) lists the columns)")
    parser.add_argument("--space", default=None, help="space in the store (default: the only one it holds)")
    parser.add_argument("--dataset", default=None, help="dataset in the store (default: the only one it holds)")
    parser.add_argument("--indicators", default=None,
                        help="comma-separated subset of the stored indicators (default: all stored)")
    parser.add_argument("--format", default="md", choices=["md", "latex", "csv"], help="table format")
    parser.add_argument("--metric", default="spearman,kendall",
                        help="table metric(s), e.g. spearman,kendall,pearson,top10, or 'full' for every column")
    parser.add_argument("--ensemble", default=None,
                        help="add rank ensembles: log_rank and/or rank_sum, comma-separated (default: none)")
    parser.add_argument("--ensemble-indicators", default=None,
                        help="components of the ensembles (default: every stored indicator)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% intervals")
    parser.add_argument("--seed", type=seed, default=0, help="bootstrap seed")
    parser.add_argument("--plots", default=None, metavar="DIR", help="also write PNG plots into DIR (default: none)")
    parser.add_argument("--output", "-o", default=None, help="write the table to this file (default: stdout)")
    data_option(parser)


def _names(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def run(args: argparse.Namespace) -> int:
    from zeroscore import analysis
    from zeroscore import truth as truth_mod
    from zeroscore.names import BENCHMARK_SPACES, benchmark_dataset, space_name
    from zeroscore.store import load_scores

    if not Path(args.store).exists():
        raise StoreError(f"no score store at {args.store}; write one with `zeroscore run ... --store {args.store}`")
    scores = load_scores(args.store, space=args.space, dataset=args.dataset)
    if scores.empty:
        raise UsageError(f"no scores in {args.store}" + (f" for --space {args.space}" if args.space else "")
                         + (f" --dataset {args.dataset}" if args.dataset else ""))
    for col in ("space", "dataset"):
        values = sorted(scores[col].unique())
        if len(values) > 1:
            raise UsageError(f"{args.store} holds several {col}s ({', '.join(values)}); choose one with --{col}")
    space, dataset = scores["space"].iloc[0], scores["dataset"].iloc[0]
    try:
        canonical_space = space_name(space)
    except KeyError:
        canonical_space = space
    if canonical_space not in BENCHMARK_SPACES:
        raise NoGroundTruthError(f"space {space!r} has no benchmark table of trained accuracies (only "
                                 f"{', '.join(BENCHMARK_SPACES)} do), so its scores cannot be correlated with accuracy")
    wanted = _names(args.indicators)
    if wanted:
        stored = sorted(scores["indicator"].unique())
        unknown = [w for w in wanted if w not in stored]
        if unknown:
            raise UsageError(f"--indicators: {', '.join(unknown)} not in {args.store} (stored: {', '.join(stored)})")
        scores = scores[scores["indicator"].isin(wanted)]
    if args.ensemble:
        components = _names(args.ensemble_indicators) or list(dict.fromkeys(analysis.indicator_labels(scores)))
        for method in _names(args.ensemble):
            scores = analysis.rank_aggregate(scores, components, method=method)
    gt = truth_mod.load(space, root=args.data)
    if args.target:
        targets = _names(args.target)
        missing = [t for t in targets if t not in gt.columns]
        if missing:
            raise UsageError(f"--target: {', '.join(missing)} is not a column of the {space} table; columns: "
                             f"{', '.join(c for c in gt.columns if 'acc' in c)}")
    else:
        targets = [truth_mod.default_target(space, benchmark_dataset(dataset)[0])]
    corr = analysis.correlate(scores, gt, targets=targets, bootstrap=args.bootstrap, seed=args.seed)
    if args.metric == "full":
        tab = corr.set_index(["indicator", "target"]).drop(
            columns=[c for c in ("space", "dataset", "batch_size", "split") if c in corr.columns])
    else:
        tab = analysis.table(corr, metric=_names(args.metric), rows="indicator", columns="target")
    if args.format == "md":
        text = analysis.to_markdown(tab)
    elif args.format == "latex":
        text = analysis.to_latex(tab)
    else:
        text = analysis.to_csv(tab)
    header = ""
    if args.format == "md":
        n = int(corr["n"].max()) if len(corr) else 0
        header = (f"<!-- {args.store}: space {space}, dataset {dataset}, up to {n} archs; positive = agrees with "
                  f"accuracy (lower-is-better indicators negated) -->\n")
    if args.output:
        Path(args.output).write_text(header + text)
    else:
        sys.stdout.write(header + text)
    if args.plots:
        from zeroscore import plots

        out = Path(args.plots)
        out.mkdir(parents=True, exist_ok=True)
        for t in targets:
            say(f"wrote {plots.score_vs_accuracy_grid(scores, gt, t, out / f'scores_vs_{t}.png')}")
        say(f"wrote {plots.indicator_heatmap(scores, out / 'indicator_spearman.png')}")
    return 0
