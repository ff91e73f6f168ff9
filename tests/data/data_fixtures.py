"""Tiny synthetic datasets written into tmp_path: idx files, CIFAR pickles, image-class trees."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def shared_data(name: str) -> Path:
    """A folder of ../shared/data, or skip the test when it is absent (a fresh clone has none)."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    return path


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the idx format: 0x00 0x00 0x08 ndim, big-endian uint32 sizes, data."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_mnist(
    root: Path, *, n_train: int = 12, n_test: int = 6, size: int = 28, gz: bool = True, seed: int = 0
) -> dict:
    """Four idx files of random images and labels 0..9; returns the arrays."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        arrays[prefix] = (images, labels)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            data = idx_bytes(arr)
            name = f"{prefix}-{kind}-ubyte"
            if gz:
                (root / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (root / name).write_bytes(data)
    return arrays


def write_cifar(folder: Path, *, hundred: bool = False, per_batch: int = 4, seed: int = 0) -> None:
    """A CIFAR python-format folder with ``per_batch`` random images per batch file."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    k = 100 if hundred else 10
    names = ["train", "test"] if hundred else [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    label_key = b"fine_labels" if hundred else b"labels"
    for name in names:
        batch = {
            b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            label_key: list(rng.integers(0, k, per_batch).tolist()),
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    meta_name, meta_key = ("meta", b"fine_label_names") if hundred else ("batches.meta", b"label_names")
    (folder / meta_name).write_bytes(pickle.dumps({meta_key: [f"class{i}".encode() for i in range(k)]}))


def write_image(path: Path, *, mode: str = "RGB", size: tuple[int, int] = (40, 30), seed: int = 0) -> Path:
    """A small random image of PIL ``mode`` saved at ``path`` (format from the suffix)."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")
    if mode == "P":
        image = rgb.convert("P", palette=Image.ADAPTIVE, colors=16)
    elif mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65536, (size[1], size[0]), dtype=np.uint16))
    else:
        image = rgb.convert(mode)
    image.save(path)
    return path


def write_tree(
    root: Path, *, classes: tuple[str, ...] = ("cat", "dog"), per_class: int = 3, split: str = "train"
) -> list[Path]:
    """``root/<split>/<class>/<i>.jpg`` of random RGB JPEGs; returns the paths."""
    paths = []
    for c, name in enumerate(classes):
        for i in range(per_class):
            paths.append(
                write_image(root / split / name / f"{i}.jpg", seed=10 * c + i, size=(40 + 4 * i, 30))
            )
    return paths
