"""Where and how a job runs: the device to use and the CPU thread count, restored afterwards.

Shared by training, evaluation and the benchmark so that ``--device`` and ``--threads`` mean the
same thing in every command.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def pick_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto`` is ``cuda:<local_rank>`` when CUDA is available, else the CPU; ``cuda`` without
    a GPU is an error that says so."""
    if name == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r}: CUDA is not available on this machine (use cpu or auto)")
    return device


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
