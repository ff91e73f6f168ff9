"""Batch-1 latency of the optimized SE-ResNet-50 with the SE tail's current excitation and with
the one before this change (the gate called as a module), next to the optimized ResNet-50.

    python benchmarks/se_tail_batch1.py [--reps 15] [--threads 1] [--clock process]

All three rows interleaved (:func:`senet.bench.timing.time_interleaved`); prints medians and the
paired SE overheads over the plain twin.
"""

from __future__ import annotations

import argparse
import os
import statistics
import types

import torch

from senet.api import create_model
from senet.bench.timing import time_forwards
from senet.fast.blocks import FastBlock
from senet.fast.inference import optimize


def module_gate_excitation(self: FastBlock, y: torch.Tensor) -> torch.Tensor:
    """The excitation as it was: sigma called as a module on a new tensor."""
    z = y.sum((2, 3))
    hidden = torch.addmm(self.b13, z, self.w13t, alpha=1.0 / (y.shape[2] * y.shape[3])).relu_()
    return self.se.gate(torch.addmm(self.b2, hidden, self.w2t))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", default="process", choices=["wall", "process"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.randn(1, 3, 224, 224)
    torch.manual_seed(0)
    se = create_model("se_resnet50").eval()
    torch.manual_seed(0)
    plain = create_model("resnet50").eval()
    new, old = optimize(se), optimize(se)
    for block in old.modules():
        if isinstance(block, FastBlock) and block.pool_before_last:
            block._excitation_from_input = types.MethodType(module_gate_excitation, block)
    with torch.inference_mode():
        assert torch.equal(new(x), old(x))
    rows = {"resnet50": optimize(plain), "se_resnet50 in-place gate": new, "se_resnet50 module gate": old}

    samples = time_forwards(rows, x, reps=args.reps, warmup=2, clock=args.clock)
    base = samples["resnet50"]
    for name, values in samples.items():
        paired = statistics.median(v / b - 1 for v, b in zip(values, base, strict=True))
        print(f"{name:28s} median {statistics.median(values):8.2f} ms   paired vs resnet50 {paired:+.1%}")
    print(
        f"batch 1, 224 px, {args.reps} reps, {args.threads} thread(s), {args.clock} clock, load {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
