"""The search splits of NAS-Bench-201's weight-sharing baselines: which images train the weights and which train
the architecture parameters / select the architecture.

Official protocol (``get_nas_search_loaders`` in AutoDL-Projects, ``xautodl/datasets/get_dataset_with_transform.py``):

* CIFAR-10: ``cifar-split.txt`` divides the 50,000 training images into ``train`` (weights) and ``valid``
  (architecture), 25,000 each;
* CIFAR-100 and ImageNet16-120: the whole training set trains the weights; ``xvalid`` of
  ``cifar100-test-split.txt`` / ``imagenet-16-120-test-split.txt`` (half of the official test / validation images)
  trains the architecture.

The split files are read from the data location (``nas_splits/`` below it, or the location itself) or from an
explicit ``split_file``. Indices are global (CIFAR-10: ``data_batch_k`` row ``r`` is ``10000 * (k - 1) + r``); a
data location holding only the leading rows of each batch file (the project's CIFAR sample) keeps the indices that
fall into the rows it has, so the sample gives 2,541 / 2,629 CIFAR-10 images and a full download the full split,
with the same code.

Fallback, when the split file is absent (and none was given): a 50/50 split drawn with ``numpy.random.
default_rng(seed)`` in the same roles (CIFAR-10: half of the training images for the weights, the other half for
the architecture; CIFAR-100 / ImageNet16-120: half of the test images as ``xvalid``). :attr:`SearchSplit.source`
says which one was used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zeroscore.data import DATASETS, locate
from zeroscore.errors import DamagedFileError, UsageError
from zeroscore.names import dataset_name
from zeroscore.settings import data_root

__all__ = ["SPLIT_FILES", "SearchSplit", "search_split", "read_split_file", "split_path", "split_dataset"]

#: dataset -> (split file, key of the weight images or None for the whole training set, key of the architecture
#: images, how many indices each key holds, size of the indexed set)
SPLIT_FILES: dict[str, tuple[str, str | None, str, int, int]] = {
    "cifar10": ("cifar-split.txt", "train", "valid", 25_000, 50_000),
    "cifar100": ("cifar100-test-split.txt", None, "xvalid", 5_000, 10_000),
    "imagenet16-120": ("imagenet-16-120-test-split.txt", None, "xvalid", 3_000, 6_000),
}
#: the keys each split file holds
_FILE_KEYS = {"cifar-split.txt": ("train", "valid"), "cifar100-test-split.txt": ("xvalid", "xtest"),
              "imagenet-16-120-test-split.txt": ("xvalid", "xtest")}
#: rows of one official CIFAR-10 training batch file
_CIFAR10_FILE_ROWS = 10_000


@dataclass(frozen=True)
class SearchSplit:
    """Rows of the loaded arrays (``zeroscore.data.load_images``) that train the weights (``weight_rows`` of split
    ``weight_split``) and the architecture (``arch_rows`` of ``arch_split``); ``source`` says where they came from."""

    dataset: str
    weight_split: str
    weight_rows: np.ndarray
    arch_split: str
    arch_rows: np.ndarray
    source: str


def split_dataset(dataset: str) -> str:
    """The dataset whose split file ``dataset`` uses (the ImageNet16 stand-in is made of CIFAR-100 test images)."""
    name = dataset_name(dataset)
    if name == "imagenet16_standin":
        return "cifar100"
    if name not in SPLIT_FILES:
        raise UsageError(f"weight-sharing search has no search split for dataset {dataset!r}; "
                         f"use one of {', '.join(SPLIT_FILES)} (or imagenet16_standin)")
    return name


def split_path(dataset: str, root=None) -> Path | None:
    """The official split file of ``dataset`` in the data location, or None when it is not there."""
    file_name = SPLIT_FILES[split_dataset(dataset)][0]
    base = data_root(root)
    return next((p for p in (base / "nas_splits" / file_name, base / file_name) if p.is_file()), None)


def read_split_file(path, dataset: str) -> dict[str, np.ndarray]:
    """The index lists of a split file, checked against ``dataset`` (keys, counts, range); a file of another
    dataset is a :class:`UsageError` that names the file the dataset needs."""
    name = split_dataset(dataset)
    file_name, _, _, count, size = SPLIT_FILES[name]
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"split file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DamagedFileError(f"{path} is not a NAS-Bench-201 split file (JSON): {err}") from None
    expected = _FILE_KEYS[file_name]
    if not isinstance(raw, dict) or sorted(raw) != sorted(expected):
        keys = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise UsageError(f"split file {path} does not match dataset {dataset!r}: it holds {keys}, {name} needs "
                         f"{file_name} with keys {list(expected)}")
    out = {}
    for key in expected:
        value = raw[key]
        items = value[1] if isinstance(value, list) and len(value) == 2 and isinstance(value[1], list) else value
        try:
            idx = np.asarray([int(i) for i in items], dtype=np.int64)
        except (TypeError, ValueError) as err:
            raise DamagedFileError(f"{path}: key {key!r} is not a list of indices ({err})") from None
        if len(idx) != count or idx.min(initial=0) < 0 or idx.max(initial=0) >= size:
            raise UsageError(f"split file {path} does not match dataset {dataset!r}: {key!r} holds {len(idx)} "
                             f"indices in [{idx.min(initial=0)}, {idx.max(initial=0)}], {name} needs {count} "
                             f"in [0, {size})")
        out[key] = idx
    return out


def _cifar10_global_rows(root) -> np.ndarray:
    """Global index of every loaded CIFAR-10 training row: file ``k`` row ``r`` -> ``10000 * (k - 1) + r``."""
    from zeroscore.data import _read_batches  # per-file arrays; load_images concatenates them and loses the files

    folder = locate("cifar10", root)
    spec = DATASETS["cifar10"]
    parts = []
    for k, file_name in enumerate(spec["files"]["train"]):
        _, labels = _read_batches(str(folder), (file_name,), spec["label_key"], spec["size"])
        if len(labels) > _CIFAR10_FILE_ROWS:
            raise DamagedFileError(f"{folder / file_name} holds {len(labels)} rows; an official CIFAR-10 batch "
                                   f"file holds {_CIFAR10_FILE_ROWS}")
        parts.append(_CIFAR10_FILE_ROWS * k + np.arange(len(labels)))
    return np.concatenate(parts)


def _rows_of(global_index: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Positions (rows) of the loaded images whose global index is in ``wanted``, in row order."""
    return np.flatnonzero(np.isin(global_index, wanted))


def _half(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[: n // 2]), np.sort(perm[n // 2:])


def search_split(dataset: str, num_train: int, num_test: int, root=None, split_file=None,
                 seed: int = 0) -> SearchSplit:
    """The rows that train weights and architecture for a search on ``dataset`` whose loaded training / test
    arrays have ``num_train`` / ``num_test`` images (see the module docstring)."""
    name = split_dataset(dataset)
    file_name, weight_key, arch_key, _, _ = SPLIT_FILES[name]
    path = Path(split_file) if split_file is not None else split_path(dataset, root)
    if path is None:
        if weight_key is not None:
            weights, arch = _half(num_train, seed)
            return SearchSplit(dataset, "train", weights, "train", arch,
                               f"fallback: seeded 50/50 split of the training images (seed {seed}; {file_name} "
                               f"not found)")
        arch, _ = _half(num_test, seed)
        return SearchSplit(dataset, "train", np.arange(num_train), "test", arch,
                           f"fallback: full training set for the weights, seeded half of the test images for the "
                           f"architecture (seed {seed}; {file_name} not found)")
    lists = read_split_file(path, dataset)
    if weight_key is not None:
        global_index = _cifar10_global_rows(root) if num_train else np.zeros(0, dtype=np.int64)
        if len(global_index) != num_train:
            raise DamagedFileError(f"CIFAR-10 files give {len(global_index)} rows but {num_train} images loaded")
        weights, arch = _rows_of(global_index, lists[weight_key]), _rows_of(global_index, lists[arch_key])
        return SearchSplit(dataset, "train", weights, "train", arch,
                           f"official {path.name} ({weight_key} {len(weights)} / {arch_key} {len(arch)} of "
                           f"{num_train} loaded images)")
    # test rows are the leading images of the official test / validation order (the filtered 120-class order for
    # ImageNet16-120), so row r is index r
    arch = _rows_of(np.arange(num_test), lists[arch_key])
    return SearchSplit(dataset, "train", np.arange(num_train), "test", arch,
                       f"official {path.name} (full training set {num_train} / {arch_key} {len(arch)} of "
                       f"{num_test} loaded test images)")
