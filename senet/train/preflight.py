"""What a run checks and sets before its first step: the environment (device, AMP, DDP, data
root, optional packages), the seeds and determinism flags, and the TensorBoard writer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from senet.config import ConfigError
from senet.train import distributed as dist
from senet.train import rundir
from senet.train.config import TrainConfig


def seed_and_determinism(config: TrainConfig, env: dist.DistEnv) -> None:
    """The global seed and the determinism switches (the thread count is set by :func:`fit`)."""
    torch.manual_seed(config.seed)
    if config.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        if config.compile:
            torch.use_deterministic_algorithms(True)  # also sets inductor's flag (imports inductor)
        else:
            torch.set_deterministic_debug_mode("error")  # the same switch, without importing inductor
        torch.backends.cudnn.benchmark = False
    elif env.device.type == "cuda":
        torch.backends.cudnn.benchmark = True


def check_environment(config: TrainConfig, env: dist.DistEnv, *, resume: bool = False) -> None:
    """Configuration problems that would otherwise surface only after the set-up (or mid-run)."""
    if resume and config.overwrite:
        raise ConfigError("overwrite=true starts a new run: it cannot be combined with resuming (--resume)")
    if config.data.dataset != "digits" and not config.data.root:
        raise ConfigError(
            f"data.root: recipe {config.recipe!r} trains on {config.data.dataset!r}; give its folder "
            "(--data-root PATH or --set data.root=PATH)"
        )
    if config.amp == "fp16" and env.device.type != "cuda":
        raise ConfigError(
            "amp='fp16' needs a CUDA device (it uses a gradient scaler); use amp=bf16 on the CPU"
        )
    if config.sync_bn and env.distributed and env.device.type != "cuda":
        raise ConfigError("sync_bn=true needs CUDA devices: torch's SyncBatchNorm runs on GPU modules only")
    if config.freeze_stem_after and env.distributed:
        raise ConfigError(
            "freeze_stem_after: single-process runs only (DistributedDataParallel needs the set of "
            f"trained parameters fixed; this run has {env.world_size} processes)"
        )
    if config.batch_size % env.world_size:
        raise ConfigError(
            f"batch_size={config.batch_size} does not split evenly over {env.world_size} processes"
        )
    if config.tensorboard:
        try:
            import torch.utils.tensorboard  # noqa: F401
        except ImportError:
            raise ConfigError(
                "tensorboard=true needs the tensorboard package (pip install 'senet[tensorboard]')"
            ) from None


def tensorboard_writer(config: TrainConfig, run_dir: Path) -> Any:
    if not config.tensorboard:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(run_dir / rundir.TENSORBOARD))
