"""Tiny training configurations shared by the training tests (8x8 digits, a few batches)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from senet.data import DataConfig
from senet.train import TrainConfig

REPO = Path(__file__).resolve().parents[2]


def tiny_config(out_dir: Path | str, **changes: Any) -> TrainConfig:
    """se_resnet20_cifar on 128 digits at 8x8 (64 for validation), batch 32, deterministic, 1 thread."""
    data = DataConfig(dataset="digits", input_size=8, limit_train=128, limit_val=64, workers=0)
    base = TrainConfig(
        model="se_resnet20_cifar",
        data=data,
        recipe="test",
        epochs=2,
        batch_size=32,
        lr=0.05,
        schedule="cosine",
        weight_decay=5e-4,
        deterministic=True,
        threads=1,
        out_dir=str(out_dir),
    )
    return base.replace(**changes)


def subprocess_env() -> dict[str, str]:
    """Environment for child Python processes: one thread each (the CI machine has 2 cores)."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(REPO))
    return env


PYTHON = sys.executable


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ddp_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    """One process of a CPU DDP job (gloo), set up the way torchrun sets the environment."""
    import torch

    from senet.train import fit

    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(1)
    fit(tiny_config(out_dir, epochs=2), quiet=True)


HOST_READS = ("item", "tolist", "__bool__", "__int__", "__float__", "__index__", "numpy")
"""Every way a tensor's value reaches Python (a host synchronisation on an accelerator)."""


def count_host_reads(monkeypatch: Any) -> list[str]:
    """Patch torch.Tensor so that each of :data:`HOST_READS` is recorded, by name, in the list
    returned (until ``monkeypatch.undo()``)."""
    import torch

    calls: list[str] = []
    for name in HOST_READS:
        real = getattr(torch.Tensor, name)

        def counted(
            self: torch.Tensor, *args: Any, _real: Any = real, _name: str = name, **kwargs: Any
        ) -> Any:
            calls.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return calls
