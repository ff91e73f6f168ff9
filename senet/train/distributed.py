"""Multi-process training: torchrun environment, DistributedDataParallel, SyncBatchNorm, reductions.

Launch with ``torchrun --nproc_per_node N -m senet train ...`` (or set RANK / WORLD_SIZE /
MASTER_ADDR / MASTER_PORT yourself). The backend is gloo on CPU and nccl on CUDA. A single
process (no WORLD_SIZE, or 1) needs none of this and runs unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from senet.runtime import pick_device  # re-exported: commands import it from here


@dataclass(frozen=True)
class DistEnv:
    """This process's place in the job: ``rank`` of ``world_size``, and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init(device: str = "auto") -> DistEnv:
    """Join the process group described by torchrun's environment variables (if any)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    dev = pick_device(device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        backend = "nccl" if dev.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistEnv(rank=rank, world_size=world_size, local_rank=local_rank, device=dev)


def shutdown(*, finished: bool = False) -> None:
    """Leave the process group. After a run that ``finished`` on every rank, the ranks meet at a
    barrier first, so that none tears down its connections while another still uses them (gloo
    aborts the process then: "terminate called without an active exception"); after an error
    there is no barrier, which the failed rank would never reach."""
    if dist.is_available() and dist.is_initialized():
        if finished:
            dist.barrier()
        dist.destroy_process_group()


def wrap(model: nn.Module, env: DistEnv, *, sync_bn: bool = False) -> nn.Module:
    """DistributedDataParallel (with SyncBatchNorm if asked) when there are several processes."""
    if not env.distributed:
        return model
    if sync_bn:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    device_ids = [env.device.index] if env.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def all_reduce_sum(values: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """Sum ``values`` over all processes (a no-op for one process)."""
    if env.distributed:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def any_true(flag: bool, env: DistEnv) -> bool:
    """True on every process if ``flag`` is true on any one of them."""
    if not env.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=env.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def barrier(env: DistEnv) -> None:
    if env.distributed:
        dist.barrier()


def broadcast_object(obj: object, env: DistEnv) -> object:
    """Rank 0's ``obj`` on every process."""
    if not env.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


__all__ = [
    "DistEnv",
    "all_reduce_sum",
    "any_true",
    "barrier",
    "broadcast_object",
    "init",
    "pick_device",
    "shutdown",
    "wrap",
]
