"""How a set of weights expects its input images (part of every model card and pretrained entry)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

LabelOrder = Literal["sorted-wnid", "devkit"]


@dataclass(frozen=True)
class Preprocessing:
    """Input convention: resize the short side to ``input_size / crop_fraction``, centre-crop
    ``input_size``, take the channels in ``channel_order`` scaled to [0, value_scale], then
    x = (pixels - mean) / std (mean and std on that same scale)."""

    mean: tuple[float, ...] = IMAGENET_MEAN
    """Per-channel mean subtracted, on the value_scale (RGB ImageNet statistics by default)."""
    std: tuple[float, ...] = IMAGENET_STD
    """Per-channel standard deviation divided by (1 for Caffe's convention of no std)."""
    input_size: int = 224
    """Side of the square network input."""
    crop_fraction: float = 0.875
    """The centre crop's share of the resized short side (0.875: resize 256, crop 224)."""
    interpolation: Literal["bilinear", "bicubic"] = "bilinear"
    """The resize filter."""
    label_order: LabelOrder = "sorted-wnid"
    """sorted-wnid: ImageFolder's and timm's class order; devkit: the ILSVRC2012 devkit order
    (ILSVRC2012_ID - 1) of the official Caffe models."""
    channel_order: Literal["RGB", "BGR"] = "RGB"
    """Channel order of the input (Caffe models take BGR)."""
    value_scale: float = 1.0
    """Pixel values run from 0 to this (1: [0, 1] as torchvision; 255: Caffe's 0..255)."""

    @property
    def resize(self) -> int:
        """The short side before the centre crop."""
        return round(self.input_size / self.crop_fraction)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Preprocessing:
        raw = dict(raw)
        for key in ("mean", "std"):
            if key in raw:
                raw[key] = tuple(raw[key])
        return cls(**raw)
