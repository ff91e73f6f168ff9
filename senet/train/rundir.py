"""The run folder: every file name and path in it, and the small JSON files written there.

Layout of a run folder::

    RUN/config.json                                the resolved TrainConfig
    RUN/metrics.jsonl                              one JSON line per epoch
    RUN/checkpoints/epoch-0003/model.safetensors   weights (+ config and DataInfo as metadata)
    RUN/checkpoints/epoch-0003/state.pt            optimizer, scheduler, scaler, epoch, RNG states
    RUN/checkpoints/.epoch-0004.tmp-PID/           a checkpoint being written (removed on restart)
    RUN/tensorboard/                               event files (only with tensorboard=true)
    RUN/result.json                                written last: the run finished

This module knows where things are: it lists, cleans and resolves checkpoint folders and reads
and writes ``config.json``, ``metrics.jsonl`` and ``result.json``. What is inside one checkpoint
folder, and how it is written atomically, is :mod:`senet.train.checkpoint`'s. A folder with
``result.json`` is a finished run: :func:`load_result` reads it back (the ablation runner uses it
to skip finished runs).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from senet.io import write_atomic
from senet.jsonio import strict_json
from senet.train.config import TrainConfig

CONFIG = "config.json"
METRICS = "metrics.jsonl"
RESULT = "result.json"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
WEIGHTS = "model.safetensors"
"""The weights file of a checkpoint folder; a folder without it is not a checkpoint."""
STATE = "state.pt"
"""The training state of a checkpoint folder (needed to resume, not to evaluate)."""
_EPOCH_DIR = re.compile(r"^epoch-(\d{4,})$")


class CheckpointError(FileNotFoundError):
    """No usable checkpoint where one was expected; the message names the path."""


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
    """``runs/MODEL-DATASET-YYYYmmdd-HHMMSS`` (for a run given no ``out_dir``)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{config.model.name}-{config.data.dataset}-{stamp}"


def prepare(run_dir: Path, config: dict[str, Any], epochs_done: int) -> None:
    """Make ``run_dir`` ready for training after ``epochs_done`` epochs (0: a fresh run).

    Removes what a killed run left (partial checkpoints, metric lines of later epochs) and an old
    ``result.json``, and writes ``config.json``.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    clean_partial(run_dir)
    write_atomic(run_dir / CONFIG, json.dumps(config, indent=2) + "\n")
    truncate_metrics(run_dir, epochs_done)
    (run_dir / RESULT).unlink(missing_ok=True)


# --- metrics.jsonl and result.json ------------------------------------------------------------


def append_metrics(run_dir: Path, row: dict[str, Any]) -> None:
    """Add one epoch's line to ``metrics.jsonl`` (flushed to disk before returning)."""
    with open(run_dir / METRICS, "a") as f:
        f.write(strict_json(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """The rows of ``metrics.jsonl``, oldest first ([] if there is none)."""
    path = run_dir / METRICS
    return (
        [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    )


def truncate_metrics(run_dir: Path, epochs_done: int) -> None:
    """Drop metric lines of epochs after the checkpoint being resumed (a killed run may have logged them)."""
    path = run_dir / METRICS
    if not path.is_file():
        return
    keep = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and json.loads(line)["epoch"] <= epochs_done
    ]
    write_atomic(path, "".join(line + "\n" for line in keep))


def write_result(run_dir: Path, result: FitResult) -> None:
    """Write ``result.json`` (atomically): the run is finished."""
    write_atomic(run_dir / RESULT, strict_json(result.to_dict(), indent=2) + "\n")


def load_result(run_dir: str | Path) -> FitResult | None:
    """The result of a finished run folder, or None if it has not finished."""
    path = Path(run_dir) / RESULT
    return FitResult(**json.loads(path.read_text())) if path.is_file() else None


# --- checkpoints/ -----------------------------------------------------------------------------


def checkpoint_dir(run_dir: str | Path, epoch: int) -> Path:
    """``RUN/checkpoints/epoch-NNNN``: where the checkpoint after ``epoch`` epochs lives."""
    return Path(run_dir) / CHECKPOINTS / f"epoch-{epoch:04d}"


def partial_dir(run_dir: str | Path, epoch: int) -> Path:
    """The temporary name a checkpoint folder is written under by this process before its rename."""
    return Path(run_dir) / CHECKPOINTS / f".epoch-{epoch:04d}.tmp-{os.getpid()}"


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoint folders of a run, oldest first (temporary folders are ignored)."""
    root = Path(run_dir) / CHECKPOINTS
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if _EPOCH_DIR.match(p.name) and (p / WEIGHTS).is_file()]
    return sorted(found, key=lambda p: int(_EPOCH_DIR.match(p.name).group(1)))


def prune_checkpoints(run_dir: str | Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoint folders."""
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def clean_partial(run_dir: str | Path) -> None:
    """Remove temporary checkpoint folders a killed run left behind."""
    root = Path(run_dir) / CHECKPOINTS
    if root.is_dir():
        for p in root.glob(".epoch-*.tmp-*"):
            shutil.rmtree(p, ignore_errors=True)


def resolve(path: str | Path) -> Path:
    """The weights file for a run folder, a checkpoint folder or a ``.safetensors`` file."""
    path = Path(path)
    if path.is_file():
        if path.suffix != ".safetensors":
            raise CheckpointError(
                f"{path}: expected a .safetensors file, a checkpoint folder or a run folder"
            )
        return path
    if (path / WEIGHTS).is_file():
        return path / WEIGHTS
    if path.is_dir():
        found = list_checkpoints(path)
        if found:
            return found[-1] / WEIGHTS
        raise CheckpointError(
            f"{path}: no checkpoint found (expected {path}/{CHECKPOINTS}/epoch-NNNN/{WEIGHTS})"
        )
    raise CheckpointError(f"checkpoint {str(path)!r} does not exist")


def weights_source(source: str | Path) -> Path:
    """A training run folder as its newest checkpoint; any other source as it is."""
    path = Path(source)
    if path.is_dir() and (path / CHECKPOINTS).is_dir() and not (path / WEIGHTS).is_file():
        return resolve(path).parent
    return path
