"""Fold inference-mode batch norm into the preceding convolution.

In eval mode BN is the per-channel affine map y = gamma * (x - mu) / sqrt(var + eps) + beta with
the running statistics mu and var, so ``bn(conv(x)) == conv'(x)`` with

    W' = W * gamma / sqrt(var + eps)      (per output channel)
    b' = (b - mu) * gamma / sqrt(var + eps) + beta

which removes one full pass over every feature map.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A new convolution equal to ``bn(conv(x))`` with ``bn`` in eval mode (running statistics).

    Raises ValueError when the shapes do not match or ``bn`` keeps no running statistics.
    """
    if bn.num_features != conv.out_channels:
        raise ValueError(
            f"cannot fold {bn} ({bn.num_features} features) into {conv} ({conv.out_channels} outputs)"
        )
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(f"cannot fold {bn}: it keeps no running statistics (track_running_stats=False)")
    folded = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        bias=True,
        padding_mode=conv.padding_mode,
        device=conv.weight.device,
        dtype=conv.weight.dtype,
    )
    with torch.no_grad():
        # Computed in float64 so that folding adds no rounding of its own.
        std = (bn.running_var.double() + bn.eps).sqrt()
        gamma = bn.weight.double() if bn.weight is not None else torch.ones_like(std)
        beta = bn.bias.double() if bn.bias is not None else torch.zeros_like(std)
        scale = gamma / std  # (C_out,)
        bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(std)
        folded.weight.copy_(conv.weight.double() * scale[:, None, None, None])
        folded.bias.copy_((bias - bn.running_mean.double()) * scale + beta)
    return folded


def _last_conv(module: nn.Module) -> tuple[nn.Sequential, int] | None:
    """The Sequential holding ``module``'s final Conv2d as its last layer, and that index."""
    if isinstance(module, nn.Sequential) and len(module) and isinstance(module[-1], nn.Conv2d):
        return module, len(module) - 1
    return None


def fold_batch_norms(module: nn.Module, *, pairs_in: Callable[[nn.Module], bool]) -> int:
    """Fold, in place, every BN that directly follows a convolution in ``module``; returns the count.

    Two patterns are recognised, which cover the ResNet family: adjacent ``(Conv2d, BatchNorm2d)``
    in an ``nn.Sequential``, and, inside modules for which ``pairs_in`` is true only (whose
    forward is known to apply ``bnK`` right after ``convK``), sibling attributes ``convK`` / ``bnK`` (a
    ``convK`` that is a Sequential ending in a Conv2d, like SENet-154's deep stem, folds into
    that last conv). A folded BN is replaced by ``nn.Identity``. Call it on a copy in eval mode.
    """
    count = 0
    for parent in list(module.modules()):
        if isinstance(parent, nn.Sequential):
            for i in range(len(parent) - 1):
                conv, bn = parent[i], parent[i + 1]
                if isinstance(conv, nn.Conv2d) and type(bn) is nn.BatchNorm2d:
                    parent[i], parent[i + 1] = fold_conv_bn(conv, bn), nn.Identity()
                    count += 1
        if not pairs_in(parent):
            continue
        children = dict(parent.named_children())
        for name, bn in children.items():
            if type(bn) is not nn.BatchNorm2d or not name.startswith("bn"):
                continue
            conv = children.get("conv" + name[2:])
            if isinstance(conv, nn.Conv2d):
                setattr(parent, "conv" + name[2:], fold_conv_bn(conv, bn))
            elif (found := _last_conv(conv)) is not None:
                seq, index = found
                seq[index] = fold_conv_bn(seq[index], bn)
            else:
                continue
            setattr(parent, name, nn.Identity())
            count += 1
    return count
