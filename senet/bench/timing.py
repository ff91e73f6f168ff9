"""Interleaved timing: several zero-argument steps measured in turns, so that drift hits them alike.

After a warm-up, repetition k times every step once, in ABBA order (the steps' order on even
repetitions, reversed on odd ones). One sample is the mean over enough calls to last at least
``min_sample_ms``; the caller takes medians. Used by ``senet bench`` and the scripts in
``benchmarks/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import torch

Clock = Literal["wall", "process"]

#: ``wall``: time.perf_counter; ``process``: CPU time of this process (time.process_time).
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "process": time.process_time}


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); a no-op on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(step: Callable[[], None], calls: int, device: torch.device, clock: Callable[[], float]) -> float:
    """Mean milliseconds per call over ``calls`` calls of ``step``."""
    sync(device)
    start = clock()
    for _ in range(calls):
        step()
    sync(device)
    return (clock() - start) * 1000.0 / calls


def time_interleaved(
    steps: dict[str, Callable[[], None]],
    *,
    reps: int,
    warmup: int,
    min_sample_ms: float,
    device: torch.device,
    clock: Clock = "wall",
) -> dict[str, list[float]]:
    """Per name, ``reps`` samples (ms per call), the names taking turns in ABBA order."""
    tick = CLOCKS[clock]
    calls: dict[str, int] = {}
    for name, step in steps.items():
        first = timed(step, 1, device, tick)  # also the first warm-up call
        for _ in range(max(0, warmup - 1)):
            first = timed(step, 1, device, tick)
        calls[name] = max(1, int(min_sample_ms / max(first, 1e-3)))
    samples: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for rep in range(reps):
        for name in names if rep % 2 == 0 else names[::-1]:
            samples[name].append(timed(steps[name], calls[name], device, tick))
    return samples


def time_forwards(
    models: dict[str, torch.nn.Module], x: torch.Tensor, *, reps: int, warmup: int = 2, clock: Clock = "wall"
) -> dict[str, list[float]]:
    """Per name, ``reps`` samples (ms) of one inference-mode forward of ``x`` (CPU), the models
    taking turns (:func:`time_interleaved`)."""

    def forward(model: torch.nn.Module) -> Callable[[], None]:
        def run() -> None:
            with torch.inference_mode():
                model(x)

        return run

    steps = {name: forward(model) for name, model in models.items()}
    return time_interleaved(
        steps, reps=reps, warmup=warmup, min_sample_ms=0.0, device=torch.device("cpu"), clock=clock
    )
