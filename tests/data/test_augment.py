"""Batched on-device augmentation (crop, flip, Cutout, normalisation) and the PIL transforms for folders."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from senet.data import DataConfig, DataError, build_loaders
from senet.data.augment import BatchAugment, Normalize, cutout, pad_uint8, random_crop, random_flip
from senet.data.transforms import EvalTransform, random_resized_box, resize_shorter, ten_crop_boxes


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_random_crop_is_a_window_of_the_padded_image() -> None:
    images = torch.randint(1, 256, (16, 3, 8, 8), dtype=torch.uint8)
    padded = pad_uint8(images, 2)
    assert padded.shape == (16, 3, 12, 12) and padded[:, :, :2].eq(0).all()
    crops = random_crop(padded, 8, _gen())
    offsets = set()
    for i in range(16):
        match = [
            (y, x)
            for y in range(5)
            for x in range(5)
            if torch.equal(crops[i], padded[i, :, y : y + 8, x : x + 8])
        ]
        assert match, "crop is not a window of the padded image"
        offsets.add(match[0])
    assert len(offsets) > 3  # offsets vary per image
    assert torch.equal(random_crop(images, 8, _gen()), images)


def test_flip_mirrors_about_half() -> None:
    images = torch.arange(64 * 4, dtype=torch.float32).view(64, 1, 2, 2)
    out = random_flip(images, _gen())
    flipped = (out != images).flatten(1).any(1)
    assert torch.equal(out[flipped], images[flipped].flip(-1)) and 16 < int(flipped.sum()) < 48


def test_cutout_square_size() -> None:
    images = torch.ones(32, 2, 20, 20)
    out = cutout(images, 6, _gen())
    zeros = (out == 0).sum(dim=(2, 3))  # (B, C)
    assert (zeros[:, 0] == zeros[:, 1]).all() and zeros.max() == 36 and zeros.min() > 0


def test_normalize_matches_formula() -> None:
    images = torch.randint(0, 256, (4, 3, 5, 5), dtype=torch.uint8)
    mean, std = (0.1, 0.5, 0.9), (0.2, 0.3, 0.4)
    expected = (images.float() / 255 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(
        1, 3, 1, 1
    )
    assert torch.allclose(Normalize(mean, std)(images), expected, atol=1e-5)


def test_batch_augment_deterministic_and_zero_padding_value() -> None:
    aug = BatchAugment("cifar", 8, 4, 0, Normalize((0.5,), (0.25,)))
    padded = pad_uint8(torch.full((64, 1, 8, 8), 200, dtype=torch.uint8), 4)
    a, b = aug(padded, _gen(1)), aug(padded, _gen(1))
    assert torch.equal(a, b) and not torch.equal(a, aug(padded, _gen(2)))
    assert math.isclose(a.min().item(), (0 - 0.5) / 0.25, abs_tol=1e-5)  # black zero padding shows up


def test_cifar_default_recipe_and_cutout_on_digits() -> None:
    config = DataConfig(cutout=4)
    assert config.resolved_augment() == "crop" and config.resolved_pad() == 2
    train, _, _ = build_loaders(config, batch_size=32)
    images, _ = next(iter(train))
    assert images.shape == (32, 1, 16, 16) and ((images == 0).flatten(1).sum(1) >= 4).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(dataset="digits", augment="imagenet"), "'imagenet' needs folder"), (dict(dataset="folder", root="x", augment="cifar"), "tensor datasets"),
    (dict(dataset="nope"), "unknown dataset 'nope'"), (dict(scale=(0.5, 0.1)), "scale"),
    (dict(dataset="digits", ten_crop=True), "folder/filelist"), (dict(cutout=-1), "cutout"),
])  # fmt: skip
def test_config_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        DataConfig(**kwargs)


@pytest.mark.parametrize("root", [None, ""])
def test_missing_root_is_an_error_at_build_time(root: str | None) -> None:
    config = DataConfig(dataset="mnist", root=root)
    with pytest.raises(DataError, match="'mnist' needs a root folder"):
        build_loaders(config, batch_size=2)


def test_config_roundtrip_and_eval_sizes() -> None:
    config = DataConfig(dataset="folder", root="/x", input_size=299, scale=(0.2, 1.0))
    assert DataConfig.from_dict(config.to_dict()) == config
    assert config.resolved_eval_resize() == 352
    assert DataConfig(dataset="folder", root="/x").resolved_eval_resize() == 256
    assert (
        DataConfig(dataset="folder", root="/x", input_size=320, eval_resize=366).resolved_eval_resize() == 366
    )
    with pytest.raises(DataError, match="smaller than the crop"):
        DataConfig(dataset="folder", root="/x", eval_resize=200).resolved_eval_resize()


def test_random_resized_box_respects_area_and_ratio() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        left, top, right, bottom = random_resized_box(300, 200, rng, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3))
        w, h = right - left, bottom - top
        assert 0 <= left < right <= 300 and 0 <= top < bottom <= 200
        assert 0.07 <= w * h / 60000 <= 1.0 and 3 / 4 - 0.05 <= w / h <= 4 / 3 + 0.05
    # impossible ratio: falls back to a centred box with the clamped aspect
    assert random_resized_box(100, 10, rng, scale=(0.9, 1.0), ratio=(1.0, 1.0)) == (45, 0, 55, 10)


def test_eval_resize_then_centre_crop(tmp_path) -> None:  # noqa: ANN001
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    assert resize_shorter(image, 256).size == (341, 256)
    path = tmp_path / "x.png"
    image.save(path)
    assert EvalTransform(224, 256)(str(path)).shape == (3, 224, 224)
    assert EvalTransform(224, 256, ten_crop=True)(str(path)).shape == (10, 3, 224, 224)
    assert ten_crop_boxes(341, 256, 224)[3] == (117, 32, 341, 256)


def _zeroed_boxes(before: torch.Tensor, after: torch.Tensor) -> list[tuple[int, int, int, int]]:
    """Per image, the (top, bottom, left, right) of the pixels that ``after`` zeroed and ``before`` did not
    have; asserts they form one solid rectangle, the same in every channel, and that nothing else changed."""
    boxes = []
    for a, b in zip(before, after, strict=True):
        changed = a != b  # (C, H, W)
        assert (changed == changed[0]).all() and (b[changed] == 0).all()
        rows, cols = changed[0].any(1).nonzero().flatten(), changed[0].any(0).nonzero().flatten()
        top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        assert changed[0, top:bottom, left:right].all() and changed[0].sum() == (bottom - top) * (
            right - left
        )
        boxes.append((top, bottom, left, right))
    return boxes


def test_cutout_zeroes_one_clipped_square_after_crop_flip_and_normalisation() -> None:
    normalize = Normalize((0.25,), (0.5,))
    padded = pad_uint8(torch.randint(100, 256, (256, 1, 8, 8), dtype=torch.uint8), 4)
    plain = BatchAugment("cifar", 8, 4, 0, normalize)(padded, _gen(3))
    masked = BatchAugment("cifar", 8, 4, 4, normalize)(padded, _gen(3))  # the same crops and flips
    assert plain.ne(0).all()  # bright pixels and black padding both differ from the mean after normalising
    boxes = _zeroed_boxes(plain, masked)
    sides = {(bottom - top, right - left) for top, bottom, left, right in boxes}
    assert (4, 4) in sides and any(h < 4 or w < 4 for h, w in sides)  # full squares and clipped ones
    assert all(h >= 2 and w >= 2 for h, w in sides)  # the centre is a pixel of the image: at least half stays
    assert {top for top, *_ in boxes} >= {0, 4} and {left for *_, left, _ in boxes} >= {0, 4}  # anywhere
    assert torch.equal(masked, BatchAugment("cifar", 8, 4, 4, normalize)(padded, _gen(3)))  # seeded


def test_cutout_is_off_by_default_and_never_touches_evaluation() -> None:
    assert DataConfig().cutout == 0 and DataConfig(dataset="cifar10", root="/x").cutout == 0
    batches = {}
    for side in (0, 4):
        train, val, _ = build_loaders(DataConfig(cutout=side, limit_train=64), batch_size=64, seed=5)
        batches[side] = (next(iter(train))[0], torch.cat([x for x, _ in val]))
    assert torch.equal(batches[0][1], batches[4][1])  # evaluation images untouched
    boxes = _zeroed_boxes(batches[0][0], batches[4][0])  # training images: one square each, nothing else
    assert len(boxes) == 64 and max(bottom - top for top, bottom, *_ in boxes) == 4
