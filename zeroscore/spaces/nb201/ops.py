"""NB201 operations (own implementation of the official ``cell_operations.py`` rules) and the residual block."""

from __future__ import annotations

import torch
import torch.nn as nn

from zeroscore.errors import InvalidArchError

from .arch import NB201_OPS

__all__ = ["ReLUConvBN", "Pooling", "Identity", "Zero", "FactorizedReduce", "make_op", "ResNetBasicblock"]


class ReLUConvBN(nn.Module):
    """ReLU -> Conv2d(bias=False) -> BatchNorm2d, NB201's ``ReLUConvBN``."""

    def __init__(self, C_in, C_out, kernel_size, stride, padding, dilation=1, affine=True, track_running_stats=True):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x):
        return self.op(x)


class Pooling(nn.Module):
    """NB201 ``POOLING``: optional 1x1 ReLUConvBN when channels change, then 3x3 average pooling."""

    def __init__(self, C_in, C_out, stride, affine=True, track_running_stats=True):
        super().__init__()
        self.preprocess = None if C_in == C_out else ReLUConvBN(C_in, C_out, 1, 1, 0, 1, affine, track_running_stats)
        self.op = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)

    def forward(self, x):
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.op(x)


class Identity(nn.Module):
    def forward(self, x):
        return x


class Zero(nn.Module):
    """The ``none`` op: zeros of the output shape.

    The reference multiplies the input by 0; fresh zeros are the same values (inputs are finite) without a
    gradient path, so backward passes skip ``none`` edges and whatever feeds only them (the gradient through
    them is 0 either way). This makes every gradient-based indicator cheaper on cells with ``none`` edges."""

    def __init__(self, C_in, C_out, stride):
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, stride

    def forward(self, x):
        shape = list(x.shape)
        shape[1] = self.C_out
        if self.stride != 1:
            shape[2] = (shape[2] + self.stride - 1) // self.stride
            shape[3] = (shape[3] + self.stride - 1) // self.stride
        return x.new_zeros(shape)

    def extra_repr(self):
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


class FactorizedReduce(nn.Module):
    """NB201 ``FactorizedReduce``: stride 2 -> ReLU + two shifted 1x1 convs (concat) + BN;
    stride 1 -> 1x1 conv + BN (no ReLU, as in the official code)."""

    def __init__(self, C_in, C_out, stride, affine=True, track_running_stats=True):
        super().__init__()
        self.stride, self.C_in, self.C_out = stride, C_in, C_out
        if stride == 2:
            self.relu = nn.ReLU(inplace=False)
            c_outs = [C_out // 2, C_out - C_out // 2]
            self.convs = nn.ModuleList(nn.Conv2d(C_in, c, 1, stride=2, padding=0, bias=False) for c in c_outs)
            self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0)
        elif stride == 1:
            self.conv = nn.Conv2d(C_in, C_out, 1, stride=1, padding=0, bias=False)
        else:
            raise ValueError(f"invalid stride {stride}")
        self.bn = nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats)

    def forward(self, x):
        if self.stride == 2:
            x = self.relu(x)
            y = self.pad(x)
            out = torch.cat([self.convs[0](x), self.convs[1](y[:, :, 1:, 1:])], dim=1)
        else:
            out = self.conv(x)
        return self.bn(out)


def make_op(name: str, C_in: int, C_out: int, stride: int, affine: bool = True,
            track_running_stats: bool = True) -> nn.Module:
    """An NB201 cell operation (same construction rules as the official ``OPS`` table)."""
    if name == "none":
        return Zero(C_in, C_out, stride)
    if name == "skip_connect":
        if stride == 1 and C_in == C_out:
            return Identity()
        return FactorizedReduce(C_in, C_out, stride, affine, track_running_stats)
    if name == "nor_conv_1x1":
        return ReLUConvBN(C_in, C_out, 1, stride, 0, 1, affine, track_running_stats)
    if name == "nor_conv_3x3":
        return ReLUConvBN(C_in, C_out, 3, stride, 1, 1, affine, track_running_stats)
    if name == "avg_pool_3x3":
        return Pooling(C_in, C_out, stride, affine, track_running_stats)
    raise InvalidArchError(f"unknown NB201 op {name!r}; known ops: {list(NB201_OPS)}")


class ResNetBasicblock(nn.Module):
    """NB201 residual reduction block between stages."""

    def __init__(self, inplanes, planes, stride, affine=True, track_running_stats=True):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"invalid stride {stride}")
        self.conv_a = ReLUConvBN(inplanes, planes, 3, stride, 1, 1, affine, track_running_stats)
        self.conv_b = ReLUConvBN(planes, planes, 3, 1, 1, 1, affine, track_running_stats)
        if stride == 2:
            self.downsample = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, padding=0, bias=False),
            )
        elif inplanes != planes:
            self.downsample = ReLUConvBN(inplanes, planes, 1, 1, 0, 1, affine, track_running_stats)
        else:
            self.downsample = None
        self.in_dim, self.out_dim, self.stride = inplanes, planes, stride

    def forward(self, x):
        out = self.conv_b(self.conv_a(x))
        residual = self.downsample(x) if self.downsample is not None else x
        return residual + out

