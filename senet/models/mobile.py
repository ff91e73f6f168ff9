"""MobileNet 1.0-224 and ShuffleNet 1x (g = 3) with their SE twins (Table 3).

- MobileNet (Howard et al. 2017, Table 1): a 3x3/2 convolution of 32 channels, then 13
  depthwise-separable blocks (3x3 depthwise -> BN -> ReLU -> 1x1 pointwise -> BN -> ReLU).
  SE scales each block's output (after the pointwise ReLU).
- ShuffleNet (Zhang et al. 2018, Table 1, g = 3): a 3x3/2 convolution of 24 channels and a
  3x3/2 max-pool, then stages of 4 / 8 / 4 units with outputs 240 / 480 / 960. A unit's branch is
  1x1 group conv (g) -> BN -> ReLU -> channel shuffle -> 3x3 depthwise (stride) -> BN -> 1x1
  group conv (g) -> BN, with bottleneck width C/4; stride-1 units add the identity, stride-2
  units concatenate a 3x3/2 average pool of the input (the branch makes C - C_in channels);
  ReLU after. The first 1x1 of stage 2 is not grouped (its input has only 24 channels).
  SE scales the branch before the sum or concatenation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from senet.layers.conv import conv_norm_act
from senet.layers.se import SEConfig, SqueezeExcite
from senet.models.common import ClassifierNet, init_weights

# --------------------------------------------------------------------------- MobileNet


@dataclass(frozen=True)
class SeparableRow:
    """One depthwise-separable row of Howard et al., Table 1: 3x3 dw (stride), 1x1 to ``out``."""

    out: int
    stride: int = 1


# Howard et al. 2017, Table 1 (width multiplier 1.0): the 13 "Conv dw / Conv 1x1" pairs.
MOBILENET_ROWS: tuple[SeparableRow, ...] = (
    SeparableRow(64),
    SeparableRow(128, 2),
    SeparableRow(128),
    SeparableRow(256, 2),
    SeparableRow(256),
    SeparableRow(512, 2),
    *[SeparableRow(512)] * 5,
    SeparableRow(1024, 2),
    SeparableRow(1024),
)


@dataclass(frozen=True)
class MobileNetConfig:
    """Everything that defines a MobileNet v1; ``stem`` is the first convolution's width."""

    rows: tuple[SeparableRow, ...] = MOBILENET_ROWS
    stem: int = 32
    se: SEConfig | None = None
    num_classes: int = 1000
    in_chans: int = 3
    drop_rate: float = 0.0


class SeparableBlock(nn.Sequential):
    """3x3 depthwise -> BN -> ReLU -> 1x1 pointwise -> BN -> ReLU (Howard et al., Fig. 3), then SE."""

    def __init__(self, in_ch: int, row: SeparableRow, se: SEConfig | None) -> None:
        layers = [conv_norm_act(in_ch, in_ch, 3, row.stride, groups=in_ch), conv_norm_act(in_ch, row.out, 1)]
        super().__init__(*layers, *([SqueezeExcite(row.out, se)] if se is not None else []))


class MobileNetV1(ClassifierNet):
    """MobileNet v1 from a :class:`MobileNetConfig` (He initialisation)."""

    def __init__(self, config: MobileNetConfig) -> None:
        super().__init__()
        self.config = cfg = config
        layers: list[nn.Module] = [conv_norm_act(cfg.in_chans, cfg.stem, 3, 2)]  # (N, 32, H/2, W/2)
        width = cfg.stem
        for row in cfg.rows:
            layers.append(SeparableBlock(width, row, cfg.se))
            width = row.out
        self.features = nn.Sequential(*layers)  # (N, 1024, H/32, W/32)
        self.add_head(width, cfg.num_classes, cfg.drop_rate)
        init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


# --------------------------------------------------------------------------- ShuffleNet


@dataclass(frozen=True)
class ShuffleStage:
    """One stage row of Zhang et al., Table 1: ``units`` units with C = ``out`` output channels;
    the first has stride 2."""

    units: int
    out: int


# Zhang et al. 2018, Table 1, g = 3 (1x): Stage2-4 with 240 / 480 / 960 output channels.
SHUFFLENET_G3_STAGES: tuple[ShuffleStage, ...] = (
    ShuffleStage(4, 240),
    ShuffleStage(8, 480),
    ShuffleStage(4, 960),
)


@dataclass(frozen=True)
class ShuffleNetConfig:
    """Everything that defines a ShuffleNet v1: ``groups`` g, the stem width and the stages."""

    stages: tuple[ShuffleStage, ...] = SHUFFLENET_G3_STAGES
    groups: int = 3
    stem: int = 24
    se: SEConfig | None = None
    num_classes: int = 1000
    in_chans: int = 3
    drop_rate: float = 0.0


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Zhang et al., Fig. 1c: (N, g * n, H, W) -> view (N, g, n) -> transpose -> (N, n * g, H, W)."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleUnit(nn.Module):
    """A ShuffleNet unit (Zhang et al., Fig. 2b stride 1 / 2c stride 2) with SE on its branch."""

    def __init__(
        self, in_ch: int, out: int, *, stride: int, groups: int, first_groups: int, se: SEConfig | None
    ) -> None:
        super().__init__()
        self.stride, self.groups = stride, groups
        branch_out = out - in_ch if stride == 2 else out  # stride 2: concatenated with the pooled input
        mid = out // 4
        for name, width, g in (
            ("input", in_ch, first_groups),
            ("C/4", mid, groups),
            ("branch", branch_out, groups),
        ):
            if width <= 0 or width % g:
                raise ValueError(
                    f"ShuffleNet unit: {name} width {width} is not a positive multiple of g = {g}"
                )
        self.conv1 = conv_norm_act(in_ch, mid, 1, groups=first_groups)  # 1x1 GConv -> BN -> ReLU
        self.conv2 = conv_norm_act(mid, mid, 3, stride, groups=mid, act=False)  # 3x3 DWConv -> BN
        self.conv3 = conv_norm_act(mid, branch_out, 1, groups=groups, act=False)  # 1x1 GConv -> BN
        self.se = None if se is None else SqueezeExcite(branch_out, se)
        self.pool = nn.AvgPool2d(3, 2, 1) if stride == 2 else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = channel_shuffle(self.conv1(x), self.groups)  # (N, C/4, H, W)
        out = self.conv3(self.conv2(out))  # (N, C_branch, H/s, W/s)
        out = out if self.se is None else self.se(out)
        if self.pool is None:
            return self.relu(out + x)  # (N, C, H, W)
        return self.relu(torch.cat((self.pool(x), out), 1))  # (N, C, H/2, W/2)


class ShuffleNetV1(ClassifierNet):
    """ShuffleNet v1 from a :class:`ShuffleNetConfig` (He initialisation)."""

    def __init__(self, config: ShuffleNetConfig) -> None:
        super().__init__()
        self.config = cfg = config
        layers: list[nn.Module] = [
            conv_norm_act(cfg.in_chans, cfg.stem, 3, 2),
            nn.MaxPool2d(3, 2, 1),
        ]  # (N, 24, H/4, W/4)
        width = cfg.stem
        for index, stage in enumerate(cfg.stages):
            for i in range(stage.units):
                first_groups = 1 if index == 0 and i == 0 else cfg.groups
                stride = 2 if i == 0 else 1
                layers.append(
                    ShuffleUnit(
                        width,
                        stage.out,
                        stride=stride,
                        groups=cfg.groups,
                        first_groups=first_groups,
                        se=cfg.se,
                    )
                )
                width = stage.out
        self.features = nn.Sequential(*layers)  # (N, 960, H/32, W/32)
        self.add_head(width, cfg.num_classes, cfg.drop_rate)
        init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)
