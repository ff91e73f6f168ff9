"""Training images/s of the engine's step (forward, loss, backward, SGD) on synthetic batches.

    .venv/bin/python benchmarks/train_throughput.py                   # both models, fp32 and bf16
    .venv/bin/python benchmarks/train_throughput.py --threads 2 --steps 10

Runs :func:`senet.train.train_one_epoch` (the real engine path, autocast included) over a loader
that repeats one random batch, so decoding is excluded: se_resnet20_cifar at 32x32 (batch 64) and
se_resnet50 at 224x224 (batch 4, a few steps), each in fp32 and with bf16 autocast. The first
``--warmup`` steps are not timed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

import torch

from senet.api import create_model
from senet.train import TrainConfig, train_one_epoch
from senet.train.distributed import DistEnv
from senet.train.optim import build_optimizer, build_scheduler

CASES = [("se_resnet20_cifar", 32, 64, 20), ("se_resnet50", 224, 4, 4)]  # model, size, batch, steps


class RepeatLoader:
    """``steps`` copies of one random batch: (images (N, 3, S, S), labels (N,))."""

    def __init__(self, batch: int, size: int, steps: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.images = torch.randn(batch, 3, size, size, generator=g)
        self.labels = torch.randint(0, 10, (batch,), generator=g)
        self.steps = steps

    def set_epoch(self, epoch: int) -> None:
        pass

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for _ in range(self.steps):
            yield self.images, self.labels


def measure(
    name: str, size: int, batch: int, steps: int, amp: str, warmup: int, channels_last: bool
) -> float:
    config = TrainConfig(
        model=name, epochs=1, batch_size=batch, amp=amp, channels_last=channels_last, schedule="constant"
    )
    model = create_model(name, num_classes=10)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = build_optimizer(config, model)
    scheduler = build_scheduler(config, optimizer, warmup + steps)
    env = DistEnv(0, 1, 0, torch.device("cpu"))
    common = dict(optimizer=optimizer, scheduler=scheduler, epoch=0, config=config, env=env, show=False)
    train_one_epoch(model, RepeatLoader(batch, size, warmup), **common)
    tic = time.perf_counter()
    train_one_epoch(model, RepeatLoader(batch, size, steps), **common)
    return batch * steps / (time.perf_counter() - tic)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--steps", type=int, default=None, help="timed steps per case (default per model)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--models", nargs="+", default=[c[0] for c in CASES], help="a subset of the cases")
    p.add_argument(
        "--amp", nargs="+", default=["none", "bf16"], choices=["none", "bf16"], help="autocast modes"
    )
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, channels_last={args.channels_last}")
    print(f"{'model':<18} {'input':>5} {'batch':>5} {'amp':>5} {'images/s':>9}")
    for name, size, batch, steps in (c for c in CASES if c[0] in args.models):
        for amp in args.amp:
            ips = measure(name, size, batch, args.steps or steps, amp, args.warmup, args.channels_last)
            print(
                f"{name:<18} {size:>5} {batch:>5} {'fp32' if amp == 'none' else amp:>5} {ips:>9.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
