"""One checkpoint: safetensors weights and a small training-state file, written atomically.

A checkpoint folder (``RUN/checkpoints/epoch-NNNN``, see :mod:`senet.train.rundir` for the run
folder's layout) holds ``model.safetensors`` (the weights, with the TrainConfig and DataInfo as
metadata) and ``state.pt`` (optimizer, scheduler, scaler, epoch and RNG states). It is written under
a temporary name, every file is fsync'ed, and the folder is renamed into place (an atomic rename),
so a run killed at any moment (even by SIGKILL) leaves only complete checkpoints under their final
names; old checkpoints are deleted the same way round (renamed to a hidden name, then deleted:
:func:`senet.train.rundir.discard`). ``state.pt`` loads with ``weights_only=True``; a file that does
not load is a :class:`CheckpointError` naming it and why.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from torch import nn

from senet.errors import SenetError
from senet.io import fsync_path, umask_mode
from senet.train.rundir import (
    STATE,
    WEIGHTS,
    CheckpointError,
    checkpoint_dir,
    discard,
    list_checkpoints,
    partial_dir,
    prune_checkpoints,
    resolve,
)
from senet.weights.card import card_of
from senet.weights.safe_load import load_torch_file, save_safetensors_file, save_torch_file


@dataclass
class Checkpoint:
    """A loaded checkpoint: weights, metadata and (if present) the training state."""

    path: Path
    weights: dict[str, torch.Tensor]
    config: dict[str, Any]
    data_info: dict[str, Any]
    epoch: int
    state: dict[str, Any] | None = None
    network: dict[str, Any] | None = None
    """The network's own card (family and full configuration, widths included), so that a run
    fine-tuned from other weights loads without them; None in checkpoints written before."""


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside DistributedDataParallel wrappers (their public ``module``).

    A ``torch.compile`` wrapper is not looked into (its inner module is a private attribute): save
    the module that was compiled, as :func:`senet.train.engine.fit` does.
    """
    while isinstance(getattr(model, "module", None), nn.Module):
        model = model.module
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
    extra_weights: dict[str, dict[str, torch.Tensor]] | None = None,
) -> Path:
    """Write ``checkpoints/epoch-NNNN`` atomically and keep the newest ``keep`` of them.

    The new checkpoint is complete before the oldest is deleted: the disk needs room for
    ``keep + 1`` checkpoints while it is written. ``extra_weights`` maps more weight files of the
    folder (``ema.safetensors``) to their state dicts, written with the same metadata.
    """
    final, tmp = checkpoint_dir(run_dir, epoch), partial_dir(run_dir, epoch)
    root = final.parent
    root.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    weights = {k: v.detach().contiguous().cpu() for k, v in unwrap(model).state_dict().items()}
    metadata = {
        "format": "senet-checkpoint-1",
        "epoch": str(epoch),
        "config": json.dumps(config),
        "data_info": json.dumps(data_info),
    }
    if dataclasses.is_dataclass(getattr(unwrap(model), "config", None)):
        metadata["network"] = card_of(unwrap(model)).to_json()
    save_safetensors_file(weights, tmp / WEIGHTS, metadata)  # a full disk: an error naming the file
    os.chmod(tmp / WEIGHTS, umask_mode())  # safetensors writes 0600 whatever the umask
    for name, tensors in (extra_weights or {}).items():
        save_safetensors_file(
            {k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp / name, metadata
        )
        os.chmod(tmp / name, umask_mode())
        fsync_path(tmp / name)
    save_torch_file({"epoch": epoch, "config": config, "data_info": data_info} | state, tmp / STATE)
    for name in (WEIGHTS, STATE):
        fsync_path(tmp / name)
    fsync_path(tmp)
    if final.exists():  # the same epoch written again (a resumed run): replace it, never half-deleted
        discard(final)
    os.rename(tmp, final)
    fsync_path(root)
    prune_checkpoints(run_dir, keep)
    return final


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
    try:
        config, data_info = json.loads(metadata["config"]), json.loads(metadata.get("data_info", "{}"))
        epoch = int(metadata.get("epoch", "0"))
        network = json.loads(metadata["network"]) if "network" in metadata else None
    except ValueError as err:
        raise CheckpointError(f"{weights_path}: damaged metadata ({err})") from None
    state = _load_state(weights_path.parent / STATE) if with_state else None
    return Checkpoint(weights_path.parent, weights, config, data_info, epoch, state, network)


RESUMABLE = ("optimizer", "scheduler", "rng")
"""What ``state.pt`` must hold for a run to continue from it."""


def load_newest(run_dir: str | Path, *, say: Callable[[str], None] | None = None) -> Checkpoint | None:
    """The newest checkpoint of ``run_dir`` that loads with a resumable training state (None: the
    run has no checkpoint). A newer one that does not load (truncated, damaged, foreign) is
    skipped, and ``say`` is told which and why; if none loads, a CheckpointError lists each.
    """
    found, reasons, skipped = list_checkpoints(run_dir), [], []
    for path in reversed(found):
        try:
            loaded = load_checkpoint(path, with_state=True)
            missing = [key for key in RESUMABLE if key not in loaded.state]
            if missing:
                raise CheckpointError(f"{path / STATE}: no {', '.join(missing)} to resume from")
        except CheckpointError as err:
            reasons.append(str(err))
            skipped.append(f"resume: skipping checkpoint {path}: {err}")
            continue
        for line in skipped if say is not None else ():  # said only when an older one is used
            say(line)
        return loaded
    if found:
        raise CheckpointError(
            f"{run_dir}: none of its checkpoints loads ({'; '.join(reasons)}); start a new run in it "
            "with --overwrite (the old one is moved aside) or give another --out"
        )
    return None


def _load_state(path: Path) -> dict[str, Any]:
    """``state.pt`` loaded with ``weights_only=True`` (:func:`load_torch_file`); any failure is a
    CheckpointError naming the file (never torch's own advice to load it with
    ``weights_only=False``: that would run its code)."""
    if not path.is_file():
        raise CheckpointError(f"{path}: missing training state; cannot resume from it")
    try:
        state = load_torch_file(path, "training state")
    except (SenetError, FileNotFoundError) as err:
        raise CheckpointError(str(err)) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a training state (a {type(state).__name__}, not a mapping)")
    return state


__all__ = [
    "Checkpoint",
    "CheckpointError",
    "load_checkpoint",
    "load_newest",
    "rng_state",
    "save_checkpoint",
    "set_rng_state",
    "unwrap",
]
