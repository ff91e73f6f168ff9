"""Does running FastBlock's SE tail sample by sample pay? SE-ResNet-50 with and without it.

    .venv/bin/python benchmarks/se_tail_per_sample.py [--batch 16] [--reps 12]

Times, interleaved (senet.bench.timing.time_interleaved), the optimised ResNet-50, the optimised
SE-ResNet-50 as built (the divide route runs sample by sample where a sample's map holds at least
``FastBlock.per_sample_min`` values) and the same SE-ResNet-50 with that switched off (the whole
batch per pass). Prints each median and the paired SE overhead over ResNet-50 with its 95%
bootstrap interval (senet.bench.report.median_interval). Results: docs/speed.md.
"""

from __future__ import annotations

import argparse
import statistics

import torch

import senet
from senet.bench.report import median_interval
from senet.bench.timing import time_forwards
from senet.fast.blocks import FastBlock


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--reps", type=int, default=12)
    p.add_argument("--size", type=int, default=224)
    args = p.parse_args()
    torch.manual_seed(0)
    se = senet.create_model("se_resnet50").eval()
    models = {
        "resnet50": senet.optimize(senet.create_model("resnet50").eval()),
        "se_resnet50 per sample": senet.optimize(se),
        "se_resnet50 whole batch": senet.optimize(se),
    }
    for block in models["se_resnet50 whole batch"].modules():
        if isinstance(block, FastBlock):
            block.per_sample_min = 1 << 62  # never per sample
    x = torch.randn(args.batch, 3, args.size, args.size)

    with torch.inference_mode():
        a, b = models["se_resnet50 per sample"](x), models["se_resnet50 whole batch"](x)
    print(f"max |logit difference| between the two SE routes: {(a - b).abs().max().item():.2e}")
    samples = time_forwards(models, x, reps=args.reps, warmup=1)
    plain = samples["resnet50"]
    for name, times in samples.items():
        line = f"{name:<26} median {statistics.median(times):9.1f} ms"
        if name != "resnet50":
            paired = [t / q - 1.0 for t, q in zip(times, plain, strict=True)]
            low, high = median_interval(paired)
            line += f"   SE overhead (paired) {100 * statistics.median(paired):+.1f}%"
            line += f"  95% interval {100 * low:+.1f}..{100 * high:+.1f}%"
        print(line)
    print(
        f"batch {args.batch}, {args.size} px, {args.reps} interleaved repetitions, {torch.get_num_threads()} threads"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
