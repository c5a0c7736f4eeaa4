"""Check the parameter counts of the zeroscore.spaces builders against the benchmark tables.

Checks ALL 15,625 NAS-Bench-201 cells (``params_mb``), ALL 32,768 NATS-Bench SSS configs x 3 heads
(``params_cifar10/100/imagenet16``) and the 500 NAS-Bench-101 cells of the NASLib sample (``params``), plus
the published DARTS_V2 size and the two NAS-Bench-101 counts published by its authors. Counts come from
the closed forms of ``Space.count_params``; the closed forms are in turn compared with really built
networks (``--n-build`` random archs per space, initialised on the CPU) and, for NAS-Bench-101, with all
500 networks built on the ``meta`` device.

Usage::

    ZEROSCORE_DATA=/path/to/data python benchmarks/check_param_counts.py [--n-build 300] [--out FILE]

Writes a markdown report (default ``benchmarks/results/param_counts.md``).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import itertools
import json
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from zeroscore import spaces
from zeroscore.settings import data_root
from zeroscore.spaces.base import Space

HERE = Path(__file__).resolve().parent


def built_count(space, arch, num_classes=10) -> int:
    net = space.build(arch, num_classes=num_classes, seed=0)
    return sum(p.numel() for p in net.parameters())


def explain_nb201(target_mb: float, own: int, members: set) -> tuple | None:
    """A tuple of 1-4 member counts (including ``own``) whose mean is the table value, if any."""
    target = target_mb * 1e6
    for n in (1, 2, 3, 4):
        for combo in itertools.combinations_with_replacement(sorted(members), n):
            if own in combo and abs(sum(combo) / n - target) < 0.01:
                return combo
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=None, help="data location (default: $ZEROSCORE_DATA)")
    ap.add_argument(
        "--n-build", type=int, default=300, help="archs per space whose closed form is compared with a built network"
    )
    ap.add_argument("--out", default=str(HERE / "results" / "param_counts.md"))
    args = ap.parse_args(argv)
    root = data_root(args.data)
    torch.set_num_threads(2)
    t_start = time.time()
    rows = []  # (space, what, n checked, n exact, max abs diff, note)
    notes = []
    rng = random.Random(0)

    # ------------------------------------------------------------------ NB201
    t0 = time.time()
    s201 = spaces.get("nb201")
    d = pd.read_csv(root / "nasbench201" / "nb201_tss_accuracies.csv.gz")
    counts = np.array([s201.count_params(a) for a in d.arch_str], dtype=np.int64)
    table = d.params_mb.values * 1e6
    diff = np.abs(counts - table)
    exact = diff < 0.5
    keys = [s201.isomorphism_key(a, rule="nb201") for a in d.arch_str]
    members = collections.defaultdict(set)
    for k, c in zip(keys, counts):
        members[k].add(int(c))
    explained, examples = 0, []
    for i in np.flatnonzero(~exact):
        combo = explain_nb201(d.params_mb[i], int(counts[i]), members[keys[i]])
        if combo is not None:
            explained += 1
            if len(examples) < 5:
                examples.append((int(d["index"][i]), d.arch_str[i], float(d.params_mb[i]), int(counts[i]), combo))
    idx_ok = all(s201.index(a) == i for i, a in zip(d["index"], d.arch_str))
    sample = rng.sample(range(len(d)), min(args.n_build, len(d)))
    build_ok = sum(built_count(s201, d.arch_str[i]) == counts[i] for i in sample)
    rows.append((
        "nb201", "params_mb x 1e6 (10 classes)", len(d), int(exact.sum()),
        f"{diff.max():.0f} ({diff.max() / 1e6:.6f} M)",
        f"{len(d) - int(exact.sum())} non-exact: all {explained} explained (seed-record sharing, see below)",
    ))
    rows.append((
        "nb201", "closed form vs built network", len(sample), build_ok, "0" if build_ok == len(sample) else "!",
        "random cells",
    ))
    notes.append(
        f"**nb201**: `params_mb` is the mean over the per-seed records of `NAS-Bench-201-v1_1-096897.pth`. For "
        f"{len(d) - int(exact.sum())} cells one or more of those records carry the parameter count of *another* cell "
        f"of the same isomorphism class (NAS-Bench-201's `to_unique_str(consider_zero=True)`; class members differ "
        f"only in dead ops). Explained: {explained} of {len(d) - int(exact.sum())} table values equal the mean of 1-4 "
        f"counts of class members that include the cell's own count. Examples (index, cell, table, ours, counts "
        f"averaged):\n"
        + "\n".join(f"  - {e[0]} `{e[1]}`: {e[2]:.6f} vs {e[3]}; mean of {list(e[4])}" for e in examples)
        + f"\n  Official index order (closed form: product order + `random.Random(88).shuffle`) matches the "
        f"table: {idx_ok}."
    )
    t_nb201 = time.time() - t0

    # ------------------------------------------------------------------ SSS
    t0 = time.time()
    sss = spaces.get("nats_sss")
    d = pd.read_csv(root / "natsbench_sss" / "nats_sss_accuracies.csv.gz")
    for col, nc in (("params_cifar10", 10), ("params_cifar100", 100), ("params_imagenet16", 120)):
        c = np.array([sss.count_params(a, nc) for a in d.arch_str], dtype=np.int64)
        dd = np.abs(c - d[col].values)
        rows.append(("nats_sss", f"{col} ({nc} classes)", len(d), int((dd == 0).sum()), str(int(dd.max())), ""))
    idx_ok_sss = all(sss.index(a) == i for i, a in zip(d["index"], d.arch_str))
    sample = rng.sample(range(len(d)), min(args.n_build, len(d)))
    heads = (10, 100, 120)
    build_ok = sum(
        built_count(sss, d.arch_str[i], heads[k % 3]) == sss.count_params(d.arch_str[i], heads[k % 3])
        for k, i in enumerate(sample)
    )
    rows.append((
        "nats_sss", "closed form vs built network", len(sample), build_ok, "0" if build_ok == len(sample) else "!",
        "random configs, heads 10/100/120",
    ))
    notes.append(
        f"**nats_sss**: official index order (`itertools.product`, first channel slowest) matches the table: "
        f"{idx_ok_sss}."
    )
    t_sss = time.time() - t0

    # ------------------------------------------------------------------ NB101
    t0 = time.time()
    s101 = spaces.get("nb101")
    d = pd.read_csv(root / "nasbench101" / "naslib_nb101_zc_sample.csv.gz")
    specs = [(json.loads(a), json.loads(o)) for a, o in zip(d.adjacency, d.ops)]
    c = np.array([s101.count_params(s) for s in specs], dtype=np.int64)
    table = d.params.values * 1e6
    dd = np.abs(c - table)
    rows.append((
        "nb101", "NASLib `params` x 1e6 (pruned specs)", len(d), int((dd < 0.5).sum()), f"{dd.max():.0f}",
        "unpruned specs pruned first",
    ))
    meta = np.array([Space.count_params(s101, s) for s in specs], dtype=np.int64)
    rows.append((
        "nb101", "closed form vs network on meta device", len(d), int((meta == c).sum()),
        str(int(np.abs(meta - c).max())), "all 500",
    ))
    n_real = min(20, args.n_build)
    real_ok = sum(built_count(s101, specs[i]) == c[i] for i in range(n_real))
    rows.append((
        "nb101", "closed form vs built network", n_real, real_ok, "0" if real_ok == n_real else "!",
        "first cells of the sample",
    ))
    official = {
        "README/colab Inception-like cell (trainable_parameters)": (
            ([[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0],
              [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
             ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3",
              "output"]), 2694282),
        "hash 00005c142e6f48ac74fdcf73e3439874 (n_params)": (
            ([[0, 1, 0, 0, 1, 1, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 0, 1, 0],
              [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
             ["input", "conv3x3-bn-relu", "maxpool3x3", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv1x1-bn-relu",
              "output"]), 8555530),
    }
    off_exact = sum(s101.count_params(spec) == n for spec, n in official.values())
    off_diff = max(abs(s101.count_params(spec) - n) for spec, n in official.values())
    rows.append((
        "nb101", "official TF `trainable_parameters`", len(official), off_exact, str(off_diff), "; ".join(official)
    ))
    notes.append(
        "**nb101**: the PyTorch count (conv kernels without bias, BN gamma+beta, dense weight+bias) equals the "
        "official TF `trainable_parameters` (TF's BN moving mean/variance are non-trainable, like PyTorch's running "
        "stats, and TF convs have `use_bias=False`), so there is no framework difference to correct. NASLib's `params` "
        "column agrees exactly for all 500 sample cells once the unpruned NASLib specs are pruned as `ModelSpec` does "
        "(NASLib stores millions with 6 decimals, i.e. exact integers)."
    )
    t_nb101 = time.time() - t0

    # ------------------------------------------------------------------ DARTS
    sd = spaces.get("darts")
    n_v2 = sd.count_params(spaces.DARTS_V2)
    n_v2_built = built_count(sd, spaces.DARTS_V2)
    rows.append((
        "darts", "DARTS_V2, C=36, L=20 vs published 3.3M", 1, int(round(n_v2 / 1e6, 1) == 3.3),
        f"{abs(n_v2 - 3.3e6):.0f} (rounding)",
        f"{n_v2:,} params (built: {n_v2_built:,}); DARTS_V1 {sd.count_params(spaces.DARTS_V1):,}",
    ))

    total = time.time() - t_start
    # ------------------------------------------------------------------ report
    header = "| space | check | n checked | n exact | max abs diff | note |\n|---|---|---:|---:|---|---|"
    lines = [f"| {r[0]} | {r[1]} | {r[2]:,} | {r[3]:,} | {r[4]} | {r[5]} |" for r in rows]
    cmd = "ZEROSCORE_DATA=/work/shared/data python benchmarks/check_param_counts.py" + (
        " " + " ".join(argv) if argv else ""
    )
    if argv is None and len(sys.argv) > 1:
        cmd = "ZEROSCORE_DATA=/work/shared/data python benchmarks/check_param_counts.py " + " ".join(sys.argv[1:])
    report = "\n".join([
        "# Parameter counts of the zeroscore.spaces builders vs the benchmark tables",
        "",
        f"- command: `{cmd}`",
        f"- date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}",
        "- machine: 2-core CPU, no GPU",
        f"- torch {torch.__version__}, python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__}",
        f"- runtime: {total:.0f} s (nb201 {t_nb201:.0f} s, nats_sss {t_sss:.0f} s, nb101 {t_nb101:.0f} s)",
        "",
        header,
        *lines,
        "",
        "Counts are `sum(p.numel() for p in net.parameters())` (BatchNorm affine weights included; DARTS excludes "
        "the auxiliary head, which is off by default). The full-table columns use the closed forms of "
        "`Space.count_params`; the *closed form vs built network* rows compare them with networks actually built "
        "(and initialised) on the CPU.",
        "",
        "## Notes",
        "",
        *[n + "\n" for n in notes],
    ])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(header)
    print("\n".join(lines))
    print(f"\nwrote {out} in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
