"""Load tensors without running code from the file.

safetensors files are read directly (they hold no code). Anything else goes through
``torch.load(..., weights_only=True)``, whose restricted unpickler accepts tensors and plain
containers only: a pickle that names any other callable (a ``__reduce__`` payload) is refused
before anything in it runs, and we re-raise that refusal as :class:`UnsafeCheckpointError`.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import safe_open

_WRAPPERS = ("state_dict", "model", "model_state", "module")


class UnsafeCheckpointError(ValueError):
    """A checkpoint whose pickle would import or call code; it was not executed."""


def is_safetensors(path: str | Path) -> bool:
    """True when ``path`` starts like a safetensors file (8-byte header length, then ``{``)."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    return len(head) == 9 and head[8:9] == b"{"


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    """The state dict inside a training checkpoint ({'state_dict': ...}), minus 'module.'."""
    while isinstance(obj, Mapping) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
        inner = next((obj[k] for k in _WRAPPERS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            raise ValueError(f"{path}: no tensors found; top-level keys are {sorted(map(str, obj))[:8]}")
        obj = inner
    if not isinstance(obj, Mapping):
        raise ValueError(
            f"{path}: expected a state dict (a mapping of names to tensors), got {type(obj).__name__}"
        )
    out: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{path}: entry {key!r} is a {type(value).__name__}, not a tensor")
        out[key[7:] if key.startswith("module.") else key] = value
    return out


def load_state_dict_file(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(state dict, metadata) of a safetensors or PyTorch file; metadata is empty for the latter.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsafeCheckpointError: the pickle refers to code (never executed).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    if is_safetensors(path):
        with safe_open(str(path), framework="pt") as fh:
            return {k: fh.get_tensor(k) for k in fh.keys()}, dict(fh.metadata() or {})
    with open(path, "rb") as fh:
        head = fh.read(2)
    if head[:2] != b"PK" and head[:1] != b"\x80":  # a zip (torch.save) or a pickle (legacy)
        raise ValueError(f"{path}: not a safetensors or PyTorch checkpoint (starts with {head!r})")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        text = str(err)
        found = re.search(r"GLOBAL (\S+)", text)
        other = re.search(r"Unsupported operand \d+|[^\n]*(?:reduce|build)[^\n]*", text)
        what = (
            f"it names {found.group(1)}"
            if found
            else other.group(0).strip()
            if other
            else text.splitlines()[0]
        )
        raise UnsafeCheckpointError(
            f"{path}: refused to load: the pickle holds more than tensors and plain containers, which "
            f"torch.load(weights_only=True) does not allow ({what[:200]}). Nothing from it was run; "
            f"convert files you trust to safetensors."
        ) from None
    return _unwrap(obj, path), {}
