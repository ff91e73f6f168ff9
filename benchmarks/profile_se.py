"""Where the SE tail's time goes, by the profiler: ops dispatched per SE tail and its time share.

    python benchmarks/profile_se.py [--cases infer,train] [--reps 3] [--threads 2]

Runs ``torch.profiler`` (CPU activities) over

- SE-ResNet-50 inference at batch 1, 224 px: eager (the model as built, in ``inference_mode``),
  ``senet.optimize`` fp32 and bf16;
- one training step (forward, cross-entropy, backward) of ``se_resnet20_cifar`` at batch 128,
  32 px, and of ``se_resnet50`` at batch 8, 224 px, fp32 and bf16 autocast,

with each SE tail wrapped in a ``record_function`` range (``se_tail``: the standard placement's
relu(s * u + shortcut), the excitation included; for the fast path the last 1x1 conv is inside the
tail, since the route squeezes before it). Prints JSON per case: SE tails per call, aten ops
dispatched directly inside one tail (its dispatch count), the tail's forward share of the call's
time (``se_forward_share``: without the convolution the fast path runs inside its tail), and in training the share of the fused op's backward (``SEResidualBackward``) and the ops it
dispatches. Shares are
of the profiled wall time of the whole call (ranges of a call overlap nothing else on the CPU
thread that runs them), medians over ``--reps`` profiled calls after one warm-up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile, record_function

import senet.fast.blocks as fast_blocks
import senet.models.blocks as model_blocks
from senet.api import create_model
from senet.fast.inference import optimize

TAIL = "se_tail"
BACKWARD = "SEResidualBackward"


@contextlib.contextmanager
def labelled_tails() -> Iterator[None]:
    """Wrap the eager blocks' ``se_residual`` and ``FastBlock._se_tail`` in ``record_function``."""
    eager, fast = model_blocks.se_residual, fast_blocks.FastBlock._se_tail

    def eager_tail(*args, **kwargs):
        with record_function(TAIL):
            return eager(*args, **kwargs)

    def fast_tail(self, *args, **kwargs):
        with record_function(TAIL):
            return fast(self, *args, **kwargs)

    model_blocks.se_residual, fast_blocks.FastBlock._se_tail = eager_tail, fast_tail
    try:
        yield
    finally:
        model_blocks.se_residual, fast_blocks.FastBlock._se_tail = eager, fast


def _is_op(event) -> bool:
    return event.name.startswith(("aten::", "mkldnn::"))


def _ops(event) -> list:
    """The ops dispatched from Python inside ``event``: its first aten / mkldnn descendants."""
    found = []
    for child in event.cpu_children:
        found += [child] if _is_op(child) else _ops(child)
    return found


def _summary(prof: profile, wall_us: float) -> dict[str, float]:
    events = prof.events()
    tails = [e for e in events if e.name == TAIL]
    ops = [_ops(e) for e in tails]
    conv_us = sum(o.cpu_time_total for tail_ops in ops for o in tail_ops if "convolution" in o.name)
    backward = [e for e in events if BACKWARD in e.name and e.name.startswith("autograd::engine")]
    tail_us = sum(e.cpu_time_total for e in tails)
    return {
        "tails": len(tails),
        "ops_per_tail": statistics.median(len(o) for o in ops) if ops else 0,
        "tail_forward_share": tail_us / wall_us,
        "se_forward_share": (tail_us - conv_us) / wall_us,
        "tail_backward_share": sum(e.cpu_time_total for e in backward) / wall_us,
        "ops_per_backward": statistics.median(len(_ops(e)) for e in backward) if backward else 0,
        "ops_per_call": sum(
            1 for e in events if _is_op(e) and (e.cpu_parent is None or not _is_op(e.cpu_parent))
        ),
    }


def profiled(step: Callable[[], None], reps: int) -> dict[str, float]:
    """Median over ``reps`` profiled calls of ``step`` (one untimed warm-up first)."""
    step()
    rows = []
    for _ in range(reps):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            start = time.perf_counter()
            step()
            wall_us = (time.perf_counter() - start) * 1e6
        rows.append({**_summary(prof, wall_us), "ms": wall_us / 1e3})
    return {key: round(statistics.median(r[key] for r in rows), 4) for key in rows[0]}


def inference_steps() -> dict[str, Callable[[], None]]:
    torch.manual_seed(0)
    model = create_model("se_resnet50").eval()
    x = torch.randn(1, 3, 224, 224)
    runners = {
        "se_resnet50 infer b1 eager fp32": model,
        "se_resnet50 infer b1 optimized fp32": optimize(model),
        "se_resnet50 infer b1 optimized bf16": optimize(model, dtype=torch.bfloat16),
    }

    def call(runner: torch.nn.Module) -> Callable[[], None]:
        def step() -> None:
            with torch.inference_mode():
                runner(x)

        return step

    return {name: call(r) for name, r in runners.items()}


def train_steps(channels_last: bool, models: list[str], dtypes: list[str]) -> dict[str, Callable[[], None]]:
    steps = {}
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    for name, batch, size in (("se_resnet20_cifar", 128, 32), ("se_resnet50", 8, 224)):
        if name not in models:
            continue
        torch.manual_seed(0)
        model = create_model(name).train().to(memory_format=fmt)
        x = torch.randn(batch, 3, size, size).to(memory_format=fmt)
        y = torch.randint(0, 10, (batch,))
        for dtype in dtypes:

            def step(model=model, x=x, y=y, bf16=dtype == "bf16") -> None:
                model.zero_grad(set_to_none=True)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    loss = F.cross_entropy(model(x), y)
                loss.backward()

            layout = "channels_last" if channels_last else "nchw"
            steps[f"{name} train b{batch} {size}px {dtype} {layout}"] = step
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="infer,train", help="infer and/or train")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--channels-last", action="store_true", help="train in channels_last")
    parser.add_argument("--train-models", default="se_resnet20_cifar,se_resnet50")
    parser.add_argument("--train-dtypes", default="fp32,bf16", help="fp32 and/or bf16 (autocast)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cases = set(args.cases.split(","))
    steps = {}
    if "infer" in cases:
        steps.update(inference_steps())
    if "train" in cases:
        steps.update(
            train_steps(args.channels_last, args.train_models.split(","), args.train_dtypes.split(","))
        )
    with labelled_tails():
        for name, step in steps.items():
            print(json.dumps({"case": name, **profiled(step, args.reps)}), flush=True)


if __name__ == "__main__":
    main()
