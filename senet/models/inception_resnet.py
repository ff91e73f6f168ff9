"""Inception-ResNet-v2 (Szegedy et al. 2017) and SE-Inception-ResNet-v2 (Table 2, 299 x 299).

Layer widths and block counts are those of the authors' released model (the TF-slim
``inception_resnet_v2``): a stem to 35 x 35 x 320 (Mixed_5b), 10 Inception-ResNet-A blocks
(Fig. 16), Reduction-A (Fig. 7, k, l, m, n = 256, 256, 384, 384), 20 Inception-ResNet-B blocks
(Fig. 17), Reduction-B (Fig. 18), 10 Inception-ResNet-C blocks (Fig. 19; the last one without
its ReLU), a 1x1 convolution to 1536 channels, average pooling, dropout and the classifier.

Every convolution is followed by BN and ReLU except a residual block's last 1x1 (bias, linear),
whose output U is the residual branch: the block computes relu(x + scale * F(x)) with the
residual scaling of Sec. 3.3 of Szegedy et al. (0.17, 0.10, 0.20). SE (Sec. 3.3 of the SE
paper, "the same scheme" as SE-ResNet) scales U before the scaling and the sum:
relu(x + scale * SE(U)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from senet.layers.conv import conv_norm_act
from senet.layers.se import SEConfig, SqueezeExcite
from senet.models.common import ClassifierNet, init_weights


@dataclass(frozen=True)
class Conv:
    """A conv -> BN -> ReLU of ``out`` channels; ``valid`` means no padding (TF 'VALID')."""

    out: int
    kernel: int | tuple[int, int]
    stride: int = 1
    valid: bool = False


@dataclass(frozen=True)
class Pool:
    """A 3x3 pool; ``valid`` stride-2 pools shrink like the 'VALID' convolutions beside them."""

    kind: Literal["max", "avg"]
    stride: int = 1
    valid: bool = False


Branch = tuple[Conv | Pool, ...]

# Each module is a tuple of parallel branches whose outputs are concatenated (Figs. 7, 16-19).
STEM: tuple[Conv | Pool, ...] = (  # 299 -> 35 (Conv2d_1a .. MaxPool_5a)
    Conv(32, 3, 2, valid=True),
    Conv(32, 3, valid=True),
    Conv(64, 3),
    Pool("max", 2, valid=True),
    Conv(80, 1),
    Conv(192, 3, valid=True),
    Pool("max", 2, valid=True),
)
MIXED_5B: tuple[Branch, ...] = (
    (Conv(96, 1),),
    (Conv(48, 1), Conv(64, 5)),
    (Conv(64, 1), Conv(96, 3), Conv(96, 3)),
    (Pool("avg"), Conv(64, 1)),
)  # 35 x 35 x 320
BLOCK_A: tuple[Branch, ...] = (
    (Conv(32, 1),),
    (Conv(32, 1), Conv(32, 3)),
    (Conv(32, 1), Conv(48, 3), Conv(64, 3)),
)
REDUCTION_A: tuple[Branch, ...] = (
    (Conv(384, 3, 2, valid=True),),
    (Conv(256, 1), Conv(256, 3), Conv(384, 3, 2, valid=True)),
    (Pool("max", 2, valid=True),),
)  # 17 x 17 x 1088
BLOCK_B: tuple[Branch, ...] = ((Conv(192, 1),), (Conv(128, 1), Conv(160, (1, 7)), Conv(192, (7, 1))))
REDUCTION_B: tuple[Branch, ...] = (
    (Conv(256, 1), Conv(384, 3, 2, valid=True)),
    (Conv(256, 1), Conv(288, 3, 2, valid=True)),
    (Conv(256, 1), Conv(288, 3), Conv(320, 3, 2, valid=True)),
    (Pool("max", 2, valid=True),),
)  # 8 x 8 x 2080
BLOCK_C: tuple[Branch, ...] = ((Conv(192, 1),), (Conv(192, 1), Conv(224, (1, 3)), Conv(256, (3, 1))))


def _layer(spec: Conv | Pool, in_ch: int) -> tuple[nn.Module, int]:
    if isinstance(spec, Pool):
        pad = 0 if spec.valid else 1
        if spec.kind == "max":
            return nn.MaxPool2d(3, spec.stride, pad), in_ch
        return nn.AvgPool2d(3, spec.stride, pad, count_include_pad=False), in_ch
    padding = (0, 0) if spec.valid else None  # None: 'same'
    return conv_norm_act(in_ch, spec.out, spec.kernel, spec.stride, padding=padding), spec.out


def sequence(specs: tuple[Conv | Pool, ...], in_ch: int) -> tuple[nn.Sequential, int]:
    """The layers of one branch (or the stem) and its output width."""
    layers = []
    for spec in specs:
        layer, in_ch = _layer(spec, in_ch)
        layers.append(layer)
    return nn.Sequential(*layers), in_ch


class Mixed(nn.Module):
    """Parallel branches concatenated along the channels."""

    def __init__(self, branches: tuple[Branch, ...], in_ch: int) -> None:
        super().__init__()
        built = [sequence(b, in_ch) for b in branches]
        self.branches = nn.ModuleList(b for b, _ in built)
        self.out_channels = sum(w for _, w in built)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([b(x) for b in self.branches], 1)


class InceptionResNetBlock(nn.Module):
    """relu(x + scale * SE(U)), U = conv1x1(concat(branches)) (linear, with bias): Figs. 16-19."""

    def __init__(
        self,
        branches: tuple[Branch, ...],
        channels: int,
        scale: float,
        se: SEConfig | None,
        relu: bool = True,
    ) -> None:
        super().__init__()
        self.mixed = Mixed(branches, channels)
        self.up = nn.Conv2d(self.mixed.out_channels, channels, 1)  # back to C channels, no BN
        self.se = None if se is None else SqueezeExcite(channels, se)
        self.scale, self.relu = scale, relu

    def residual(self, x: torch.Tensor) -> torch.Tensor:  # F, the non-identity branch
        u = self.up(self.mixed(x))  # (N, C, H, W)
        return u if self.se is None else self.se(u)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x + self.scale * self.residual(x)
        return torch.relu(out) if self.relu else out


@dataclass(frozen=True)
class InceptionResNetConfig:
    """Everything that defines an Inception-ResNet-v2: block counts and residual scales per
    grid (35, 17, 8), the final 1x1 width; ``se=None`` is the plain network."""

    blocks: tuple[int, int, int] = (10, 20, 10)
    scales: tuple[float, float, float] = (0.17, 0.10, 0.20)
    head_width: int = 1536
    se: SEConfig | None = None
    num_classes: int = 1000
    in_chans: int = 3
    drop_rate: float = 0.2  # TF-slim keeps 0.8


class InceptionResNetV2(ClassifierNet):
    """Inception-ResNet-v2 from an :class:`InceptionResNetConfig` (He initialisation)."""

    default_input_size = 299
    min_input_size = 75  # the VALID convolutions leave 1 x 1 at the end

    def __init__(self, config: InceptionResNetConfig) -> None:
        super().__init__()
        self.config = cfg = config
        self.stem, width = sequence(STEM, cfg.in_chans)  # (N, 192, 35, 35) at 299
        self.mixed_5b = Mixed(MIXED_5B, width)  # (N, 320, 35, 35)
        width = self.mixed_5b.out_channels
        stages: list[nn.Module] = []
        for index, (block, reduction) in enumerate(
            ((BLOCK_A, REDUCTION_A), (BLOCK_B, REDUCTION_B), (BLOCK_C, None))
        ):
            n, scale = cfg.blocks[index], cfg.scales[index]
            last = reduction is None  # the final C block: no ReLU and no scaling (TF-slim)
            repeat = [
                InceptionResNetBlock(
                    block, width, 1.0 if last and i == n - 1 else scale, cfg.se, not (last and i == n - 1)
                )
                for i in range(n)
            ]
            stages.append(nn.Sequential(*repeat))
            if reduction is not None:
                stages.append(Mixed(reduction, width))
                width = stages[-1].out_channels
        self.blocks = nn.Sequential(*stages)  # (N, 2080, 8, 8)
        self.head, width = sequence((Conv(cfg.head_width, 1),), width)  # Conv2d_7b_1x1
        self.add_head(width, cfg.num_classes, cfg.drop_rate)
        init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.mixed_5b(self.stem(x))))  # (N, 1536, 8, 8) at 299
