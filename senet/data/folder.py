"""Index image datasets on disk: class-folder trees (ImageNet / Places365 layout) and "path label" lists.

Class-folder tree: ``ROOT/<split>/<class>/<image>``. A class is every folder that directly holds image
files; its name is its path below the split folder, so ImageNet's ``n01440764`` and Places365's nested
``a/apartment_building/outdoor`` both work. Classes are sorted by name; label = index in that order.
Hidden files and folders (names starting with ``.``: ``.DS_Store``, macOS's ``._x.jpg``) are left out;
symlinked folders are followed once per real folder (loops and second links are reported, not entered).

File list: one ``path label`` per line (the path may contain spaces: the label is the last field);
blank lines and lines starting with ``#`` are skipped. A relative path (or one starting with ``/`` that
does not exist as an absolute path, as in Places365's lists) is resolved against the image root.
Class names come from ``classes.txt`` (one per line, line i = label i) beside the list or in the image
root; without it the classes are ``"0" .. str(max label)``.

Every check (missing folders, a wrong layout, an empty class, a missing file, a label out of range) runs
before training starts and raises :class:`DataError` naming the problem.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from senet.data.config import DataError
from senet.data.images import IMAGE_EXTENSIONS, is_image_file

log = logging.getLogger("senet.data")


@dataclass(frozen=True)
class ImageList:
    """A split of an on-disk dataset: image paths, their labels, and the class names."""

    paths: list[str]
    labels: list[int]
    classes: list[str]
    skipped: tuple[tuple[str, str], ...] = ()
    """(path, reason) of what the scan left out: hidden files, symlink loops, folders linked twice."""

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, indices: list[int]) -> ImageList:
        return ImageList(
            [self.paths[i] for i in indices], [self.labels[i] for i in indices], self.classes, self.skipped
        )


def scan_class_tree(
    split_root: str | Path, skipped: list[tuple[str, str]] | None = None
) -> dict[str, list[str]]:
    """``{class name: sorted image paths}`` of a class-folder tree; errors name the bad folder.

    Hidden files and folders (``.DS_Store``, macOS's ``._x.jpg``) are left out. Symlinked folders are
    followed, each real folder at most once: a link back to an ancestor (a loop) or a second link to a
    folder already scanned is not entered. What was left out is logged and, when ``skipped`` is given,
    appended to it as (path, reason).
    """
    split_root = Path(split_root)
    if not split_root.is_dir():
        raise DataError(
            f"{split_root}: folder not found (expected a class-folder tree <split>/<class>/<images>)"
        )
    left_out: list[tuple[str, str]] = []
    seen = {os.path.realpath(split_root): split_root}  # real folder -> the path it was first reached by
    found: dict[str, list[str]] = {}
    for dirpath, dirnames, filenames in os.walk(split_root, followlinks=True):
        here = Path(dirpath)
        dirnames[:] = _enter_once(here, sorted(d for d in dirnames if not d.startswith(".")), seen, left_out)
        left_out += [
            (str(here / f), HIDDEN) for f in sorted(filenames) if f.startswith(".") and is_image_file(f)
        ]
        images = sorted(f for f in filenames if is_image_file(f) and not f.startswith("."))
        if here == split_root:
            if images:
                raise DataError(
                    f"{split_root}: wrong layout: {len(images)} image(s) directly in the split folder "
                    f"(e.g. {images[0]}); expected one sub-folder per class, <split>/<class>/<images>"
                )
            continue
        name = here.relative_to(split_root).as_posix()
        if images and dirnames:
            raise DataError(
                f"{here}: wrong layout: holds both images and sub-folders {dirnames[:3]}; a class folder holds only images"
            )
        if images:
            found[name] = [str(here / f) for f in images]
        elif not dirnames:
            raise DataError(f"{here}: empty class folder (no files ending in {', '.join(IMAGE_EXTENSIONS)})")
    _report(split_root, left_out)
    if skipped is not None:
        skipped += left_out
    if not found:
        raise DataError(
            f"{split_root}: no class folders with images found (expected <split>/<class>/<images>)"
        )
    return found


HIDDEN = "hidden file"
LOOP = "symlink loop"
DUPLICATE = "folder linked twice"


def _enter_once(
    here: Path, names: list[str], seen: dict[str, Path], left_out: list[tuple[str, str]]
) -> list[str]:
    """The sub-folders of ``here`` to walk into: those whose real folder was not reached before."""
    keep = []
    real_here = os.path.realpath(here)
    for name in names:
        path = here / name
        real = os.path.realpath(path)
        if real_here == real or real_here.startswith(real.rstrip(os.sep) + os.sep):
            left_out.append((str(path), LOOP))
            log.warning("%s: not followed: a symlink loop (it points to %s, a folder above it)", path, real)
        elif real in seen:
            left_out.append((str(path), DUPLICATE))
            log.warning("%s: not followed: the same folder as %s, scanned once", path, seen[real])
        else:
            seen[real] = path
            keep.append(name)
    return keep


def _report(split_root: Path, left_out: list[tuple[str, str]]) -> None:
    hidden = [path for path, reason in left_out if reason == HIDDEN]
    if hidden:
        log.warning(
            "%s: left out %d hidden file(s) named like images (e.g. %s)", split_root, len(hidden), hidden[0]
        )


def folder_splits(root: str | Path, *, train_split: str, val_split: str) -> tuple[ImageList, ImageList]:
    """(train, val) of ``root/<train_split>`` and ``root/<val_split>``; val classes must exist in train."""
    root = Path(root)
    train_skipped: list[tuple[str, str]] = []
    val_skipped: list[tuple[str, str]] = []
    train_tree = scan_class_tree(root / train_split, train_skipped)
    val_tree = scan_class_tree(root / val_split, val_skipped)
    classes = sorted(train_tree)
    extra = sorted(set(val_tree) - set(train_tree))
    if extra:
        raise DataError(
            f"{root / val_split}: class folder(s) {extra[:5]} do not exist in {root / train_split}"
        )
    return _to_list(train_tree, classes, train_skipped), _to_list(val_tree, classes, val_skipped)


def folder_eval_split(root: str | Path, *, val_split: str) -> ImageList:
    """``root/<val_split>`` alone (a test-only folder: no training split needed), its own classes."""
    skipped: list[tuple[str, str]] = []
    tree = scan_class_tree(Path(root) / val_split, skipped)
    return _to_list(tree, sorted(tree), skipped)


def _to_list(
    tree: dict[str, list[str]], classes: list[str], skipped: list[tuple[str, str]] | None = None
) -> ImageList:
    index = {c: i for i, c in enumerate(classes)}
    paths, labels = [], []
    for name in sorted(tree):
        paths += tree[name]
        labels += [index[name]] * len(tree[name])
    return ImageList(paths, labels, classes, tuple(skipped or ()))


def _resolve(path: str, image_root: Path) -> Path:
    candidate = Path(path)
    if candidate.is_absolute() and candidate.exists():
        return candidate
    return image_root / path.lstrip("/")


def read_file_list(list_path: str | Path, image_root: str | Path) -> list[tuple[str, int, int]]:
    """Parse a ``path label`` list into (resolved path, label, line number); check every file exists."""
    list_path, image_root = Path(list_path), Path(image_root)
    if not list_path.is_file():
        raise DataError(f"{list_path}: file list not found (expected lines 'path label')")
    entries, missing = [], []
    for number, line in enumerate(list_path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.rsplit(maxsplit=1)
        if len(fields) != 2:
            raise DataError(f"{list_path}:{number}: expected 'path label', got {line!r}")
        try:
            label = int(fields[1])
        except ValueError:
            raise DataError(f"{list_path}:{number}: label {fields[1]!r} is not an integer") from None
        path = _resolve(fields[0], image_root)
        if not path.is_file():
            missing.append(f"{list_path}:{number}: {path}")
        entries.append((str(path), label, number))
    if missing:
        more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
        raise DataError(f"{len(missing)} missing image file(s) in the list: " + "; ".join(missing[:3]) + more)
    if not entries:
        raise DataError(f"{list_path}: the file list is empty")
    return entries


def _read_classes(list_path: Path, image_root: Path) -> list[str] | None:
    for candidate in (list_path.parent / "classes.txt", image_root / "classes.txt"):
        if candidate.is_file():
            names = [
                line.strip() for line in candidate.read_text(encoding="utf-8").splitlines() if line.strip()
            ]
            if not names:
                raise DataError(f"{candidate}: empty class-name file")
            return names
    return None


def file_list_splits(
    train_list: str | Path, val_list: str | Path, image_root: str | Path
) -> tuple[ImageList, ImageList]:
    """(train, val) from two ``path label`` lists; labels must lie in 0..K-1 (K from classes.txt or train)."""
    train_list, val_list, image_root = Path(train_list), Path(val_list), Path(image_root)
    train = read_file_list(train_list, image_root)
    val = read_file_list(val_list, image_root)
    classes = _read_classes(train_list, image_root)
    if classes is None:
        classes = [str(i) for i in range(max(label for _, label, _ in train) + 1)]
    splits = []
    for list_path, entries in ((train_list, train), (val_list, val)):
        for _, label, number in entries:
            if not 0 <= label < len(classes):
                raise DataError(f"{list_path}:{number}: label {label} out of range 0..{len(classes) - 1}")
        splits.append(ImageList([p for p, _, _ in entries], [lab for _, lab, _ in entries], classes))
    return splits[0], splits[1]


def file_list_eval_split(val_list: str | Path, image_root: str | Path) -> ImageList:
    """The validation list alone (no training list needed); classes from classes.txt, else 0..max label."""
    val_list, image_root = Path(val_list), Path(image_root)
    entries = read_file_list(val_list, image_root)
    classes = _read_classes(val_list, image_root) or [
        str(i) for i in range(max(label for _, label, _ in entries) + 1)
    ]
    for _, label, number in entries:
        if not 0 <= label < len(classes):
            raise DataError(f"{val_list}:{number}: label {label} out of range 0..{len(classes) - 1}")
    return ImageList([p for p, _, _ in entries], [lab for _, lab, _ in entries], classes)
