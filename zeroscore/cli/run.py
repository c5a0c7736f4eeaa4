"""``zeroscore run``: score architectures of a benchmark space into a resumable SQLite store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zeroscore.cli._common import data_option, json_object, positive_int, say, seed, seed_list
from zeroscore.errors import DataNotFoundError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Score architectures of a benchmark search space into a resumable SQLite store. Rerunning "
                          "the same command skips what is stored; Ctrl-C stops after the current architecture. "
                          "Example: zeroscore run --space nb201 --sample 100 --dataset cifar10 --indicators "
                          "naswot,synflow --store runs/nb201.sqlite")
    parser.add_argument("--space", required=True, help="nb201 | nats_sss | nb101 | darts (`zeroscore list --spaces`)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--sample", type=positive_int, metavar="N",
                       help="score N architectures drawn with space.sample(N, seed=--seed)")
    which.add_argument("--archs", metavar="FILE", help="file with one architecture per line ('#' starts a comment)")
    which.add_argument("--all", action="store_true", help="every architecture of the space")
    parser.add_argument("--seed", type=seed, default=0, help="sampling seed; also the scoring seed unless --seeds")
    parser.add_argument("--seeds", type=seed_list, default=None,
                        help="comma-separated scoring seeds, e.g. 0,1,2 (default: --seed)")
    parser.add_argument("--dataset", default="cifar10",
                        help="batch source: cifar10 | cifar100 | imagenet16_standin | gaussian | ...")
    parser.add_argument("--indicators", default="all", help="'all', a wildcard or comma-separated names")
    parser.add_argument("--params", type=json_object, default=None, metavar="JSON",
                        help='hyper-parameters per requested indicator, e.g. \'{"ntk_cond": {"repeats": 3}}\' '
                             "(default: each paper's)")
    parser.add_argument("--store", required=True, help="SQLite file to write and resume from (created if missing)")
    parser.add_argument("--executor", default=None,
                        help="process[:N] | ray | auto | ray://host:port (default: serial, in this process)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="images per batch")
    parser.add_argument("--split", default="train", choices=["train", "test"], help="image split of the batch")
    data_option(parser)
    parser.add_argument("--device", default=None, help="cpu | cuda | cuda:N (default: cpu)")
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="torch threads per scoring process (default: torch's choice in this process; workers "
                             "get the same number, so results equal a serial run)")
    parser.add_argument("--full-linear-regions", action="store_true",
                        help="score linear_regions on the full network instead of TE-NAS's thin one")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _archs_from_file(path: str) -> list[str]:
    if not Path(path).is_file():
        raise DataNotFoundError(f"--archs: no file at {path}")
    with open(path) as f:
        return [line.split("#", 1)[0].strip() for line in f if line.split("#", 1)[0].strip()]


def run(args: argparse.Namespace) -> int:
    import torch

    from zeroscore import spaces
    from zeroscore.runner import score_many

    if args.threads:
        torch.set_num_threads(args.threads)
    space = spaces.get(args.space)
    archs: list
    if args.sample is not None:
        archs = space.sample(args.sample, seed=args.seed)
    elif args.archs:
        archs = _archs_from_file(args.archs)
    else:
        archs = list(space.all())
    seeds = args.seeds or [args.seed]
    df = score_many(space, archs, indicators=args.indicators, params=args.params, dataset=args.dataset,
                    store=args.store, seeds=seeds, batch_size=args.batch_size, executor=args.executor,
                    progress=not args.no_progress, root=args.data, device=args.device, split=args.split,
                    thin_linear_regions=not args.full_linear_regions,
                    run_info={"command": "zeroscore " + " ".join(sys.argv[1:]) if sys.argv else None,
                              "sample_seed": args.seed})
    summary = df.groupby("indicator", sort=False).agg(rows=("value", "size"),
                                                       failed=("error", lambda e: int(e.notna().sum())),
                                                       mean_seconds=("seconds", "mean"))
    computed, skipped = df.attrs.get("rows_written", len(df)), df.attrs.get("rows_skipped", 0)
    say(f"# {args.store}: {df['arch'].nunique()} archs x {len(seeds)} seed(s) on {args.dataset} (batch "
        f"{args.batch_size}, {args.split} split): {computed} rows computed, {skipped} already stored (skipped)")
    for name, r in summary.iterrows():
        print(f"{name:24s} rows={int(r['rows']):6d} failed={int(r['failed']):5d} mean_s={r['mean_seconds']:.4f}")
    return 0
