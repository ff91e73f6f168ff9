"""Awkward class-folder trees: symlink loops, folders linked twice, hidden files, skip reasons,
test-only folders and relative roots (issue 13, "Data trees")."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from data_fixtures import write_image, write_tree

from senet.data import DataConfig, DataError, build_eval_loader, build_loaders

SMALL = dict(input_size=16, workers=0)


def folder_config(root: Path, **kw: object) -> DataConfig:
    return DataConfig(dataset="folder", root=str(root), **{**SMALL, **kw})


def _tree(root: Path) -> None:
    write_tree(root, classes=("cat", "dog"), per_class=2)
    write_tree(root, classes=("cat", "dog"), per_class=1, split="val")


def test_a_symlink_loop_is_reported_not_trained_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _tree(tmp_path)
    os.symlink("..", tmp_path / "train" / "loop")  # train/loop/train/loop/... without end
    os.symlink("..", tmp_path / "train" / "cat" / "back")  # a loop inside a class folder
    with caplog.at_level(logging.WARNING, logger="senet.data"):
        train, _, info = build_loaders(folder_config(tmp_path), batch_size=8)
    assert info.classes == ["cat", "dog"] and info.num_train == 4
    assert train.skipped == {"symlink loop": 2}
    assert "train/loop: not followed: a symlink loop" in caplog.text and "cat/back" in caplog.text


def test_a_folder_linked_twice_is_scanned_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _tree(tmp_path)
    os.symlink("cat", tmp_path / "train" / "kitty")
    with caplog.at_level(logging.WARNING, logger="senet.data"):
        train, _, info = build_loaders(folder_config(tmp_path), batch_size=8)
    assert info.classes == ["cat", "dog"] and info.num_train == 4
    assert train.skipped == {"folder linked twice": 1} and "the same folder as" in caplog.text


def test_a_symlinked_class_folder_elsewhere_is_followed(tmp_path: Path) -> None:
    _tree(tmp_path / "data")
    write_tree(tmp_path / "elsewhere", classes=("emu",), per_class=2)
    os.symlink(tmp_path / "elsewhere" / "train" / "emu", tmp_path / "data" / "train" / "emu")
    _, _, info = build_loaders(folder_config(tmp_path / "data"), batch_size=8)
    assert info.classes == ["cat", "dog", "emu"] and info.num_train == 6


def test_hidden_files_are_skipped(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "train" / "cat" / "._0.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble resource fork")
    (tmp_path / "train" / "cat" / ".DS_Store").write_bytes(b"Bud1")
    write_image(tmp_path / "train" / ".hidden" / "0.jpg")  # a hidden folder is no class
    train, _, info = build_loaders(folder_config(tmp_path), batch_size=8)  # skip_bad_images is off
    assert info.classes == ["cat", "dog"] and info.num_train == 4
    assert sum(labels.shape[0] for _, labels in train) == 4  # nothing unreadable was met
    assert train.skipped == {"hidden file": 1}


def test_skip_reasons_are_logged_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _tree(tmp_path)
    (tmp_path / "train" / "cat" / "text.png").write_bytes(b"this is not a png")
    good = (tmp_path / "train" / "dog" / "0.jpg").read_bytes()
    (tmp_path / "train" / "dog" / "cut.jpg").write_bytes(good[: len(good) // 3])
    train, _, _ = build_loaders(folder_config(tmp_path, skip_bad_images=True), batch_size=8)
    with caplog.at_level(logging.WARNING, logger="senet.data"):
        assert sum(labels.shape[0] for _, labels in train) == 4
    assert "text.png: UnidentifiedImageError" in caplog.text and "cut.jpg: OSError" in caplog.text
    assert train.skipped == {"unreadable (OSError)": 1, "unreadable (UnidentifiedImageError)": 1}


def test_a_test_only_folder_is_enough_for_evaluation(tmp_path: Path) -> None:
    write_tree(tmp_path, classes=("bees", "ants"), per_class=2, split="val")  # no train/
    with pytest.raises(DataError, match="train: folder not found"):
        build_loaders(folder_config(tmp_path), batch_size=4)  # training needs it
    loader, info = build_eval_loader(folder_config(tmp_path), batch_size=4)
    assert info.classes == ["ants", "bees"] and (info.num_train, info.num_val) == (0, 4)
    assert sorted(t for _, labels in loader for t in labels.tolist()) == [0, 0, 1, 1]


def test_a_test_only_file_list_is_enough_for_evaluation(tmp_path: Path) -> None:
    paths = write_tree(tmp_path / "images", classes=("x", "y"), per_class=1, split="val")
    (tmp_path / "val.txt").write_text(f"{paths[0]} 1\n{paths[1]} 0\n")
    (tmp_path / "classes.txt").write_text("y\nx\n")
    config = DataConfig(dataset="filelist", root=str(tmp_path), **SMALL)
    loader, info = build_eval_loader(config, batch_size=4)
    assert info.classes == ["y", "x"] and [t for _, labels in loader for t in labels.tolist()] == [1, 0]


def test_relative_roots_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = DataConfig(dataset="filelist", root="data", val_list="lists/val.txt")
    assert config.root == str(tmp_path / "data") and config.val_list == str(tmp_path / "lists" / "val.txt")
    assert DataConfig.from_dict(config.to_dict()) == config
    assert DataConfig(dataset="folder", root="/abs/x").root == "/abs/x" and DataConfig().root is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (dict(value_scale=float("inf")), "value_scale"),
        (dict(value_scale=float("nan")), "value_scale"),
        (dict(std=(0.2, 0.0, 0.2)), "std"),
        (dict(mean=(0.5, float("nan"), 0.5)), "mean"),
        (dict(ratio=(0.75, float("inf"))), "ratio"),
    ],
)
def test_non_finite_data_options_are_refused(tmp_path: Path, changes: dict, field: str) -> None:
    with pytest.raises(DataError, match=f"DataConfig.{field}"):
        folder_config(tmp_path, **changes)
