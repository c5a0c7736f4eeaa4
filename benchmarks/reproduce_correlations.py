#!/usr/bin/env python
"""Reproduce the published indicator-vs-accuracy correlations on NAS-Bench-201, NATS-Bench SSS and NAS-Bench-101.

For every setting (space x dataset) the script scores a seeded random sample of architectures with every
registered indicator (or ``--indicators``) into a resumable store under ``runs/`` (gitignored), adds rank
ensembles, and writes ``benchmarks/results/correlations_<setting>.md``/``.csv`` plus a summary
``correlations_summary.md``: Spearman (95 % bootstrap CI), Kendall tau-b, top-10 % precision and, next to each
Spearman, the published value with its source and the difference.

Settings (``--settings``)::

    nb201-cifar10      NB201, CIFAR-10 batches,  target cifar10_test_acc     (200 epochs, ori-test)
    nb201-cifar100     NB201, CIFAR-100 batches, target cifar100_test_acc    (x-test)
    nb201-imagenet16   NB201, STAND-IN batches (CIFAR-100 downsampled to 16x16, 120-class head; NOT ImageNet),
                       target imagenet16_test_acc (ImageNet16-120 x-test)
    sss-cifar10 / sss-cifar100 / sss-imagenet16   NATS-Bench SSS, same data, 90-epoch test accuracies
    nb101-cifar10      NB101, the 500-cell NASLib sample (all of it), CIFAR-10 batches, target val_accuracy

Cost control: three tiers, run one after the other, each round-robin over the settings on growing prefixes of
the sample (10, 20, 30, 50, ... architectures) until its size limit or its wall-time budget: ``--core`` (the
cheapest indicators, up to ``--n``, ``--minutes-core``), the other non-expensive indicators (up to ``--n``,
``--minutes``) and ``--expensive`` (NTK / per-sample Jacobian / Hessian ones, up to ``--n-expensive``,
``--minutes-expensive``). The sample is drawn
once with ``space.sample(max(n), seed)``, so smaller n are prefixes of larger ones and a rerun with a larger n
only scores the new architectures. ``--measure K`` times every indicator on K architectures per setting and
prints the per-architecture cost, to choose n for a time budget. The report uses, per indicator, the longest
prefix of the sample that is complete in the store.

Examples::

    python benchmarks/reproduce_correlations.py --measure 2
    nohup python benchmarks/reproduce_correlations.py --n 1000 --n-expensive 100 > runs/repro.log 2>&1 &
    python benchmarks/reproduce_correlations.py --report-only
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# The work is done by the modules next to this file: correlation_settings.py (settings, sample, ground truth),
# correlation_tiers.py (scoring tiers, --measure), correlation_references.py (published values and scores) and
# correlation_report.py (the report). They are found on the path also when this file is imported by path (tests,
# az_inputs.py).
_BENCHMARKS = str(Path(__file__).resolve().parent)
if _BENCHMARKS not in sys.path:
    sys.path.insert(0, _BENCHMARKS)

from correlation_report import report  # noqa: E402
from correlation_settings import DEFAULT_CORE, DEFAULT_EXPENSIVE, REPO, SETTINGS  # noqa: E402

# the names benchmarks/az_inputs.py uses
from correlation_settings import arch_sample as _arch_sample  # noqa: E402, F401
from correlation_settings import truth_table as _truth  # noqa: E402, F401
from correlation_tiers import measure, run  # noqa: E402

if not os.environ.get("ZEROSCORE_DATA") and (REPO.parent / "shared" / "data").is_dir():
    os.environ["ZEROSCORE_DATA"] = str(REPO.parent / "shared" / "data")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated subset of " + ", ".join(SETTINGS))
    p.add_argument("--n", type=int, default=1000, help="archs per setting for the cheap indicators")
    p.add_argument("--n-expensive", type=int, default=100, help="archs per setting for --expensive indicators")
    p.add_argument("--expensive", default=DEFAULT_EXPENSIVE, help="indicators scored on --n-expensive archs only")
    p.add_argument("--core", default=DEFAULT_CORE,
                   help="cheapest indicators, scored first and on the most architectures ('' = no core tier)")
    p.add_argument("--minutes-core", type=float, default=0, help="wall-time budget of the core tier (0: none)")
    p.add_argument("--step-sizes", default="10,20,30,50,75,100,150,200,300,400,500,600,800",
                   help="growing prefixes, round-robin over the settings")
    p.add_argument("--scale", default="nb101-cifar10=0.25",
                   help="per-setting fraction of each prefix (NB101 networks cost ~5x more), e.g. nb101-cifar10=0.25")
    p.add_argument("--minutes", type=float, default=0, help="wall-time budget of the cheap tier (0: none)")
    p.add_argument("--minutes-expensive", type=float, default=0, help="wall-time budget of the expensive tier")
    p.add_argument("--indicators", default="all")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--store", default=str(REPO / "runs" / "reproduce_correlations.sqlite"))
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    p.add_argument("--threads", type=int, default=1, help="torch threads per process (1: leave cores to others)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (spawned once; the driver writes)")
    p.add_argument("--device", default=None, help="where to score, e.g. cuda (default: CPU); workers share it")
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--min-n-summary", type=int, default=10, help="smallest n shown in the summary table")
    p.add_argument("--measure", type=int, default=0, metavar="K", help="only time K archs per setting")
    p.add_argument("--measure-out", default=None)
    p.add_argument("--retry-failed", default=None, metavar="TEXT",
                   help="first delete stored rows whose error contains TEXT (e.g. OutOfMemoryError) to recompute them")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--no-plots", dest="plots", action="store_false", help="skip the PNG plots of the report")
    p.add_argument("--no-report", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--command-used", default=None, help="command line to print in the results (default: argv)")
    args = p.parse_args(argv)
    args.settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    unknown = [s for s in args.settings if s not in SETTINGS]
    if unknown:
        p.error(f"unknown setting(s) {unknown}; known: {list(SETTINGS)}")
    args.step_sizes = [int(s) for s in args.step_sizes.split(",") if s.strip()] if args.step_sizes else []
    args.scale = {k.strip(): float(v) for k, v in (kv.split("=") for kv in args.scale.split(",") if kv.strip())}
    import torch

    torch.set_num_threads(args.threads)
    Path(args.store).parent.mkdir(parents=True, exist_ok=True)
    if args.measure:
        measure(args)
        return 0
    if args.retry_failed:
        from zeroscore.store import open_store

        with open_store(args.store) as st:
            print(f"forgot {st.forget_failed(args.retry_failed)} failed rows matching {args.retry_failed!r}")
    if not args.report_only:
        try:
            run(args)
        except KeyboardInterrupt:
            print("interrupted; writing the report for what is stored", flush=True)
    if not args.no_report:
        report(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
