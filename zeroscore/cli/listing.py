"""``zeroscore list``: the registered indicators (from a catalog generated from the registry, so that listing does
not import torch), the search spaces, or the datasets."""

from __future__ import annotations

import argparse
import fnmatch
import json
from pathlib import Path

from zeroscore.cli._common import table

SPACES = [
    {"name": "nb201", "aliases": "nats_tss, nas-bench-201, tss", "size": "15,625 cells",
     "ground truth": "shipped (200-epoch CIFAR-10/100, ImageNet16-120)", "thin network": "yes"},
    {"name": "nats_sss", "aliases": "sss, natsbench_sss", "size": "32,768 channel configs",
     "ground truth": "shipped (90-epoch CIFAR-10/100, ImageNet16-120)", "thin network": "no"},
    {"name": "nb101", "aliases": "nasbench101, nas-bench-101", "size": "423,624 cells",
     "ground truth": "shipped 500-cell sample; full table from the official tfrecord", "thin network": "yes"},
    {"name": "darts", "aliases": "darts_cnn", "size": "~1e18 genotypes",
     "ground truth": "none (no benchmark table)", "thin network": "yes"},
]

DATASETS = [
    {"name": "gaussian", "classes": 10, "input": "3x32x32", "files": "none (standard-normal inputs, random labels)"},
    {"name": "cifar10", "classes": 10, "input": "3x32x32", "files": "cifar-10-batches-py (163 MB download)"},
    {"name": "cifar100", "classes": 100, "input": "3x32x32", "files": "cifar-100-python (161 MB download)"},
    {"name": "imagenet16-120", "classes": 120, "input": "3x16x16", "files": "ImageNet16 pickles (NB201's)"},
    {"name": "imagenet16", "classes": 1000, "input": "3x16x16", "files": "ImageNet16 pickles (NB201's)"},
    {"name": "imagenet16_standin", "classes": 120, "input": "3x16x16",
     "files": "CIFAR-100 downsampled to 16x16: a STAND-IN, not ImageNet"},
]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = ("List the registered indicators (name, direction, needs, cost, paper), or with --spaces / "
                          "--datasets the search spaces and the datasets zeroscore can load.")
    parser.add_argument("pattern", nargs="?", default="*", help="wildcard pattern over names, e.g. 'ntk*'")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--spaces", action="store_true", help="list the search spaces instead of indicators")
    which.add_argument("--datasets", action="store_true", help="list the datasets instead of indicators")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


#: the indicator catalog, written from the registry by ``python -m zeroscore.indicators._doc`` (a test checks it)
CATALOG = Path(__file__).with_name("indicators.json")


def indicator_rows(pattern: str = "*") -> list[dict]:
    rows = json.loads(CATALOG.read_text())
    return [row for row in rows if fnmatch.fnmatchcase(row["name"], pattern)]


def run(args: argparse.Namespace) -> int:
    rows: list[dict]
    if args.spaces:
        rows, columns = SPACES, ["name", "aliases", "size", "ground truth", "thin network"]
    elif args.datasets:
        rows, columns = DATASETS, ["name", "classes", "input", "files"]
    else:
        rows, columns = indicator_rows(), ["name", "direction", "needs", "cost", "paper"]
    rows = [r for r in rows if fnmatch.fnmatchcase(r["name"], args.pattern)]
    if args.json:
        print(json.dumps(rows, indent=2))
    elif rows:
        print(table(rows, columns))
    return 0
