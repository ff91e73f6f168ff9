"""Decode one image file to an RGB (or grey) PIL image, naming the file when it cannot be read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from senet.data.config import DataError

#: File name endings treated as images when scanning class folders (compared in lower case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm")


class BadImageError(DataError):
    """An image file that cannot be opened or decoded; ``path`` names it."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: cannot read image ({reason})")
        self.path, self.reason = str(path), reason

    def __reduce__(self) -> tuple:
        return (BadImageError, (self.path, self.reason))


def is_image_file(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB: L/1/P/CMYK/YCbCr directly, alpha (RGBA/LA/PA, P with transparency)
    composited over white, 16-bit and float grey (I;16, I, F) scaled to 8 bits first."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(image, dtype=np.float64)
        scale = 257.0 if mode.startswith("I;16") else 1.0
        return Image.fromarray(np.clip(arr / scale, 0, 255).astype(np.uint8), "L").convert("RGB")
    return image.convert("RGB")


def open_image(path: str | Path, *, channels: int = 3, draft_size: int | None = None) -> Image.Image:
    """Open and fully decode ``path`` as RGB (``channels=3``) or grey L (``channels=1``).

    ``draft_size``: let the JPEG decoder shrink by a power of two while keeping both sides >= this size
    (a cheap speed-up before a resize to that size). Raises :class:`BadImageError` naming the file.
    """
    try:
        with Image.open(path) as im:
            if draft_size and im.format == "JPEG":
                im.draft("RGB", (draft_size, draft_size))
            im.load()
            rgb = to_rgb(im)
            out = rgb.convert("L") if channels == 1 else rgb
            out.load()
            return out
    except FileNotFoundError as err:
        raise BadImageError(path, "file not found") from err
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise BadImageError(path, f"{type(err).__name__}: {err}") from err
