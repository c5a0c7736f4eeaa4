"""Operation count of one forward pass."""

from __future__ import annotations

from zeroscore.indicators._flops import FlopCount
from zeroscore.indicators.base import register


@register
class Flops(FlopCount):
    """Operations of one forward pass of a single input (the first of the batch), a raw count.

    ``convention="macs"`` (default): exact multiply-accumulates of convolutions, linear layers and matrix
    products, one MAC per element of every normalisation, and one accumulate per in-bounds input element of
    every pooling window; counted per functional call, so layers written with ``F.conv2d`` etc. are included.
    Biases, activations and element-wise additions are not counted. Multiply by 2 for "FLOPs" in the
    multiply-and-add-count-separately sense.

    ``convention="naslib"``: the count behind the ``flops`` column of NAS-Bench-Suite-Zero (Krishnakumar et al.,
    NeurIPS 2022 D&B; NASLib ``predictive.find_measures`` -> ``tensorwatch.ModelStats`` on a ``[1, C, H, W]``
    input, torchstat's ``compute_flops`` per leaf module: conv MACs + bias adds, BatchNorm 2 per element, ReLU 1,
    pooling ``k*k`` per output, adaptive pooling with torchstat's ``(window+1)^2`` quirk, linear ``in*out``).
    The published NB201 ``flops`` (MFLOPs) equal ``value / 1e6`` exactly (see
    ``benchmarks/results/proxy_correlation_nb201.md``). Details of both conventions: ``zeroscore/indicators/_flops.py``.

    A size baseline rather than a training-free proxy; higher correlates with accuracy within NAS spaces.
    """

    name = "flops"
    paper = "FLOPs baseline (NAS-Bench-Suite-Zero, Krishnakumar et al., NeurIPS 2022)"
