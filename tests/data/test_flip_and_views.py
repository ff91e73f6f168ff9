"""airbench94's data tricks for tensor datasets (Jordan 2024): the alternating flip (DataConfig.flip), the
translated test-time views (DataConfig.eval_shift), with eval_views / random_flip's mask, and reflection
padding of the training crops (DataConfig.pad_mode)."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from data_fixtures import write_cifar

from senet.data import DataConfig, DataError, build_loaders, forward_eval
from senet.data.augment import BatchAugment, Normalize, eval_views, pad_uint8, random_flip

#: Digests of the training batches (and of one BatchAugment call) made by the code before the flip option
#: existed (commit b1cee83), by _digest below: flip="random" must give the very same batches.
REFERENCE = {
    (0, 0): "eb77dae889522710",
    (0, 1): "e2bc656a1c0b77e6",
    (1, 0): "3dc35ba93d356798",
    (1, 1): "0d70401cc98a39f4",
    "aug": "79f1c51d388fb35a",
}


def _digest(batches: list[tuple[torch.Tensor, torch.Tensor]]) -> str:
    h = hashlib.sha256()
    for images, labels in batches:
        h.update(images.mul(64).round().to(torch.int32).numpy().tobytes())  # robust to the last float bit
        h.update(labels.numpy().tobytes())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("explicit", [False, True])
def test_random_flip_gives_the_batches_of_the_code_before_the_option(explicit: bool) -> None:
    extra = dict(flip="random") if explicit else {}
    config = DataConfig(augment="cifar", cutout=4, limit_train=300, **extra)
    for rank in (0, 1):
        train, _, _ = build_loaders(config, batch_size=64, seed=7, rank=rank, world_size=2)
        for epoch in (0, 1):
            train.set_epoch(epoch)
            assert _digest(list(train)) == REFERENCE[(rank, epoch)], (rank, epoch)
    images = torch.randint(
        0, 256, (32, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(1)
    )
    aug = BatchAugment("cifar", 8, 2, 3, Normalize((0.4, 0.5, 0.6), (0.2, 0.25, 0.3)))
    out = aug(pad_uint8(images, 2), torch.Generator().manual_seed(5))
    assert _digest([(out, torch.zeros(1, dtype=torch.int64))]) == REFERENCE["aug"]


def test_a_flip_mask_is_followed_and_draws_no_random_number() -> None:
    images = torch.arange(8 * 4, dtype=torch.float32).view(8, 1, 2, 2)
    mask = torch.tensor([True, False] * 4)
    generator = torch.Generator().manual_seed(0)
    state = generator.get_state()
    out = random_flip(images, generator, mask)
    assert torch.equal(out[mask], images[mask].flip(-1)) and torch.equal(out[~mask], images[~mask])
    assert torch.equal(generator.get_state(), state)


def _cifar(tmp_path: Path) -> DataConfig:
    write_cifar(tmp_path / "cifar-10-batches-py", per_batch=40)  # 200 training images of random pixels
    return DataConfig(dataset="cifar10", root=str(tmp_path))


def _flipped_per_image(config: DataConfig, epoch: int, **kwargs: int) -> dict[int, bool]:
    """{sample index: mirrored?} of one training epoch with pad 0 (so the crop is the identity)."""
    train, val, _ = build_loaders(dataclasses.replace(config, pad=0), batch_size=16, seed=3, **kwargs)
    originals = train.augment.normalize(train.images)  # (N, C, H, W) unpadded, unflipped
    train.set_epoch(epoch)
    order = train.shard.indices(epoch).split(16)
    flipped = {}
    for chunk, (images, _) in zip(order, train, strict=True):
        for i, image in zip(chunk.tolist(), images, strict=True):
            same, mirror = torch.equal(image, originals[i]), torch.equal(image, originals[i].flip(-1))
            assert same != mirror, "an output is neither the image nor its mirror (or both)"
            flipped[i] = mirror
    return flipped


def test_alternate_flip_mirrors_each_image_every_other_epoch(tmp_path: Path) -> None:
    config = dataclasses.replace(_cifar(tmp_path), flip="alternate")
    epochs = [_flipped_per_image(config, e) for e in range(4)]
    assert all(sorted(m) == list(range(200)) for m in epochs)
    assert epochs[0] == epochs[2] and epochs[1] == epochs[3]  # same parity: the same mask per image ...
    assert all(epochs[1][i] != epochs[0][i] for i in range(200))  # ... other parity: the complement
    train, _, _ = build_loaders(config, batch_size=16, seed=3)
    assert not torch.equal(train.shard.indices(0), train.shard.indices(2))  # though the batch order differs
    assert 70 < sum(epochs[0].values()) < 130  # about half
    # every rank agrees (each sees its shard of the one mask), and another seed draws other bits
    ranks = [_flipped_per_image(config, 1, rank=r, world_size=2) for r in (0, 1)]
    assert {**ranks[0], **ranks[1]} == epochs[1] and len(ranks[0]) == 100
    train, _, _ = build_loaders(config, batch_size=16, seed=4)
    assert not torch.equal(train.flip_bits, build_loaders(config, batch_size=16, seed=3)[0].flip_bits)


def test_alternate_flip_keeps_the_crop_random(tmp_path: Path) -> None:
    config = dataclasses.replace(_cifar(tmp_path), flip="alternate", pad=4)
    train, _, _ = build_loaders(config, batch_size=200, seed=3)
    per_epoch = []
    for epoch in (0, 2):
        train.set_epoch(epoch)
        images, _ = next(iter(train))
        per_epoch.append(images[train.shard.indices(epoch).argsort()])  # by sample index
    same = [torch.equal(a, b) for a, b in zip(*per_epoch, strict=True)]
    assert sum(same) < 40  # same flip, but mostly another crop offset (1/81 alike by chance)


def _translate(images: torch.Tensor, s: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(+s, -s) translations of (B, C, H, W): reflection-pad by s, then the top-left / bottom-right window."""
    h, w = images.shape[-2:]
    padded = F.pad(images, [s, s, s, s], mode="reflect")
    return padded[:, :, 0:h, 0:w], padded[:, :, 2 * s : 2 * s + h, 2 * s : 2 * s + w]


@pytest.mark.parametrize("shift", [1, 2, 3])
def test_eval_views_translate_by_plus_and_minus_shift(shift: int) -> None:
    images = torch.randn(2, 3, 8, 8)
    plus, minus = _translate(images, shift)
    views = eval_views(images, shift=shift)
    assert views.shape == (2, 3, 3, 8, 8)
    assert (
        torch.equal(views[:, 0], images)
        and torch.equal(views[:, 1], plus)
        and torch.equal(views[:, 2], minus)
    )
    s = shift  # the content moves by +s / -s pixels in both axes; the uncovered border is reflected
    assert torch.equal(views[:, 1, :, s:, s:], images[:, :, :-s, :-s])
    assert torch.equal(views[:, 2, :, :-s, :-s], images[:, :, s:, s:])
    assert torch.equal(views[:, 1, :, s - 1, s:], images[:, :, 1, :-s])  # row -1 reflects row 1
    both = eval_views(images, flip=True, shift=shift)
    expected = [images, images.flip(-1), plus, plus.flip(-1), minus, minus.flip(-1)]
    assert both.shape == (2, 6, 3, 8, 8) and all(torch.equal(both[:, v], x) for v, x in enumerate(expected))
    assert torch.equal(eval_views(images, flip=True), torch.stack([images, images.flip(-1)], 1))
    assert eval_views(images).shape == (2, 1, 3, 8, 8)


@pytest.mark.parametrize(
    ("flip", "shift", "views"), [(False, 0, 1), (True, 0, 2), (False, 2, 3), (True, 2, 6)]
)
def test_eval_loader_views_and_labels(tmp_path: Path, flip: bool, shift: int, views: int) -> None:
    config = _cifar(tmp_path)
    _, plain, _ = build_loaders(config, batch_size=4)
    train, val, _ = build_loaders(dataclasses.replace(config, eval_flip=flip, eval_shift=shift), batch_size=4)
    (images, labels), (got, same) = next(iter(plain)), next(iter(val))
    assert torch.equal(labels, same) and next(iter(train))[0].dim() == 4  # training keeps one view
    if views == 1:
        assert torch.equal(got, images)
        return
    assert got.shape == (4, views, 3, 32, 32) and torch.equal(got[:, 0], images)
    if shift:
        plus, minus = _translate(images, shift)
        step = 2 if flip else 1
        assert torch.equal(got[:, step], plus) and torch.equal(got[:, 2 * step], minus)
    if flip:
        assert torch.equal(got[:, 1::2], got[:, 0::2].flip(-1))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 10))
    with torch.no_grad():
        probs = torch.stack([model(got[:, v]).softmax(-1) for v in range(views)]).mean(0)  # uniform mean
        assert torch.allclose(forward_eval(model, got), probs.log(), atol=1e-5)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(dataset="folder", root="x", eval_shift=2), "eval_shift applies to tensor datasets"),
    (dict(dataset="folder", root="x", flip="alternate"), "DataConfig.flip: 'alternate' applies to tensor"),
    (dict(dataset="digits", flip="alternate"), "DataConfig.flip: 'alternate' needs the cifar augmentation"),
    (dict(dataset="cifar10", root="x", augment="crop", flip="alternate"), "needs the cifar augmentation"),
    (dict(flip="sideways"), "DataConfig.flip: unknown flip 'sideways'"),
    (dict(eval_shift=-1), "DataConfig.eval_shift: must be >= 0"),
    (dict(eval_shift=8), r"DataConfig.eval_shift: 8 pixels is too large for 16-pixel images .*<= 7"),
    (dict(dataset="cifar10", root="x", eval_shift=16), "too large for 32-pixel"),
    (dict(dataset="cifar10", root="x", input_size=8, eval_shift=4), "too large for 8-pixel"),
    (dict(pad_mode="edge"), "DataConfig.pad_mode: unknown mode 'edge'; choose from zeros, reflect"),
    (dict(dataset="folder", root="x", pad_mode="reflect"), "DataConfig.pad_mode: 'reflect' applies to tensor"),
])  # fmt: skip
def test_bad_flip_and_eval_shift(kwargs: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        DataConfig(**kwargs)


def test_valid_settings_and_roundtrip() -> None:
    config = DataConfig(dataset="cifar10", root="/x", flip="alternate", eval_shift=15, eval_flip=True)
    assert DataConfig.from_dict(config.to_dict()) == config
    assert DataConfig(augment="cifar", flip="alternate", eval_shift=7).eval_shift == 7  # digits, 16 pixels
    assert (DataConfig().flip, DataConfig().eval_shift) == ("random", 0)


@pytest.mark.parametrize("pad", [1, 2, 4])
def test_reflection_padding_is_numpys(pad: int) -> None:
    images = torch.randint(
        0, 256, (3, 2, 6, 5), dtype=torch.uint8, generator=torch.Generator().manual_seed(pad)
    )
    expected = np.pad(images.numpy(), [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="reflect")
    assert torch.equal(pad_uint8(images, pad, "reflect"), torch.from_numpy(expected))
    assert torch.equal(
        pad_uint8(images, pad),
        torch.from_numpy(np.pad(images.numpy(), [(0, 0), (0, 0), (pad, pad), (pad, pad)])),
    )
    with pytest.raises(ValueError, match="reflection padding by 5"):
        pad_uint8(images, 5, "reflect")


def test_training_crops_of_a_reflect_padded_loader_have_no_black_band(tmp_path: Path) -> None:
    config = dataclasses.replace(_cifar(tmp_path), pad=3, pad_mode="reflect")
    train, val, _ = build_loaders(config, batch_size=50, seed=1)
    _, plain_val, _ = build_loaders(_cifar(tmp_path), batch_size=50, seed=1)
    stored = train.images[:, :, 3:-3, 3:-3]  # (N, C, 32, 32): the images themselves
    expected = np.pad(stored.numpy(), [(0, 0), (0, 0), (3, 3), (3, 3)], mode="reflect")
    assert torch.equal(train.images, torch.from_numpy(expected))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(val, plain_val, strict=True))  # eval: no pad
    zeros = dataclasses.replace(config, pad_mode="zeros")
    assert build_loaders(zeros, batch_size=50)[0].images[:, :, :3].eq(0).all()


def test_reflection_padding_larger_than_the_images_is_refused(tmp_path: Path) -> None:
    config = dataclasses.replace(_cifar(tmp_path), pad=32, pad_mode="reflect")
    with pytest.raises(
        DataError, match="DataConfig.pad: reflection padding by 32 px .* 32-pixel images of cifar10"
    ):
        build_loaders(config, batch_size=4)
