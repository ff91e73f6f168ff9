"""Load tensors without running code from the file, and write tensor files, naming the file on error.

safetensors files are read directly (they hold no code). Anything else goes through
``torch.load(..., weights_only=True)``, whose restricted unpickler accepts tensors and plain
containers only: a pickle that names any other callable (a ``__reduce__`` payload) is refused
before anything in it runs, and we re-raise that refusal as :class:`UnsafeCheckpointError`
(with our own message: torch's suggests ``weights_only=False``, which would run the payload).

Every failure is a :class:`~senet.errors.SenetError` naming the file: a truncated or foreign
file is a :class:`~senet.errors.WeightsFileError`, a write that fails (read-only, disk full)
an :class:`~senet.errors.OutputError`.
"""

from __future__ import annotations

import pickle
import re
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from senet.errors import OutputError, WeightsFileError, os_reason

_WRAPPERS = ("state_dict", "model", "model_state", "module")


class UnsafeCheckpointError(WeightsFileError):
    """A checkpoint whose pickle would import or call code; it was not executed."""


def is_safetensors(path: str | Path) -> bool:
    """True when ``path`` starts like a safetensors file (8-byte header length, then ``{``)."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    return len(head) == 9 and head[8:9] == b"{"


def read_safetensors(
    path: str | Path, what: str = "weights"
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(tensors, metadata) of a safetensors file; :class:`WeightsFileError` naming ``path`` when
    it is truncated, corrupt or not a safetensors file at all."""
    try:
        with safe_open(str(path), framework="pt") as fh:
            return {k: fh.get_tensor(k) for k in fh.keys()}, dict(fh.metadata() or {})  # noqa: SIM118
    except FileNotFoundError:
        raise
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:  # safetensors' own error types
        raise WeightsFileError(
            f"{path}: cannot read the {what}: not a complete safetensors file ({err})"
        ) from err


def safetensors_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of a safetensors file, read from its header alone (no tensor is loaded);
    {} when ``path`` is not a readable safetensors file (its reader then says why)."""
    try:
        with safe_open(str(path), framework="pt") as fh:
            return dict(fh.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError):
        return {}


def is_training_checkpoint(path: str | Path) -> bool:
    """Whether ``path`` (a ``.safetensors`` file) was written by ``senet train``: its metadata holds
    the TrainConfig and DataInfo."""
    path = Path(path)
    if path.suffix != ".safetensors" or not path.is_file():
        return False
    metadata = safetensors_metadata(path)
    return "config" in metadata and "data_info" in metadata


def _refusal(err: pickle.UnpicklingError) -> str:
    """What torch's weights-only unpickler refused, without its advice to set weights_only=False."""
    text = str(err)
    found = re.search(r"GLOBAL (\S+)", text)
    other = re.search(r"Unsupported operand \d+|[^\n]*(?:reduce|build)[^\n]*", text)
    return (
        f"it names {found.group(1)}" if found else other.group(0).strip() if other else "not a plain pickle"
    )


def load_torch_file(path: str | Path, what: str = "checkpoint") -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, with errors that name ``path``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsafeCheckpointError: the pickle refers to code (never executed); torch's hint to load
            it with ``weights_only=False`` is not repeated.
        WeightsFileError: the file is truncated or not a PyTorch file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "weights only" not in str(err).lower() and "weights_only" not in str(err):
            raise WeightsFileError(f"{path}: cannot read the {what}: corrupt pickle") from None
        raise UnsafeCheckpointError(
            f"{path}: refused to load the {what}: the pickle holds more than tensors and plain "
            f"containers ({_refusal(err)[:200]}). Nothing from it was run; convert files you trust "
            f"to safetensors."
        ) from None
    except (RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile, KeyError, IndexError,
            AttributeError, TypeError, UnicodeDecodeError, OverflowError, MemoryError) as err:  # fmt: skip
        first = (str(err).splitlines() or [type(err).__name__])[0][:160]
        raise WeightsFileError(
            f"{path}: cannot read the {what}: truncated or not a PyTorch file ({first})"
        ) from None


def _write_failed(path: Path, what: str, err: BaseException) -> OutputError:
    reason = os_reason(err) if isinstance(err, OSError) else (str(err).splitlines() or [""])[0][:160]
    try:
        free = shutil.disk_usage(path.parent).free
        room = f"; {free / 2**20:.1f} MiB free there"
    except OSError:
        room = ""
    return OutputError(f"{path}: cannot write the {what} ({reason}{room})")


def save_torch_file(obj: Any, path: str | Path, what: str = "training state") -> Path:
    """``torch.save(obj, path)``; a failed write (read-only, disk full) is an OutputError naming
    ``path`` and the free space (torch reports a full disk as "unexpected pos ...")."""
    path = Path(path)
    try:
        torch.save(obj, path)
    except (OSError, RuntimeError) as err:
        raise _write_failed(path, what, err) from err
    return path


def save_safetensors_file(
    tensors: dict[str, torch.Tensor],
    path: str | Path,
    metadata: dict[str, str] | None = None,
    what: str = "weights",
) -> Path:
    """``safetensors.torch.save_file``; a failed write is an OutputError naming ``path``."""
    path = Path(path)
    try:
        save_file(tensors, str(path), metadata=metadata)
    except OSError as err:
        raise _write_failed(path, what, err) from err
    except SafetensorError as err:
        if "I/O error" not in str(err) and "os error" not in str(err):
            raise  # not a write failure: a bug in what was passed
        raise _write_failed(path, what, err) from err
    return path


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    """The state dict inside a training checkpoint ({'state_dict': ...}), minus 'module.'."""
    while isinstance(obj, Mapping) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
        inner = next((obj[k] for k in _WRAPPERS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            raise WeightsFileError(
                f"{path}: no tensors found; top-level keys are {sorted(map(str, obj))[:8]}"
            )
        obj = inner
    if not isinstance(obj, Mapping):
        raise WeightsFileError(
            f"{path}: expected a state dict (a mapping of names to tensors), got {type(obj).__name__}"
        )
    out: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        if not isinstance(value, torch.Tensor):
            raise WeightsFileError(f"{path}: entry {key!r} is a {type(value).__name__}, not a tensor")
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
    if is_safetensors(path) or path.suffix == ".safetensors":
        return read_safetensors(path)
    with open(path, "rb") as fh:
        head = fh.read(2)
    if head[:2] != b"PK" and head[:1] != b"\x80":  # a zip (torch.save) or a pickle (legacy)
        raise WeightsFileError(f"{path}: not a safetensors or PyTorch checkpoint (starts with {head!r})")
    return _unwrap(load_torch_file(path, "weights"), path), {}
