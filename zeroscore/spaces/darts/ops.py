"""DARTS operations (own implementation of the ``OPS`` table of quark0/darts ``cnn/operations.py``).

``affine`` and ``track_running_stats`` set every BatchNorm of an op; the evaluation network uses the defaults
(``True``, ``True``), DARTS' search network ``affine=False``.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from zeroscore.errors import InvalidArchError

from .genotypes import BUILDABLE_OPS

__all__ = ["ReLUConvBN", "DilConv", "SepConv", "Identity", "Zero", "FactorizedReduce", "make_op"]


class ReLUConvBN(nn.Module):
    def __init__(self, C_in, C_out, kernel_size, stride, padding, affine=True, track_running_stats=True):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    def __init__(self, C_in, C_out, kernel_size, stride, padding, dilation, affine=True, track_running_stats=True):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding, dilation=dilation, groups=C_in,
                      bias=False),
            nn.Conv2d(C_in, C_out, kernel_size=1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x):
        return self.op(x)


class SepConv(nn.Module):
    def __init__(self, C_in, C_out, kernel_size, stride, padding, affine=True, track_running_stats=True):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_in, kernel_size=1, padding=0, bias=False),
            nn.BatchNorm2d(C_in, affine=affine, track_running_stats=track_running_stats),
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=1, padding=padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, kernel_size=1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x):
        return self.op(x)


class Identity(nn.Module):
    def forward(self, x):
        return x


class Zero(nn.Module):
    """The ``none`` op: zeros of the output shape, without a gradient path (see the NB201 ``Zero``)."""

    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        if self.stride == 1:
            return x.new_zeros(x.shape)
        return x.new_zeros(x[:, :, :: self.stride, :: self.stride].shape)


class FactorizedReduce(nn.Module):
    def __init__(self, C_in, C_out, affine=True, track_running_stats=True):
        super().__init__()
        if C_out % 2:
            raise InvalidArchError(f"FactorizedReduce needs an even number of output channels, got {C_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats)

    def forward(self, x):
        x = self.relu(x)
        y = x[:, :, 1:, 1:]
        if x.shape[2] % 2 or x.shape[3] % 2:
            # odd sizes: DARTS' code cannot concatenate the branches; pad the shifted branch at the end as
            # xautodl's FactorizedReduce (used by TE-NAS) does. Even sizes are unaffected.
            y = nn.functional.pad(y, (0, x.shape[3] % 2, 0, x.shape[2] % 2))
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(y)], dim=1))


def make_op(name: str, C: int, stride: int, affine: bool = True, track_running_stats: bool = True) -> nn.Module:
    """A DARTS op (same construction rules as DARTS' ``OPS`` table)."""
    if name == "none":
        return Zero(stride)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "skip_connect":
        if stride == 1:
            return Identity()
        return FactorizedReduce(C, C, affine=affine, track_running_stats=track_running_stats)
    if name == "sep_conv_3x3":
        return SepConv(C, C, 3, stride, 1, affine=affine, track_running_stats=track_running_stats)
    if name == "sep_conv_5x5":
        return SepConv(C, C, 5, stride, 2, affine=affine, track_running_stats=track_running_stats)
    if name == "sep_conv_7x7":
        return SepConv(C, C, 7, stride, 3, affine=affine, track_running_stats=track_running_stats)
    if name == "dil_conv_3x3":
        return DilConv(C, C, 3, stride, 2, 2, affine=affine, track_running_stats=track_running_stats)
    if name == "dil_conv_5x5":
        return DilConv(C, C, 5, stride, 4, 2, affine=affine, track_running_stats=track_running_stats)
    if name == "conv_7x1_1x7":
        return nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C, C, (1, 7), stride=(1, stride), padding=(0, 3), bias=False),
            nn.Conv2d(C, C, (7, 1), stride=(stride, 1), padding=(3, 0), bias=False),
            nn.BatchNorm2d(C, affine=affine, track_running_stats=track_running_stats),
        )
    raise InvalidArchError(f"unknown DARTS op {name!r}; known ops: {list(BUILDABLE_OPS)}")

