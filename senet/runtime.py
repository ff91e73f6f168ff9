"""Where and how a job runs: the device to use, the CPU thread count (restored afterwards) and
the output location, checked before the work starts.

Shared by training, evaluation and the benchmark so that ``--device`` and ``--threads`` mean the
same thing in every command.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import torch

from senet.errors import OutputError, SenetError, os_reason


def pick_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto`` is ``cuda:<local_rank>`` when CUDA is available, else the CPU; ``cuda`` without
    a GPU is an error that says so."""
    if name == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError) as err:  # torch: "Expected one of cpu, cuda, ..."
        raise SenetError(f"device={name!r}: not a device name (use auto, cpu, cuda, cuda:N or mps)") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SenetError(f"device={name!r}: CUDA is not available on this machine (use cpu or auto)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise SenetError(f"device={name!r}: MPS is not available on this machine (use cpu or auto)")
    if device.type not in ("cpu", "cuda", "mps", "meta"):
        raise SenetError(f"device={name!r}: not supported here (use auto, cpu, cuda, cuda:N or mps)")
    return device


def prepare_output(path: str | Path, *, folder: bool) -> Path:
    """Create ``path`` (``folder``) or its parent folder, and check that it can be written to,
    before any work is done; :class:`~senet.errors.OutputError` names the path otherwise
    (read-only, a file where a folder is needed, a folder where a file is needed)."""
    path = Path(path)
    where = path if folder else path.parent
    if folder and path.exists() and not path.is_dir():
        raise OutputError(f"{path}: is a file; give a folder")
    if not folder and path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create the output folder: {os_reason(err)}") from err
    if not os.access(where, os.W_OK | os.X_OK):
        raise OutputError(f"{where}: not writable")
    return path


@contextlib.contextmanager
def num_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(threads)`` (None or 0: leave it), then restore
    the previous count: library calls leave the process as they found it."""
    saved = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved)
