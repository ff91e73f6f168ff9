"""How a set of weights expects its input images (part of every pretrained entry)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

LabelOrder = Literal["sorted-wnid", "devkit"]


@dataclass(frozen=True)
class Preprocessing:
    """Input convention: x = (rgb - mean) / std with rgb in [0, 1], after resizing the short
    side to ``input_size / crop_fraction`` and centre-cropping ``input_size``.

    ``label_order`` ``"sorted-wnid"`` is ImageFolder's / timm's class order; ``"devkit"`` the
    ILSVRC2012 devkit order (ILSVRC2012_ID - 1) of the official Caffe models.
    """

    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    input_size: int = 224
    crop_fraction: float = 0.875
    interpolation: Literal["bilinear", "bicubic"] = "bilinear"
    label_order: LabelOrder = "sorted-wnid"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Preprocessing:
        raw = dict(raw)
        for key in ("mean", "std"):
            if key in raw:
                raw[key] = tuple(raw[key])
        return cls(**raw)
