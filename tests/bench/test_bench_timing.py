"""senet.bench.timing: interleaved forwards."""

from __future__ import annotations

import torch

from senet.bench.timing import time_forwards


def test_time_forwards_runs_each_model_in_inference_mode() -> None:
    seen: dict[str, list[bool]] = {"a": [], "b": []}

    class Probe(torch.nn.Module):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen[self.name].append(torch.is_inference_mode_enabled())
            return x * 2

    samples = time_forwards({"a": Probe("a"), "b": Probe("b")}, torch.ones(2), reps=3, warmup=1)
    assert set(samples) == {"a", "b"} and all(len(v) == 3 and min(v) >= 0 for v in samples.values())
    assert all(seen["a"]) and all(seen["b"]) and len(seen["a"]) >= 4  # warm-up + 3 samples
