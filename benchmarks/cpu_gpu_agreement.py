#!/usr/bin/env python
"""Do two score stores agree where they hold the same key? Used to check GPU scores against CPU scores.

    python benchmarks/cpu_gpu_agreement.py runs/cpu_session1.sqlite runs/gpu_final.sqlite \
        --out benchmarks/results/cpu_gpu_agreement.md

For every indicator: the number of (space, arch, dataset, batch spec, seed, indicator, params) keys both stores
hold with a finite value, the median and maximum relative difference ``|a - b| / max(|a|, |b|, 1e-12)``, the
Spearman correlation between the two stores' values, and how often exactly one of them failed. Each store's runs
say which device and torch version computed it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

KEY = ["space", "arch", "dataset", "batch_size", "split", "seed", "indicator", "params_hash"]


def _machines(path: str) -> str:
    from zeroscore.store import load_runs

    runs = load_runs(path)
    if runs.empty:
        return "no runs recorded"
    dev = runs.get("device", pd.Series(dtype=object)).fillna("cpu")
    desc = (dev + ", torch " + runs.get("torch_version", pd.Series(dtype=object)).fillna("?")).value_counts()
    return "; ".join(f"{k} ({v} runs)" for k, v in desc.items())


def agreement(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    from zeroscore.analysis import spearman

    m = a[KEY + ["value"]].merge(b[KEY + ["value"]], on=KEY, suffixes=("_a", "_b"))
    rows = []
    for ind, g in m.groupby("indicator"):
        fa, fb = np.isfinite(g["value_a"]), np.isfinite(g["value_b"])
        both = g[fa & fb]
        x, y = both["value_a"].to_numpy(float), both["value_b"].to_numpy(float)
        rel = np.abs(x - y) / np.maximum(np.maximum(np.abs(x), np.abs(y)), 1e-12)
        rows.append({"indicator": ind, "shared keys": len(g), "both finite": len(both),
                     "one failed": int((fa ^ fb).sum()),
                     "median rel. diff": float(np.median(rel)) if len(rel) else np.nan,
                     "max rel. diff": float(rel.max()) if len(rel) else np.nan,
                     "Spearman a vs b": spearman(x, y) if len(both) > 2 else np.nan})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("store_a")
    p.add_argument("store_b")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    from zeroscore.store import load_scores

    a, b = load_scores(args.store_a), load_scores(args.store_b)
    tab = agreement(a, b)
    from zeroscore.analysis import to_markdown

    shown = tab.copy()
    for col in ("median rel. diff", "max rel. diff"):  # spans many orders of magnitude: scientific notation
        shown[col] = [f"{v:.1e}" if np.isfinite(v) else "–" for v in tab[col]]
    lines = ["# Same keys, two stores: do the values agree?", "",
             f"Command: `python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:] if argv is None else argv)}`",
             "", f"* store a: `{args.store_a}`: {_machines(args.store_a)}",
             f"* store b: `{args.store_b}`: {_machines(args.store_b)}",
             "* a key = (space, arch, dataset, batch size, split, seed, indicator, indicator parameters); rel. diff "
             "= |a - b| / max(|a|, |b|)", "", to_markdown(shown, bold_best=False, digits=4, index=False)]
    text = "\n".join(lines)
    if args.out:
        args.out.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
