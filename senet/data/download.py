"""Fetch MNIST / Fashion-MNIST / CIFAR files with their official md5, or say exactly where to put them.

Offline (``download=False``, the default) a missing file is an error that lists the file names, the folder
they belong in and the URLs to fetch them from.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from senet.data.config import DataError
from senet.io import atomic_write


@dataclass(frozen=True)
class Resource:
    """One official file: its name, the URL it is published at, and its published md5."""

    filename: str
    url: str
    md5: str


_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_CIFAR_URL = "https://www.cs.toronto.edu/~kriz/"

#: Official files and md5 sums. MNIST's are those of the original release (yann.lecun.com, mirrored by
#: ossci-datasets); Fashion-MNIST's from the zalandoresearch README; CIFAR's from the CIFAR page.
RESOURCES: dict[str, tuple[Resource, ...]] = {
    "mnist": (
        Resource(
            "train-images-idx3-ubyte.gz",
            _MNIST_URL + "train-images-idx3-ubyte.gz",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        ),
        Resource(
            "train-labels-idx1-ubyte.gz",
            _MNIST_URL + "train-labels-idx1-ubyte.gz",
            "d53e105ee54ea40749a09fcbcd1e9432",
        ),
        Resource(
            "t10k-images-idx3-ubyte.gz",
            _MNIST_URL + "t10k-images-idx3-ubyte.gz",
            "9fb629c4189551a2d022fa330f9573f3",
        ),
        Resource(
            "t10k-labels-idx1-ubyte.gz",
            _MNIST_URL + "t10k-labels-idx1-ubyte.gz",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    ),
    "fashion-mnist": (
        Resource(
            "train-images-idx3-ubyte.gz",
            _FASHION_URL + "train-images-idx3-ubyte.gz",
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ),
        Resource(
            "train-labels-idx1-ubyte.gz",
            _FASHION_URL + "train-labels-idx1-ubyte.gz",
            "25c81989df183df01b3e8a0aad5dffbe",
        ),
        Resource(
            "t10k-images-idx3-ubyte.gz",
            _FASHION_URL + "t10k-images-idx3-ubyte.gz",
            "bef4ecab320f06d8554ea6380940ec79",
        ),
        Resource(
            "t10k-labels-idx1-ubyte.gz",
            _FASHION_URL + "t10k-labels-idx1-ubyte.gz",
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    ),
    "cifar10": (
        Resource(
            "cifar-10-python.tar.gz",
            _CIFAR_URL + "cifar-10-python.tar.gz",
            "c58f30108f718f92721af3b95e74349a",
        ),
    ),
    "cifar100": (
        Resource(
            "cifar-100-python.tar.gz",
            _CIFAR_URL + "cifar-100-python.tar.gz",
            "eb9058c3a382ffc7106e4002c42a8d85",
        ),
    ),
}

#: The folder each CIFAR archive extracts to.
CIFAR_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}


def md5sum(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """Hex md5 of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download_file(resource: Resource, folder: Path, *, timeout: float = 60.0) -> Path:
    """Download ``resource`` into ``folder`` atomically (temp file, md5 check, rename); return its path."""
    target = folder / resource.filename
    with atomic_write(target) as out:
        try:
            with urllib.request.urlopen(resource.url, timeout=timeout) as response:
                shutil.copyfileobj(response, out)
        except OSError as err:
            raise DataError(
                f"could not download {resource.url} ({err}); put {resource.filename} "
                f"(md5 {resource.md5}) into {folder} by hand"
            ) from err
        out.flush()
        got = md5sum(out.name)
        if got != resource.md5:
            raise DataError(
                f"{resource.url}: md5 {got} does not match the official {resource.md5}; file discarded"
            )
    return target


def _safe_extract(archive: Path, folder: Path) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            dest = (folder / member.name).resolve()
            if not dest.is_relative_to(folder.resolve()) or not (member.isfile() or member.isdir()):
                raise DataError(f"{archive}: refusing to extract unsafe member {member.name!r}")
        tar.extractall(folder)


def resolve_cifar_folder(root: Path, dataset: str) -> Path:
    """The extracted CIFAR folder: ``root`` itself if it holds the batches, else ``root/<official folder>``."""
    name = CIFAR_FOLDERS[dataset]
    return root if root.name == name or not (root / name).is_dir() else root / name


def _missing_message(dataset: str, root: Path, missing: list[Resource]) -> str:
    lines = [
        f"{dataset}: files missing in {root}. Put them there, or pass download=True (senet train: --set data.download=true) to fetch them:"
    ]
    lines += [f"  {r.filename}  md5 {r.md5}  from {r.url}" for r in missing]
    if dataset in CIFAR_FOLDERS:
        lines.append(f"  (or extract the archive so that {root / CIFAR_FOLDERS[dataset]} exists)")
    return "\n".join(lines)


def ensure_files(dataset: str, root: Path, *, download: bool) -> Path:
    """Make sure ``dataset``'s files are in ``root``; return the folder to read them from.

    MNIST-style: the four idx files, ``.gz`` or already gunzipped (their structure is checked when read).
    CIFAR: the extracted folder (``root`` itself or ``root/cifar-10-batches-py``), else the archive in
    ``root``, which is checked against the official md5 and extracted. Missing files are downloaded (and
    md5-checked) when ``download``; otherwise a :class:`DataError` says which files to put where.
    """
    resources = RESOURCES[dataset]
    if dataset in CIFAR_FOLDERS:
        name = CIFAR_FOLDERS[dataset]
        if root.name == name or (root / name).is_dir():
            return root
        archive = root / resources[0].filename
        if not archive.is_file():
            if not download:
                raise DataError(_missing_message(dataset, root, list(resources)))
            archive = download_file(resources[0], root)
        elif (got := md5sum(archive)) != resources[0].md5:
            raise DataError(
                f"{archive}: md5 {got} does not match the official {resources[0].md5} (corrupt or different file)"
            )
        _safe_extract(archive, root)
        return root
    missing = [
        r for r in resources if not (root / r.filename).is_file() and not (root / r.filename[:-3]).is_file()
    ]
    if missing and not download:
        raise DataError(_missing_message(dataset, root, missing))
    for resource in missing:
        download_file(resource, root)
    return root
