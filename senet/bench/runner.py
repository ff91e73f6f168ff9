"""Side-by-side wall-clock benchmark of SE models and their plain twins (``senet bench``).

Each *mode* (latency at batch 1, throughput at batch N, or one training step) times every
*setting* of that mode (eager; optimised in each dtype; compiled when asked) for an SE model and
its plain twin **interleaved** (:func:`senet.bench.timing.time_interleaved`), so that drift in
the machine's load hits every row of the mode alike; the figure reported is the median over
repetitions. What the timings mean (SE overheads, speed-ups, targets) is
:mod:`senet.bench.report`'s business.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from senet.api import create_model, list_models
from senet.bench.config import BenchConfig, DType, Mode, Variant
from senet.bench.peers import best_mode, build_peer, has_peer, peer_model_name, split_peer, why_missing
from senet.bench.timing import time_interleaved
from senet.fast.inference import DTYPES, has_cxx_compiler, optimize
from senet.runtime import num_threads, pick_device
from senet.weights.export import input_channels
from senet.weights.model_dir import is_model_folder, read_card


@dataclass(frozen=True)
class Setting:
    """One row of the benchmark: what is run, in which form and precision, at which batch."""

    mode: Mode
    variant: Variant
    dtype: DType
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
        peer, _ = split_peer(self.model)
        return {
            "model": self.model,
            **asdict(self.setting),
            "image_size": self.image_size,
            "median_ms": round(self.median_ms, 4),
            "images_per_s": round(1000.0 * self.setting.batch / self.median_ms, 2),
            "samples_ms": [round(s, 4) for s in self.samples_ms],
            **({"peer": peer, "peer_model": peer_model_name(self.model)} if peer else {}),
        }


def plain_twin(name: str) -> str | None:
    """The registered plain twin of an SE model name (``se_resnet50`` -> ``resnet50``), or None;
    a peer row's is the same peer's row of the twin (``timm:se_resnet50`` -> ``timm:resnet50``)."""
    peer, base = split_peer(name)
    if peer is not None:
        twin = plain_twin(base)
        return None if twin is None else f"{peer}:{twin}"
    known = set(list_models())
    if is_model_folder(name):
        return None  # a model folder is timed alone
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
    name = split_peer(name)[1]
    if is_model_folder(name):
        return config.image_size or read_card(name).preprocessing.input_size
    return config.image_size or (32 if name.endswith("_cifar") else 224)


def _build(name: str) -> nn.Module:
    """A registered model (He-initialised), a model folder's network with its weights (a pruned
    one), or a peer's network (``PEER:MODEL``)."""
    if split_peer(name)[0] is not None:
        return build_peer(name)
    return create_model(weights=name) if is_model_folder(name) else create_model(name)


def _inference_step(
    model: nn.Module, setting: Setting, size: int, device: torch.device, peer: bool = False
) -> Callable[[], None]:
    """One forward pass at ``setting``; a peer's optimized form is its best generic mode
    (:func:`senet.bench.peers.best_mode`), senet's is :func:`senet.fast.inference.optimize`."""
    x = torch.randn(setting.batch, input_channels(model), size, size, device=device)
    compile = setting.variant == "compiled"
    if setting.variant == "eager":
        runner = model
    elif peer:
        runner = best_mode(model, setting.dtype == "bf16", compile)
        x = x.contiguous(memory_format=torch.channels_last)
    else:
        runner = optimize(model, dtype=DTYPES[setting.dtype], compile=compile)

    def step() -> None:
        with torch.inference_mode():
            runner(x)

    return step


def _train_step(model: nn.Module, setting: Setting, size: int, device: torch.device) -> Callable[[], None]:
    """One SGD step (forward, cross-entropy, backward, momentum update) on random data.

    ``optimized`` training runs channels_last, with bf16 autocast for ``bf16``; senet's SE blocks
    use the fused autograd op of :mod:`senet.layers.fused` in every variant (it is the model's
    own), a peer's its own code: the step is the same for every network.
    """
    model.train()
    fmt = torch.channels_last if setting.variant == "optimized" else torch.contiguous_format
    model.to(memory_format=fmt)
    params = [p for p in model.parameters() if p.requires_grad]
    momenta = [torch.zeros_like(p) for p in params]
    x = torch.randn(setting.batch, input_channels(model), size, size, device=device).to(memory_format=fmt)
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


def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def run_bench(config: BenchConfig, *, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every setting for every model group; returns the JSON-ready report (meta, results)."""
    device = pick_device(config.device)
    if config.compile and device.type == "cpu" and not has_cxx_compiler():
        raise ValueError("bench: --compile needs a C++ compiler on CPU (set CXX, or install g++ or clang++)")
    with num_threads(config.threads):
        return _run_groups(config, device, log)


def _groups(config: BenchConfig, log: Callable[[str], None] = print) -> list[list[str]]:
    """Each named model with its plain twin, unless the twin was named itself, then the peer
    rows (``PEER:MODEL``) of both; a peer that lacks one is logged."""
    groups: list[list[str]] = []
    for name in config.models:
        twin = plain_twin(name)
        group = [name] + ([twin] if twin and twin not in config.models else [])
        for peer in config.peers:
            have = [n for n in group if not is_model_folder(n) and has_peer(peer, n)]
            if len(have) < len(group):
                missing = ", ".join(n for n in group if n not in have)
                log(f"bench: no {peer} peer for {missing} ({why_missing(peer)})")
            group += [f"{peer}:{n}" for n in have]
        groups.append(group)
    return groups


def _mode_steps(
    config: BenchConfig, group: list[str], mode: Mode, device: torch.device
) -> dict[str, tuple[str, Setting, Callable[[], None]]]:
    """``{row label: (model, setting, step)}`` for every setting of ``mode`` and model of ``group``."""
    rows: dict[str, tuple[str, Setting, Callable[[], None]]] = {}
    for setting in (s for s in settings(config) if s.mode == mode):
        for name in group:
            torch.manual_seed(0)
            model = _build(name).to(device).eval()
            size = _image_size(config, name)
            if mode == "train":
                step = _train_step(model, setting, size, device)
            else:
                step = _inference_step(model, setting, size, device, peer=split_peer(name)[0] is not None)
            rows[f"{name} {setting.label}"] = (name, setting, step)
    return rows


def _run_groups(config: BenchConfig, device: torch.device, log: Callable[[str], None]) -> dict[str, Any]:
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
    for group in _groups(config, log):
        for mode in config.modes:
            rows = _mode_steps(config, group, mode, device)
            log(f"{' + '.join(group)}: {mode}: {len(rows)} rows interleaved, {config.reps} repetitions")
            samples = time_interleaved(
                {key: step for key, (_, _, step) in rows.items()},
                reps=config.reps,
                warmup=config.warmup,
                min_sample_ms=config.min_sample_ms,
                device=device,
                clock=config.clock,
            )
            for key, (name, setting, _) in rows.items():
                results.append(Result(name, setting, _image_size(config, name), samples[key]))
                log(f"{name:<24} {setting.label:<34} {results[-1].median_ms:10.2f} ms")
    meta["load_after"] = _load()
    return {"meta": meta, "results": [r.to_dict() for r in results]}
