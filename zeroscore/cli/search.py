"""``zeroscore search``: one training-free search, then (only then) the found architecture's benchmark accuracy."""

from __future__ import annotations

import argparse
import json
import sys

from zeroscore.cli._common import data_option, positive_int, seed


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Training-free architecture search. prune: TE-NAS supernet pruning (nb201, darts); evolve: aging evolution "
        "(TEG-NAS rank aggregation); random: NASWOT-style sample-and-keep-the-best. The search never sees "
        "accuracies; the found architecture is looked up in the benchmark table afterwards. Example: zeroscore "
        "search --space nb201 --method evolve --dataset cifar10 --budget 100 --seed 0")
    parser.add_argument("--space", default="nb201", help="nb201 | darts (prune); any space for evolve / random")
    parser.add_argument("--method", default="evolve", choices=["prune", "evolve", "random"], help="search method")
    parser.add_argument("--dataset", default="cifar10",
                        help="batch source: cifar10 | cifar100 | imagenet16_standin | gaussian")
    data_option(parser)
    parser.add_argument("--seed", type=seed, default=0, help="seeds sampling, mutations, initialisations, batches")
    parser.add_argument("--budget", type=positive_int, default=100,
                        help="architectures scored by random / evolve (prune: ignored, its cost is fixed)")
    parser.add_argument("--indicators", default=None,
                        help="comma-separated indicator names (default: prune ntk_cond,linear_regions; "
                             "evolve / random naswot,synflow)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="images per scoring batch")
    parser.add_argument("--repeats", type=positive_int, default=3,
                        help="prune: initialisations per measurement (TE-NAS: 3)")
    parser.add_argument("--population", type=positive_int, default=None,
                        help="evolve: population size (default: budget/4, at most 20)")
    parser.add_argument("--tournament-size", type=positive_int, default=None,
                        help="evolve: members drawn per tournament (default: population/4, at least 2)")
    parser.add_argument("--device", default=None, help="cpu | cuda | cuda:N (default: cpu)")
    parser.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--json", action="store_true", help="print a JSON record instead of text")


def run(args: argparse.Namespace) -> int:
    import torch

    from zeroscore.search import run_search
    from zeroscore.truth import lookup_accuracy

    if args.threads:
        torch.set_num_threads(args.threads)
    res = run_search(args.method, space=args.space, dataset=args.dataset, seed=args.seed, budget=args.budget,
                     indicators=args.indicators, batch_size=args.batch_size, root=args.data, repeats=args.repeats,
                     population=args.population, tournament_size=args.tournament_size, device=args.device,
                     progress=not args.no_progress and not args.json)
    acc, col, note = lookup_accuracy(res.space or args.space, res.best, args.dataset, root=args.data)
    record = {
        "method": res.method, "space": res.space or args.space, "dataset": args.dataset, "seed": res.seed,
        "arch": str(res.best), "values": res.values, "archs_scored": res.archs_scored,
        "wall_seconds": round(res.wall_seconds, 3), "accuracy": acc, "accuracy_column": col, "note": note,
    }
    if args.json:
        print(json.dumps(record, indent=2, default=str))
        return 0
    print(f"method:        {res.method} on {record['space']} / {args.dataset} (seed {res.seed})")
    print(f"architecture:  {res.best}")
    vals = ", ".join(f"{k}={v:.6g}" for k, v in res.values.items() if isinstance(v, float))
    print(f"values:        {vals}")
    print(f"cost:          {res.archs_scored} architectures scored, {res.wall_seconds:.1f} s wall time")
    if acc is not None:
        print(f"accuracy:      {acc:.2f} % ({col}, ground truth looked up after the search)")
    if note:
        print(f"note:          {note}")
    sys.stdout.flush()
    return 0
