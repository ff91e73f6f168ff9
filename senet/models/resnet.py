"""SE-ResNet, SE-ResNeXt and SENet-154 with their plain twins (Sec. 5, Table 1, Appendix).

Architectures are data: a :class:`ResNetConfig` holds one row per stage, as in Table 1 of the
paper; ``se=None`` gives the plain baseline from the same code. Module names follow
torchvision's ResNet (``conv1``, ``bn1``, ``layer1``..``layer4``, ``fc``; blocks hold ``se``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from senet.layers.se import SEConfig
from senet.models.blocks import BasicBlock, Bottleneck, LegacyBasicBlock, Placement
from senet.models.common import ClassifierNet, init_weights, replace_config


@dataclass(frozen=True)
class Stage:
    """One stage row of Table 1: ``blocks`` residual blocks whose output has C = ``out`` channels.

    ``mid`` is the width of the 3x3 convolution (the bottleneck width), ``reduce`` the width of
    the first 1x1 when it differs from ``mid`` (SENet-154 halves it), ``stride`` that of the
    first block. In a basic block ``mid`` is the width of the first 3x3 (``out`` in Table 1;
    narrower in a pruned network, :mod:`senet.prune`).
    """

    blocks: int
    mid: int
    out: int
    stride: int
    reduce: int | None = None
    se_hidden: int | None = None
    """The hidden width C' of this stage's SE blocks when it is not the SE options' rule for C =
    ``out``: a pruned network keeps its trained C' while its C shrinks. None: the rule."""


@dataclass(frozen=True)
class ResNetConfig:
    """Everything that defines a ResNet-family network; builders are presets of it.

    ``se_stages`` names the stages that get SE blocks as ``layer`` indices 1-4, which the paper
    calls stages 2-5 (Table 13). ``stem`` is the 7x7 convolution or SENet-154's three 3x3
    convolutions; ``downsample_kernel`` 3 gives SENet-154's 3x3 stride-2 projections;
    ``stem_pool_ceil`` rounds the stem max-pool output up, as Caffe does.
    """

    block: Literal["basic", "bottleneck"]
    stages: tuple[Stage, ...]
    groups: int = 1
    stem: Literal["7x7", "deep"] = "7x7"
    stem_pool_ceil: bool = False
    stride_in_1x1: bool = False
    downsample_kernel: int = 1
    se: SEConfig | None = None
    placement: Placement = "standard"
    se_stages: tuple[int, ...] = (1, 2, 3, 4)
    num_classes: int = 1000
    in_chans: int = 3
    drop_rate: float = 0.0
    stem_width: int | None = None
    """The stem's output width: None for Table 1's (64; 128 for the deep stem); narrower in a
    pruned network, whose first stage shares the stem's channels (basic blocks)."""
    relu_before_se: bool = False
    """Basic blocks only: a ReLU after ``bn2``, before the SE block (conv1-bn1-ReLU-conv2-bn2-ReLU-SE,
    then relu(sum)). The Cadene / timm-legacy SE-ResNet-18/34 weights have it (layouts.md: "the
    ReLU after bn2, before the SE block, is not in torchvision's BasicBlock"); the paper's Fig. 3
    block, timm's current ``seresnet18/34`` and torchvision do not. Bottlenecks never have it.
    No parameters: the state-dict keys are the same either way."""

    def __post_init__(self) -> None:
        if self.relu_before_se and self.block != "basic":
            raise ValueError(
                "ResNetConfig.relu_before_se applies to basic blocks only (no bottleneck has it)"
            )

    def replace(self, **overrides: Any) -> ResNetConfig:
        """A copy with ``overrides``; an unknown name is an error that lists the valid ones."""
        return replace_config(self, overrides, "a ResNet")


def _stem(cfg: ResNetConfig) -> tuple[nn.Module, int]:
    if cfg.stem == "7x7":  # 7x7, 64, stride 2 (Table 1)
        width = cfg.stem_width or 64
        return nn.Conv2d(cfg.in_chans, width, 7, 2, 3, bias=False), width
    width = cfg.stem_width or 128
    layers: list[nn.Module] = []  # SENet-154: 3x3/2 64, 3x3 64, 3x3 128 (Appendix)
    for i, (cin, cout, stride) in enumerate(((cfg.in_chans, 64, 2), (64, 64, 1), (64, width, 1))):
        if i:
            layers.append(nn.ReLU(inplace=True))
        layers.append(nn.Conv2d(cin, cout, 3, stride, 1, bias=False))
        if i < 2:
            layers.append(nn.BatchNorm2d(cout))
    return nn.Sequential(*layers), width


class ResNet(ClassifierNet):
    """A ResNet-family network built from a :class:`ResNetConfig` (He initialisation)."""

    def __init__(self, config: ResNetConfig) -> None:
        super().__init__()
        self.config = cfg = config
        self.conv1, width = _stem(cfg)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        pad = 0 if cfg.stem_pool_ceil else 1
        self.maxpool = nn.MaxPool2d(3, 2, pad, ceil_mode=cfg.stem_pool_ceil)
        for index, stage in enumerate(cfg.stages, start=1):
            se = cfg.se if index in cfg.se_stages else None
            blocks = []
            for i in range(stage.blocks):
                blocks.append(self._block(width, stage, stage.stride if i == 0 else 1, se))
                width = stage.out
            self.add_module(f"layer{index}", nn.Sequential(*blocks))
        self.add_head(width, cfg.num_classes, cfg.drop_rate)
        init_weights(self)

    def _block(self, in_ch: int, stage: Stage, stride: int, se: SEConfig | None) -> nn.Module:
        cfg = self.config
        if se is not None and stage.se_hidden is not None:
            se = dataclasses.replace(se, hidden=stage.se_hidden)
        common = dict(stride=stride, se=se, placement=cfg.placement, downsample_kernel=cfg.downsample_kernel)
        if cfg.block == "basic":
            block = LegacyBasicBlock if cfg.relu_before_se else BasicBlock
            return block(in_ch, stage.out, mid=stage.mid, **common)
        return Bottleneck(
            in_ch,
            stage.out,
            mid=stage.mid,
            reduce=stage.reduce,
            groups=cfg.groups,
            stride_in_1x1=cfg.stride_in_1x1,
            **common,
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4)
        x = self.layer1(x)  # (N, C1, H/4, W/4)
        x = self.layer2(x)  # (N, C2, H/8, W/8)
        x = self.layer3(x)  # (N, C3, H/16, W/16)
        return self.layer4(x)  # (N, C4, H/32, W/32)


def bottleneck_stages(
    blocks: tuple[int, ...], width: int = 64, groups: int = 1, reduce_ratio: float = 1.0
) -> tuple[Stage, ...]:
    """Stage rows of a bottleneck network: the 3x3 width of stage i is ``width * groups * 2**i``
    (C = 4 x 64 x 2**i output channels, Table 1); ResNeXt C x d is ``groups=C, width=d``."""
    rows = []
    for i, n in enumerate(blocks):
        mid = width * groups * 2**i
        reduce = int(mid * reduce_ratio) if reduce_ratio != 1.0 else None
        rows.append(Stage(n, mid, 256 * 2**i, 1 if i == 0 else 2, reduce))
    return tuple(rows)


def basic_stages(blocks: tuple[int, ...]) -> tuple[Stage, ...]:
    """Stage rows of ResNet-18/34: two 3x3 convolutions of 64 x 2**i channels."""
    return tuple(Stage(n, 64 * 2**i, 64 * 2**i, 1 if i == 0 else 2) for i, n in enumerate(blocks))


# Table 1 of the paper and He et al. 2016, Table 1: blocks per stage (conv2_x .. conv5_x).
# The paper's ResNets take the stride on the first 1x1, as its released models do.
RESNET18 = ResNetConfig("basic", basic_stages((2, 2, 2, 2)))
RESNET34 = ResNetConfig("basic", basic_stages((3, 4, 6, 3)))
RESNET50 = ResNetConfig("bottleneck", bottleneck_stages((3, 4, 6, 3)), stride_in_1x1=True)
RESNET101 = ResNetConfig("bottleneck", bottleneck_stages((3, 4, 23, 3)), stride_in_1x1=True)
RESNET152 = ResNetConfig("bottleneck", bottleneck_stages((3, 8, 36, 3)), stride_in_1x1=True)
# ResNeXt 32x4d (Xie et al. 2017, Table 1); stride on the grouped 3x3.
RESNEXT50 = ResNetConfig("bottleneck", bottleneck_stages((3, 4, 6, 3), 4, 32), groups=32)
RESNEXT101 = ResNetConfig("bottleneck", bottleneck_stages((3, 4, 23, 3), 4, 32), groups=32)
# SENet-154 (Appendix): 64x4d ResNeXt-152, first 1x1 halved, deep stem, 3x3 projections, dropout.
SENET154 = ResNetConfig(
    "bottleneck",
    bottleneck_stages((3, 8, 36, 3), 4, 64, reduce_ratio=0.5),
    groups=64,
    stem="deep",
    downsample_kernel=3,
    drop_rate=0.2,
)
