"""The downloader, exercised offline: file:// URLs, a failing network, md5 checks, archive extraction."""

from __future__ import annotations

import hashlib
import tarfile
import urllib.error
from pathlib import Path

import pytest
from data_fixtures import write_cifar, write_mnist

from senet.data import DataConfig, DataError, build_loaders
from senet.data import download as dl


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_file_checks_md5(tmp_path: Path) -> None:
    source = tmp_path / "src" / "blob.bin"
    source.parent.mkdir()
    source.write_bytes(b"hello" * 100)
    good = dl.Resource("blob.bin", source.as_uri(), _md5(source))
    target = dl.download_file(good, tmp_path / "dst")
    assert target.read_bytes() == source.read_bytes()
    bad = dl.Resource("other.bin", source.as_uri(), "0" * 32)
    with pytest.raises(DataError, match="does not match the official"):
        dl.download_file(bad, tmp_path / "dst")
    assert sorted(p.name for p in (tmp_path / "dst").iterdir()) == ["blob.bin"]  # no partial file left


def test_offline_download_error_says_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(dl.urllib.request, "urlopen", offline)
    with pytest.raises(DataError) as err:
        build_loaders(DataConfig(dataset="fashion-mnist", root=str(tmp_path), download=True), batch_size=4)
    text = str(err.value)
    assert (
        "network unreachable" in text and str(tmp_path) in text and "8d4fb7e6c68d591d4c3dfef9ec88bf0d" in text
    )
    assert list(tmp_path.iterdir()) == []


def test_mnist_download_from_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = tmp_path / "mirror"
    write_mnist(mirror)
    resources = tuple(
        dl.Resource(r.filename, (mirror / r.filename).as_uri(), _md5(mirror / r.filename))
        for r in dl.RESOURCES["mnist"]
    )
    monkeypatch.setitem(dl.RESOURCES, "mnist", resources)
    root = tmp_path / "data"
    _, _, info = build_loaders(DataConfig(dataset="mnist", root=str(root), download=True), batch_size=4)
    assert info.num_train == 12 and sorted(p.name for p in root.iterdir()) == sorted(
        r.filename for r in resources
    )


def test_cifar_archive_is_checked_and_extracted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_cifar(tmp_path / "build" / "cifar-10-batches-py")
    archive = tmp_path / "mirror" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "build" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    resource = dl.Resource(archive.name, archive.as_uri(), _md5(archive))
    monkeypatch.setitem(dl.RESOURCES, "cifar10", (resource,))
    root = tmp_path / "data"
    _, _, info = build_loaders(DataConfig(dataset="cifar10", root=str(root), download=True), batch_size=4)
    assert info.num_train == 20 and (root / "cifar-10-batches-py" / "data_batch_5").is_file()
    # an archive already in place is md5-checked before extraction
    other = tmp_path / "other"
    other.mkdir()
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (other / archive.name).write_bytes(bytes(data))
    with pytest.raises(DataError, match="md5 .* does not match"):
        build_loaders(DataConfig(dataset="cifar10", root=str(other)), batch_size=4)


def test_unsafe_archive_member_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evil = tmp_path / "evil.txt"
    evil.write_text("x")
    archive = tmp_path / "cifar-100-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(evil, arcname="../escape.txt")
    monkeypatch.setitem(
        dl.RESOURCES, "cifar100", (dl.Resource(archive.name, archive.as_uri(), _md5(archive)),)
    )
    with pytest.raises(DataError, match="unsafe member"):
        build_loaders(DataConfig(dataset="cifar100", root=str(tmp_path)), batch_size=4)
    assert not (tmp_path.parent / "escape.txt").exists()


def test_missing_cifar_offline_message(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        build_loaders(DataConfig(dataset="cifar100", root=str(tmp_path)), batch_size=4)
    text = str(err.value)
    assert (
        "cifar-100-python.tar.gz" in text
        and "eb9058c3a382ffc7106e4002c42a8d85" in text
        and "cifar-100-python" in text
    )


def test_raw_idx_files_count_as_present(tmp_path: Path) -> None:
    write_mnist(tmp_path, gz=False)
    assert dl.ensure_files("mnist", tmp_path, download=False) == tmp_path
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        dl.ensure_files("mnist", tmp_path, download=False)
