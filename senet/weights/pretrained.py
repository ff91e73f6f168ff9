"""A registry of public pretrained weights, a verified download cache and ``pretrained=True``.

Each :class:`PretrainedEntry` records where the file lives, how to check it, how it wants its
input and what its authors report. Files are cached in ``$SENET_CACHE`` (default
``~/.cache/senet``). ``sha256`` is stored only where it is known; otherwise the 8-hex prefix in
the file name (PyTorch hub's convention) is checked and the entry is marked unverified.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import torch

from senet.io import atomic_write
from senet.weights.convert import convert_file
from senet.weights.preprocessing import Preprocessing

_CADENE = "http://data.lip6.fr/cadene/pretrainedmodels/"
_CADENE_SOURCE = "Cadene pretrainedmodels: PyTorch port of the official Caffe models (hujie-frank/SENet)"


class PretrainedUnavailableError(ValueError):
    """No verified copy of the weights could be found or fetched."""


@dataclass(frozen=True)
class PretrainedEntry:
    """One downloadable checkpoint for a registered senet model."""

    model: str
    url: str
    layout: str  # "cadene" | "timm" | "senet": how to map its keys
    source: str
    top1: float | None  # ImageNet val top-1 (%) as reported by ``source``
    sha256: str | None = None  # None: unverified (only the file-name prefix is checked)
    preprocessing: Preprocessing = field(default_factory=Preprocessing)

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def hash_prefix(self) -> str | None:
        """The hex digits after the last '-' of the file name (torch.hub's sha256 prefix)."""
        m = re.search(r"-([0-9a-f]{8,64})\.\w+$", self.filename)
        return m.group(1) if m else None


def _cadene(model: str, file: str, top1: float) -> PretrainedEntry:
    # Cadene settings: RGB in [0, 1], ImageNet mean/std, bilinear resize 256, centre crop 224.
    return PretrainedEntry(model, _CADENE + file, "cadene", _CADENE_SOURCE, top1)


# Reported top-1 from the Cadene port (shared/reference/layouts.md).
PRETRAINED: dict[str, PretrainedEntry] = {
    e.model: e
    for e in (
        _cadene("se_resnet50", "se_resnet50-ce0d4300.pth", 77.64),
        _cadene("se_resnet101", "se_resnet101-7e38fcc6.pth", 78.40),
        _cadene("se_resnet152", "se_resnet152-d17c99b7.pth", 78.66),
        _cadene("se_resnext50_32x4d", "se_resnext50_32x4d-a260b3a4.pth", 79.08),
        _cadene("se_resnext101_32x4d", "se_resnext101_32x4d-3b2fe3d8.pth", 80.24),
        _cadene("senet154", "senet154-c7b49a05.pth", 81.30),
    )
}


def get_entry(model: str) -> PretrainedEntry:
    """The registry entry for ``model``; an unknown name lists the available ones."""
    if model not in PRETRAINED:
        raise KeyError(f"no pretrained weights registered for {model!r}; available: {sorted(PRETRAINED)}")
    return PRETRAINED[model]


def cache_dir() -> Path:
    """``$SENET_CACHE`` or ``~/.cache/senet``."""
    return Path(os.environ.get("SENET_CACHE") or Path.home() / ".cache" / "senet")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(entry: PretrainedEntry, path: Path) -> None:
    """Check ``path`` against the entry's sha256 (or its file-name prefix); raise on mismatch."""
    want = entry.sha256 or entry.hash_prefix
    if want is None:
        return
    got = sha256_file(path)
    if not got.startswith(want):
        raise PretrainedUnavailableError(
            f"{path}: sha256 {got} does not match {'expected ' + want if entry.sha256 else 'the file-name prefix ' + want}"
            f" for {entry.url}; delete it and download again"
        )


def download(entry: PretrainedEntry, *, cache: str | Path | None = None, timeout: float = 60.0) -> Path:
    """The verified local copy of ``entry``, downloading it into the cache when absent."""
    folder = Path(cache) if cache is not None else cache_dir()
    path = folder / entry.filename
    if path.is_file():
        verify(entry, path)
        return path
    try:
        with atomic_write(path) as fh:
            with urllib.request.urlopen(entry.url, timeout=timeout) as response:
                shutil.copyfileobj(response, fh, 1 << 20)
            fh.flush()
            verify(entry, Path(fh.name))  # a mismatch raises, and the partial file is removed
    except (urllib.error.URLError, OSError) as err:
        raise PretrainedUnavailableError(
            f"could not download {entry.url} ({err}). Offline? Fetch that file elsewhere and put it "
            f"at {path} (or set SENET_CACHE to the folder that holds {entry.filename})"
        ) from None
    return path


def load_pretrained(model: str, *, cache: str | Path | None = None, **overrides: object) -> torch.nn.Module:
    """``create_model(model, pretrained=True)``: fetch (or find) the file, verify, convert, load."""
    entry = get_entry(model)
    converted = convert_file(download(entry, cache=cache), source=entry.layout)  # type: ignore[arg-type]
    if converted.model_name != model:
        raise ValueError(f"{entry.url} holds a {converted.model_name!r} network, not {model!r}")
    net = converted.build(**overrides)
    net.preprocessing = entry.preprocessing  # type: ignore[attr-defined]
    return net
