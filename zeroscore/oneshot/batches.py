"""Images for a weight-sharing search: :class:`SearchData` and its batches.

``SearchData.load(dataset, root, split_file, seed)`` reads the images of the data location and the search split
(:mod:`zeroscore.oneshot.splits`); ``SearchData(...)`` takes tensors directly (tests, your own data).

Batches follow the official search loader (AutoDL-Projects ``SearchDataset`` + ``get_nas_search_loaders``):
:meth:`SearchData.search_batches` walks the weight images in a fresh random order every epoch and pairs each with a
random architecture image (drawn with replacement); both get the training augmentation (random crop after 4-pixel
padding at 32x32, 2 at 16x16, horizontal flip) when ``augment`` is on. :meth:`SearchData.valid_batches` gives the
architecture images without augmentation (the official ``valid_loader``: selection and one-shot accuracy). All
randomness comes from the ``numpy.random.Generator`` passed in, so a checkpoint of its state resumes the same
batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from zeroscore.data import DATASETS, load_images, num_classes
from zeroscore.errors import UsageError
from zeroscore.names import dataset_name

from .splits import search_split

__all__ = ["SearchData"]

Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass
class SearchData:
    """Weight images (``train_x``, ``train_y``) and architecture images (``valid_x``, ``valid_y``).

    Images are uint8 ``(N, C, H, W)`` (normalised per batch with ``mean`` / ``std``, 0-255 scale) or float tensors
    used as they are (``mean`` / ``std`` None). ``augment`` turns on the training augmentation of the search batches.
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    valid_x: torch.Tensor
    valid_y: torch.Tensor
    num_classes: int
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    augment: bool = False
    name: str = "tensors"
    source: str = "given tensors"

    def __post_init__(self):
        if len(self.train_x) == 0 or len(self.valid_x) == 0:
            raise UsageError(f"{self.name}: the search needs weight and architecture images, got "
                             f"{len(self.train_x)} and {len(self.valid_x)}")
        if len(self.train_x) != len(self.train_y) or len(self.valid_x) != len(self.valid_y):
            raise UsageError(f"{self.name}: images and labels differ in number")

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(cls, dataset: str, root=None, split_file=None, seed: int = 0, augment: bool = True) -> SearchData:
        """The images of ``dataset`` in the data location, divided by the search split (official, else the
        seeded fallback; ``source`` says which)."""
        name = dataset_name(dataset)
        train_x, train_y = load_images(name, root, "train")
        test_x, test_y = load_images(name, root, "test")
        split = search_split(name, len(train_y), len(test_y), root=root, split_file=split_file, seed=seed)
        arrays = {"train": (train_x, train_y), "test": (test_x, test_y)}
        wx, wy = arrays[split.weight_split]
        ax, ay = arrays[split.arch_split]
        spec = DATASETS[name]
        return cls(torch.from_numpy(wx[split.weight_rows]), torch.from_numpy(wy[split.weight_rows]),
                   torch.from_numpy(ax[split.arch_rows]), torch.from_numpy(ay[split.arch_rows]),
                   num_classes(name), tuple(spec["mean"]), tuple(spec["std"]), augment, name, split.source)

    def describe(self) -> str:
        return (f"{self.name}: {len(self.train_y)} weight images / {len(self.valid_y)} architecture images "
                f"({self.source})")

    # ------------------------------------------------------------------ batches
    def steps_per_epoch(self, batch_size: int) -> int:
        return -(-len(self.train_y) // batch_size)  # the official loader keeps the last, smaller batch

    def search_batches(self, batch_size: int, rng: np.random.Generator) -> Iterator[tuple[Batch, Batch]]:
        """One epoch of ``((weight images, labels), (architecture images, labels))`` pairs."""
        order = rng.permutation(len(self.train_y))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            arch_rows = rng.integers(0, len(self.valid_y), size=len(rows))
            yield (self._batch(self.train_x, self.train_y, rows, rng, self.augment),
                   self._batch(self.valid_x, self.valid_y, arch_rows, rng, self.augment))

    def valid_batches(self, batch_size: int, rng: np.random.Generator | None = None,
                      max_images: int | None = None) -> Iterator[Batch]:
        """The architecture images without augmentation, shuffled when ``rng`` is given, at most ``max_images``."""
        n = len(self.valid_y)
        order = rng.permutation(n) if rng is not None else np.arange(n)
        if max_images is not None:
            order = order[:max_images]
        for start in range(0, len(order), batch_size):
            yield self._batch(self.valid_x, self.valid_y, order[start:start + batch_size], None, False)

    def _batch(self, images: torch.Tensor, labels: torch.Tensor, rows: np.ndarray,
               rng: np.random.Generator | None, augment: bool) -> Batch:
        index = torch.from_numpy(np.asarray(rows, dtype=np.int64))
        x = images[index]
        if augment and rng is not None:
            x = _crop_and_flip(x, rng)
        if self.mean is not None and self.std is not None:
            mean = torch.tensor(self.mean).view(1, -1, 1, 1)
            std = torch.tensor(self.std).view(1, -1, 1, 1)
            x = (x.float() - mean) / std
        return x.float(), labels[index].long()


def _crop_and_flip(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """NB201's training augmentation: random crop after zero padding (4 pixels at 32x32, 2 at 16x16) and a random
    horizontal flip, per image. Padding zeros are raw zeros (black), as torchvision pads before normalising."""
    n, _, h, w = x.shape
    pad = 4 if h >= 32 else 2
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    dy = rng.integers(0, 2 * pad + 1, size=n).tolist()
    dx = rng.integers(0, 2 * pad + 1, size=n).tolist()
    flip = (rng.random(n) < 0.5).tolist()
    out = torch.empty_like(x)
    for i in range(n):
        crop = padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out[i] = crop.flip(-1) if flip[i] else crop
    return out
