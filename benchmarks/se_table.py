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
  and of a *reference* SE-ResNet-20 / ResNet-20 written below in plain PyTorch the way most SE
  repositories write it (pooling, two 1x1 convs, sigmoid, multiply; then add and ReLU; option-A
  shortcuts as in senet's, so that only the SE code and block code differ).
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
from senet.bench.timing import time_interleaved
from senet.fast.inference import optimize

Step = Callable[[], None]


class RefSE(nn.Module):
    """The SE block as most repositories write it: pool, 1x1 conv, ReLU, 1x1 conv, sigmoid, multiply."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(self.pool(x))


class RefBlock(nn.Module):
    """A CIFAR basic block: conv-BN-ReLU-conv-BN, SE, ``out += shortcut``, ReLU (option-A shortcut)."""

    def __init__(self, in_ch: int, out: int, stride: int, se: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)
        self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.se = RefSE(out) if se else None
        self.stride, self.extra = stride, out - in_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.se is not None:
            out = self.se(out)
        shortcut = x
        if self.stride != 1 or self.extra:
            shortcut = F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, 0, self.extra))
        out += shortcut
        return self.relu(out)


class RefResNet20(nn.Module):
    """ResNet-20 for CIFAR (3 stages of 3 blocks, 16/32/64 channels), with or without SE."""

    def __init__(self, se: bool, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True)
        )
        blocks, in_ch = [], 16
        for out, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                blocks.append(RefBlock(in_ch, out, stride if i == 0 else 1, se))
                in_ch = out
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


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


def infer_step(model: nn.Module, batch: int) -> Step:
    x = torch.randn(batch, 3, 224, 224)

    def step() -> None:
        with torch.inference_mode():
            model(x)

    return step


def _model(name: str, **kwargs: object) -> nn.Module:
    torch.manual_seed(0)
    return create_model(name, **kwargs)


def _timm(name: str) -> nn.Module | None:
    try:
        import timm  # deferred: optional, only for its columns
    except ImportError:
        return None
    return timm.create_model(name, pretrained=False)


def infer_rows(batch: int, dtypes: list[str]) -> dict[str, Step]:
    rows = {}
    for dtype in dtypes:
        for name in ("se_resnet50", "resnet50"):
            fast = optimize(_model(name).eval(), dtype=torch.bfloat16 if dtype == "bf16" else torch.float32)
            rows[f"{name} infer b{batch} optimized {dtype}"] = infer_step(fast, batch)
        for name in ("seresnet50", "resnet50"):
            peer = _timm(name)
            if peer is not None:
                peer = peer.eval().to(memory_format=torch.channels_last)
                rows[f"timm {name} infer b{batch} {dtype}"] = _timm_infer(peer, batch, dtype == "bf16")
    return rows


def _timm_infer(model: nn.Module, batch: int, bf16: bool) -> Step:
    x = torch.randn(batch, 3, 224, 224).to(memory_format=torch.channels_last)

    def step() -> None:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(x)

    return step


def cifar_rows(dtypes: list[str], compile: bool) -> tuple[dict[str, Step], dict[str, float]]:
    rows, compile_s = {}, {}
    for dtype in dtypes:
        bf16 = dtype == "bf16"
        for layout, cl in (("nchw", False), ("cl", True)):
            for name in ("se_resnet20_cifar", "resnet20_cifar"):
                rows[f"{name} train {dtype} {layout}"] = train_step(
                    _model(name), 128, 32, channels_last=cl, bf16=bf16
                )
        for se, name in ((True, "ref_se_resnet20"), (False, "ref_resnet20")):
            torch.manual_seed(0)
            rows[f"{name} train {dtype} nchw"] = train_step(
                RefResNet20(se), 128, 32, channels_last=False, bf16=bf16
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
