"""Side-by-side wall-clock benchmark of SE models and their plain twins (``senet bench``).

Each *mode* (latency at batch 1, throughput at batch N, or one training step) times every
*setting* of that mode (eager; optimised in each dtype; compiled when asked) for an SE model and
its plain twin **interleaved**: after a warm-up, repetition k times all of them, in ABBA order, so
that drift in the machine's load hits every row of the mode alike; the figure reported is the
median over repetitions. One sample is the mean over enough calls to last at least
``min_sample_s``. The SE overhead of a setting is ``median(SE) / median(plain) - 1``, and the
speed-up of a setting over eager fp32 compares samples taken in the same rotation.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from senet.api import create_model, list_models
from senet.fast.inference import DTYPES, has_cxx_compiler, optimize

MODES = ("latency", "throughput", "train")


@dataclass(frozen=True)
class BenchConfig:
    """What ``senet bench`` measures.

    Attributes:
        models: model names; each SE model is paired with its plain twin (``se_x`` -> ``x``,
            ``x`` -> ``x_plain``), added automatically.
        batch: batch size N of the throughput and training settings.
        reps: timed repetitions per model and setting (the median is reported).
        warmup: untimed calls per model before a setting's repetitions.
        dtypes: ``fp32`` and/or ``bf16`` for the optimised settings and training.
        compile: also time ``optimize(..., compile=True)`` (variant ``compiled``) in the
            inference modes; the first call of each compiles (seconds to minutes on a CPU).
        modes: any of ``latency``, ``throughput``, ``train``.
        image_size: input side; None: 32 for ``*_cifar`` models, else 224.
        threads: ``torch.set_num_threads`` (None: leave PyTorch's default).
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        min_sample_s: a sample averages calls until it lasts at least this long.
        clock: ``wall`` (time.perf_counter) or ``process`` (CPU time of this process: on a CPU
            shared with other jobs and with ``threads=1`` it does not count time spent
            descheduled; it is not meaningful for CUDA or with several threads).
    """

    models: tuple[str, ...]
    batch: int = 16
    reps: int = 10
    warmup: int = 2
    dtypes: tuple[str, ...] = ("fp32", "bf16")
    compile: bool = False
    modes: tuple[str, ...] = MODES
    image_size: int | None = None
    threads: int | None = None
    device: str = "auto"
    min_sample_s: float = 0.05
    clock: str = "wall"

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("bench: name at least one model")
        for name, value, low in (
            ("batch", self.batch, 1),
            ("reps", self.reps, 1),
            ("warmup", self.warmup, 0),
        ):
            if value < low:
                raise ValueError(f"bench: {name} must be >= {low}, got {value}")
        for dtype in self.dtypes:
            if dtype not in DTYPES:
                raise ValueError(f"bench: unknown dtype {dtype!r}; choose from {sorted(DTYPES)}")
        for mode in self.modes:
            if mode not in MODES:
                raise ValueError(f"bench: unknown mode {mode!r}; choose from {MODES}")
        if self.clock not in ("wall", "process"):
            raise ValueError(f"bench: clock must be wall or process, got {self.clock!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"bench: device must be auto, cpu or cuda, got {self.device!r}")


@dataclass(frozen=True)
class Setting:
    """One row of the benchmark: what is run, in which form and precision, at which batch."""

    mode: str  # latency | throughput | train
    variant: str  # eager | optimized | compiled
    dtype: str  # fp32 | bf16
    batch: int

    @property
    def label(self) -> str:
        return f"{self.mode} {self.variant} {self.dtype} b{self.batch}"


@dataclass
class Result:
    """Timings of one model in one setting, in milliseconds per call."""

    model: str
    setting: Setting
    image_size: int
    samples_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            **asdict(self.setting),
            "image_size": self.image_size,
            "median_ms": round(self.median_ms, 4),
            "images_per_s": round(1000.0 * self.setting.batch / self.median_ms, 2),
            "samples_ms": [round(s, 4) for s in self.samples_ms],
        }


def plain_twin(name: str) -> str | None:
    """The registered plain twin of an SE model name (``se_resnet50`` -> ``resnet50``), or None."""
    known = set(list_models())
    for candidate in (name[3:] if name.startswith("se_") else "", f"{name}_plain"):
        if candidate and candidate in known:
            return candidate
    return None


def settings(config: BenchConfig) -> list[Setting]:
    """The settings of ``config``, mode by mode: eager fp32 first in each mode."""
    rows: list[Setting] = []
    for mode in config.modes:
        batch = 1 if mode == "latency" else config.batch
        rows += [Setting(mode, "eager", "fp32", batch)]
        rows += [Setting(mode, "optimized", d, batch) for d in config.dtypes]
        if config.compile and mode != "train":
            rows += [Setting(mode, "compiled", d, batch) for d in config.dtypes]
    return rows


def _image_size(config: BenchConfig, name: str) -> int:
    return config.image_size or (32 if name.endswith("_cifar") else 224)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _inference_step(
    model: nn.Module, setting: Setting, size: int, device: torch.device
) -> Callable[[], None]:
    if setting.variant == "eager":
        runner = model
    else:
        runner = optimize(model, dtype=DTYPES[setting.dtype], compile=setting.variant == "compiled")
    x = torch.randn(setting.batch, 3, size, size, device=device)

    def step() -> None:
        with torch.inference_mode():
            runner(x)

    return step


def _train_step(model: nn.Module, setting: Setting, size: int, device: torch.device) -> Callable[[], None]:
    """One SGD step (forward, cross-entropy, backward, momentum update) on random data.

    ``optimized`` training runs channels_last, with bf16 autocast for ``bf16``; the SE blocks
    use the fused autograd op of :mod:`senet.fast.ops` in every variant (it is the model's own).
    """
    model.train()
    fmt = torch.channels_last if setting.variant == "optimized" else torch.contiguous_format
    model.to(memory_format=fmt)
    params = [p for p in model.parameters() if p.requires_grad]
    momenta = [torch.zeros_like(p) for p in params]
    x = torch.randn(setting.batch, 3, size, size, device=device).to(memory_format=fmt)
    classes = model.fc.out_features if isinstance(getattr(model, "fc", None), nn.Linear) else 10
    y = torch.randint(0, classes, (setting.batch,), device=device)
    bf16 = setting.dtype == "bf16"

    def step() -> None:
        for p in params:
            p.grad = None
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        with torch.no_grad():  # SGD with momentum 0.9 (Sec. 5); torch.optim would import dynamo
            for p, m in zip(params, momenta, strict=True):
                m.mul_(0.9).add_(p.grad)
                p.add_(m, alpha=-1e-4)

    return step


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "process": time.process_time}


def _timed(step: Callable[[], None], calls: int, device: torch.device, clock: Callable[[], float]) -> float:
    """Mean milliseconds per call over ``calls`` calls."""
    _sync(device)
    start = clock()
    for _ in range(calls):
        step()
    _sync(device)
    return (clock() - start) * 1000.0 / calls


def time_interleaved(
    steps: dict[str, Callable[[], None]],
    *,
    reps: int,
    warmup: int,
    min_sample_s: float,
    device: torch.device,
    clock: str = "wall",
) -> dict[str, list[float]]:
    """Per name, ``reps`` samples (ms per call), the names taking turns in ABBA order."""
    tick = CLOCKS[clock]
    calls: dict[str, int] = {}
    for name, step in steps.items():
        first = _timed(step, 1, device, tick)  # also the first warm-up call
        for _ in range(max(0, warmup - 1)):
            first = _timed(step, 1, device, tick)
        calls[name] = max(1, int(min_sample_s * 1000.0 / max(first, 1e-3)))
    samples: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for rep in range(reps):
        for name in names if rep % 2 == 0 else names[::-1]:
            samples[name].append(_timed(steps[name], calls[name], device, tick))
    return samples


def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def run_bench(config: BenchConfig, *, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every setting for every model group; returns the JSON-ready report."""
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("bench: --device cuda asked for, but CUDA is not available")
    use_cuda = config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if use_cuda else "cpu")
    if config.compile and device.type == "cpu" and not has_cxx_compiler():
        raise ValueError("bench: --compile needs a C++ compiler on CPU (set CXX, or install g++ or clang++)")
    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    try:
        return _run_groups(config, device, log)
    finally:
        torch.set_num_threads(threads)


def _run_groups(config: BenchConfig, device: torch.device, log: Callable[[str], None]) -> dict[str, Any]:
    groups: list[list[str]] = []
    for name in config.models:
        twin = plain_twin(name)
        groups.append([name] + ([twin] if twin and twin not in config.models else []))
    meta = {
        "torch": torch.__version__,
        "device": str(device),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "load_before": _load(),
        "config": asdict(config),
    }
    results: list[Result] = []
    rows = settings(config)
    for group in groups:
        for mode in config.modes:
            steps: dict[str, Callable[[], None]] = {}
            keys: dict[str, tuple[str, Setting]] = {}
            for setting in (r for r in rows if r.mode == mode):
                for name in group:
                    torch.manual_seed(0)
                    model = create_model(name).to(device).eval()
                    make = _train_step if mode == "train" else _inference_step
                    key = f"{name} {setting.label}"
                    steps[key] = make(model, setting, _image_size(config, name), device)
                    keys[key] = (name, setting)
            log(f"{' + '.join(group)}: {mode}: {len(steps)} rows interleaved, {config.reps} repetitions")
            samples = time_interleaved(
                steps,
                reps=config.reps,
                warmup=config.warmup,
                min_sample_s=config.min_sample_s,
                device=device,
                clock=config.clock,
            )
            for key, (name, setting) in keys.items():
                results.append(Result(name, setting, _image_size(config, name), samples[key]))
                log(f"{name:<24} {setting.label:<34} {results[-1].median_ms:10.2f} ms")
    meta["load_after"] = _load()
    return {"meta": meta, "results": [r.to_dict() for r in results]}
