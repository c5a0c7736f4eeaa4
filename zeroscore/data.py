"""Small, deterministic input batches for training-free indicators.

Zero-cost indicators look at a network on ONE batch at initialisation, so all that is needed is a reproducible
batch of real (or random) images. ``load_batch(dataset, root, batch_size, split, seed)`` picks ``batch_size``
distinct images with a local ``numpy.random.default_rng(seed)`` (the global RNGs are never touched) and
normalises them with the per-channel means/stds NAS-Bench-201 trained with.

Datasets (names are case-insensitive; ``_`` and ``-`` are interchangeable):

``cifar10``, ``cifar100``
    The official "python version" files (pickled dicts with ``data`` N x 3072 uint8, channel-major, and
    ``labels`` / ``fine_labels``; ``bytes`` or ``str`` keys). Looked for in ``root/cifar10_sample/cifar-10-batches-py``,
    ``root/cifar-10-batches-py`` or ``root`` itself (CIFAR-100: ``cifar100_sample/cifar-100-python``,
    ``cifar-100-python``). ``split="train"`` = ``data_batch_1..5`` / ``train``; ``split="test"`` = ``test_batch`` /
    ``test``. NB201's CIFAR-100 ``x-valid``/``x-test`` splits are the two halves of this official test set (and
    its CIFAR-10 ``x-valid`` is half of the train set); batches here are drawn from the whole official split.
``imagenet16`` (1000 classes), ``imagenet16-120`` (alias ``ImageNet16-120``, 120 classes)
    The official downsampled-ImageNet 16x16 pickles (``train_data_batch_1..10``, ``val_data``; ``data`` N x 768
    channel-major, ``labels`` 1-based) in ``root/ImageNet16``, ``root/imagenet16`` or ``root``. The -120 variant
    keeps labels 1..120 -> 0..119 (as NB201 does). ``split="test"`` = ``val_data`` (NB201's x-valid/x-test are its
    halves). Not available offline in this project.
``imagenet16_standin``
    A STAND-IN, not ImageNet: CIFAR-100 images 2x2-average-pooled to 16x16, normalised with the ImageNet16
    statistics, CIFAR-100 fine labels 0..99 under a 120-class head. Lets ImageNet16-120 code paths run without
    the real files; results on it are not ImageNet16-120 results. ``describe()``/``is_standin()`` say so.
``gaussian``
    Standard-normal inputs of shape ``(batch_size, *shape)`` (default ``(3, 32, 32)``) from a local
    ``torch.Generator`` seeded with ``seed``; targets uniform in ``[0, num_classes)`` (default 10). ``split`` is
    ignored.

Names resolve through :func:`zeroscore.names.dataset_name` (an unknown one raises
:class:`~zeroscore.errors.UnknownDatasetError`). A missing file raises :class:`~zeroscore.errors.DataNotFoundError`
that starts with where to download it; a file that is there but truncated or foreign raises
:class:`~zeroscore.errors.DamagedFileError` naming it.

Security: the data location is trusted input. The official batch files are Python pickles and unpickling runs
whatever code a pickle names, so only point the data location at files from a source you trust.
"""

from __future__ import annotations

import functools
import pickle
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from zeroscore.errors import DamagedFileError, DataNotFoundError, UsageError
from zeroscore.names import dataset_name
from zeroscore.settings import data_root, where_hint

__all__ = ["load_batch", "load_images", "describe", "is_standin", "num_classes", "input_shape", "locate", "DATASETS"]

_CIFAR10_MEAN, _CIFAR10_STD = [125.3, 123.0, 113.9], [63.0, 62.1, 66.7]
_CIFAR100_MEAN, _CIFAR100_STD = [129.3, 124.1, 112.4], [68.2, 65.4, 70.4]
_IN16_MEAN, _IN16_STD = [122.68, 116.66, 104.01], [63.22, 61.26, 65.09]
_IN16_DIRS = ["ImageNet16", "imagenet16", "imagenet16_sample/ImageNet16"]
_IN16_FILES = {"train": [f"train_data_batch_{i}" for i in range(1, 11)], "test": ["val_data"]}

#: per dataset: folders tried below the data location, files per split, label key, classes, size, mean/std (0-255)
DATASETS: dict[str, dict[str, Any]] = {
    "cifar10": dict(dirs=["cifar10_sample/cifar-10-batches-py", "cifar-10-batches-py"],
                    files={"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]},
                    label_key="labels", classes=10, size=32, mean=_CIFAR10_MEAN, std=_CIFAR10_STD,
                    how="Download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (163 MB) and extract it "
                        "into the data location."),
    "cifar100": dict(dirs=["cifar100_sample/cifar-100-python", "cifar-100-python"],
                     files={"train": ["train"], "test": ["test"]},
                     label_key="fine_labels", classes=100, size=32, mean=_CIFAR100_MEAN, std=_CIFAR100_STD,
                     how="Download https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz (161 MB) and extract it "
                         "into the data location."),
    "imagenet16": dict(dirs=_IN16_DIRS, files=_IN16_FILES, label_key="labels", classes=1000, size=16,
                       mean=_IN16_MEAN, std=_IN16_STD,
                       how="Get the ImageNet16 pickles (see https://github.com/D-X-Y/NAS-Bench-201, 'ImageNet16') "
                           "or use dataset 'imagenet16_standin' (CIFAR-100 downsampled; NOT ImageNet)."),
    "imagenet16-120": dict(dirs=_IN16_DIRS, files=_IN16_FILES, label_key="labels", classes=120, size=16,
                           mean=_IN16_MEAN, std=_IN16_STD,
                           how="Get the ImageNet16 pickles (see https://github.com/D-X-Y/NAS-Bench-201, 'ImageNet16') "
                               "or use dataset 'imagenet16_standin' (CIFAR-100 downsampled; NOT ImageNet)."),
    "imagenet16_standin": dict(classes=120, size=16, mean=_IN16_MEAN, std=_IN16_STD),
    "gaussian": dict(classes=10, size=32),
}


def _name(dataset: str) -> str:
    """The ``DATASETS`` key of ``dataset`` (aliases live in :mod:`zeroscore.names`, shared by every module)."""
    return dataset_name(dataset)


def is_standin(dataset: str) -> bool:
    """True when ``dataset`` is a substitute for another dataset (``imagenet16_standin``)."""
    return _name(dataset) == "imagenet16_standin"


def num_classes(dataset: str) -> int:
    """Classifier-head size for ``dataset`` (gaussian: the default 10)."""
    return DATASETS[_name(dataset)]["classes"]


def input_shape(dataset: str) -> tuple[int, int, int]:
    """(C, H, W) of one input image."""
    s = DATASETS[_name(dataset)]["size"]
    return (3, s, s)


# ---------------------------------------------------------------------------------------------------------------
# files


def _candidates(name: str, root) -> list[Path]:
    base = data_root(root)
    return [base / d for d in DATASETS[name]["dirs"]] + [base]


def _holds(name: str, folder: Path) -> bool:
    spec = DATASETS[name]
    return (folder / spec["files"]["test"][0]).is_file() or (folder / spec["files"]["train"][0]).is_file()


def locate(dataset: str, root=None) -> Path | None:
    """The folder holding ``dataset``'s official batch files in the data location, or None when there is none.

    ``imagenet16_standin`` is read from CIFAR-100's folder; ``gaussian`` has no files (None).
    """
    name = _name(dataset)
    name = "cifar100" if name == "imagenet16_standin" else name
    if "files" not in DATASETS[name]:
        return None
    return next((c for c in _candidates(name, root) if _holds(name, c)), None)


def _folder(name: str, root) -> Path:
    """The folder holding ``name``'s files: one of the known sub folders, or the data location itself."""
    found = locate(name, root)
    if found is not None:
        return found
    spec = DATASETS[name]
    files = ", ".join(spec["files"]["train"] + spec["files"]["test"])
    tried = "\n  ".join(str(c) for c in _candidates(name, root))
    raise DataNotFoundError(
        f"{name}: files {files} not found. {spec['how']} {where_hint()}\nLooked in:\n  {tried}"
    )


def _damaged(path: Path, what: str) -> DamagedFileError:
    return DamagedFileError(
        f"{path}: {what}. It is not an intact official batch file (truncated download or a different file?); "
        f"download the dataset again (`zeroscore data check` gives the link) and replace it."
    )


def _unpickle(path: Path) -> dict:
    """Load one official batch file (a trusted pickle); keys may be ``bytes`` (Python 2 files) or ``str``."""
    try:
        with open(path, "rb") as f:
            d = pickle.load(f, encoding="latin1")
    except Exception as err:  # a truncated or foreign pickle fails in many ways (EOF, opcode, import, value ...)
        raise _damaged(path, f"cannot be unpickled ({type(err).__name__}: {err})") from err
    if not isinstance(d, dict):
        raise _damaged(path, f"holds a {type(d).__name__}, not the dict of an official batch file")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in d.items()}


def _batch_arrays(path: Path, label_key: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(images N x 3 x size x size uint8, labels int64)`` of one batch file, checked for shape and length."""
    d = _unpickle(path)
    missing = [k for k in ("data", label_key) if k not in d]
    if missing:
        raise _damaged(path, f"the dict lacks {', '.join(repr(k) for k in missing)} (keys: {sorted(map(str, d))})")
    per_image = 3 * size * size
    try:
        data = np.asarray(d["data"], dtype=np.uint8)
        labels = np.asarray(d[label_key], dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as err:
        raise _damaged(path, f"'data' or {label_key!r} is not numeric ({err})") from err
    if data.ndim < 2 or int(np.prod(data.shape[1:])) != per_image:
        raise _damaged(path, f"'data' has shape {data.shape}, expected (N, {per_image}) for 3x{size}x{size} images")
    if labels.ndim != 1 or len(labels) != len(data):
        raise _damaged(path, f"{len(data)} images but {labels.size} labels")
    return data.reshape(-1, 3, size, size), labels


@functools.lru_cache(maxsize=8)
def _read_batches(folder: str, files: tuple[str, ...], label_key: str, size: int):
    images, labels = [], []
    for name in files:
        path = Path(folder) / name
        if not path.is_file():
            raise DataNotFoundError(f"expected {path} (official batch file {name}) but it does not exist: the "
                                    f"download is incomplete; extract the official archive again there. {where_hint()}")
        data, lab = _batch_arrays(path, label_key, size)
        images.append(data)
        labels.append(lab)
    x, y = np.concatenate(images), np.concatenate(labels)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_images(dataset: str, root=None, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """All images of a split as uint8 ``(N, 3, H, W)`` plus int64 labels (0-based), cached in-process (read-only).

    ``imagenet16_standin`` gives CIFAR-100 images 2x2-average-pooled to 16x16 (rounded to uint8) with fine labels.
    The files are unpickled: the data location must be trusted (see the module docstring).
    """
    name = _name(dataset)
    if split not in ("train", "test"):
        raise UsageError(f"split must be 'train' or 'test', not {split!r}")
    if name == "gaussian":
        raise UsageError("'gaussian' has no stored images; use load_batch")
    if name == "imagenet16_standin":
        return _standin(str(_folder("cifar100", root)), split)
    return _images(name, str(_folder(name, root)), split)


@functools.lru_cache(maxsize=4)
def _images(name: str, folder: str, split: str):
    spec = DATASETS[name]
    x, y = _read_batches(folder, tuple(spec["files"][split]), spec["label_key"], spec["size"])
    if name.startswith("imagenet16"):
        y = y - 1  # official labels are 1-based
        if name == "imagenet16-120":
            keep = y < 120
            x, y = x[keep], y[keep]
            x.setflags(write=False)
        y.setflags(write=False)
    return x, y


@functools.lru_cache(maxsize=2)
def _standin(cifar100_folder: str, split: str):
    spec = DATASETS["cifar100"]
    x, y = _read_batches(cifar100_folder, tuple(spec["files"][split]), spec["label_key"], 32)
    pooled = x.reshape(len(x), 3, 16, 2, 16, 2).astype(np.float32).mean(axis=(3, 5))
    x16 = np.rint(pooled).astype(np.uint8)
    x16.setflags(write=False)
    return x16, y


def describe(dataset: str, root=None) -> str:
    """One line: what data ``dataset`` is, which files it reads, and whether it is a stand-in."""
    name = _name(dataset)
    if name == "gaussian":
        return "gaussian: synthetic standard-normal inputs (3x32x32 by default), random targets; no files read"
    try:
        where = str(_folder("cifar100" if name == "imagenet16_standin" else name, root))
    except DataNotFoundError:
        where = f"NOT FOUND under {data_root(root)}"
    if name == "imagenet16_standin":
        return (f"imagenet16_standin: STAND-IN, NOT ImageNet16 -- CIFAR-100 images (train/test) from {where}, "
                f"2x2-average-pooled to 3x16x16, ImageNet16 normalisation, fine labels 0..99 under a 120-class head")
    spec = DATASETS[name]
    train = spec["files"]["train"]
    files = ", ".join([train[0] if len(train) == 1 else f"{train[0]}..{train[-1]}"] + spec["files"]["test"])
    return (f"{name}: real images, official batch files ({files}) in {where}; {spec['classes']} classes, "
            f"3x{spec['size']}x{spec['size']}, NB201 normalisation")


# ---------------------------------------------------------------------------------------------------------------
# batches


def _augment(x: np.ndarray, rng: np.random.Generator, pad: int) -> np.ndarray:
    """NB201 training augmentation: random crop after zero padding, random horizontal flip (seeded)."""
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=x.dtype)
    padded[:, :, pad : pad + h, pad : pad + w] = x
    out = np.empty_like(x)
    # (numpy's stubs type these as scalars)
    dy = cast(np.ndarray, rng.integers(0, 2 * pad + 1, size=n)).tolist()
    dx = cast(np.ndarray, rng.integers(0, 2 * pad + 1, size=n)).tolist()
    flip = cast(np.ndarray, rng.random(n) < 0.5).tolist()
    for i in range(n):
        img = padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w]
        out[i] = img[:, :, ::-1] if flip[i] else img
    return out


def load_batch(dataset: str, root=None, batch_size: int = 64, split: str = "train", seed: int = 0,
               num_classes: int | None = None, augment: bool = False, shape=None):
    """A deterministic batch ``(inputs float32 NCHW, targets int64)`` of ``dataset`` (see the module docstring).

    Real datasets: ``batch_size`` distinct images drawn with ``numpy.random.default_rng(seed)``; if
    ``num_classes`` is given only images with label < ``num_classes`` are eligible. ``augment=True`` applies NB201's
    training augmentation (crop with 4-pixel padding at 32x32 / 2 at 16x16, horizontal flip), from the same seed.
    ``gaussian``: ``shape`` (default ``(3, 32, 32)``) and ``num_classes`` (default 10) set inputs and targets.
    """
    name = _name(dataset)
    if name == "gaussian":
        shape = tuple(shape) if shape is not None else (3, 32, 32)
        g = torch.Generator().manual_seed(int(seed))
        noise = torch.randn((batch_size, *shape), generator=g)
        y = torch.randint(0, int(num_classes or 10), (batch_size,), generator=g)
        return noise, y
    images, labels = load_images(name, root, split)
    pool = np.arange(len(labels))
    if num_classes is not None:
        pool = pool[labels < num_classes]
    if batch_size > len(pool):
        raise UsageError(f"{name} {split}: batch_size {batch_size} > {len(pool)} available images")
    rng = np.random.default_rng(seed)
    idx = rng.choice(pool, size=batch_size, replace=False)
    x = images[idx]
    if augment:
        x = _augment(x, rng, pad=4 if x.shape[-1] == 32 else 2)
    spec = DATASETS[name]
    mean = np.asarray(spec["mean"], dtype=np.float32).reshape(1, 3, 1, 1) / 255.0
    std = np.asarray(spec["std"], dtype=np.float32).reshape(1, 3, 1, 1) / 255.0
    x = (x.astype(np.float32) / 255.0 - mean) / std
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(labels[idx].copy())
