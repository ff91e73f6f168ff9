"""Batched on-device augmentation of uint8 tensor datasets (digits, MNIST, CIFAR), airbench-style.

The training images live on the device, already zero-padded by ``pad`` pixels: (N, C, H + 2p, W + 2p).
Each batch is gathered, randomly cropped back to (H, W), optionally flipped, converted to float,
normalised per channel, and optionally Cutout-masked -- all as a few tensor ops on the device.
Random numbers come from a CPU ``torch.Generator`` so the result is the same on every device.

CIFAR recipe (as in ResNet, He et al. 2016, Sec. 4.2, used by the SE paper's CIFAR baselines): 4-pixel zero
padding, random 32x32 crop, horizontal flip, per-channel normalisation. Cutout: DeVries & Taylor 2017.
Alternating flip and shifted test-time views: airbench94 (Jordan 2024).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def pad_uint8(images: torch.Tensor, pad: int, mode: str = "zeros") -> torch.Tensor:
    """Pad uint8 (N, C, H, W) to (N, C, H + 2 pad, W + 2 pad): with zeros (black before normalisation) or,
    ``mode`` "reflect", with the image mirrored about its border pixels (needs pad < H and W)."""
    if not pad:
        return images
    if mode == "reflect":
        if pad >= min(images.shape[-2:]):
            raise ValueError(
                f"reflection padding by {pad} needs images larger than {pad} px, got {images.shape}"
            )
        return F.pad(images, (pad, pad, pad, pad), mode="reflect")
    return F.pad(images, (pad, pad, pad, pad))


def random_crop(padded: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """Crop each image of (B, C, H', W') at its own random offset to (B, C, size, size) (two gathers)."""
    b, c, h, w = padded.shape
    if h == size and w == size:
        return padded
    dy = torch.randint(0, h - size + 1, (b,), generator=generator).to(padded.device)
    dx = torch.randint(0, w - size + 1, (b,), generator=generator).to(padded.device)
    ar = torch.arange(size, device=padded.device)
    rows = (dy[:, None] + ar).view(b, 1, size, 1).expand(b, c, size, w)
    cols = (dx[:, None] + ar).view(b, 1, 1, size).expand(b, c, size, size)
    return padded.gather(2, rows).gather(3, cols)  # (B, C, size, W') -> (B, C, size, size)


def random_flip(
    images: torch.Tensor, generator: torch.Generator, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mirror each image of (B, C, H, W) horizontally with probability 1/2, or where ``mask`` (B,) bool
    is set (then no random number is drawn: the alternating flip, :func:`alternate_flip_mask`)."""
    if mask is None:
        mask = torch.rand(images.shape[0], generator=generator) < 0.5
    flip = mask.to(images.device)
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def alternate_flip_bits(n: int, seed: int) -> torch.Tensor:
    """b_i for the n training images (bool (n,)), each 1 with probability 1/2, drawn once from ``seed``."""
    return torch.rand(n, generator=torch.Generator().manual_seed(seed)) < 0.5


def alternate_flip_mask(bits: torch.Tensor, epoch: int) -> torch.Tensor:
    """Which images to mirror in ``epoch``: b_i XOR (epoch mod 2), so each image is seen mirrored in every
    other epoch (airbench94's alternating flip, Jordan 2024, Sec. 3.6)."""
    return bits ^ bool(epoch % 2)


def eval_views(images: torch.Tensor, *, flip: bool = False, shift: int = 0) -> torch.Tensor:
    """Test-time views of (B, C, H, W) as (B, V, C, H, W): the image, then with ``shift`` s > 0 the image
    translated by +s and by -s pixels in both axes (reflection padding by s, top-left and bottom-right
    crops: airbench94's multi-crop, tta_level 2); with ``flip`` each view is followed by its mirror image.

    V = 1, 2 (flip), 3 (shift) or 6 (both). s must be smaller than H and W (reflection padding).
    """
    views = [images]
    if shift:
        h, w = images.shape[-2:]
        padded = F.pad(images, (shift, shift, shift, shift), mode="reflect")  # (B, C, H + 2s, W + 2s)
        views += [padded[..., :h, :w], padded[..., 2 * shift :, 2 * shift :]]  # +s, -s
    if flip:
        views = [v for view in views for v in (view, view.flip(-1))]
    return torch.stack(views, 1)  # (B, V, C, H, W)


def cutout(images: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """Zero a size x size square per image at a uniformly random centre (may overlap the border).

    Applied after normalisation, so the masked pixels equal the dataset mean (DeVries & Taylor 2017).
    """
    b, _, h, w = images.shape
    cy = torch.randint(0, h, (b,), generator=generator).to(images.device)
    cx = torch.randint(0, w, (b,), generator=generator).to(images.device)
    y = torch.arange(h, device=images.device)
    x = torch.arange(w, device=images.device)
    y0, x0 = (cy - size // 2)[:, None], (cx - size // 2)[:, None]
    in_y = (y[None] >= y0) & (y[None] < y0 + size)  # (B, H)
    in_x = (x[None] >= x0) & (x[None] < x0 + size)  # (B, W)
    mask = in_y[:, :, None] & in_x[:, None, :]  # (B, H, W)
    return images.masked_fill(mask[:, None], 0.0)


@dataclass(frozen=True)
class Normalize:
    """uint8 (B, C, H, W) -> float32 (x / 255 * value_scale - mean) / std, per channel; ``bgr``
    reverses the channel order first (Caffe models). mean/std are on the value_scale."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    value_scale: float = 1.0
    bgr: bool = False

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if self.bgr:
            images = images.flip(1)  # (B, C, H, W), RGB -> BGR
        shape = (1, len(self.mean), 1, 1)
        mean = torch.tensor(self.mean, dtype=torch.float32, device=images.device).view(shape)
        scale = self.value_scale / (
            255.0 * torch.tensor(self.std, dtype=torch.float32, device=images.device)
        ).view(shape)
        return images.to(torch.float32) * scale - mean * (
            255.0 * scale / self.value_scale
        )  # (x/255*v - mean)/std


@dataclass(frozen=True)
class BatchAugment:
    """The training transform of a tensor dataset: mode ``none`` | ``crop`` | ``cifar`` (crop + flip), Cutout.

    Input: a batch of uint8 images padded by ``pad`` (B, C, size + 2 pad, size + 2 pad); output float32
    (B, C, size, size), normalised. ``flip`` (B,) bool, if given, says which images the ``cifar`` mode
    mirrors (the alternating flip) instead of a coin per image.
    """

    mode: str
    size: int
    pad: int
    cutout: int
    normalize: Normalize
    pad_mode: str = "zeros"
    """What the loader pads the stored images with (:func:`pad_uint8`)."""

    def __call__(
        self, batch: torch.Tensor, generator: torch.Generator, flip: torch.Tensor | None = None
    ) -> torch.Tensor:
        x = random_crop(batch, self.size, generator) if self.mode in ("crop", "cifar") else batch
        if self.mode == "cifar":
            x = random_flip(x, generator, flip)
        x = self.normalize(x)
        if self.cutout:
            x = cutout(x, self.cutout, generator)
        return x
