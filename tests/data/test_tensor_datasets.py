"""MNIST-format idx files and CIFAR python folders: reading, layout errors, and the real MNIST when present."""

from __future__ import annotations

import dataclasses
import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from data_fixtures import idx_bytes, shared_data, write_cifar, write_mnist

from senet.data import DataConfig, DataError, build_loaders
from senet.data.datasets import read_idx
from senet.data.download import RESOURCES, md5sum


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_idx_roundtrip(tmp_path: Path, gz: bool) -> None:
    arrays = write_mnist(tmp_path, gz=gz)
    config = DataConfig(dataset="mnist", root=str(tmp_path), augment="none")
    train, val, info = build_loaders(config, batch_size=5)
    assert (info.num_train, info.num_val, info.in_chans, info.input_size) == (12, 6, 1, 28)
    images, labels = next(iter(val))
    assert torch.equal(labels, torch.from_numpy(arrays["t10k"][1][:5].astype(np.int64)))
    raw = images * torch.tensor(info.std) + torch.tensor(info.mean)  # back to 0..1
    assert torch.allclose(raw[:, 0] * 255, torch.from_numpy(arrays["t10k"][0][:5]).float(), atol=1e-3)


def test_fashion_mnist_class_names(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    _, _, info = build_loaders(DataConfig(dataset="fashion-mnist", root=str(tmp_path)), batch_size=4)
    assert info.classes[0] == "T-shirt/top" and info.classes[9] == "Ankle boot"


def test_mnist_resized_input(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    train, _, info = build_loaders(
        DataConfig(dataset="mnist", root=str(tmp_path), input_size=32), batch_size=4
    )
    assert next(iter(train))[0].shape == (4, 1, 32, 32) and info.input_size == 32


def test_truncated_idx_names_file(tmp_path: Path) -> None:
    write_mnist(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*truncated"):
        build_loaders(DataConfig(dataset="mnist", root=str(tmp_path)), batch_size=4)


def test_truncated_gzip_names_file(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        build_loaders(DataConfig(dataset="mnist", root=str(tmp_path)), batch_size=4)


def test_idx_bad_magic_and_label_range(tmp_path: Path) -> None:
    bad = tmp_path / "x"
    bad.write_bytes(b"\x01\x02\x03\x04" + bytes(10))
    with pytest.raises(DataError, match="bad magic"):
        read_idx(bad)
    write_mnist(tmp_path / "m")
    labels = np.array([0, 1, 12, 3, 4, 5, 6, 7, 8, 9, 0, 1], dtype=np.uint8)
    (tmp_path / "m" / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(DataError, match="label 12 out of range 0..9"):
        build_loaders(DataConfig(dataset="mnist", root=str(tmp_path / "m")), batch_size=4)


def test_mismatched_counts(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(5, np.uint8))))
    with pytest.raises(DataError, match="6 images but labels"):
        build_loaders(DataConfig(dataset="mnist", root=str(tmp_path)), batch_size=4)


def test_missing_mnist_says_where_to_put_files(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        build_loaders(DataConfig(dataset="mnist", root=str(tmp_path)), batch_size=4)
    text = str(err.value)
    assert (
        str(tmp_path) in text
        and "train-images-idx3-ubyte.gz" in text
        and "f68b3c2dcbeaaa9fbdd348bbdeb94873" in text
    )
    assert "download" in text


@pytest.mark.parametrize("hundred", [False, True])
def test_cifar_folder(tmp_path: Path, hundred: bool) -> None:
    name = "cifar-100-python" if hundred else "cifar-10-batches-py"
    write_cifar(tmp_path / name, hundred=hundred)
    dataset = "cifar100" if hundred else "cifar10"
    for root in (tmp_path, tmp_path / name):  # the folder itself or its parent
        train, val, info = build_loaders(DataConfig(dataset=dataset, root=str(root)), batch_size=8)
        assert (
            info.num_classes == (100 if hundred else 10)
            and info.classes[1] == "class1"
            and info.in_chans == 3
        )
        assert info.num_train == (4 if hundred else 20) and info.num_val == 4
        images, labels = next(iter(train))
        assert images.shape == (min(8, info.num_train), 3, 32, 32) and labels.max() < info.num_classes


def test_cifar_pixel_layout(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder)
    batch = pickle.loads((folder / "test_batch").read_bytes())
    _, val, info = build_loaders(DataConfig(dataset="cifar10", root=str(tmp_path)), batch_size=4)
    images, _ = next(iter(val))
    raw = (images * torch.tensor(info.std).view(1, 3, 1, 1) + torch.tensor(info.mean).view(1, 3, 1, 1)) * 255
    expected = torch.from_numpy(batch[b"data"].reshape(-1, 3, 32, 32)).float()  # rows of R, G, B planes
    assert torch.allclose(raw, expected, atol=1e-3)


def test_eval_flip_yields_each_image_and_its_mirror(tmp_path: Path) -> None:
    write_cifar(tmp_path / "cifar-10-batches-py")
    config = DataConfig(dataset="cifar10", root=str(tmp_path))
    _, plain, _ = build_loaders(config, batch_size=4)
    _, flipped, _ = build_loaders(dataclasses.replace(config, eval_flip=True), batch_size=4)
    (images, labels), (views, same) = next(iter(plain)), next(iter(flipped))
    assert views.shape == (4, 2, 3, 32, 32) and torch.equal(labels, same)
    assert torch.equal(views[:, 0], images) and torch.equal(views[:, 1], images.flip(-1))
    train, _, _ = build_loaders(dataclasses.replace(config, eval_flip=True), batch_size=4)
    assert next(iter(train))[0].dim() == 4  # training batches keep one view
    with pytest.raises(DataError, match="eval_flip applies to tensor datasets"):
        DataConfig(dataset="folder", root=str(tmp_path), eval_flip=True)


def test_missing_cifar_batch(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder)
    (folder / "data_batch_3").unlink()
    with pytest.raises(DataError, match="missing CIFAR file.*data_batch_3"):
        build_loaders(DataConfig(dataset="cifar10", root=str(tmp_path)), batch_size=4)


def test_cifar_pickle_with_code_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder)
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Path("x"), b"labels": [0]}))
    with pytest.raises(DataError, match="test_batch.*refusing"):
        build_loaders(DataConfig(dataset="cifar10", root=str(tmp_path)), batch_size=4)


def test_real_mnist_files_match_official_md5() -> None:
    root = shared_data("mnist")
    for resource in RESOURCES["mnist"]:
        assert md5sum(root / resource.filename) == resource.md5


def test_real_mnist_subset() -> None:
    root = shared_data("mnist")
    train, val, info = build_loaders(
        DataConfig(dataset="mnist", root=str(root), limit_train=256, limit_val=128), batch_size=128
    )
    assert (info.num_train, info.num_val, info.num_classes) == (256, 128, 10)
    assert 0.12 < info.mean[0] < 0.15 and len(train) == 2
    images, labels = next(iter(val))
    assert images.shape == (128, 1, 28, 28) and set(labels.tolist()) == set(range(10))


def test_cifar_pickle_in_python2_layout_loads(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder)
    batch = pickle.loads((folder / "test_batch").read_bytes())
    legacy = pickle.dumps(batch, protocol=2).replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in legacy  # the module name of the official (Python 2) files
    (folder / "test_batch").write_bytes(legacy)
    _, _, info = build_loaders(DataConfig(dataset="cifar10", root=str(tmp_path)), batch_size=4)
    assert info.num_val == 4
