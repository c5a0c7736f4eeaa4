"""What `reproduce_correlations.py` scores: its settings (space x dataset x target), default indicator tiers, rank
ensembles, the seeded architecture sample and the ground truth. Shared by the scoring tiers
(`correlation_tiers.py`) and the report (`correlation_report.py`); not a script.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]

#: setting -> (space, dataset for the batches, target column)
SETTINGS = {
    "nb201-cifar10": ("nb201", "cifar10", "cifar10_test_acc"),
    "nb201-cifar100": ("nb201", "cifar100", "cifar100_test_acc"),
    "nb201-imagenet16": ("nb201", "imagenet16_standin", "imagenet16_test_acc"),
    "sss-cifar10": ("nats_sss", "cifar10", "cifar10_test_acc"),
    "sss-cifar100": ("nats_sss", "cifar100", "cifar100_test_acc"),
    "sss-imagenet16": ("nats_sss", "imagenet16_standin", "imagenet16_test_acc"),
    "nb101-cifar10": ("nb101", "cifar10", "val_accuracy"),
}
DEFAULT_CORE = "naswot,params,flops,synflow,snip,grad_norm,l2_norm,plain,linear_regions,meco,meco_opt,swap"
DEFAULT_EXPENSIVE = "ntk_cond,ntk_generalization,jacobian_isometry,block_isometry,gradsign,grasp"
ENSEMBLES = {  # name -> (method, components); components missing from a run are skipped
    "TE-NAS rank_sum(ntk_cond+linear_regions)": ("rank_sum", ["ntk_cond", "linear_regions"]),
    "AZ-NAS log_rank(az_*)": ("log_rank", ["az_expressivity", "az_progressivity", "az_trainability",
                                           "az_complexity"]),
    "log_rank(naswot+synflow+jacov)": ("log_rank", ["naswot", "synflow", "jacov"]),
}


def arch_sample(space, setting: str, n: int, seed: int, truth: pd.DataFrame) -> list[str]:
    """The first ``n`` architectures of the seeded sample, as stored strings (``setting`` is not used: every
    setting of a space shares its sample)."""
    if space.name == "nb101":  # the 500 NASLib cells: all of them, shuffled with the seed
        keys = [str(space.canonical(k)) for k in truth.index]
        keys = list(dict.fromkeys(keys))
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(keys))
        return [keys[i] for i in order][:n]
    return [str(a) for a in space.sample(n, seed=seed)]


def sample_size(args) -> int:
    """Size of the seeded sample; fixed (>= 1000) so that every n is a prefix of the same sample."""
    return max(1000, args.n, args.n_expensive)


def truth_table(space, space_name: str) -> pd.DataFrame:
    """The space's ground truth indexed by the stored architecture strings (NB101: canonical cells, one row
    each)."""
    from zeroscore import truth

    gt = truth.load(space_name)
    if space_name == "nb101":
        gt = gt.copy()
        gt.index = [str(space.canonical(k)) for k in gt.index]
        gt = gt[~gt.index.duplicated()]
    gt.index = gt.index.map(str)
    return gt


def indicator_names(spec: str) -> list[str]:
    """Indicator names of a comma-separated spec with wildcards (``"all"`` or empty: every registered one)."""
    import zeroscore

    if spec in ("all", "", None):
        return zeroscore.list_indicators()
    out = []
    for part in spec.split(","):
        part = part.strip()
        out += zeroscore.list_indicators(part) if any(c in part for c in "*?[") else [part]
    return list(dict.fromkeys(out))
