"""Number of linear regions (TE-NAS expressivity)."""

from __future__ import annotations

import numpy as np
import torch

from zeroscore.errors import IndicatorNotApplicable
from zeroscore.indicators.base import Indicator, register
from zeroscore.passes import relu_codes


def count_distinct_codes(codes: list[torch.Tensor]) -> int:
    """Number of distinct rows of the concatenated binary codes (one row per sample)."""
    full = torch.cat([c.reshape(c.shape[0], -1) for c in codes], dim=1).cpu().numpy()
    packed = np.packbits(full, axis=1)
    return int(np.unique(packed, axis=0).shape[0])


def random_crops(images: torch.Tensor, n: int, size: int, channels: int | None,
                 generator: torch.Generator) -> torch.Tensor:
    """``n`` random ``size x size`` crops of random images (and of ``channels`` random channels, if given)."""
    images = images.cpu()
    batch, c, h, w = images.shape
    if size > h or size > w:
        raise ValueError(f"crop size {size} is larger than the {h}x{w} inputs")
    idx = torch.randint(0, batch, (n,), generator=generator)
    top = torch.randint(0, h - size + 1, (n,), generator=generator)
    left = torch.randint(0, w - size + 1, (n,), generator=generator)
    rows = top[:, None] + torch.arange(size)[None, :]
    cols = left[:, None] + torch.arange(size)[None, :]
    crops = images[idx[:, None, None, None], torch.arange(c)[None, :, None, None],
                   rows[:, None, :, None], cols[:, None, None, :]]
    if channels is not None:
        pick = torch.argsort(torch.rand(n, c, generator=generator), dim=1)[:, :channels].sort(dim=1).values
        crops = crops[torch.arange(n)[:, None], pick]
    return crops


def random_interpolations(inputs: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` points ``t a + (1 - t) b`` on segments between random pairs of inputs, ``t ~ U(0, 1)``."""
    inputs = inputs.cpu()
    a = inputs[torch.randint(0, inputs.shape[0], (n,), generator=generator)]
    b = inputs[torch.randint(0, inputs.shape[0], (n,), generator=generator)]
    t = torch.rand((n,) + (1,) * (inputs.dim() - 1), generator=generator, dtype=inputs.dtype)
    return t * a + (1 - t) * b


@register
class LinearRegions(Indicator):
    """Number of distinct ReLU activation patterns (linear regions) hit by sampled inputs.

    TE-NAS (Chen et al., ICLR 2021; ``Linear_Region_Collector`` in VITA-Group/TENAS): ``n_batches`` batches of
    ``batch_size`` random ``crop_size x crop_size`` crops of real training images (TE-NAS: 3 x 1000 crops of
    3x3, one random channel per crop, fed to a 1-channel, C=1 copy of the network that the search spaces build
    with ``Space.build_thin``); the sign pattern after every ReLU (train-mode BatchNorm, per batch); the number
    of distinct patterns over all samples. Higher is better.

    Sampling, by input:

    * 4-D images and a model that accepts ``crop_size`` crops: crops as above (all channels unless
      ``channels`` is set);
    * a model that cannot run on crops (e.g. an MLP on flattened 32x32 images), or non-image inputs:
      the same number of points on segments between random pairs of the probe's inputs (TE-NAS's idea of
      many samples near the data, where crops do not apply);
    * ``crop_size=None``: exactly the probe's inputs (the count is then at most the batch size).

    On a wide network nearly every sample gets its own pattern and the count saturates at
    ``n_batches * batch_size``: that is why TE-NAS counts on the thin network.
    """

    name = "linear_regions"
    higher_is_better = True
    needs = frozenset({"data", "relu"})
    paper = "TE-NAS (Chen et al., ICLR 2021)"
    cost = "forward"
    network = "thin"  # TE-NAS counts regions on the space's one-channel network where it has one

    def __init__(self, crop_size: int | None = 3, batch_size: int = 1000, n_batches: int = 3,
                 channels: int | None = None, bn_train: bool = True):
        self.crop_size = crop_size
        self.batch_size = batch_size
        self.n_batches = n_batches
        self.channels = channels
        self.bn_train = bn_train

    def requires(self) -> frozenset[str]:
        # crops and interpolations are new float inputs; crop_size=None counts the batch's own codes
        return frozenset(self.needs | ({"float_inputs"} if self.crop_size is not None else set()))

    def for_thin_network(self) -> LinearRegions:
        """TE-NAS's thin-network protocol: crops of ONE random channel (``channels=1``) unless set."""
        if self.channels is not None:
            return self
        return type(self)(**{**self.get_params(), "channels": 1})

    def compute(self, probe) -> float:
        if self.crop_size is None:
            return float(count_distinct_codes(relu_codes(probe, self.bn_train)))
        gen = probe.generator()
        x = probe.inputs
        use_crops = x.dim() == 4
        codes = []
        for _ in range(self.n_batches):
            batch_codes = None
            if use_crops:
                crops = random_crops(x, self.batch_size, self.crop_size, self.channels, gen)
                try:
                    batch_codes = relu_codes(probe, self.bn_train, inputs=crops)
                except IndicatorNotApplicable:
                    raise
                except RuntimeError:
                    if self.channels is not None:  # a thin network fed channel-subset crops: no fallback
                        raise
                    # the model must run on its real inputs: an error there is a real error, raised here (checked
                    # only now: a forward of the whole batch would cost more than the crops themselves)
                    probe.forward(self.bn_train)
                    # it runs on the full inputs (checked above) but not on crops (e.g. an MLP over
                    # flattened images): sample near the data by interpolation instead
                    use_crops = False
            if batch_codes is None:
                batch_codes = relu_codes(probe, self.bn_train, inputs=random_interpolations(x, self.batch_size, gen))
            codes.append(torch.cat([c.reshape(c.shape[0], -1) for c in batch_codes], dim=1))
        return float(count_distinct_codes([torch.cat(codes, dim=0)]))
