"""The table of issue 16, measured side by side: inference, SE overheads and training steps.

    python benchmarks/se_table.py [--reps 7] [--threads 1] [--clock process]
        [--parts infer,cifar,r50train] [--bf16 auto|yes|no] [--compile]

Parts, each timed **interleaved** (:func:`senet.bench.timing.time_interleaved`, ABBA order),
medians of ``--reps`` samples; overheads are paired medians (each SE sample over the plain sample
taken next to it):

- ``infer``: SE-ResNet-50 and ResNet-50 through ``senet.optimize`` at batch 1 and 16, fp32 and
  bf16; "best mode" is the faster dtype per model and batch.
- ``cifar``: one training step (forward, cross-entropy, backward, SGD-with-momentum update) at
  batch 128, 32 px, of ``se_resnet20_cifar`` / ``resnet20_cifar`` in NCHW and channels_last,
  and of the *reference* SE-ResNet-20 / ResNet-20 of :mod:`senet.bench.peers` (``senet bench
  --peers reference``), written in plain PyTorch the way most SE repositories write it (pooling,
  two 1x1 convs, sigmoid, multiply; then add and ReLU; option-A shortcuts as in senet's, so that
  only the SE code and block code differ).
- ``r50train``: one training step of SE-ResNet-50 / ResNet-50 at batch 8, 224 px, NCHW and
  channels_last.

bf16 rows (``--bf16 auto``) run only where the CPU has native bf16 convolutions
(``torch.ops.mkldnn._is_mkldnn_bf16_supported()``): without it a bf16 training step of
SE-ResNet-20 at batch 128 took 68 s here (slow fallback kernels), so ``auto`` keeps only the
batch-1 bf16 inference rows. ``--compile`` adds ``torch.compile``d CIFAR training steps (Inductor;
the compile time is printed separately and is not in the medians). timm columns are printed when
timm imports. Prints the CPU model, the flags that matter, the thread count and the load averages
before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from senet.api import create_model
from senet.bench.peers import best_mode, build_peer, has_peer, peer_model_name, reference_model
from senet.bench.timing import time_interleaved
from senet.fast.inference import optimize

Step = Callable[[], None]


def train_step(model: nn.Module, batch: int, size: int, *, channels_last: bool, bf16: bool) -> Step:
    """One SGD-with-momentum step on a fixed random batch (torch.optim.SGD, foreach)."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.train().to(memory_format=fmt)
    x = torch.randn(batch, 3, size, size).to(memory_format=fmt)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def infer_step(
    model: Callable[[torch.Tensor], torch.Tensor], batch: int, channels_last: bool = False
) -> Step:
    x = torch.randn(batch, 3, 224, 224)
    x = x.to(memory_format=torch.channels_last) if channels_last else x

    def step() -> None:
        with torch.inference_mode():
            model(x)

    return step


def _model(name: str, **kwargs: object) -> nn.Module:
    torch.manual_seed(0)
    return create_model(name, **kwargs)


def infer_rows(batch: int, dtypes: list[str]) -> dict[str, Step]:
    rows = {}
    for dtype in dtypes:
        for name in ("se_resnet50", "resnet50"):
            fast = optimize(_model(name).eval(), dtype=torch.bfloat16 if dtype == "bf16" else torch.float32)
            rows[f"{name} infer b{batch} optimized {dtype}"] = infer_step(fast, batch)
            if has_peer("timm", name):  # timm's best CPU mode: channels_last, bf16 autocast for bf16
                peer = best_mode(build_peer(f"timm:{name}").eval(), dtype == "bf16", compile=False)
                rows[f"timm {peer_model_name(f'timm:{name}')} infer b{batch} {dtype}"] = infer_step(
                    peer, batch, True
                )
    return rows


def cifar_rows(dtypes: list[str], compile: bool) -> tuple[dict[str, Step], dict[str, float]]:
    rows, compile_s = {}, {}
    for dtype in dtypes:
        bf16 = dtype == "bf16"
        for layout, cl in (("nchw", False), ("cl", True)):
            for name in ("se_resnet20_cifar", "resnet20_cifar"):
                rows[f"{name} train {dtype} {layout}"] = train_step(
                    _model(name), 128, 32, channels_last=cl, bf16=bf16
                )
        for name in ("se_resnet20_cifar", "resnet20_cifar"):
            torch.manual_seed(0)
            rows[f"ref_{name.removesuffix('_cifar')} train {dtype} nchw"] = train_step(
                reference_model(name), 128, 32, channels_last=False, bf16=bf16
            )
        if compile:
            for name in ("se_resnet20_cifar", "resnet20_cifar"):
                model = _model(name)
                compiled = torch.compile(model)
                step = train_step(compiled, 128, 32, channels_last=True, bf16=bf16)
                start = time.perf_counter()
                step()  # compiles forward and backward
                compile_s[f"{name} {dtype}"] = time.perf_counter() - start
                rows[f"{name} train {dtype} cl compiled"] = step
    return rows, compile_s


def r50_rows(dtypes: list[str]) -> dict[str, Step]:
    rows = {}
    for dtype in dtypes:
        for layout, cl in (("nchw", False), ("cl", True)):
            for name in ("se_resnet50", "resnet50"):
                rows[f"{name} train b8 {dtype} {layout}"] = train_step(
                    _model(name, num_classes=10), 8, 224, channels_last=cl, bf16=dtype == "bf16"
                )
    return rows


def report(title: str, samples: dict[str, list[float]], batch: int, pairs: list[tuple[str, str]]) -> None:
    print(f"\n## {title}  (load {_load()})")
    print(f"{'row':44s} {'median ms':>10s} {'img/s':>9s}")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"{name:44s} {med:10.2f} {1000 * batch / med:9.2f}")
    for a, b in pairs:
        if a in samples and b in samples:
            paired = statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))
            print(f"{a} / {b}: paired {paired:.3f} ({paired - 1:+.1%})")


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line), "?")
    flags = next(
        (line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), []
    )
    have = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return f"{model}, {os.cpu_count()} CPUs, {' '.join(have)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", default="process", choices=["wall", "process"])
    parser.add_argument("--parts", default="infer,cifar,r50train")
    parser.add_argument("--bf16", default="auto", choices=["auto", "yes", "no"])
    parser.add_argument("--compile", action="store_true", help="add torch.compile'd CIFAR training steps")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    bf16_all = args.bf16 == "yes" or (args.bf16 == "auto" and native)
    print(f"# CPU: {_cpu()}; native bf16 convolutions: {native}; torch {torch.__version__}")
    print(f"# {args.threads} thread(s), {args.clock} clock, {args.reps} reps; load before: {_load()}")
    parts = set(args.parts.split(","))
    timed = {
        "reps": args.reps,
        "warmup": 1,
        "min_sample_ms": 0,
        "device": torch.device("cpu"),
        "clock": args.clock,
    }
    if "infer" in parts:
        for batch in (1, 16):
            dtypes = ["fp32", "bf16"] if (bf16_all or (batch == 1 and args.bf16 != "no")) else ["fp32"]
            samples = time_interleaved(infer_rows(batch, dtypes), **timed)
            pairs = [
                (f"se_resnet50 infer b{batch} optimized {d}", f"resnet50 infer b{batch} optimized {d}")
                for d in dtypes
            ]
            pairs += [
                (f"timm seresnet50 infer b{batch} {d}", f"timm resnet50 infer b{batch} {d}") for d in dtypes
            ]
            report(f"SE-ResNet-50 inference, batch {batch}, 224 px", samples, batch, pairs)
    if "cifar" in parts:
        dtypes = ["fp32", "bf16"] if bf16_all else ["fp32"]
        rows, compile_s = cifar_rows(dtypes, args.compile)
        samples = time_interleaved(rows, **timed)
        pairs = []
        for d in dtypes:
            pairs += [
                (f"se_resnet20_cifar train {d} {lay}", f"resnet20_cifar train {d} {lay}")
                for lay in ("nchw", "cl")
            ]
            pairs += [(f"ref_se_resnet20 train {d} nchw", f"ref_resnet20 train {d} nchw")]
            pairs += [
                (f"ref_se_resnet20 train {d} nchw", f"se_resnet20_cifar train {d} {lay}")
                for lay in ("nchw", "cl")
            ]
            pairs += [(f"se_resnet20_cifar train {d} nchw", f"se_resnet20_cifar train {d} cl")]
            pairs += [(f"se_resnet20_cifar train {d} cl compiled", f"resnet20_cifar train {d} cl compiled")]
            pairs += [(f"se_resnet20_cifar train {d} cl", f"se_resnet20_cifar train {d} cl compiled")]
        report("CIFAR ResNet-20 training step, batch 128, 32 px", samples, 128, pairs)
        for name, seconds in compile_s.items():
            print(f"compile time (first step, not in the medians): {name}: {seconds:.1f} s")
    if "r50train" in parts:
        dtypes = ["fp32", "bf16"] if bf16_all else ["fp32"]
        samples = time_interleaved(r50_rows(dtypes), **timed)
        pairs = []
        for d in dtypes:
            pairs += [
                (f"se_resnet50 train b8 {d} {lay}", f"resnet50 train b8 {d} {lay}") for lay in ("nchw", "cl")
            ]
            pairs += [(f"se_resnet50 train b8 {d} nchw", f"se_resnet50 train b8 {d} cl")]
        report("ResNet-50 training step, batch 8, 224 px", samples, 8, pairs)
    print(f"\n# load after: {_load()}")


if __name__ == "__main__":
    main()
