"""Residual blocks with an optional SE block at any of the paper's placements (Sec. 6.5).

One forward serves every placement and the plain twin (``se=None``), so an SE network and its
baseline run the same lines: :func:`senet.models.placement.place_se` with the tail
relu(f + shortcut); the standard and identity placements run it as one fused scale-add-ReLU
(:func:`senet.layers.fused.se_residual`). Placements (Fig. 5, Tables 14-15), with F the
residual branch:

- ``standard``: relu(SE(F(x)) + shortcut(x))                      (Fig. 5b, Fig. 3)
- ``pre``:      relu(F(SE(x)) + shortcut(x))                      (Fig. 5c, SE-PRE)
- ``post``:     SE(relu(F(x) + shortcut(x)))                      (Fig. 5d, SE-POST)
- ``identity``: relu(F(x) + SE(shortcut(x)))                      (Fig. 5e, SE-Identity)
- ``3x3``:      SE right after the 3x3 convolution inside F       (Table 15, SE_3x3)
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from senet.layers.conv import conv_norm_act
from senet.layers.fused import se_residual
from senet.layers.se import SEConfig, SqueezeExcite
from senet.models.placement import PLACEMENTS, Placement, check_placement, place_se

__all__ = ["PLACEMENTS", "BasicBlock", "Bottleneck", "LegacyBasicBlock", "Placement", "ResidualBlock"]


def relu_sum(f: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
    """relu(f + shortcut): the tail of a post-activation residual block."""
    return torch.relu(f + shortcut)


class ResidualBlock(nn.Module):
    """Shared forward of :class:`BasicBlock` and :class:`Bottleneck` (the identity-sum part)."""

    downsample: nn.Module | None
    se: SqueezeExcite | None
    placement: str

    def _attach_se(self, se: SEConfig | None, placement: str, in_ch: int, mid: int, out: int) -> None:
        check_placement(placement)
        self.placement = placement
        channels = {"pre": in_ch, "3x3": mid}.get(placement, out)
        self.se = None if se is None else SqueezeExcite(channels, se)

    def residual(self, x: torch.Tensor) -> torch.Tensor:  # F, the non-identity branch
        raise NotImplementedError

    def _se_3x3(self, x: torch.Tensor) -> torch.Tensor:
        return self.se(x) if self.se is not None and self.placement == "3x3" else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        fused = None if self.se is None else partial(se_residual, self.se)  # (u, other): relu(SE(u) + other)
        return place_se(self.se, self.placement, self.residual, x, shortcut, add=relu_sum, fused=fused)


def _downsample(in_ch: int, out: int, stride: int, kernel: int) -> nn.Module | None:
    """The projection shortcut where the shape changes: a 1x1 conv + BN; SENet-154 uses a 3x3
    conv for the stride-2 projections only (Appendix), a 1x1 where the stride is 1."""
    if stride == 1 and in_ch == out:
        return None
    return conv_norm_act(in_ch, out, kernel if stride > 1 else 1, stride, act=False)


class BasicBlock(ResidualBlock):
    """Two 3x3 convolutions (ResNet-18/34); ``SE_3x3`` goes after the first one. The first has
    ``mid`` output channels (None: ``out``, as in Table 1; fewer in a pruned network)."""

    def __init__(
        self,
        in_ch: int,
        out: int,
        *,
        mid: int | None = None,
        stride: int = 1,
        se: SEConfig | None = None,
        placement: Placement = "standard",
        downsample_kernel: int = 1,
    ) -> None:
        super().__init__()
        mid = mid or out
        self.conv1 = nn.Conv2d(in_ch, mid, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(in_ch, out, stride, downsample_kernel)
        self._attach_se(se, placement, in_ch, mid, out)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))  # (N, C, H/s, W/s)
        return self.bn2(self.conv2(self._se_3x3(out)))


class LegacyBasicBlock(BasicBlock):
    """:class:`BasicBlock` with a ReLU after ``bn2``, before the SE block: conv1-bn1-ReLU-conv2-
    bn2-ReLU-SE, then relu(F + shortcut), as the Cadene / timm-legacy SE-ResNet-18/34 weights
    expect (``ResNetConfig.relu_before_se``). Same parameters and state-dict keys as
    :class:`BasicBlock`; a class of its own so that code which rewrites ``BasicBlock.residual``
    by class (the fused blocks of :mod:`senet.fast`) leaves it alone instead of dropping the ReLU.
    """

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(super().residual(x))  # (N, C, H/s, W/s), >= 0


class Bottleneck(ResidualBlock):
    """1x1 reduce -> 3x3 (grouped for ResNeXt) -> 1x1 increase.

    ``stride_in_1x1`` puts the stride on the first 1x1 convolution (the released Caffe SE-ResNet
    models, and the paper's complexity figures) instead of the 3x3 (torchvision, timm).
    ``reduce`` is the width of the first 1x1 (SENet-154 halves it, Appendix); ``mid`` the width
    of the 3x3.
    """

    def __init__(
        self,
        in_ch: int,
        out: int,
        *,
        mid: int,
        reduce: int | None = None,
        stride: int = 1,
        groups: int = 1,
        stride_in_1x1: bool = False,
        se: SEConfig | None = None,
        placement: Placement = "standard",
        downsample_kernel: int = 1,
    ) -> None:
        super().__init__()
        reduce = reduce or mid
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = nn.Conv2d(in_ch, reduce, 1, s1, bias=False)
        self.bn1 = nn.BatchNorm2d(reduce)
        self.conv2 = nn.Conv2d(reduce, mid, 3, s3, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(in_ch, out, stride, downsample_kernel)
        self._attach_se(se, placement, in_ch, mid, out)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))  # (N, reduce, H, W)
        out = self.relu(self.bn2(self.conv2(out)))  # (N, mid, H/s, W/s)
        return self.bn3(self.conv3(self._se_3x3(out)))  # (N, C, H/s, W/s)
