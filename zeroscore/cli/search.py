"""``zeroscore search``: one architecture search, then (only then) the found architecture's benchmark accuracy.

Training-free methods (prune, evolve, random) score networks at initialisation; weight-sharing methods (rsps, spos,
darts, gdas, nasp, rf_darts, rf_darts_bn, bn_only, di_nas; :mod:`zeroscore.oneshot`) train a supernet on the
official NB201 search split and report their cost as wall time, epochs and images seen.
"""

from __future__ import annotations

import argparse
import json
import sys

from zeroscore.cli._common import data_option, positive_int, seed
from zeroscore.oneshot import METHOD_NAMES as ONESHOT_METHODS
from zeroscore.search import DEFAULT_INDICATORS, PROTOCOLS, TWO_STAGE

#: where a weight-sharing search's cell is looked up afterwards: NAS-Bench-201's three datasets
LOOKUP_DATASETS = ("cifar10", "cifar100", "imagenet16")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Architecture search. Training-free: two_stage (zeroscore's best on NB201: evolution over a cheap rank "
        "ensemble, costlier indicators on the survivors), prune (TE-NAS supernet pruning; nb201, darts), evolve "
        "(aging evolution, TEG-NAS rank aggregation), random (NASWOT-style sample-and-keep-the-best). "
        "Weight-sharing (a trained supernet on NB201's official search split; nb201, darts): rsps, spos, "
        "darts (first order), gdas, nasp, "
        "rf_darts and rf_darts_bn (RF-DARTS reconstructions, no public code), bn_only (BatchNorm-only supernet), "
        "di_nas (DI-NAS reconstruction, no public code). The search never sees accuracies; the "
        "found architecture is looked up in the benchmark table afterwards. Examples: zeroscore search --space nb201 "
        "--method evolve --dataset cifar10 --budget 100 --seed 0; zeroscore search --space nb201 --method darts "
        "--dataset cifar10 --epochs 2 --channels 8 --cells 1 --checkpoint runs/darts")
    parser.add_argument("--space", default="nb201",
                        help="nb201 | darts (prune and weight-sharing methods); any space for evolve / random")
    parser.add_argument("--method", default=None,
                        choices=["two_stage", "prune", "evolve", "random", *ONESHOT_METHODS],
                        help="search method (default: evolve, or the method of --protocol)")
    parser.add_argument("--dataset", default="cifar10",
                        help="batch source: cifar10 | cifar100 | imagenet16_standin | gaussian")
    data_option(parser)
    parser.add_argument("--seed", type=seed, default=0, help="seeds sampling, mutations, initialisations, batches")
    parser.add_argument("--budget", type=positive_int, default=None,
                        help="architectures scored by random / evolve (default 100) and by two_stage's screen "
                             f"(default {TWO_STAGE.budget}); prune: ignored, its cost is fixed")
    parser.add_argument("--indicators", default=None,
                        help="comma-separated indicator names (default: prune ntk_cond,linear_regions; "
                             "evolve / random naswot,synflow; two_stage's screen "
                             f"{','.join(DEFAULT_INDICATORS['two_stage'])})")
    parser.add_argument("--refine-indicators", default=None,
                        help="two_stage: indicators scored on the survivors only (default "
                             f"{','.join(TWO_STAGE.refine)}; 'none' for a screen-only search)")
    parser.add_argument("--keep", type=positive_int, default=None,
                        help=f"two_stage: survivors of the screen that are refined (default {TWO_STAGE.keep})")
    parser.add_argument("--explore", choices=["evolve", "random"], default=None,
                        help=f"two_stage: how the screen explores (default {TWO_STAGE.explore})")
    parser.add_argument("--aggregate", choices=["log_rank", "rank_sum"], default=None,
                        help=f"two_stage: rank aggregation (default {TWO_STAGE.aggregate})")
    parser.add_argument("--final", choices=["refine", "screen+refine"], default=None,
                        help=f"two_stage: rank the survivors by the refine indicators or by all (default "
                             f"{TWO_STAGE.final})")
    parser.add_argument("--protocol", choices=sorted(PROTOCOLS), default=None,
                        help="a seed system at its own settings: tenas (prune: 3 initialisations, NTK batch 72) or "
                             "tegnas (evolve: NTK condition number + linear regions + NTK regression error on the "
                             "TE-NAS supernets, 3 initialisations, batch 64, population 256, tournament 64, 1256 "
                             "evaluations, ranked within each tournament); --budget, --population and "
                             "--tournament-size still apply (a reduced run)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="images per scoring batch")
    parser.add_argument("--repeats", type=positive_int, default=3,
                        help="prune: initialisations per measurement (TE-NAS: 3)")
    parser.add_argument("--population", type=positive_int, default=None,
                        help="evolve: population size (default: budget/4, at most 20)")
    parser.add_argument("--tournament-size", type=positive_int, default=None,
                        help="evolve: members drawn per tournament (default: population/4, at least 2)")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help="weight-sharing: training epochs (default: the method's official setting, e.g. DARTS "
                             "50, RSPS 250, GDAS 240, NASP 50)")
    parser.add_argument("--channels", type=positive_int, default=16, help="weight-sharing: supernet channels C")
    parser.add_argument("--cells", type=positive_int, default=5,
                        help="weight-sharing: cells per stage N (NB201), layers (DARTS)")
    parser.add_argument("--checkpoint", default=None, metavar="DIR",
                        help="weight-sharing: checkpoint every epoch in DIR and resume from it")
    parser.add_argument("--split-file", default=None, metavar="FILE",
                        help="weight-sharing: NB201 search split file (default: nas_splits/ in the data location, "
                             "else a seeded 50/50 split)")
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
    if args.method is None:
        args.method = PROTOCOLS[args.protocol]["method"] if args.protocol else "evolve"
    if args.method in ONESHOT_METHODS:
        return _run_oneshot(args)
    refine = args.refine_indicators
    if refine is not None and refine.strip().lower() == "none":
        refine = ()
    res = run_search(args.method, space=args.space, dataset=args.dataset, seed=args.seed, budget=args.budget,
                     indicators=args.indicators, batch_size=args.batch_size, root=args.data, repeats=args.repeats,
                     population=args.population, tournament_size=args.tournament_size, device=args.device,
                     progress=not args.no_progress and not args.json, refine=refine, keep=args.keep,
                     explore=args.explore, aggregate=args.aggregate, final=args.final, protocol=args.protocol)
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


def _run_oneshot(args: argparse.Namespace) -> int:
    from zeroscore.oneshot import search
    from zeroscore.truth import lookup_accuracy

    res = search(args.method, args.space, args.dataset, epochs=args.epochs, channels=args.channels, cells=args.cells,
                 seed=args.seed, root=args.data, split_file=args.split_file, checkpoint=args.checkpoint,
                 device=args.device, progress=not args.no_progress and not args.json, batch_size=args.batch_size)
    # ground truth only now, after the search returned
    lookups = {ds: lookup_accuracy(res.space, res.arch, ds, root=args.data) for ds in LOOKUP_DATASETS}
    record = {**res.record(), "accuracy": {ds: acc for ds, (acc, _, _) in lookups.items()},
              "accuracy_column": {ds: col for ds, (_, col, _) in lookups.items()},
              "note": next((note for _, _, note in lookups.values() if note), None)}
    if args.json:
        print(json.dumps(record, indent=2, default=str))
        return 0
    label = " (RF-DARTS reconstruction: the paper's code is not public)" if res.method.startswith("rf_darts") else ""
    print(f"method:        {res.method}{label} on {res.space} / {res.dataset} (seed {res.seed})")
    print(f"architecture:  {res.arch}")
    print(f"data:          {res.data}")
    print(f"selection:     {res.selection.get('selection', '')}")
    print(f"cost:          {res.wall_seconds:.1f} s wall time, {res.epochs} epochs, {res.images_seen:,} images seen"
          + (f" (resumed at epoch {res.resumed_at})" if res.resumed_at else ""))
    for ds, (acc, col, _) in lookups.items():
        if acc is not None:
            print(f"accuracy:      {acc:.2f} % {ds} ({col}, ground truth looked up after the search)")
    note = record["note"]
    if note:
        print(f"note:          {note}")
    sys.stdout.flush()
    return 0
