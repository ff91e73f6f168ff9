"""Batch-1 SE-ResNet-50 with s folded into W3's output rows at the early stages, next to the
shipped divide route and the optimized ResNet-50 (issue 16 item 2, idea (a); not adopted).

    python benchmarks/se_fold_batch1.py [--reps 41] [--threads 1] [--clock process] [--ratio 16 4]

At batch 1 the standard SE tail relu(s * (W3 y + b3) + x) equals relu((diag(s) W3) y + s b3 + x):
one oneDNN convolution with the residual sum and ReLU fused, and no pass over the block output,
but with a weight rescaled on every call and given to oneDNN dense (the prepacked weight cannot be
rescaled). ``--ratio R`` adds a row that takes this route in every block whose map (C x H x W)
holds at least R times W3's values (16: stage 1 only at 224 px; 4: stages 1-2). All rows are
checked against the eager model, interleaved (:func:`senet.bench.timing.time_interleaved`), and
printed with their medians, paired overheads over the plain twin, and the ops one forward
dispatches (torch.profiler).
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import types

import torch
from torch.profiler import ProfilerActivity, profile

from senet.api import create_model
from senet.bench.report import median_interval
from senet.bench.timing import time_forwards
from senet.fast.blocks import FastBlock
from senet.fast.inference import optimize
from senet.fast.packed import PackedConv


def folded_tail(self: FastBlock, y: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
    """relu((diag(s) W3) y + s b3 + shortcut) in one fused convolution (batch 1 only)."""
    last = self.convs[-1]
    s = self._excitation_from_input(y).view(-1)  # (C,)
    weight = last.weight * s.view(-1, 1, 1, 1)  # (C, C/4, 1, 1), rows scaled
    return torch.ops.mkldnn._convolution_pointwise_.binary(
        shortcut, y, weight, last.bias * s, last.padding, last.stride, last.dilation, last.groups,
        "add", 1.0, "relu", [], "",
    )  # fmt: skip


def with_fold(model: torch.nn.Module, ratio: float, size: int) -> torch.nn.Module:
    """``model`` with :func:`folded_tail` in each block whose map holds >= ratio x W3's values."""
    for block in model.modules():
        if not (isinstance(block, FastBlock) and block.pool_before_last):
            continue
        last = block.convs[-1]
        stride = 1 if block.downsample is None else block.downsample.stride[0]
        if isinstance(last, PackedConv):
            size = size // stride
            if last.weight.shape[0] * size * size >= ratio * last.weight.numel():
                block._se_tail = types.MethodType(folded_tail, block)
    return model


def op_counts(model: torch.nn.Module, x: torch.Tensor) -> collections.Counter:
    with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU]) as prof:
        model(x)
    return collections.Counter({e.key: e.count for e in prof.key_averages()})


def _paired(values: list[float], base: list[float]) -> str:
    """The median of the paired ratios - 1, with its 95% bootstrap interval."""
    ratios = [v / b - 1 for v, b in zip(values, base, strict=True)]
    low, high = median_interval(ratios)
    return f"{statistics.median(ratios):+.1%} ({low:+.1%}..{high:+.1%})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=41)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", default="process", choices=["wall", "process"])
    parser.add_argument("--ratio", type=float, nargs="*", default=[16.0, 4.0])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.randn(1, 3, 224, 224)
    torch.manual_seed(0)
    se = create_model("se_resnet50").eval()
    torch.manual_seed(0)
    rows = {"resnet50": optimize(create_model("resnet50").eval()), "se_resnet50 divide": optimize(se)}
    for ratio in args.ratio:
        rows[f"se_resnet50 fold (ratio {ratio:g})"] = with_fold(optimize(se), ratio, 56)
    with torch.inference_mode():
        ref = se(x)
        for name, model in rows.items():
            if name != "resnet50":
                torch.testing.assert_close(model(x), ref, atol=1e-4, rtol=1e-4)
    counts = {name: op_counts(model, x) for name, model in rows.items()}

    samples = time_forwards(rows, x, reps=args.reps, warmup=2, clock=args.clock)
    for name, values in samples.items():
        ops = counts[name]
        print(
            f"{name:30s} median {statistics.median(values):8.2f} ms   vs resnet50 {_paired(values, samples['resnet50'])}"
            f"   vs divide {_paired(values, samples['se_resnet50 divide'])}"
            f"   ops {sum(ops.values())} (mul_ {ops['aten::mul_']}, mul {ops['aten::mul']})"
        )
    print(
        f"batch 1, 224 px, {args.reps} reps, {args.threads} thread(s), {args.clock} clock, load {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
