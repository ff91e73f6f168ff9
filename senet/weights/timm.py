"""timm's current ResNet-family layout (``seresnet*``, ``seresnext*``, ``senet154``, ``resnet*``).

timm names modules as torchvision does, which is also ``senet``'s naming, so keys map to
themselves. What keys cannot say is taken from timm's definitions: the bottleneck stride sits
on the 3x3 convolution (``stride_in_1x1=False``), the stem max-pool pads by one without ceil
mode, and the SE hidden width C' (C / 16 rounded to a multiple of 8) is read off ``fc1``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from senet.models.resnet import ResNetConfig
from senet.weights.detect import infer_config


def from_timm(state_dict: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], ResNetConfig]:
    """(state dict in ``senet`` names, its ResNetConfig) for a timm checkpoint."""
    sd = dict(state_dict)
    return sd, infer_config(sd, stride_in_1x1=False, stem_pool_ceil=False)
