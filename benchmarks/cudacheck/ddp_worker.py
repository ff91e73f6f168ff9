"""One process of the stage ``train``'s DDP job, under ``torchrun --nproc-per-node 1``.

    python -m torch.distributed.run --standalone --nproc-per-node 1 -m cudacheck.ddp_worker OUT.json

Joins an nccl process group (gloo on a CPU), wraps SE-ResNet-20 in SyncBatchNorm (CUDA only)
and DistributedDataParallel, takes a few SGD steps (bf16 autocast on CUDA) on one random batch, and
writes what it saw to OUT.json. senet's own ``init`` skips the group for a world of one, so this
job calls ``torch.distributed`` itself.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

import senet


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--size", type=int, default=32)
    args = p.parse_args()
    cuda = torch.cuda.is_available()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo")
    rank = dist.get_rank()
    torch.manual_seed(0)
    model: nn.Module = senet.create_model("se_resnet20_cifar", num_classes=10).to(device)
    if cuda:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    syncbn = sum(isinstance(m, nn.SyncBatchNorm) for m in model.modules())
    ddp = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    x = torch.randn(
        args.batch, 3, args.size, args.size, device=device
    )  # (N, 3, S, S): one batch, learned by heart
    y = torch.randint(0, 10, (args.batch,), device=device)
    losses = []
    for _ in range(args.steps):
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):  # bf16 on a CPU: slow
            loss = F.cross_entropy(ddp(x).float(), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    total = torch.ones(1, device=device)
    dist.all_reduce(total)
    report = {"backend": dist.get_backend(), "world_size": dist.get_world_size(), "syncbn_layers": syncbn,
              "all_reduce_sum": total.item(), "loss_first": losses[0], "loss_last": losses[-1],
              "steps": args.steps}  # fmt: skip
    dist.destroy_process_group()
    if rank != 0:
        return
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    if not all(math.isfinite(v) for v in losses):
        raise SystemExit(f"non-finite loss: {losses}")
    if args.steps >= 10 and not losses[-1] < losses[0]:
        raise SystemExit(f"the loss did not fall: {losses[0]:.3f} -> {losses[-1]:.3f}")


if __name__ == "__main__":
    main()
