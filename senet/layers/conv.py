"""The convolution -> batch norm (-> ReLU) unit every family builds its layers from."""

from __future__ import annotations

from torch import nn

Size = int | tuple[int, int]


def conv_norm_act(
    in_ch: int,
    out: int,
    kernel: Size,
    stride: int = 1,
    *,
    groups: int = 1,
    padding: Size | None = None,
    act: bool = True,
) -> nn.Sequential:
    """``Sequential(conv, BatchNorm2d[, ReLU(inplace=True)])``: keys ``0``, ``1`` (and ``2``).

    The convolution has no bias (the batch norm's shift replaces it) and 'same' padding
    (kernel // 2 per side) unless ``padding`` is given (0 for TF-style 'VALID'); ``groups`` > 1
    is a grouped (ResNeXt, ShuffleNet) or depthwise (MobileNet) convolution.
    """
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    pad = (k[0] // 2, k[1] // 2) if padding is None else padding
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out, k, stride, pad, groups=groups, bias=False)]
    layers.append(nn.BatchNorm2d(out))
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)
