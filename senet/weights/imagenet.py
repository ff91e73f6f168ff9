"""The ImageNet-1k (ILSVRC 2012) classes: WNIDs in sorted order, the class order of every published
SE network (the official Caffe models, the Cadene port, timm), with a readable name for each.

The table itself is not written into this package: it is read, in this order, from

1. the file ``$SENET_IMAGENET_CLASSES`` names (``imagenet_class_index.json``, or a text file of
   ``WNID name`` lines, one per class);
2. the copy kept in the download cache (:func:`senet.weights.hub.cache_dir`);
3. the class files that an installed timm ships (found without importing timm);
4. a download of the widely used ``imagenet_class_index.json`` (``{"0": ["n01440764", "tench"],
   ...}``), verified against its published md5 and kept in the cache (only where asked:
   ``download=True``), with a short timeout.

Whatever the source, the list is checked: 1000 classes, WNIDs of the form ``n`` + 8 digits,
unique and sorted. A source that fails the check is an error naming the file and the entry.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import re
import sys
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from senet.config import ConfigError
from senet.weights.hub import cache_dir

NUM_CLASSES = 1000
INDEX_FILE = "imagenet_class_index.json"
#: Mirrors of the class index (Keras' copy, and its older S3 address) and its published md5.
INDEX_URLS = (
    "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json",
    "https://s3.amazonaws.com/deep-learning-models/image-models/imagenet_class_index.json",
)
INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"
ENV = "SENET_IMAGENET_CLASSES"
#: timm's class files (the sorted WNIDs; WNID -> lemma for ImageNet-21k, a superset).
TIMM_FILES = ("timm/data/_info/imagenet_synsets.txt", "timm/data/_info/imagenet_synset_to_lemma.txt")
WNID = re.compile(r"n\d{8}")


@dataclass(frozen=True)
class ClassList:
    """The classes of ImageNet-1k: ``wnids[k]`` and ``names[k]`` for output k."""

    wnids: tuple[str, ...]
    """The WordNet ids, sorted (the class order of the published weights)."""
    names: tuple[str, ...]
    """A readable name per class (the first WordNet lemma, e.g. ``goldfish``)."""
    source: str
    """Where the list was read."""

    def name_of(self, label: str) -> str | None:
        """The name of a WNID of this list (None for anything else)."""
        return _index(self).get(label)


@functools.lru_cache(maxsize=8)
def _index(classes: ClassList) -> dict[str, str]:
    return dict(zip(classes.wnids, classes.names, strict=True))


def checked(wnids: list[str], names: list[str], where: str) -> ClassList:
    """The list, after checking it is ImageNet-1k's: 1000 unique sorted WNIDs, a name each."""
    if len(wnids) != NUM_CLASSES:
        raise ConfigError(f"{where}: {len(wnids)} classes, expected {NUM_CLASSES} (ImageNet-1k)")
    for k, (wnid, name) in enumerate(zip(wnids, names, strict=True)):
        if not WNID.fullmatch(wnid):
            raise ConfigError(f"{where}: class {k}: {wnid!r} is not a WordNet id (n + 8 digits)")
        if not name.strip():
            raise ConfigError(f"{where}: class {k} ({wnid}) has no name")
        if k and wnid <= wnids[k - 1]:
            raise ConfigError(
                f"{where}: class {k}: {wnid} after {wnids[k - 1]}: the WNIDs must be sorted and unique"
            )
    return ClassList(tuple(wnids), tuple(n.strip().replace("_", " ") for n in names), where)


def parse_index(text: str, where: str) -> ClassList:
    """``{"0": ["n01440764", "tench"], ...}`` (the layout of ``imagenet_class_index.json``)."""
    try:
        raw = json.loads(text)
        rows = [raw[str(k)] for k in range(len(raw))]
        pairs = [(str(w), str(n)) for w, n in rows]
    except (ValueError, KeyError, TypeError) as err:
        raise ConfigError(f'{where}: not a class index {{"0": [WNID, name], ...}} ({err})') from None
    return checked([w for w, _ in pairs], [n for _, n in pairs], where)


def parse_lines(text: str, where: str) -> ClassList:
    """One class per line: ``WNID name`` (space, tab or comma between; the name may have more
    words, and only its first comma-separated lemma is kept). Blank lines are skipped."""
    wnids, names = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        wnid, _, rest = line.strip().replace("\t", " ").partition(" ")
        wnid = wnid.rstrip(",")
        if not WNID.fullmatch(wnid):
            raise ConfigError(f"{where}, line {number}: expected 'WNID name', got {line.strip()[:60]!r}")
        wnids.append(wnid)
        names.append(rest.strip().lstrip(",").split(",")[0].strip())
    return checked(wnids, names, where)


def read_classes(path: str | Path, *, md5: str | None = None) -> ClassList:
    """The class list in a file: JSON (a class index) or text (``WNID name`` lines); with ``md5``,
    only a file of that md5. Read once per process while the file stays the same: the list is kept
    under the file's resolved path, modification time and size, so an edited or replaced file (or
    another ``$SENET_IMAGENET_CLASSES``) is read again."""
    path = Path(path)
    try:
        info = path.stat()
    except OSError:
        return _read(str(path), md5)  # reports why it cannot be read
    return _read_once(str(path), md5, (str(path.resolve()), info.st_mtime_ns, info.st_size))


@functools.lru_cache(maxsize=8)
def _read_once(path: str, md5: str | None, stamp: tuple[str, int, int]) -> ClassList:
    """:func:`_read`, kept per ``stamp`` (resolved path, mtime in ns, size) of the file."""
    return _read(path, md5)


def _read(path: str, md5: str | None) -> ClassList:
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the ImageNet class list ({err})") from None
    if md5 is not None and hashlib.md5(data).hexdigest() != md5:  # noqa: S324 (the published checksum)
        raise ConfigError(f"{path}: not the published class index (md5 differs); delete it")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: cannot read the ImageNet class list ({err})") from None
    return parse_index(text, path) if text.lstrip().startswith("{") else parse_lines(text, path)


def from_timm() -> ClassList | None:
    """The list from the class files of an installed timm (not imported), if there is one."""
    try:
        dist = importlib.metadata.distribution("timm")
    except importlib.metadata.PackageNotFoundError:
        return None
    synsets, lemmas = (Path(str(dist.locate_file(f))) for f in TIMM_FILES)
    if not (synsets.is_file() and lemmas.is_file()):
        return None
    wnids = synsets.read_text(encoding="utf-8").split()
    lemma = dict(
        line.split("\t", 1) for line in lemmas.read_text(encoding="utf-8").splitlines() if "\t" in line
    )
    return checked(wnids, [lemma.get(w, "").split(",")[0] for w in wnids], str(synsets.parent))


def download_index(folder: Path, *, timeout: float = 15.0) -> Path:
    """Fetch the class index into ``folder`` from the first mirror that answers with the published
    md5; only a verified file is renamed to its final name. Raises ConfigError listing each failure."""
    folder.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in INDEX_URLS:
        partial = folder / f".{INDEX_FILE}.{uuid.uuid4().hex}.download"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                data = response.read()
            got = hashlib.md5(data).hexdigest()  # noqa: S324 (the published checksum is an md5)
            if got != INDEX_MD5:
                failures.append(f"  {url}: md5 {got}, expected {INDEX_MD5}")
                continue
            partial.write_bytes(data)
            os.replace(partial, folder / INDEX_FILE)
            return folder / INDEX_FILE
        except OSError as err:
            failures.append(f"  {url}: {type(err).__name__}: {err}")
        finally:
            partial.unlink(missing_ok=True)
    raise ConfigError(
        "could not download the ImageNet class names:\n" + "\n".join(failures) + f"\nPut a copy at "
        f"{folder / INDEX_FILE}, or name a class file in ${ENV}"
    )


def imagenet_classes(*, download: bool = False, quiet: bool = False) -> ClassList | None:
    """The ImageNet-1k class list from the first source that has it (see the module docstring),
    or None when none has (with one line on stderr saying how to provide it, unless ``quiet``).
    A source that exists but is broken is an error."""
    env = os.environ.get(ENV)
    if env:
        return read_classes(env)
    cached = cache_dir() / INDEX_FILE
    if cached.is_file():
        return read_classes(cached, md5=INDEX_MD5)
    found = from_timm()
    if found is not None:
        return found
    if download:
        try:
            return read_classes(download_index(cache_dir()))
        except ConfigError as err:
            if not quiet:
                _note(f"no ImageNet class names ({err})")
            return None
    if not quiet:
        _note(
            f"ImageNet class names not found locally: `senet models --imagenet-classes` downloads them "
            f"(or set ${ENV} to a class file); classes are shown as numbers"
        )
    return None


@functools.cache
def _note(message: str) -> None:
    """Print a note once per process."""
    print(f"note: {message}", file=sys.stderr)


def imagenet_labels(num_classes: int, *, download: bool = False) -> dict[str, tuple[str, ...]]:
    """The card fields ``labels`` (WNIDs) and ``label_names`` of an ImageNet-1k classifier, when a
    class list is found; empty for other class counts or when none is."""
    classes = imagenet_classes(download=download) if num_classes == NUM_CLASSES else None
    return {"labels": classes.wnids, "label_names": classes.names} if classes is not None else {}


def display_names(labels: list[str], names: list[str] | None = None) -> list[str]:
    """A readable name per class: ``names`` where given, else the ImageNet name of each label that is
    a WNID of a locally available class list (``goldfish``), else the label itself."""
    if names is not None:
        return list(names)
    if not any(WNID.fullmatch(label) for label in labels):
        return list(labels)
    classes = imagenet_classes(quiet=True)
    if classes is None:
        return list(labels)
    return [classes.name_of(label) or label for label in labels]


__all__ = [
    "ClassList",
    "INDEX_FILE",
    "INDEX_MD5",
    "INDEX_URLS",
    "display_names",
    "download_index",
    "from_timm",
    "imagenet_classes",
    "imagenet_labels",
    "parse_index",
    "parse_lines",
    "read_classes",
]
