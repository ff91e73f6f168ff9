"""senet.io: atomic writes end with the mode the process's umask gives, and leave nothing behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from senet.io import atomic_write, umask_mode, write_atomic


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_follow_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        written = write_atomic(tmp_path / "result.json", "{}\n")
        with atomic_write(tmp_path / "table.txt", "w") as fh:
            fh.write("text")
        assert umask_mode() == mode and os.umask(umask) == umask  # read without changing it
    finally:
        os.umask(old)
    assert stat.S_IMODE(written.stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "table.txt").stat().st_mode) == mode


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = write_atomic(tmp_path / "a.json", "old")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write(b"new, half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.json"]
