"""Property-based tests of the file readers: random bytes, random truncations and random byte
changes of real files (made here) either load or raise the project's error, never another one.

Readers: the image decoder, the MNIST idx and CIFAR pickle readers (:class:`DataError`), the
safetensors / PyTorch weights reader and the Caffe reader (:class:`SenetError`). The examples are
derandomized (the same every run) and few, so the whole file runs in well under a minute.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from safetensors.torch import save_file

from senet.data.config import DataError
from senet.data.datasets import cifar_split, read_idx
from senet.data.images import open_image
from senet.errors import SenetError
from senet.weights.caffe import read_caffemodel
from senet.weights.safe_load import load_state_dict_file, load_torch_file, read_safetensors

TESTS = Path(__file__).resolve().parent
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _module(path: Path):  # the test helpers of tests/weights and tests/data (not packages)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png() -> bytes:
    rng = np.random.default_rng(0)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8), "RGB").save(out, "PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    rng = np.random.default_rng(1)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), "RGB").save(out, "JPEG")
    return out.getvalue()


def _idx(gz: bool) -> bytes:
    images = np.random.default_rng(2).integers(0, 256, (3, 4, 4), dtype=np.uint8)
    data = bytes([0, 0, 8, 3]) + b"".join(int(s).to_bytes(4, "big") for s in images.shape) + images.tobytes()
    return gzip.compress(data) if gz else data


def _cifar_batch() -> bytes:
    rng = np.random.default_rng(3)
    batch = {b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"labels": [1, 7]}
    return pickle.dumps(batch)


def _safetensors() -> bytes:
    path = Path(__file__).with_name("_fuzz.tmp")
    try:
        save_file({"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(2)}, str(path), {"k": "v"})
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def _torch_file() -> bytes:
    out = io.BytesIO()
    torch.save({"state_dict": {"w": torch.arange(4.0)}, "epoch": 1}, out)
    return out.getvalue()


def _caffemodel() -> bytes:
    writer = _module(TESTS / "weights" / "caffe_writer.py")
    return writer.encode_net(list(writer.tiny_se_resnet(blocks=(1, 1, 1, 1)).values()))


SAMPLES = {
    "png": _png,
    "jpeg": _jpeg,
    "idx": lambda: _idx(False),
    "idx.gz": lambda: _idx(True),
    "cifar": _cifar_batch,
    "safetensors": _safetensors,
    "pt": _torch_file,
    "caffemodel": _caffemodel,
}
_CACHE: dict[str, bytes] = {}


def sample(kind: str) -> bytes:
    if kind not in _CACHE:
        _CACHE[kind] = SAMPLES[kind]()
    return _CACHE[kind]


@st.composite
def damaged(draw: st.DrawFn, kind: str) -> bytes:
    """Random bytes, a truncation of the real file, or the real file with a few bytes changed."""
    real = sample(kind)
    how = draw(st.sampled_from(["random", "truncated", "changed"]))
    if how == "random":
        return draw(st.binary(max_size=300))
    if how == "truncated":
        return real[: draw(st.integers(0, len(real) - 1))]
    data = bytearray(real)
    for _ in range(draw(st.integers(1, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_image_decoder(tmp_path: Path, kind: str) -> None:
    @FUZZ
    @given(damaged(kind))
    def check(data: bytes) -> None:
        path = _write(tmp_path, f"x.{kind}", data)
        try:
            image = open_image(path)
        except DataError:
            return
        assert image.mode == "RGB" and min(image.size) >= 1

    check()


@pytest.mark.parametrize("kind", ["idx", "idx.gz"])
def test_mnist_reader(tmp_path: Path, kind: str) -> None:
    @FUZZ
    @given(damaged(kind))
    def check(data: bytes) -> None:
        path = _write(tmp_path, "t10k-images-idx3-ubyte" + (".gz" if kind.endswith("gz") else ""), data)
        try:
            array = read_idx(path)
        except DataError:
            return
        assert array.dtype == np.uint8

    check()


def test_cifar_reader(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "batches.meta").write_bytes(
        pickle.dumps({b"label_names": [f"c{i}".encode() for i in range(10)]})
    )

    @FUZZ
    @given(damaged("cifar"), st.booleans())
    def check(data: bytes, as_meta: bool) -> None:
        _write(folder, "test_batch", _cifar_batch())
        _write(folder, "batches.meta" if as_meta else "test_batch", data)
        try:
            split = cifar_split(tmp_path, dataset="cifar10", train=False, size=8)
        except DataError:
            return
        finally:
            _write(
                folder, "batches.meta", pickle.dumps({b"label_names": [f"c{i}".encode() for i in range(10)]})
            )
        assert split.images.shape[1:] == (3, 8, 8)

    check()


@pytest.mark.parametrize("kind", ["safetensors", "pt"])
def test_weights_reader(tmp_path: Path, kind: str) -> None:
    @FUZZ
    @given(damaged(kind))
    def check(data: bytes) -> None:
        path = _write(tmp_path, f"w.{kind}", data)
        for read in (load_state_dict_file, read_safetensors if kind == "safetensors" else load_torch_file):
            try:
                read(path)
            except SenetError:
                pass

    check()


def test_caffe_reader(tmp_path: Path) -> None:
    @FUZZ
    @given(damaged("caffemodel"))
    def check(data: bytes) -> None:
        path = _write(tmp_path, "net.caffemodel", data)
        try:
            layers = read_caffemodel(path)
        except SenetError:
            return
        assert layers

    check()


def test_the_samples_load(tmp_path: Path) -> None:
    """The undamaged files load (else the properties above would test nothing)."""
    assert open_image(_write(tmp_path, "a.png", sample("png"))).size == (10, 12)
    assert open_image(_write(tmp_path, "a.jpeg", sample("jpeg"))).size == (16, 16)
    assert read_idx(_write(tmp_path, "a.gz", sample("idx.gz"))).shape == (3, 4, 4)
    assert set(read_safetensors(_write(tmp_path, "a.safetensors", sample("safetensors")))[0]) == {"w", "b"}
    assert set(load_state_dict_file(_write(tmp_path, "a.pt", sample("pt")))[0]) == {"w"}
    assert "conv1/7x7_s2" in read_caffemodel(_write(tmp_path, "a.caffemodel", sample("caffemodel")))
