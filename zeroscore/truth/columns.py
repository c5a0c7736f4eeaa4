"""What each column of the ground-truth tables means, which column papers rank against, and which spaces have a
table at all.

Columns (also as a table: ``describe(space)``; accuracies in %, final epoch, mean over the benchmark's seeds):

nb201 -- NB201 names are the dataset the net was TRAINED on + the split it was EVALUATED on:

==========================  ================  ==========  ======  ===========================================
column                      dataset           split       epochs  meaning
==========================  ================  ==========  ======  ===========================================
index                       --                --          --      benchmark index 0..15624
arch_str                    --                --          --      cell string (same as the ``arch`` index)
cifar10_valid_acc           cifar10-valid     x-valid     200     trained on 25k train imgs, 25k held-out train imgs
cifar10valid_test_acc       cifar10-valid     ori-test    200     trained on 25k, CIFAR-10 test set (10k)
cifar10_test_acc            cifar10           ori-test    200     trained on train+valid (50k), CIFAR-10 test set
cifar100_valid_acc          cifar100          x-valid     200     5k half of the CIFAR-100 test set
cifar100_test_acc           cifar100          x-test      200     other 5k half
imagenet16_valid_acc        ImageNet16-120    x-valid     200     3k of the 6k val images
imagenet16_test_acc         ImageNet16-120    x-test      200     other 3k
nats_cifar10_test_acc       cifar10           ori-test    200     same quantity from the later NATS-tss file
nats_cifar100_test_acc      cifar100          x-test      200     same, NATS-tss file
nats_imagenet16_test_acc    ImageNet16-120    x-test      200     same, NATS-tss file
params_mb                   cifar10           --          --      parameters in millions (10-class head)
==========================  ================  ==========  ======  ===========================================

In the shipped (and shared) compact table the non-``nats_`` columns come from the NAS-Bench-201 ``.pth`` (v1_1) and the
``nats_`` ones from the NATS-tss file; the two generations differ for ~2,400 cells (up to 2-5 points).
Built from a NATS folder (:func:`from_nats_bench`) ALL columns come from the NATS file (so ``cifar100_test_acc ==
nats_cifar100_test_acc``). Verified on the 3 official sample archs (0, 11, 284): NATS-file values equal the
compact ``cifar10_*``/``cifar10valid_test_acc``/``nats_*``/``params_mb`` columns exactly, and the compact
``cifar100_*``/``imagenet16_*`` (.pth) columns to 1.2e-7. Built from the ``.pth`` (:func:`from_nas201_pth`) the
``nats_`` columns are NaN.

nats_sss -- 90-epoch schedule (``hp="90"``), one seed (777):
``index``, ``arch_str``, ``cifar10_valid_acc`` (cifar10-valid / x-valid), ``cifar10_test_acc`` (cifar10 /
ori-test), ``cifar100_test_acc`` (cifar100 / x-test), ``imagenet16_test_acc`` (ImageNet16-120 / x-test),
``params_cifar10`` / ``params_cifar100`` / ``params_imagenet16`` (parameter COUNT with the 10/100/120-class head).
Tables built from a NATS folder add ``cifar100_valid_acc`` and ``imagenet16_valid_acc`` (x-valid splits).

nb101 -- CIFAR-10, 108-epoch schedule:
``adjacency`` / ``ops`` (JSON strings of the 7x7 matrix and vertex labels), ``hash`` (official md5 module hash;
NA where not computable), ``val_accuracy`` (%, validation 10k images; NASLib sample: as reported by NASLib,
tfrecord: mean of the 3 repeats), ``params`` (millions). NASLib sample only: ``naslib_arch`` (NASLib tuple
encoding), ``flops`` (MFLOPs) and 9 published NASLib proxy scores (``epe_nas fisher grad_norm grasp jacov
l2_norm plain snip synflow``). tfrecord only: ``test_accuracy``, ``train_accuracy`` (mean of repeats, %),
``val_accuracy_r{k}`` / ``test_accuracy_r{k}`` (per repeat k), ``n_repeats``, ``trainable_parameters`` (count),
``training_time`` (s, mean of repeats). The NASLib sample's specs are UNPRUNED; the tfrecord's are pruned.

``default_target(space, dataset)`` names the column papers rank against (test accuracy for NB201/SSS,
``val_accuracy`` for NB101). ``df.attrs["source"]`` records which file a table came from.
"""

from __future__ import annotations

import pandas as pd

from zeroscore.errors import NoGroundTruthError, UnknownDatasetError
from zeroscore.names import BENCHMARK_SPACES, benchmark_dataset, space_name

_D = "--"
COLUMNS = {
    "nb201": [
        ("index", _D, _D, None, "benchmark index 0..15624 (NB201 / NATS-tss order)"),
        ("arch_str", _D, _D, None, "cell string; same as the `arch` index"),
        ("cifar10_valid_acc", "cifar10-valid", "x-valid", 200,
         "acc. % on 25k held-out CIFAR-10 train images, trained on the other 25k; seed mean"),
        ("cifar10valid_test_acc", "cifar10-valid", "ori-test", 200,
         "acc. % on the CIFAR-10 test set, trained on 25k train images; seed mean"),
        ("cifar10_test_acc", "cifar10", "ori-test", 200,
         "acc. % on the CIFAR-10 test set, trained on all 50k; seed mean (.pth generation in the shared table)"),
        ("cifar100_valid_acc", "cifar100", "x-valid", 200, "acc. % on a 5k half of the CIFAR-100 test set; seed mean"),
        ("cifar100_test_acc", "cifar100", "x-test", 200,
         "acc. % on the other 5k half of the CIFAR-100 test set; seed mean"),
        ("imagenet16_valid_acc", "ImageNet16-120", "x-valid", 200,
         "acc. % on 3k of the 6k ImageNet16-120 val images; seed mean"),
        ("imagenet16_test_acc", "ImageNet16-120", "x-test", 200, "acc. % on the other 3k val images; seed mean"),
        ("nats_cifar10_test_acc", "cifar10", "ori-test", 200, "as cifar10_test_acc, from the NATS-tss-v1_0-3ffb9 file"),
        ("nats_cifar100_test_acc", "cifar100", "x-test", 200, "as cifar100_test_acc, from the NATS-tss file"),
        ("nats_imagenet16_test_acc", "ImageNet16-120", "x-test", 200, "as imagenet16_test_acc, from the NATS-tss file"),
        ("params_mb", "cifar10", _D, None, "parameters in millions (10-class head)"),
    ],
    "nats_sss": [
        ("index", _D, _D, None, "benchmark index 0..32767 (NATS-sss order)"),
        ("arch_str", _D, _D, None, "channel string a:b:c:d:e; same as the `arch` index"),
        ("cifar10_valid_acc", "cifar10-valid", "x-valid", 90,
         "acc. % on 25k held-out CIFAR-10 train images (one seed)"),
        ("cifar10_test_acc", "cifar10", "ori-test", 90, "acc. % on the CIFAR-10 test set, trained on 50k (one seed)"),
        ("cifar100_test_acc", "cifar100", "x-test", 90, "acc. % on a 5k half of the CIFAR-100 test set (one seed)"),
        ("imagenet16_test_acc", "ImageNet16-120", "x-test", 90, "acc. % on 3k ImageNet16-120 val images (one seed)"),
        ("cifar100_valid_acc", "cifar100", "x-valid", 90, "only in tables built from a NATS folder: other 5k half"),
        ("imagenet16_valid_acc", "ImageNet16-120", "x-valid", 90, "only in tables built from a NATS folder: other 3k"),
        ("params_cifar10", "cifar10", _D, None, "parameter count, 10-class head"),
        ("params_cifar100", "cifar100", _D, None, "parameter count, 100-class head"),
        ("params_imagenet16", "ImageNet16-120", _D, None, "parameter count, 120-class head"),
    ],
    "nb101": [
        ("adjacency", _D, _D, None, "7x7 upper-triangular 0/1 matrix, JSON list of rows (NASLib sample: unpruned)"),
        ("ops", _D, _D, None, "vertex labels, JSON list"),
        ("hash", _D, _D, None, "official NB101 md5 module hash (from the tfrecord, or computed from the spec)"),
        ("n_records", _D, _D, None, "number of source records of this network (NASLib's unpruned specs that prune "
                                    "to it; numeric columns are their mean)"),
        ("naslib_arch", _D, _D, None, "NASLib tuple encoding (NASLib sample only)"),
        ("val_accuracy", "cifar10", "valid", 108, "acc. % on the 10k validation images (tfrecord: mean of 3 repeats)"),
        ("test_accuracy", "cifar10", "test", 108, "acc. % on the CIFAR-10 test set, mean of repeats (tfrecord only)"),
        ("train_accuracy", "cifar10", "train", 108,
         "acc. % on 10k fixed train images, mean of repeats (tfrecord only)"),
        ("val_accuracy_r{k}", "cifar10", "valid", 108, "repeat k (tfrecord only)"),
        ("test_accuracy_r{k}", "cifar10", "test", 108, "repeat k (tfrecord only)"),
        ("n_repeats", _D, _D, 108, "number of training repeats found (tfrecord only)"),
        ("params", "cifar10", _D, None, "parameters in millions"),
        ("trainable_parameters", "cifar10", _D, None, "parameter count (tfrecord only)"),
        ("training_time", "cifar10", _D, 108, "training seconds, mean of repeats (tfrecord only)"),
        ("flops", "cifar10", _D, None, "MFLOPs as computed by NASLib (NASLib sample only)"),
    ]
    + [
        (p, "cifar10", _D, 0, "published NASLib zero-cost proxy score at init (NASLib sample only)")
        for p in ["epe_nas", "fisher", "grad_norm", "grasp", "jacov", "l2_norm", "plain", "snip", "synflow"]
    ],
}

TARGETS = {
    "nb201": {"cifar10": "cifar10_test_acc", "cifar10-valid": "cifar10_valid_acc", "cifar100": "cifar100_test_acc",
              "imagenet16": "imagenet16_test_acc"},
    "nats_sss": {"cifar10": "cifar10_test_acc", "cifar10-valid": "cifar10_valid_acc", "cifar100": "cifar100_test_acc",
                 "imagenet16": "imagenet16_test_acc"},
    "nb101": {"cifar10": "val_accuracy"},
}

# NB201 column -> (dataset, split) for ArchResults.get_metrics; shared by the NATS-tss and the .pth readers
NB201_METRICS = {
    "cifar10_valid_acc": ("cifar10-valid", "x-valid"),
    "cifar10valid_test_acc": ("cifar10-valid", "ori-test"),
    "cifar10_test_acc": ("cifar10", "ori-test"),
    "cifar100_valid_acc": ("cifar100", "x-valid"),
    "cifar100_test_acc": ("cifar100", "x-test"),
    "imagenet16_valid_acc": ("ImageNet16-120", "x-valid"),
    "imagenet16_test_acc": ("ImageNet16-120", "x-test"),
}
NATS_TEST = {"nats_cifar10_test_acc": "cifar10", "nats_cifar100_test_acc": "cifar100",
              "nats_imagenet16_test_acc": "ImageNet16-120"}
SSS_METRICS = {
    "cifar10_valid_acc": ("cifar10-valid", "valid-accuracy"),
    "cifar10_test_acc": ("cifar10", "test-accuracy"),
    "cifar100_valid_acc": ("cifar100", "valid-accuracy"),
    "cifar100_test_acc": ("cifar100", "test-accuracy"),
    "imagenet16_valid_acc": ("ImageNet16-120", "valid-accuracy"),
    "imagenet16_test_acc": ("ImageNet16-120", "test-accuracy"),
}
SSS_PARAMS = {"params_cifar10": "cifar10", "params_cifar100": "cifar100", "params_imagenet16": "ImageNet16-120"}


def benchmark_space(space: str) -> str:
    """The registered name of a space that has a benchmark table (``nb201``, ``nats_sss``, ``nb101``).

    Any alias of :func:`zeroscore.names.space_name` works; an unknown name raises
    :class:`~zeroscore.errors.UnknownSpaceError`, a known space without a table :class:`NoGroundTruthError`.
    """
    name = space_name(space)
    if name in BENCHMARK_SPACES:
        return name
    if name == "darts":
        raise NoGroundTruthError(
            "DARTS has no benchmark table: its cells were never all trained, so there is no accuracy to compare "
            f"scores with (ground truth exists for {', '.join(BENCHMARK_SPACES)})")
    raise NoGroundTruthError(f"space {name!r} has no benchmark table (ground truth exists for "
                             f"{', '.join(BENCHMARK_SPACES)})")


def describe(space: str) -> pd.DataFrame:
    """Table of the columns of ``load(space)``: column, dataset, split, epochs, meaning.

    ``dataset``/``split`` use the benchmark's own names (NB201: the dataset trained on, the split evaluated on).
    """
    space = benchmark_space(space)
    rows = [dict(column=c, dataset=d, split=s, epochs=e, meaning=m) for c, d, s, e, m in COLUMNS[space]]
    return pd.DataFrame(rows, columns=["column", "dataset", "split", "epochs", "meaning"])


def default_target(space: str, dataset: str = "cifar10") -> str:
    """The accuracy column papers rank against for ``dataset`` in ``space``.

    NB201 / SSS: final test accuracy (``cifar10_test_acc``, ``cifar100_test_acc``, ``imagenet16_test_acc``);
    ``cifar10-valid`` gives ``cifar10_valid_acc``. NB101: ``val_accuracy`` (the only one in the NASLib sample).
    Space and dataset names take every alias of :mod:`zeroscore.names` (``"nas-bench-201"``,
    ``"ImageNet16-120"``, ``"imagenet16_standin"`` -> the ImageNet16-120 column, ...).
    """
    space = benchmark_space(space)
    target, _ = benchmark_dataset(dataset)
    if target not in TARGETS[space]:
        raise UnknownDatasetError(f"no default target for {dataset!r} in {space}: its table has accuracies for "
                                  f"{', '.join(sorted(TARGETS[space]))} only")
    return TARGETS[space][target]
