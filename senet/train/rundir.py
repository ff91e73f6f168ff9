"""The files of a run folder: ``config.json``, ``metrics.jsonl`` and ``result.json`` (written last).

``checkpoints/`` is :mod:`senet.train.checkpoint`'s. A folder with ``result.json`` is a finished
run: :func:`load_result` reads it back (the ablation runner uses it to skip finished runs).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from senet.io import write_atomic
from senet.train.config import TrainConfig

RESULT = "result.json"
METRICS = "metrics.jsonl"
CONFIG = "config.json"


@dataclass(frozen=True)
class FitResult:
    """What a finished run reports (also written to ``RUN/result.json``).

    Errors are percentages (100 - accuracy); ``macs`` are the paper's "FLOPs" (multiply-adds of
    one forward pass at ``input_size``).
    """

    run_dir: str
    checkpoint: str
    model: str
    dataset: str
    epochs: int
    top1: float
    top5: float
    top1_error: float
    top5_error: float
    val_loss: float
    params: int
    macs: int
    input_size: int
    seconds: float
    train_images_per_second: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_run_dir(config: TrainConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{config.model.name}-{config.data.dataset}-{stamp}"


def truncate_metrics(path: Path, epochs_done: int) -> None:
    """Drop metric lines of epochs after the checkpoint being resumed (a killed run may have logged them)."""
    if not path.is_file():
        return
    keep = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and json.loads(line)["epoch"] <= epochs_done
    ]
    write_atomic(path, "".join(line + "\n" for line in keep))


def append_metrics(path: Path, row: dict[str, Any]) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def load_result(run_dir: str | Path) -> FitResult | None:
    """The result of a finished run folder, or None if it has not finished."""
    path = Path(run_dir) / RESULT
    return FitResult(**json.loads(path.read_text())) if path.is_file() else None


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def read_metrics(path: Path) -> list[dict[str, Any]]:
    return (
        [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    )
