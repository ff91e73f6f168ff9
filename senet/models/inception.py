"""BN-Inception (Ioffe & Szegedy 2015) and SE-BN-Inception (Fig. 2, Table 2), one code path.

The network is the Inception of Ioffe & Szegedy, Fig. 5 (their Inception with batch
normalisation: 5x5 convolutions replaced by two 3x3, every convolution followed by BN and ReLU),
as in the released Caffe model the SE paper builds on. SE-BN-Inception (Fig. 2) takes F_tr to be
the whole Inception module: an SE block of C = the module's output channels scales the
concatenation of its branches, after every one of the ten modules (3a-5b).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from senet.layers.conv import conv_norm_act
from senet.layers.se import SEConfig, SqueezeExcite
from senet.models.common import ClassifierNet, init_weights


@dataclass(frozen=True)
class InceptionRow:
    """One row of Ioffe & Szegedy, Fig. 5: the widths of an Inception module's four branches.

    ``n1x1`` 0 means no 1x1 branch; ``proj`` 0 means the pooled input passes through
    unprojected (the stride-2 modules 3c and 4e, whose 3x3 convs and pool take the stride).
    """

    name: str
    n1x1: int
    n3x3_reduce: int
    n3x3: int
    double_reduce: int
    double: int
    pool: Literal["avg", "max"]
    proj: int
    stride: int = 1

    def out_channels(self, in_ch: int) -> int:
        return self.n1x1 + self.n3x3 + self.double + (self.proj or in_ch)


# Ioffe & Szegedy 2015, Fig. 5 (#1x1, #3x3 reduce, #3x3, double #3x3 reduce, double #3x3, pool + proj)
BN_INCEPTION_MODULES: tuple[InceptionRow, ...] = (
    InceptionRow("3a", 64, 64, 64, 64, 96, "avg", 32),
    InceptionRow("3b", 64, 64, 96, 64, 96, "avg", 64),
    InceptionRow("3c", 0, 128, 160, 64, 96, "max", 0, stride=2),
    InceptionRow("4a", 224, 64, 96, 96, 128, "avg", 128),
    InceptionRow("4b", 192, 96, 128, 96, 128, "avg", 128),
    InceptionRow("4c", 160, 128, 160, 128, 160, "avg", 128),
    InceptionRow("4d", 96, 128, 192, 160, 192, "avg", 128),
    InceptionRow("4e", 0, 128, 192, 192, 256, "max", 0, stride=2),
    InceptionRow("5a", 352, 192, 320, 160, 224, "avg", 128),
    InceptionRow("5b", 352, 192, 320, 192, 224, "max", 128),
)


class CeilMaxPool(nn.Module):
    """The stride-2 3x3 max-pool of 3c and 4e as Caffe computes it: unpadded, output size rounded
    up, ceil((H - 3) / 2) + 1, the last window clipped at the border.

    That equals the size of the padded stride-2 convolutions beside it, floor((H - 1) / 2) + 1,
    only for even H, where Caffe's concatenation works (input sides 32k - 1 .. 32k + 6: 224,
    256, ...). One row and column of -inf at the bottom and right, which no max ever takes,
    keeps every value Caffe's at even H and gives odd H the convolutions' (H + 1) / 2 outputs.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (0, 1, 0, 1), value=-math.inf)  # (N, C, H + 1, W + 1)
        return F.max_pool2d(x, 3, 2, ceil_mode=True)  # (N, C, ceil(H / 2), ceil(W / 2))


def _pool(row: InceptionRow) -> nn.Module:
    """The pool branch's 3x3 pool, as the released Caffe model (SE-BN-Inception.prototxt) pools.

    Stride 1 (all modules but 3c, 4e): padded by 1, so H x W is kept; the average divides by 9
    at the border too (Caffe's AVE divides by the window clipped at the padded border, which at
    stride 1 is always 3 x 3: ``count_include_pad``). Stride 2 (3c, 4e): :class:`CeilMaxPool`.
    """
    if row.stride == 2:
        if row.pool != "max":
            raise ValueError(f"module {row.name}: a stride-2 module pools with max (Fig. 5), not {row.pool}")
        return CeilMaxPool()
    if row.pool == "max":
        return nn.MaxPool2d(3, 1, 1)
    return nn.AvgPool2d(3, 1, 1, count_include_pad=True)


class InceptionModule(nn.Module):
    """concat(1x1, 1x1 -> 3x3, 1x1 -> 3x3 -> 3x3, pool -> 1x1), then SE on the concatenation."""

    def __init__(self, in_ch: int, row: InceptionRow, se: SEConfig | None) -> None:
        super().__init__()
        s = row.stride
        self.branch1x1 = conv_norm_act(in_ch, row.n1x1, 1) if row.n1x1 else None
        self.branch3x3 = nn.Sequential(
            conv_norm_act(in_ch, row.n3x3_reduce, 1), conv_norm_act(row.n3x3_reduce, row.n3x3, 3, s)
        )
        self.branch_double = nn.Sequential(
            conv_norm_act(in_ch, row.double_reduce, 1),
            conv_norm_act(row.double_reduce, row.double, 3),
            conv_norm_act(row.double, row.double, 3, s),
        )
        self.branch_pool = nn.Sequential(
            _pool(row), *([conv_norm_act(in_ch, row.proj, 1)] if row.proj else [])
        )
        self.out_channels = row.out_channels(in_ch)
        self.se = None if se is None else SqueezeExcite(self.out_channels, se)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.branch3x3(x), self.branch_double(x), self.branch_pool(x)]
        if self.branch1x1 is not None:
            branches.insert(0, self.branch1x1(x))
        u = torch.cat(branches, 1)  # (N, C, H/s, W/s): U, the output of F_tr
        return u if self.se is None else self.se(u)


@dataclass(frozen=True)
class BNInceptionConfig:
    """Everything that defines a BN-Inception; ``se=None`` is the plain network."""

    modules: tuple[InceptionRow, ...] = BN_INCEPTION_MODULES
    se: SEConfig | None = None
    num_classes: int = 1000
    in_chans: int = 3
    drop_rate: float = 0.0


class BNInception(ClassifierNet):
    """BN-Inception: a 7x7 / 1x1 / 3x3 stem with two max-pools, then the modules of Fig. 5."""

    def __init__(self, config: BNInceptionConfig) -> None:
        super().__init__()
        self.config = cfg = config
        self.stem = nn.Sequential(
            conv_norm_act(cfg.in_chans, 64, 7, 2),  # conv1 7x7/2: (N, 64, 112, 112)
            nn.MaxPool2d(3, 2, ceil_mode=True),  # (N, 64, 56, 56)
            conv_norm_act(64, 64, 1),  # conv2 1x1
            conv_norm_act(64, 192, 3),  # conv2 3x3: (N, 192, 56, 56)
            nn.MaxPool2d(3, 2, ceil_mode=True),  # (N, 192, 28, 28)
        )
        width, blocks = 192, []
        for row in cfg.modules:
            blocks.append(InceptionModule(width, row, cfg.se))
            width = blocks[-1].out_channels
        self.blocks = nn.Sequential(*blocks)  # 3a..5b: (N, 1024, 7, 7) at 224
        self.add_head(width, cfg.num_classes, cfg.drop_rate)
        init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))
