"""Atomic file writes: a reader sees the old file or the complete new one, never a torn one.

Files are created with the mode the process's umask gives (0644 under the usual umask 022), like
any file ``open()`` creates: results written for colleagues on a shared machine stay readable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def fsync_path(path: str | Path) -> None:
    """Flush a file or folder to disk (a folder too, so that a rename inside it persists)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def umask_mode() -> int:
    """0o666 less the process's umask: the mode ``open()`` gives a new file (0o644 under umask 022).
    For files written by libraries that pick their own mode (safetensors writes 0600)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting it (and at once back)
    os.umask(mask)
    return 0o666 & ~mask


def _create_beside(path: Path) -> Path:
    """A new empty hidden file beside ``path`` (``.NAME.XXXXXXXX.tmp``), created with O_EXCL and
    mode 0666 less the umask (``tempfile.mkstemp`` would give 0600 whatever the umask)."""
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return tmp


@contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; when the block ends without an error,
    flush and fsync it, rename it over ``path`` and fsync the folder. On an error (a failed
    check inside the block included) the temporary file is removed and ``path`` is untouched.
    The file ends with the umask's mode (0644 under umask 022).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_beside(path)
    try:
        with open(tmp, mode) as fh:  # fh.name is the temporary path, for checks inside the block
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically; returns ``path``."""
    with atomic_write(path, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    return Path(path)
