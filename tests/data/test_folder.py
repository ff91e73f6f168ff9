"""Image-class folder trees and file lists: layouts, odd image modes, corrupt files, determinism."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from data_fixtures import shared_data, write_image, write_tree
from PIL import Image

from senet.data import BadImageError, DataConfig, DataError, build_loaders, forward_eval, load_image
from senet.data.images import open_image

SMALL = dict(input_size=32, workers=0)


def folder_config(root: Path, **kw: object) -> DataConfig:
    return DataConfig(dataset="folder", root=str(root), **{**SMALL, **kw})


def test_folder_tree_classes_and_batches(tmp_path: Path) -> None:
    write_tree(tmp_path, classes=("zebra", "ant"), per_class=3)
    write_tree(tmp_path, classes=("ant",), per_class=2, split="val")
    train, val, info = build_loaders(folder_config(tmp_path), batch_size=4)
    assert info.classes == ["ant", "zebra"] and (info.num_train, info.num_val, info.in_chans) == (6, 2, 3)
    assert len(train) == 2 and len(val) == 1
    sizes = [x.shape[0] for x, _ in train]
    assert sizes == [4, 2]  # the last partial batch is kept
    images, labels = next(iter(val))
    assert images.shape == (2, 3, 32, 32) and labels.tolist() == [0, 0]
    assert info.eval_resize == round(32 / 0.875)


def test_places365_style_nested_classes(tmp_path: Path) -> None:
    for split in ("train", "val"):
        write_image(tmp_path / split / "a" / "abbey" / "1.jpg")
        write_image(tmp_path / split / "a" / "apartment_building" / "outdoor" / "1.png")
        write_image(tmp_path / split / "b" / "bakery" / "shop" / "1.jpg")
    _, _, info = build_loaders(folder_config(tmp_path), batch_size=2)
    assert info.classes == ["a/abbey", "a/apartment_building/outdoor", "b/bakery/shop"]


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "RGBA", "LA", "I;16", "1"])
def test_odd_modes_become_rgb(tmp_path: Path, mode: str) -> None:
    suffix = ".jpg" if mode in ("L", "CMYK") else ".png"
    path = write_image(tmp_path / f"x{suffix}", mode=mode)
    assert Image.open(path).mode == mode
    image = open_image(path)
    assert image.mode == "RGB" and image.size == (40, 30)


def test_transparent_pixels_composite_on_white(tmp_path: Path) -> None:
    path = tmp_path / "clear.png"
    Image.new("RGBA", (8, 8), (10, 20, 30, 0)).save(path)
    assert np.asarray(open_image(path)).min() == 255


def test_wrong_layout_images_in_split_root(tmp_path: Path) -> None:
    write_image(tmp_path / "train" / "loose.jpg")
    with pytest.raises(DataError, match="wrong layout.*loose.jpg"):
        build_loaders(folder_config(tmp_path), batch_size=2)


def test_missing_split_folder(tmp_path: Path) -> None:
    write_tree(tmp_path)
    with pytest.raises(DataError, match="val: folder not found"):
        build_loaders(folder_config(tmp_path), batch_size=2)


def test_empty_class_folder(tmp_path: Path) -> None:
    write_tree(tmp_path)
    write_tree(tmp_path, split="val")
    (tmp_path / "train" / "emu").mkdir()
    (tmp_path / "train" / "emu" / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="emu: empty class folder"):
        build_loaders(folder_config(tmp_path), batch_size=2)


def test_val_class_unknown_to_train(tmp_path: Path) -> None:
    write_tree(tmp_path)
    write_tree(tmp_path, classes=("cat", "yak"), split="val")
    with pytest.raises(DataError, match="yak"):
        build_loaders(folder_config(tmp_path), batch_size=2)


def _tree_with_corrupt(tmp_path: Path) -> Path:
    write_tree(tmp_path, per_class=3)
    write_tree(tmp_path, split="val")
    bad = tmp_path / "train" / "dog" / "broken.jpg"
    good = (tmp_path / "train" / "dog" / "0.jpg").read_bytes()
    bad.write_bytes(good[: len(good) // 3])  # truncated JPEG
    (tmp_path / "train" / "cat" / "text.png").write_bytes(b"this is not a png")
    return bad


@pytest.mark.parametrize("workers", [0, 2])
def test_corrupt_image_stops_and_names_file(tmp_path: Path, workers: int) -> None:
    bad = _tree_with_corrupt(tmp_path)
    train, _, _ = build_loaders(folder_config(tmp_path, workers=workers), batch_size=16)
    with pytest.raises(BadImageError) as err:
        for _ in train:
            pass
    assert err.value.path in (str(bad), str(tmp_path / "train" / "cat" / "text.png"))
    assert err.value.path in str(err.value) and "skip_bad_images" in str(err.value)


def test_skip_bad_images_reports_count(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _tree_with_corrupt(tmp_path)
    train, _, info = build_loaders(folder_config(tmp_path, skip_bad_images=True), batch_size=3)
    with caplog.at_level(logging.WARNING, logger="senet.data"):
        seen = sum(labels.shape[0] for _, labels in train)
    assert info.num_train == 8 and seen == 6 and len(train.bad_images) == 2
    assert "broken.jpg" in caplog.text and "text.png" in caplog.text
    train.set_epoch(1)
    for _ in train:
        pass
    assert len(train.bad_images) == 2  # distinct files, not occurrences


def test_augmentation_independent_of_worker_count(tmp_path: Path) -> None:
    write_tree(tmp_path, per_class=4)
    write_tree(tmp_path, split="val")
    batches = []
    for workers in (0, 2):
        train, _, _ = build_loaders(folder_config(tmp_path, workers=workers), batch_size=8, seed=5)
        train.set_epoch(2)
        batches.append(next(iter(train)))
    assert torch.equal(batches[0][0], batches[1][0]) and torch.equal(batches[0][1], batches[1][1])
    train.set_epoch(3)
    assert not torch.equal(next(iter(train))[0], batches[1][0])


def test_ten_crop_and_forward_eval(tmp_path: Path) -> None:
    write_tree(tmp_path)
    write_tree(tmp_path, split="val")
    _, val, info = build_loaders(folder_config(tmp_path, ten_crop=True), batch_size=4)
    images, labels = next(iter(val))
    assert images.shape == (4, 10, 3, 32, 32)
    assert torch.allclose(images[:, 5], images[:, 0].flip(-1))  # mirrored crops follow the 5 crops
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, info.num_classes))
    logits = forward_eval(model, images)
    assert logits.shape == (4, 2) and torch.allclose(logits.exp().sum(-1), torch.ones(4), atol=1e-5)


def test_load_image_matches_eval_loader(tmp_path: Path) -> None:
    paths = write_tree(tmp_path, per_class=1)
    write_tree(tmp_path, per_class=1, split="val")
    _, val, info = build_loaders(folder_config(tmp_path), batch_size=2)
    images, _ = next(iter(val))
    single = load_image(tmp_path / "val" / "cat" / "0.jpg", info)
    assert single.shape == (1, 3, 32, 32) and torch.allclose(single[0], images[0])
    assert paths


def test_file_list(tmp_path: Path) -> None:
    write_image(tmp_path / "img" / "a b.jpg")
    write_image(tmp_path / "img" / "c.png", mode="L")
    (tmp_path / "train.txt").write_text("# path label\n/img/a b.jpg 0\nimg/c.png 2\n\n")
    (tmp_path / "val.txt").write_text(f"{tmp_path / 'img' / 'c.png'} 1\n")
    _, val, info = build_loaders(DataConfig(dataset="filelist", root=str(tmp_path), **SMALL), batch_size=2)
    assert info.classes == ["0", "1", "2"] and (info.num_train, info.num_val) == (2, 1)
    assert next(iter(val))[1].tolist() == [1]
    (tmp_path / "classes.txt").write_text("apple\nbanana\ncherry\ndate\n")
    _, _, info = build_loaders(DataConfig(dataset="filelist", root=str(tmp_path), **SMALL), batch_size=2)
    assert info.classes == ["apple", "banana", "cherry", "date"]


@pytest.mark.parametrize(
    ("line", "message"),
    [("img/missing.jpg 0", "missing image file.*train.txt:2.*missing.jpg"), ("img/c.png 9", "train.txt:2: label 9 out of range 0..2"),
     ("img/c.png -1", "label -1 out of range"), ("img/c.png x", "label 'x' is not an integer"), ("img/c.png", "expected 'path label'")],
)  # fmt: skip
def test_file_list_errors(tmp_path: Path, line: str, message: str) -> None:
    write_image(tmp_path / "img" / "c.png")
    (tmp_path / "classes.txt").write_text("a\nb\nc\n")
    (tmp_path / "train.txt").write_text(f"img/c.png 0\n{line}\n")
    (tmp_path / "val.txt").write_text("img/c.png 1\n")
    with pytest.raises(DataError, match=message):
        build_loaders(DataConfig(dataset="filelist", root=str(tmp_path), **SMALL), batch_size=2)


def test_imagenette_mini_subset() -> None:
    root = shared_data("imagenette-mini")
    config = DataConfig(
        dataset="folder", root=str(root), workers=0, limit_train=20, limit_val=10, input_size=64
    )
    train, val, info = build_loaders(config, batch_size=10)
    assert (
        info.num_classes == 10
        and info.classes[0] == "n01440764"
        and (info.num_train, info.num_val) == (20, 10)
    )
    images, labels = next(iter(val))
    assert images.shape == (10, 3, 64, 64) and len(set(labels.tolist())) == 10
    train.set_epoch(0)
    images, labels = next(iter(train))
    assert images.shape == (10, 3, 64, 64) and torch.isfinite(images).all()


def test_folder_ranks_split_the_files(tmp_path: Path) -> None:
    write_tree(tmp_path, per_class=5)  # 10 files over 3 ranks -> 4 each, 2 repeats
    write_tree(tmp_path, per_class=1, split="val")
    seen = []
    for rank in range(3):
        train, val, _ = build_loaders(
            folder_config(tmp_path, augment="none"), batch_size=3, rank=rank, world_size=3
        )
        train.set_epoch(0)
        assert len(train) == 2 and train.num_samples == 4 and val.num_samples == (1 if rank < 2 else 0)
        seen += [x for images, _ in train for x in images]
    distinct = {tuple(x.flatten()[:64].tolist()) for x in seen}
    assert len(seen) == 12 and len(distinct) == 10  # every file once, plus 2 padding repeats


def test_cutout_on_folder_training_batches_only(tmp_path: Path) -> None:
    write_tree(tmp_path, classes=("ant", "zebra"), per_class=4)
    write_tree(tmp_path, classes=("ant", "zebra"), per_class=2, split="val")
    first = {}
    for side in (0, 8):
        train, val, _ = build_loaders(folder_config(tmp_path, cutout=side), batch_size=8, seed=1)
        train.set_epoch(2)
        first[side] = next(iter(train))[0], next(iter(val))[0]
    (plain, plain_val), (masked, masked_val) = first[0], first[8]
    assert torch.equal(plain_val, masked_val)  # evaluation untouched
    changed = plain != masked  # (B, C, H, W): the same crops, then one square of zeros per image
    assert (masked[changed] == 0).all() and (changed == changed[:, :1]).all()
    per_image = changed[:, 0].flatten(1).sum(1)
    assert (per_image > 0).all() and (per_image <= 64).all() and (per_image == 64).any()
    again, _ = build_loaders(folder_config(tmp_path, cutout=8), batch_size=8, seed=1)[:2]
    again.set_epoch(2)
    assert torch.equal(next(iter(again))[0], masked)  # reproducible from (seed, epoch)
