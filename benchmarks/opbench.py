"""Forward + backward time of the standard-placement SE tail alone: fused vs plain vs no SE.

    python benchmarks/opbench.py [--shape 128,16,32,32] [--reps 21] [--threads 1] [--clock process]
    python benchmarks/opbench.py --routes [--batch 1] [--reps 21] [--threads 1] [--clock process]

Times, interleaved (see :func:`senet.bench.timing.time_interleaved`), one forward and backward of

- ``plain``: relu(u * s + x) with s = SE(u) as separate autograd ops (the textbook graph),
- ``fused``: :func:`senet.layers.fused.se_residual` (the custom autograd function the models use),
- ``no_se``: relu(u + x), the plain twin's tail,

on random (N, C, H, W) leaf tensors u and x (so each backward also writes u.grad and x.grad),
and prints the medians in ms as JSON. ``--routes`` instead times, in inference, the routes of
:meth:`senet.fast.blocks.FastBlock._se_tail` (last 1x1 conv included) at SE-ResNet-50's four
stage shapes (C = 256..2048, 56..7 px), next to the plain twin's fused conv + sum + ReLU.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable

import torch

from senet.bench.timing import time_interleaved
from senet.fast.blocks import FastBlock, is_post_activation_block
from senet.fast.fold import fold_batch_norms
from senet.fast.packed import conv_add_relu_, pack_convolutions, packing_supported
from senet.layers.fused import se_residual
from senet.layers.se import SEConfig, SqueezeExcite
from senet.models.blocks import Bottleneck
from senet.runtime import num_threads

STAGES = ((256, 56), (512, 28), (1024, 14), (2048, 7))  # SE-ResNet-50 block outputs: C, H = W


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


def _fast_bottleneck(channels: int, se: SEConfig | None) -> FastBlock:
    """A stride-1 Bottleneck (C -> C/4 -> C), BN folded, as the packed FastBlock optimize() builds."""
    block = Bottleneck(channels, channels, mid=channels // 4, se=se).eval()
    fold_batch_norms(block, pairs_in=is_post_activation_block)
    fast = FastBlock(block).to(memory_format=torch.channels_last)
    pack_convolutions(fast, skip=(SqueezeExcite,))
    return fast


def route_steps(batch: int, channels: int, size: int) -> dict[str, Callable[[], None]]:
    """The SE-tail routes of :meth:`FastBlock._se_tail` for one Bottleneck shape, as inference
    steps on the input y of the last 1x1 conv and a fresh copy of the shortcut (the network
    consumes it), next to the plain twin's fused conv + sum + ReLU (``no_se``)."""
    y = torch.randn(batch, channels // 4, size, size).to(memory_format=torch.channels_last)
    shortcut = torch.randn(batch, channels, size, size).to(memory_format=torch.channels_last)
    se_block, plain = _fast_bottleneck(channels, SEConfig()), _fast_bottleneck(channels, None)
    routes = {"divide": (True, True), "pool_y": (True, False), "pool_u": (False, False)}

    def tail(pool_before_last: bool, divide: bool) -> Callable[[], None]:
        def step() -> None:
            se_block.pool_before_last, se_block.divide = pool_before_last, divide
            se_block._se_tail(y, shortcut.clone())

        return step

    steps = {name: tail(*flags) for name, flags in routes.items()}
    steps["no_se"] = lambda: conv_add_relu_(plain.convs[-1], y, shortcut.clone())
    return steps


def _inference(step: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        with torch.inference_mode():
            step()

    return run


def _medians(steps: dict[str, Callable[[], None]], reps: int, clock: str) -> dict[str, float]:
    """Interleaved timings of ``steps`` on the CPU: the median ms per name."""
    cpu = torch.device("cpu")
    samples = time_interleaved(steps, reps=reps, warmup=3, min_sample_ms=0.0, device=cpu, clock=clock)
    return {name: round(statistics.median(v), 3) for name, v in samples.items()}


def _routes(args: argparse.Namespace) -> dict[str, object]:
    """``--routes``: the SE-tail routes at SE-ResNet-50's four stage shapes."""
    torch.manual_seed(0)
    if not packing_supported(torch.float32):
        raise SystemExit("--routes needs oneDNN prepacked convolutions, unavailable here")
    rows = []
    for channels, size in STAGES:
        steps = {k: _inference(v) for k, v in route_steps(args.batch, channels, size).items()}
        medians = _medians(steps, args.reps, args.clock)
        rows.append({"batch": args.batch, "channels": channels, "size": size, "median_ms": medians})
    return {"threads": torch.get_num_threads(), "clock": args.clock, "routes": rows}


def _tail(args: argparse.Namespace) -> dict[str, object]:
    """The three SE tails, forward + backward, at one (N, C, H, W)."""
    torch.manual_seed(0)
    shape = tuple(int(v) for v in args.shape.split(","))
    if len(shape) != 4 or min(shape) < 1:
        raise SystemExit(f"--shape must be four positive integers N,C,H,W, got {args.shape!r}")
    medians = _medians(tail_steps(shape), args.reps, args.clock)
    return {"shape": shape, "threads": torch.get_num_threads(), "clock": args.clock, "median_ms": medians}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python benchmarks/opbench.py", description=__doc__.split("\n")[0])
    p.add_argument("--shape", default="128,16,32,32", help="N,C,H,W (default: CIFAR stage 1, batch 128)")
    p.add_argument("--reps", type=int, default=21)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--clock", choices=("wall", "process"), default="wall")
    p.add_argument("--routes", action="store_true", help="time FastBlock's SE-tail routes instead")
    p.add_argument("--batch", type=int, default=1, help="batch of --routes (default 1)")
    args = p.parse_args(argv)
    with num_threads(args.threads):
        print(json.dumps(_routes(args) if args.routes else _tail(args), indent=1 if args.routes else None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
