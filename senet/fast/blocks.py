"""Inference-only residual blocks: BN folded, ReLUs in place, the SE tail fused (Sec. 3, Fig. 3).

:class:`FastBlock` replaces a :class:`senet.models.blocks.ResidualBlock` whose batch norms were
folded (:mod:`senet.fast.fold`). For the standard placement it computes
``relu(u * s + shortcut)`` as one ``addcmul`` written over u plus one in-place ReLU, the same
number of passes as the plain block's ``relu(u + shortcut)``. When the last convolution of the
residual branch is a 1x1 (the Bottleneck), the squeeze F_sq is taken *before* it:

    z = mean_hw(W3 y + b3) = W3 mean_hw(y) + b3          (y: the input of the last 1x1 conv)

which pools a tensor with C/4 channels instead of C (a 1x1 stride-1 convolution is linear per
position, so averaging commutes with it). The block is eval-only: it writes in place into its
own intermediates and needs parameters that do not require grad.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from senet.fast.ops import excite
from senet.layers.se import SqueezeExcite
from senet.models.blocks import BasicBlock, Bottleneck, ResidualBlock


def is_post_activation_block(module: nn.Module) -> bool:
    """Whether ``module`` runs the forward of :class:`ResidualBlock` with the residual branch of
    :class:`BasicBlock` or :class:`Bottleneck` (conv-BN-ReLU order; subclasses that only change
    the shortcut qualify, pre-activation blocks with their own forward do not)."""
    cls = type(module)
    return (
        isinstance(module, ResidualBlock)
        and cls.forward is ResidualBlock.forward
        and cls.residual in (BasicBlock.residual, Bottleneck.residual)
    )


def _as_conv(module: nn.Module | None) -> nn.Module | None:
    """A folded ``Sequential(conv, Identity)`` as its conv (one module call less)."""
    if isinstance(module, nn.Sequential):
        layers = [m for m in module if not isinstance(m, nn.Identity)]
        return layers[0] if len(layers) == 1 else nn.Sequential(*layers)
    return module


def _is_pointwise(conv: nn.Conv2d) -> bool:
    """A 1x1, stride-1, unpadded, ungrouped convolution: linear per position."""
    return (
        conv.kernel_size == (1, 1)
        and conv.stride == (1, 1)
        and conv.padding in ((0, 0), "valid")
        and conv.groups == 1
        and conv.dilation == (1, 1)
    )


class FastBlock(nn.Module):
    """The eval-mode forward of a BN-folded residual block, for every SE placement (Sec. 6.5)."""

    def __init__(self, block: ResidualBlock) -> None:
        super().__init__()
        if not is_post_activation_block(block):
            raise TypeError(
                f"FastBlock cannot run {type(block).__name__}: it has its own forward or residual"
            )
        names = (
            ("conv1", "conv2", "conv3") if type(block).residual is Bottleneck.residual else ("conv1", "conv2")
        )
        for name in names:
            bn = getattr(block, "bn" + name[4:])
            if not isinstance(bn, nn.Identity):
                raise ValueError(
                    f"FastBlock needs folded batch norms; {type(block).__name__}.{name} is followed by {bn}"
                )
        self.convs = nn.ModuleList(getattr(block, name) for name in names)
        self.downsample = _as_conv(block.downsample)
        self.se: SqueezeExcite | None = block.se
        self.placement = block.placement
        last = self.convs[-1]
        self.pool_before_last = (
            self.se is not None
            and self.placement == "standard"
            and self.se.squeeze == "avg"
            and isinstance(last, nn.Conv2d)
            and _is_pointwise(last)
        )

    def _residual(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """F(x) (N, C, H', W') and the input y of its last convolution."""
        *head, last = self.convs
        y = x
        for conv in head:
            y = conv(y).relu_()
        if self.se is not None and self.placement == "3x3":
            y = self.se(y)  # SE_3x3 (Table 15), before the last convolution
        return last(y), y

    def _excitation(self, u: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """s for the standard placement: (N, C, 1, 1), or (N, C, H, W) without a squeeze."""
        se = self.se
        if not self.pool_before_last:
            return se.excitation(u)
        last = self.convs[-1]
        z = F.linear(y.mean((2, 3)), last.weight.flatten(1), last.bias)  # (N, C) = F_sq(u)
        s = excite(z, se.fc1.weight, se.fc1.bias, se.fc2.weight, se.fc2.bias, se.gate)  # (N, C)
        return s[:, :, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        se, where = self.se, self.placement
        if se is None or where == "3x3":
            u, _ = self._residual(x)
            return u.add_(shortcut).relu_()
        if where == "standard":
            u, y = self._residual(x)
            return torch.addcmul(shortcut, u, self._excitation(u, y), out=u).relu_()  # Axpy + ReLU
        if where == "pre":
            u, _ = self._residual(se(x))
            return u.add_(shortcut).relu_()
        if where == "identity":
            u, _ = self._residual(x)
            return u.add_(se(shortcut)).relu_()
        u, _ = self._residual(x)
        return se(u.add_(shortcut).relu_())  # post

    def extra_repr(self) -> str:
        return f"placement={self.placement}, pool_before_last={self.pool_before_last}"
