"""CIFAR residual networks of Tables 4-5 (32x32 input), each with its SE twin.

- ResNet-20/32/56/110 (He et al. 2016a, "Deep residual learning", Sec. 4.2; post-activation): a
  3x3 stem of 16 channels, then three stages of n basic blocks with 16, 32 and 64 channels (depth
  6n + 2), option-A shortcuts (strided identity, zero-padded channels: no parameters), as in that
  paper.
- Pre-activation ResNet-110 and ResNet-164 (He et al. 2016b, "Identity mappings in deep residual
  networks", the SE paper's ref. [14] and the baselines of Tables 4-5): full pre-activation units
  (BN-ReLU-conv, Fig. 4e), 18 per stage: basic units of 16/32/64 channels (depth 6n + 2) or
  bottlenecks of widths 16/32/64 with outputs 64/128/256 (depth 9n + 2); the first unit's BN-ReLU
  is shared with its 1x1 projection shortcut, and a final BN-ReLU precedes the pooling (Sec. 4).
  ResNet-164 takes the stride on the first 1x1, as the authors' released code (resnet-1k-layers)
  does; ResNet-110's projection shortcuts where the shape changes are a choice (the paper gives
  none for its basic units; the count differs from option A by 2,560 of 1.7M parameters).
- ``RESNET164`` (registered as ``resnet164_cifar`` before the pair above) is the same
  pre-activation bottleneck network with the stride on the 3x3 convolution; it is kept unchanged
  so that its seeds and weights stay valid.
- WRN-16-8 (Zagoruyko & Komodakis 2016, Table 1): pre-activation basic blocks, 2 per stage,
  widths 16k/32k/64k with k = 8, 1x1 projection shortcuts, optional dropout between the convs.

SE (Sec. 3.3, Fig. 3) acts on the residual branch F before the sum with the identity; the
placements of Sec. 6.5 (Tables 14-15) are the ``placement`` option, as for the ImageNet ResNets.
With r = 16 the 16-channel stage of the ResNet-20..110 families gets C' = max(1, 16 // 16) = 1
hidden unit (the paper's rule, kept: ``se=SEConfig(hidden=...)`` or ``divisor`` sets a floor).
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from senet.layers.se import SEConfig
from senet.models.blocks import BasicBlock, ResidualBlock
from senet.models.common import ClassifierNet, init_weights
from senet.models.placement import Placement, place_se

Shortcut = Literal["A", "B"]


class ZeroPadShortcut(nn.Module):
    """Option A of He et al. 2016: subsample by ``stride``, pad the new channels with zeros."""

    def __init__(self, in_ch: int, out: int, stride: int) -> None:
        super().__init__()
        if out < in_ch:
            raise ValueError(f"a zero-padding shortcut cannot reduce {in_ch} channels to {out}")
        self.stride, self.extra = stride, out - in_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]  # (N, C_in, H/s, W/s)
        return F.pad(x, (0, 0, 0, 0, 0, self.extra))  # (N, C_out, H/s, W/s)


class CifarBasicBlock(BasicBlock):
    """The post-activation basic block (two 3x3 convs) with an option-A or -B shortcut."""

    def __init__(
        self,
        in_ch: int,
        out: int,
        *,
        mid: int | None = None,
        stride: int = 1,
        shortcut: Shortcut = "A",
        se: SEConfig | None = None,
        placement: Placement = "standard",
    ) -> None:
        super().__init__(in_ch, out, mid=mid, stride=stride, se=se, placement=placement)
        if shortcut == "A" and self.downsample is not None:
            self.downsample = ZeroPadShortcut(in_ch, out, stride)


class PreActBlock(ResidualBlock):
    """A pre-activation unit (BN-ReLU-conv, "Identity mappings", Fig. 4e): basic (3x3, 3x3; WRN)
    or bottleneck (1x1 ``mid``, 3x3 ``mid`` with the stride, 1x1 ``out``; ResNet-164).

    The first BN-ReLU is shared by the residual branch and a projection shortcut; there is no
    ReLU after the sum. ``SE_3x3`` goes after the first 3x3 conv; WRN's dropout before the last.
    ``stride_in_1x1`` puts a bottleneck's stride on its first 1x1 instead of the 3x3. The
    network's first unit (``first``) feeds the activated input to an identity shortcut too: "we
    adopt the first activation right after conv1 and before splitting into two paths" (He et al.
    2016b, Sec. 4); the other identity shortcuts carry the unit's input unchanged.
    """

    def __init__(
        self,
        in_ch: int,
        out: int,
        *,
        mid: int,
        stride: int = 1,
        bottleneck: bool = False,
        shortcut: Shortcut = "B",
        se: SEConfig | None = None,
        placement: Placement = "standard",
        drop_rate: float = 0.0,
        stride_in_1x1: bool = False,
        first: bool = False,
    ) -> None:
        super().__init__()
        self.first = first
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        units = ((1, mid, s1), (3, mid, s3), (1, out, 1)) if bottleneck else ((3, out, stride), (3, out, 1))
        self.depth = len(units)
        self.se_after = 1 if bottleneck else 0  # index of the first 3x3 conv
        cin = in_ch
        for i, (kernel, width, s) in enumerate(units, start=1):
            self.add_module(f"bn{i}", nn.BatchNorm2d(cin))
            self.add_module(f"conv{i}", nn.Conv2d(cin, width, kernel, s, kernel // 2, bias=False))
            cin = width
        self.relu = nn.ReLU(inplace=True)
        self.drop = nn.Dropout(drop_rate)
        self.downsample = _shortcut(in_ch, out, stride, shortcut, bn=False)
        self._attach_se(se, placement, in_ch, units[self.se_after][1], out)

    def residual(self, x: torch.Tensor) -> torch.Tensor:  # x is already relu(bn1(input))
        out = self.conv1(x)
        for i in range(2, self.depth + 1):
            out = self._se_3x3(out) if i - 2 == self.se_after else out
            out = self.relu(getattr(self, f"bn{i}")(out))
            out = self.drop(out) if i == self.depth else out
            out = getattr(self, f"conv{i}")(out)
        return out  # (N, C, H/s, W/s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu(self.bn1(x))  # (N, C_in, H, W)
        if self.downsample is not None:
            shortcut = self.downsample(pre)  # (N, C, H/s, W/s)
        else:
            shortcut = pre if self.first else x
        return place_se(
            self.se, self.placement, self.residual, pre, shortcut, add=operator.add
        )  # no ReLU after


def _shortcut(in_ch: int, out: int, stride: int, kind: Shortcut, bn: bool) -> nn.Module | None:
    if stride == 1 and in_ch == out:
        return None
    if kind == "A":
        return ZeroPadShortcut(in_ch, out, stride)
    conv = nn.Conv2d(in_ch, out, 1, stride, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(out)) if bn else conv


@dataclass(frozen=True)
class CifarStage:
    """One stage row: ``blocks`` units of output width C = ``out``; ``mid`` the bottleneck width
    (for ``basic`` blocks the first 3x3's width, None: ``out``; narrower in a pruned network)."""

    blocks: int
    out: int
    stride: int
    mid: int | None = None
    se_hidden: int | None = None
    """The hidden width C' of this stage's SE blocks when it is not the SE options' rule for C =
    ``out``: a pruned network keeps its trained C' while its C shrinks. None: the rule."""


@dataclass(frozen=True)
class CifarResNetConfig:
    """Everything that defines a CIFAR residual network; builders are presets of it.

    ``block``: ``basic`` (post-activation, He et al. 2016a), ``preact`` (basic pre-activation,
    WRN) or ``preact_bottleneck`` (ResNet-164). ``shortcut``: ``A`` zero padding, ``B`` 1x1
    projection where the shape changes. ``block_drop_rate`` is WRN's dropout inside the blocks,
    ``drop_rate`` dropout before the classifier. ``stride_in_1x1`` puts a pre-activation
    bottleneck's stride on its first 1x1 convolution (He et al. 2016b's released code).
    """

    block: Literal["basic", "preact", "preact_bottleneck"]
    stages: tuple[CifarStage, ...]
    stem_width: int = 16
    shortcut: Shortcut = "A"
    se: SEConfig | None = None
    placement: Placement = "standard"
    num_classes: int = 10
    in_chans: int = 3
    drop_rate: float = 0.0
    block_drop_rate: float = 0.0
    stride_in_1x1: bool = False


class CifarResNet(ClassifierNet):
    """A CIFAR residual network from a :class:`CifarResNetConfig` (He initialisation)."""

    def __init__(self, config: CifarResNetConfig) -> None:
        super().__init__()
        self.config = cfg = config
        self.preact = cfg.block != "basic"
        width = cfg.stem_width
        self.conv1 = nn.Conv2d(cfg.in_chans, width, 3, 1, 1, bias=False)  # 3x3, 16
        # post-activation: BN-ReLU after the stem; pre-activation: after the last unit
        self.bn1 = nn.Identity() if self.preact else nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        for index, stage in enumerate(cfg.stages, start=1):
            blocks = []
            for i in range(stage.blocks):
                first = index == 1 and i == 0
                blocks.append(self._block(width, stage, stage.stride if i == 0 else 1, first))
                width = stage.out
            self.add_module(f"layer{index}", nn.Sequential(*blocks))
        self.bn_final = nn.BatchNorm2d(width) if self.preact else nn.Identity()
        self.add_head(width, cfg.num_classes, cfg.drop_rate)
        init_weights(self)

    def _block(self, in_ch: int, stage: CifarStage, stride: int, first: bool) -> nn.Module:
        cfg = self.config
        se = cfg.se
        if se is not None and stage.se_hidden is not None:
            se = dataclasses.replace(se, hidden=stage.se_hidden)
        common = dict(stride=stride, shortcut=cfg.shortcut, se=se, placement=cfg.placement)
        if cfg.block == "basic":
            return CifarBasicBlock(in_ch, stage.out, mid=stage.mid, **common)
        bottleneck = cfg.block == "preact_bottleneck"
        mid = stage.mid or stage.out
        return PreActBlock(
            in_ch, stage.out, mid=mid, bottleneck=bottleneck, drop_rate=cfg.block_drop_rate,
            stride_in_1x1=cfg.stride_in_1x1, first=first, **common,
        )  # fmt: skip

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (N, 16, H, W)
        x = x if self.preact else self.relu(self.bn1(x))
        for index in range(1, len(self.config.stages) + 1):
            x = getattr(self, f"layer{index}")(x)  # (N, C_i, H / 2**(i-1), W / 2**(i-1))
        return self.relu(self.bn_final(x)) if self.preact else x


def resnet_cifar_stages(n: int) -> tuple[CifarStage, ...]:
    """He et al. 2016a, Sec. 4.2: 2n layers on each of the 32/16/8 maps, 16/32/64 filters."""
    return tuple(CifarStage(n, 16 * 2**i, 1 if i == 0 else 2) for i in range(3))


def preact_bottleneck_stages(n: int) -> tuple[CifarStage, ...]:
    """ResNet-164 ("Identity mappings"): n bottlenecks per stage, widths 16/32/64, outputs x4."""
    return tuple(CifarStage(n, 64 * 2**i, 1 if i == 0 else 2, 16 * 2**i) for i in range(3))


def wide_stages(depth: int, k: int) -> tuple[CifarStage, ...]:
    """WRN-depth-k (Zagoruyko & Komodakis, Table 1): (depth - 4) / 6 blocks of 16k/32k/64k."""
    n = (depth - 4) // 6
    return tuple(CifarStage(n, 16 * k * 2**i, 1 if i == 0 else 2) for i in range(3))


# depth 6n + 2 (He et al. 2016a, Sec. 4.2, option A); 1.7M params for ResNet-110 (Table 6).
RESNET20 = CifarResNetConfig("basic", resnet_cifar_stages(3))
RESNET32 = CifarResNetConfig("basic", resnet_cifar_stages(5))
RESNET56 = CifarResNetConfig("basic", resnet_cifar_stages(9))
RESNET110 = CifarResNetConfig("basic", resnet_cifar_stages(18))
# depth 9n + 2 with n = 18 (1.7M params), the stride on the 3x3: kept as first registered.
RESNET164 = CifarResNetConfig("preact_bottleneck", preact_bottleneck_stages(18), shortcut="B")
# The baselines of Tables 4-5: He et al. 2016b ("Identity mappings"), Table 3: 1.7M params each.
PREACT_RESNET110 = CifarResNetConfig("preact", resnet_cifar_stages(18), shortcut="B")
PREACT_RESNET164 = CifarResNetConfig(
    "preact_bottleneck", preact_bottleneck_stages(18), shortcut="B", stride_in_1x1=True
)
# WRN-16-8 (Zagoruyko & Komodakis, Table 4: 11.0M params).
WRN16_8 = CifarResNetConfig("preact", wide_stages(16, 8), shortcut="B")
