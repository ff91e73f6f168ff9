"""PIL / numpy transforms for folder data (run in DataLoader workers); output uint8 (C, H, W) arrays.

Training (paper Sec. 5.1, following Szegedy et al. 2015): a random crop covering ``scale`` = 8%-100% of the
image area with aspect ratio in ``ratio`` = 3/4-4/3 (log-uniform), resized to ``size`` (224 or 299), random
horizontal flip. Evaluation: resize the shorter side to ``resize`` (256 for 224, 352 for 299) and centre
crop ``size``; or 10 crops (4 corners + centre, and their mirrors). Normalisation (mean/std) happens
batched on the device, after the uint8 batch arrives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from senet.data.images import open_image


def to_chw(image: Image.Image) -> np.ndarray:
    """PIL image -> uint8 (C, H, W)."""
    arr = np.asarray(image, dtype=np.uint8)  # read-only view of the PIL buffer
    return arr[None].copy() if arr.ndim == 2 else np.ascontiguousarray(arr.transpose(2, 0, 1))


def random_resized_box(
    width: int,
    height: int,
    rng: np.random.Generator,
    *,
    scale: tuple[float, float],
    ratio: tuple[float, float],
) -> tuple[int, int, int, int]:
    """A random (left, top, right, bottom) box of area fraction in ``scale`` and aspect w/h in ``ratio``.

    Up to 10 draws; if none fits, the largest centred box with the aspect clamped into ``ratio``.
    """
    area = width * height
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(10):
        target = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(log_lo, log_hi))
        w = round(math.sqrt(target * aspect))
        h = round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            left = int(rng.integers(0, width - w + 1))
            top = int(rng.integers(0, height - h + 1))
            return left, top, left + w, top + h
    aspect = min(max(width / height, ratio[0]), ratio[1])
    w, h = (width, round(width / aspect)) if width / height <= aspect else (round(height * aspect), height)
    w, h = min(w, width), min(h, height)
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def resize_shorter(image: Image.Image, size: int, interpolation: str = "bilinear") -> Image.Image:
    """Resize so that the shorter side is ``size``, keeping the aspect ratio (antialiased)."""
    w, h = image.size
    if min(w, h) == size:
        return image
    if w <= h:
        new = (size, max(1, round(h * size / w)))
    else:
        new = (max(1, round(w * size / h)), size)
    return image.resize(new, FILTERS[interpolation], reducing_gap=None)


def center_box(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    left, top = (width - size) // 2, (height - size) // 2
    return left, top, left + size, top + size


def ten_crop_boxes(width: int, height: int, size: int) -> list[tuple[int, int, int, int]]:
    """The 4 corner crops and the centre crop of ``size`` (their mirrors are added by the caller)."""
    return [
        (0, 0, size, size),
        (width - size, 0, width, size),
        (0, height - size, size, height),
        (width - size, height - size, width, height),
        center_box(width, height, size),
    ]


@dataclass(frozen=True)
class TrainTransform:
    """path -> uint8 (C, size, size): random-resized crop + horizontal flip (``flip``), seeded per sample."""

    size: int
    scale: tuple[float, float] = (0.08, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip: bool = True
    channels: int = 3
    interpolation: str = "bilinear"

    def __call__(self, path: str, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        image = open_image(path, channels=self.channels)
        box = random_resized_box(*image.size, rng, scale=self.scale, ratio=self.ratio)
        out = image.resize((self.size, self.size), FILTERS[self.interpolation], box=box, reducing_gap=None)
        if self.flip and rng.random() < 0.5:
            out = out.transpose(Image.FLIP_LEFT_RIGHT)
        return to_chw(out)


@dataclass(frozen=True)
class EvalTransform:
    """path -> uint8 (C, size, size), or (10, C, size, size) with ``ten_crop``: shorter side to ``resize``, crop."""

    size: int
    resize: int
    ten_crop: bool = False
    channels: int = 3
    interpolation: str = "bilinear"

    def image(self, path: str) -> Image.Image:
        image = open_image(path, channels=self.channels, draft_size=self.resize)
        return resize_shorter(image, self.resize, self.interpolation)

    def __call__(self, path: str, seed: int = 0) -> np.ndarray:
        image = self.image(path)
        if not self.ten_crop:
            return to_chw(image.crop(center_box(*image.size, self.size)))
        crops = [image.crop(box) for box in ten_crop_boxes(*image.size, self.size)]
        crops += [c.transpose(Image.FLIP_LEFT_RIGHT) for c in crops]
        return np.stack([to_chw(c) for c in crops])  # (10, C, size, size)
