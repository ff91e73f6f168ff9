"""Where one training step's CPU time goes, by operator (torch.profiler), for any registered model.

    OMP_NUM_THREADS=1 python benchmarks/profile_train_step.py se_fastnet_cifar --batch 256 --threads 1

One SGD step (forward, label-smoothed cross-entropy, backward, Nesterov SGD update) on random
images in channels_last, ``--warmup`` untimed steps then ``--steps`` profiled ones. Prints the top
operators by self CPU time and the share of the convolutions (forward ``mkldnn_convolution`` plus
``convolution_backward``), which says whether a network is compute-bound on this CPU.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch.profiler import profile

import senet
from senet.zoo import MODELS

CONV_OPS = ("aten::mkldnn_convolution", "aten::convolution_backward", "aten::_convolution")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--size", type=int, default=None, help="input side (default: the registry's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rows", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = senet.create_model(args.model).to(memory_format=torch.channels_last).train()
    size = args.size or MODELS.get(args.model).input_size
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = torch.randn(args.batch, 3, size, size).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (args.batch,))

    def step() -> None:
        loss = F.cross_entropy(model(x), y, label_smoothing=0.2)  # logits (N, K)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    with profile() as prof:
        for _ in range(args.steps):
            step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    conv = sum(e.self_cpu_time_total for e in events if e.key in CONV_OPS)
    print(events.table(sort_by="self_cpu_time_total", row_limit=args.rows))
    per_step = total / args.steps / 1e6
    print(f"{args.model}: batch {args.batch}, {args.threads} thread(s): {per_step:.3f} s a step "
          f"({args.batch / per_step:.0f} images/s under the profiler), convolutions {100 * conv / total:.1f}% "
          "of self CPU time")  # fmt: skip


if __name__ == "__main__":
    main()
