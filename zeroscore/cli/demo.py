"""``zeroscore demo``: score a few NAS-Bench-201 cells and two small reference models with the core indicators,
print a table and the rank correlation of each indicator with the cells' CIFAR-10 test accuracy (from the
benchmark table shipped with the package).

It runs on CIFAR-10 images when the data location has them and on Gaussian inputs otherwise (and says which).
The demo uses a batch of 16 so it finishes in a minute or two on a laptop CPU (the NTK costs one backward pass per
sample); the papers' protocols use 64 (TE-NAS) or 128 (NASWOT) images: pass ``--batch-size`` to follow them."""

from __future__ import annotations

import argparse
import math
import time

from zeroscore.cli._common import data_option, positive_int, say, seed

#: the core indicators: TEG triple, NASWOT and the isometry pair
DEMO_INDICATORS = ("ntk_cond", "linear_regions", "naswot", "ntk_generalization", "jacobian_isometry", "block_isometry")

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n")[0].replace("``", "")
    parser.add_argument("--cells", type=positive_int, default=5, help="number of NAS-Bench-201 cells")
    parser.add_argument("--batch-size", type=positive_int, default=16,
                        help="images per batch (papers: 64 TE-NAS, 128 NASWOT)")
    data_option(parser)
    parser.add_argument("--seed", type=seed, default=0, help="seeds the cells drawn, the weights and the batch")
    parser.add_argument("--device", default=None, help="cpu | cuda | cuda:N (default: cpu)")


def choose_batch(root, batch_size: int, seed: int):
    """``(inputs, targets, dataset, line)``: CIFAR-10 when the data location has it, else Gaussian inputs; ``line``
    says which (and how to get real images)."""
    from zeroscore import data
    from zeroscore.errors import DataNotFoundError
    from zeroscore.settings import data_root

    try:
        x, y = data.load_batch("cifar10", root=root, batch_size=batch_size, seed=seed)
        return x, y, "cifar10", data.describe("cifar10", root=root)
    except DataNotFoundError:
        x, y = data.load_batch("gaussian", batch_size=batch_size, seed=seed)
        line = (f"Gaussian inputs N(0, 1) with random labels: no CIFAR-10 images in {data_root(root)} (for real "
                f"images extract {CIFAR10_URL} there; `zeroscore data check` shows what the data location holds)")
        return x, y, "gaussian", line


def run(args: argparse.Namespace) -> int:
    return run_demo(n_cells=args.cells, data=args.data, seed=args.seed, batch_size=args.batch_size,
                    device=args.device)


def run_demo(n_cells: int = 5, data=None, seed: int = 0, batch_size: int = 16, indicators=DEMO_INDICATORS,
             device=None) -> int:
    import pandas as pd

    from zeroscore import spaces
    from zeroscore._nn import seeded_rng
    from zeroscore.models import mlp, small_resnet
    from zeroscore.scorer import Scorer

    x, y, dataset, line = choose_batch(data, batch_size, seed)
    print(f"zeroscore demo: batch of {batch_size}, seed {seed}, from {line}", flush=True)
    scorer = Scorer(list(indicators), seed=seed, device=device)
    space = spaces.get("nb201")
    rows = []

    def record(label: str, result, seconds: float) -> None:
        rows.append({"model": label, **result.values, "seconds": round(seconds, 2)})
        errors = f"  errors: {result.errors}" if result.errors else ""
        say(f"  scored {label[:60]:<60} in {seconds:6.2f}s{errors}")

    # TE-NAS's protocol: linear regions on the thin network, as in benchmark runs
    for arch in space.sample(n_cells, seed=seed):
        start = time.perf_counter()
        result = scorer.score_arch(space, arch, x, y, num_classes=10)
        record(str(arch), result, time.perf_counter() - start)
    for label, build in (("small_resnet", small_resnet), ("mlp", mlp)):
        with seeded_rng(seed):
            model = build(10)
        start = time.perf_counter()
        record(label, scorer.score(model, x, y), time.perf_counter() - start)
    frame = pd.DataFrame(rows).set_index("model")
    frame.columns = [f"{c} ({scorer.direction(c)[0]})" if c in scorer.names else c for c in frame.columns]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 40):
        print(frame.to_string(float_format=lambda v: f"{v:.4g}"))
    print("(h) = higher is better, (l) = lower is better")
    _print_correlations(pd.DataFrame(rows).set_index("model"), scorer, data)
    return 0


def _print_correlations(frame, scorer, data) -> None:
    import numpy as np

    from zeroscore import truth
    from zeroscore.analysis import spearman
    from zeroscore.ranking import orient

    table = truth.load("nb201", root=data)
    cells = [m for m in frame.index if m in table.index]
    if len(cells) < 3:
        return
    acc = table.loc[cells, "cifar10_test_acc"].to_numpy(dtype=float)
    print(f"\nSpearman rank correlation with NAS-Bench-201 CIFAR-10 test accuracy over these {len(cells)} cells "
          f"({table.attrs.get('source', 'benchmark table')}; lower-is-better indicators negated, so positive = "
          "agrees; tiny n, an illustration only):")
    for name in scorer.names:
        values = orient(frame.loc[cells, name].to_numpy(dtype=float), scorer.higher_is_better(name))
        ok = ~np.isnan(values)
        rho = spearman(values[ok], acc[ok]) if ok.sum() >= 3 else math.nan
        print(f"  {name:<20} {'n/a' if math.isnan(rho) else f'{rho:+.3f}'}")
