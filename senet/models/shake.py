"""Shake-Shake networks for CIFAR (Gastaldi 2017), Tables 4-5, each with its SE twin.

A block has a skip connection and two residual branches mixed by a random affine combination
(Gastaldi, Sec. 2): ``x + alpha * F1(x) + (1 - alpha) * F2(x)`` in the forward pass, while the
backward pass sends ``beta * g`` and ``(1 - beta) * g`` to the branches. Gastaldi's names are
forward-backward-level: "Shake" draws a new U(0, 1) coefficient, "Even" uses 0.5, "Keep"
reuses the forward's; "Image" draws one per image, "Batch" one per mini-batch. At test time
both coefficients are 0.5.

- Shake-Shake 26 2x96d (Shake-Shake-Image, CIFAR-10): a 3x3 stem of 16 channels and three
  stages of 4 blocks of widths 96/192/384; each branch ReLU-conv3x3-BN-ReLU-conv3x3-BN.
- Shake-Even 29 2x4x64d (Shake-Even-Image, CIFAR-100): a 3x3 stem of 64 channels and three
  stages of 3 blocks whose branches are ResNeXt bottlenecks (1x1, grouped 3x3 with 4 groups,
  1x1) of widths 256/512/1024 (4 x 64 d in the first stage), outputs 256/512/1024.

Where the shape changes, the skip connection is Gastaldi's: ReLU, then two 1x1 convolutions of
C/2 channels on the strided input and on the input shifted by one pixel, concatenated, BN.
SE (Sec. 3.3) scales the mixed residual alpha F1 + (1 - alpha) F2 before the sum with the
skip; the ``pre``/``post``/``identity`` placements of Sec. 6.5 are options too.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from senet.layers.se import SEConfig
from senet.models.blocks import ResidualBlock
from senet.models.common import ClassifierNet, init_weights
from senet.models.placement import Placement, place_se

ForwardMix = Literal["shake", "even"]
BackwardMix = Literal["shake", "even", "keep"]
Level = Literal["image", "batch"]


class _ShakeMix(torch.autograd.Function):
    """alpha * a + (1 - alpha) * b forward; beta * g and (1 - beta) * g backward."""

    @staticmethod
    def forward(
        ctx: Any, a: torch.Tensor, b: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor
    ) -> torch.Tensor:
        ctx.save_for_backward(beta)
        return alpha * a + (1 - alpha) * b

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None, None]:
        (beta,) = ctx.saved_tensors
        return beta * grad, (1 - beta) * grad, None, None


def shake_mix(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    training: bool,
    forward: ForwardMix = "shake",
    backward: BackwardMix = "shake",
    level: Level = "image",
) -> torch.Tensor:
    """Mix two branch outputs (N, C, H, W) as Gastaldi's Shake / Even / Keep at image or batch level."""
    if not training:
        return 0.5 * (a + b)  # test time: the expected value of alpha
    shape = (a.shape[0], 1, 1, 1) if level == "image" else (1, 1, 1, 1)

    def draw(kind: str) -> torch.Tensor:
        if kind == "shake":
            return torch.rand(shape, device=a.device, dtype=a.dtype)
        return torch.full(shape, 0.5, device=a.device, dtype=a.dtype)

    alpha = draw(forward)
    beta = alpha if backward == "keep" else draw(backward)
    return _ShakeMix.apply(a, b, alpha, beta)


class ShakeShortcut(nn.Module):
    """Gastaldi's skip where the shape changes: ReLU; 1x1 convs (C/2 each) on the input and on
    the input shifted one pixel right and down, both subsampled by the stride; concat; BN."""

    def __init__(self, in_ch: int, out: int, stride: int) -> None:
        super().__init__()
        if out % 2:
            raise ValueError(f"the Shake-Shake skip splits C = {out} output channels in two halves")
        self.stride = stride
        self.conv1 = nn.Conv2d(in_ch, out // 2, 1, bias=False)
        self.conv2 = nn.Conv2d(in_ch, out // 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(x)
        shifted = F.pad(x, (1, -1, 1, -1))  # (N, C_in, H, W), content moved one pixel right and down
        s = self.stride
        paths = (self.conv1(x[:, :, ::s, ::s]), self.conv2(shifted[:, :, ::s, ::s]))  # (N, C/2, H/s, W/s)
        return self.bn(torch.cat(paths, 1))  # (N, C, H/s, W/s)


def _branch(in_ch: int, out: int, stride: int, mid: int | None, groups: int) -> nn.Sequential:
    """One residual branch: ReLU-conv3x3-BN-ReLU-conv3x3-BN, or with ``mid`` the bottleneck
    ReLU-conv1x1-BN-ReLU-conv3x3(groups)-BN-ReLU-conv1x1-BN."""
    if mid is None:
        units = ((in_ch, out, 3, stride, 1), (out, out, 3, 1, 1))
    else:
        units = ((in_ch, mid, 1, 1, 1), (mid, mid, 3, stride, groups), (mid, out, 1, 1, 1))
    layers: list[nn.Module] = []
    for cin, cout, kernel, s, g in units:
        conv = nn.Conv2d(cin, cout, kernel, s, kernel // 2, groups=g, bias=False)
        layers += [nn.ReLU(), conv, nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class ShakeStage:
    """One stage row: ``blocks`` blocks of output width C = ``out``; ``mid`` the width of a
    bottleneck branch's grouped 3x3 (None: two 3x3 convs of width C)."""

    blocks: int
    out: int
    stride: int
    mid: int | None = None


@dataclass(frozen=True)
class ShakeConfig:
    """Everything that defines a Shake-Shake network; builders are presets of it.

    ``forward_mix`` / ``backward_mix`` / ``level`` are Gastaldi's Shake/Even/Keep and
    Image/Batch choices; ``groups`` the cardinality of a bottleneck branch's 3x3.
    """

    stages: tuple[ShakeStage, ...]
    stem_width: int = 16
    groups: int = 1
    forward_mix: ForwardMix = "shake"
    backward_mix: BackwardMix = "shake"
    level: Level = "image"
    se: SEConfig | None = None
    placement: Placement = "standard"
    num_classes: int = 10
    in_chans: int = 3
    drop_rate: float = 0.0


class ShakeBlock(ResidualBlock):
    """skip(x) + SE(mix(F1(x), F2(x))): two branches of the same shape mixed by :func:`shake_mix`."""

    def __init__(self, in_ch: int, stage: ShakeStage, stride: int, config: ShakeConfig) -> None:
        super().__init__()
        if config.placement == "3x3":
            raise ValueError("Shake-Shake blocks have two 3x3 paths; SE placement '3x3' is not supported")
        self.config = config
        self.branch1 = _branch(in_ch, stage.out, stride, stage.mid, config.groups)
        self.branch2 = _branch(in_ch, stage.out, stride, stage.mid, config.groups)
        same = stride == 1 and in_ch == stage.out
        self.downsample = None if same else ShakeShortcut(in_ch, stage.out, stride)
        self._attach_se(config.se, config.placement, in_ch, stage.out, stage.out)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        return shake_mix(
            self.branch1(x),
            self.branch2(x),
            training=self.training,
            forward=cfg.forward_mix,
            backward=cfg.backward_mix,
            level=cfg.level,
        )  # (N, C, H/s, W/s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        return place_se(
            self.se, self.placement, self.residual, x, shortcut, add=operator.add
        )  # no ReLU after


class ShakeResNet(ClassifierNet):
    """A Shake-Shake network from a :class:`ShakeConfig` (He initialisation)."""

    def __init__(self, config: ShakeConfig) -> None:
        super().__init__()
        self.config = cfg = config
        width = cfg.stem_width
        self.conv1 = nn.Conv2d(cfg.in_chans, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)  # no ReLU: every branch and skip starts with one
        for index, stage in enumerate(cfg.stages, start=1):
            blocks = []
            for i in range(stage.blocks):
                blocks.append(ShakeBlock(width, stage, stage.stride if i == 0 else 1, cfg))
                width = stage.out
            self.add_module(f"layer{index}", nn.Sequential(*blocks))
        self.relu = nn.ReLU(inplace=True)
        self.add_head(width, cfg.num_classes, cfg.drop_rate)
        init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn1(self.conv1(x))  # (N, stem, H, W)
        for index in range(1, len(self.config.stages) + 1):
            x = getattr(self, f"layer{index}")(x)  # (N, C_i, H / 2**(i-1), W / 2**(i-1))
        return self.relu(x)


def shake_stages(blocks: int, width: int, mid: int | None = None) -> tuple[ShakeStage, ...]:
    """Three stages of ``blocks`` blocks, widths doubling from ``width`` (and ``mid``)."""
    return tuple(
        ShakeStage(blocks, width * 2**i, 1 if i == 0 else 2, None if mid is None else mid * 2**i)
        for i in range(3)
    )


# depth 26 = 2 + 3 stages x 4 blocks x 2 convs; "2x96d": 2 branches, 96 channels in stage 1.
SHAKE26_2X96D = ShakeConfig(shake_stages(4, 96))
# depth 29 = 2 + 3 x 3 x 3 convs; "2x4x64d": 2 branches, 4 groups of 64 channels in stage 1.
SHAKE_EVEN29_2X4X64D = ShakeConfig(
    shake_stages(3, 256, mid=4 * 64), stem_width=64, groups=4, backward_mix="even", num_classes=100
)
