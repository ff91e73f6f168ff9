"""Forward + backward time of the standard-placement SE tail alone: fused vs plain vs no SE.

    python -m senet.fast.opbench [--shape 128,16,32,32] [--reps 21] [--threads 1] [--clock process]

Times, interleaved (see :func:`senet.fast.bench.time_interleaved`), one forward and backward of

- ``plain``: relu(u * s + x) with s = SE(u) as separate autograd ops (the textbook graph),
- ``fused``: :func:`senet.fast.ops.se_residual` (the custom autograd function the models use),
- ``no_se``: relu(u + x), the plain twin's tail,

on random (N, C, H, W) leaf tensors u and x (so each backward also writes u.grad and x.grad),
and prints the medians in ms as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable

import torch

from senet.fast.bench import time_interleaved
from senet.fast.ops import se_residual
from senet.layers.se import SqueezeExcite


def tail_steps(shape: tuple[int, ...]) -> dict[str, Callable[[], None]]:
    """The three tails as zero-argument forward + backward steps on fixed random tensors."""
    n, c, h, w = shape
    se = SqueezeExcite(c)
    u = torch.randn(n, c, h, w, requires_grad=True)
    x = torch.randn(n, c, h, w, requires_grad=True)
    grad = torch.randn(n, c, h, w)

    def run(tail: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def step() -> None:
            u.grad = x.grad = None
            tail().backward(grad)

        return step

    return {
        "plain": run(lambda: torch.relu(u * se.excitation(u) + x)),
        "fused": run(lambda: se_residual(se, u, x)),
        "no_se": run(lambda: torch.relu(u + x)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m senet.fast.opbench", description=__doc__.split("\n")[0])
    p.add_argument("--shape", default="128,16,32,32", help="N,C,H,W (default: CIFAR stage 1, batch 128)")
    p.add_argument("--reps", type=int, default=21)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--clock", choices=("wall", "process"), default="wall")
    args = p.parse_args(argv)
    shape = tuple(int(v) for v in args.shape.split(","))
    if len(shape) != 4 or min(shape) < 1:
        raise SystemExit(f"--shape must be four positive integers N,C,H,W, got {args.shape!r}")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    samples = time_interleaved(
        tail_steps(shape),
        reps=args.reps,
        warmup=3,
        min_sample_s=0.0,
        device=torch.device("cpu"),
        clock=args.clock,
    )
    medians = {name: round(statistics.median(v), 3) for name, v in samples.items()}
    report = {"shape": shape, "threads": torch.get_num_threads(), "clock": args.clock, "median_ms": medians}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
