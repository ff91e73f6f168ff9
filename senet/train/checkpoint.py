"""Checkpoints written atomically: a folder per epoch with safetensors weights and a small state file.

Layout of a run folder::

    RUN/config.json                       the resolved TrainConfig
    RUN/metrics.jsonl                     one JSON line per epoch
    RUN/checkpoints/epoch-0003/model.safetensors   weights (+ config and DataInfo as metadata)
    RUN/checkpoints/epoch-0003/state.pt            optimizer, scheduler, scaler, epoch, RNG states
    RUN/result.json                       written last: the run finished

A checkpoint folder is written under a temporary name, every file is fsync'ed, and the folder is
renamed into place (an atomic rename), so a run killed at any moment (even by SIGKILL) leaves only
complete checkpoints under their final names; ``state.pt`` loads with ``weights_only=True``.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from senet.io import fsync_path

WEIGHTS = "model.safetensors"
STATE = "state.pt"
_EPOCH_DIR = re.compile(r"^epoch-(\d{4,})$")


class CheckpointError(FileNotFoundError):
    """No usable checkpoint where one was expected; the message names the path."""


@dataclass
class Checkpoint:
    """A loaded checkpoint: weights, metadata and (if present) the training state."""

    path: Path
    weights: dict[str, torch.Tensor]
    config: dict[str, Any]
    data_info: dict[str, Any]
    epoch: int
    state: dict[str, Any] | None = None


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside DistributedDataParallel and/or torch.compile wrappers."""
    while True:
        if hasattr(model, "module") and isinstance(model.module, nn.Module):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def rng_state() -> dict[str, Any]:
    """Python, NumPy, torch (CPU and CUDA) generator states, as weights_only-loadable objects."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(_tuples(state["python"]))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def save_checkpoint(
    run_dir: str | Path,
    *,
    epoch: int,
    model: nn.Module,
    state: dict[str, Any],
    config: dict[str, Any],
    data_info: dict[str, Any],
    keep: int = 2,
) -> Path:
    """Write ``checkpoints/epoch-NNNN`` atomically and keep the newest ``keep`` of them."""
    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"epoch-{epoch:04d}"
    tmp = root / f".epoch-{epoch:04d}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    weights = {k: v.detach().contiguous().cpu() for k, v in unwrap(model).state_dict().items()}
    metadata = {
        "format": "senet-checkpoint-1",
        "epoch": str(epoch),
        "config": json.dumps(config),
        "data_info": json.dumps(data_info),
    }
    save_file(weights, str(tmp / WEIGHTS), metadata=metadata)
    torch.save({"epoch": epoch, "config": config, "data_info": data_info} | state, tmp / STATE)
    for name in (WEIGHTS, STATE):
        fsync_path(tmp / name)
    fsync_path(tmp)
    if final.exists():  # the same epoch written again (a resumed run): replace it
        shutil.rmtree(final)
    os.rename(tmp, final)
    fsync_path(root)
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoint folders of a run, oldest first (temporary folders are ignored)."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if _EPOCH_DIR.match(p.name) and (p / WEIGHTS).is_file()]
    return sorted(found, key=lambda p: int(_EPOCH_DIR.match(p.name).group(1)))


def clean_partial(run_dir: str | Path) -> None:
    """Remove temporary checkpoint folders a killed run left behind."""
    root = Path(run_dir) / "checkpoints"
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
            f"{path}: no checkpoint found (expected {path}/checkpoints/epoch-NNNN/{WEIGHTS})"
        )
    raise CheckpointError(f"checkpoint {str(path)!r} does not exist")


def load_checkpoint(path: str | Path, *, with_state: bool = False) -> Checkpoint:
    """Load weights and metadata (and, with ``with_state``, ``state.pt`` beside the weights)."""
    weights_path = resolve(path)
    try:
        with safe_open(str(weights_path), framework="pt") as f:
            metadata = f.metadata() or {}
            weights = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    except Exception as err:  # safetensors raises its own error types
        raise CheckpointError(f"{weights_path}: cannot read the weights ({err})") from err
    if "config" not in metadata:
        raise CheckpointError(f"{weights_path}: not a senet training checkpoint (no config in its metadata)")
    state = None
    if with_state:
        state_path = weights_path.parent / STATE
        if not state_path.is_file():
            raise CheckpointError(f"{state_path}: missing training state; cannot resume from it")
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    return Checkpoint(
        path=weights_path.parent,
        weights=weights,
        config=json.loads(metadata["config"]),
        data_info=json.loads(metadata.get("data_info", "{}")),
        epoch=int(metadata.get("epoch", "0")),
        state=state,
    )
