"""What every stage of the device check shares: a check's record, the versions, JSON files.

A stage is a list of named checks. Each runs inside :func:`run_check`, which times it and turns
its outcome into a record ``{"name", "status", "reason", "seconds", "data"}``: ``ok``,
``failed`` (the exception and the end of its traceback) or ``skipped`` (a :class:`Skip` raised
with the reason). One failing check never stops the others.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["ok", "failed", "skipped", "timeout"]

#: Packages whose versions head the log and results.json (the optional ones may be missing).
PACKAGES = ("torch", "torchvision", "timm", "numpy", "safetensors", "yaml", "PIL", "sklearn",
            "matplotlib", "onnxruntime", "pytest", "triton")  # fmt: skip

#: senet's dependencies (pyproject.toml): the check names the missing ones first; it stops only
#: when ``import senet`` itself fails.
REQUIRED = ("torch", "numpy", "safetensors", "yaml", "PIL", "sklearn")


class Skip(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by a check that cannot run here; its message is the recorded reason."""


@dataclass
class Record:
    """The outcome of one check."""

    name: str
    status: Status = "ok"
    reason: str = ""
    seconds: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "reason": self.reason,
                "seconds": round(self.seconds, 2), "data": self.data}  # fmt: skip


def log(message: str) -> None:
    """One timestamped line on stdout (the parent process copies it into the log)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_check(name: str, fn: Callable[[], dict[str, Any] | None], records: list[Record]) -> Record:
    """Run ``fn`` as the check ``name``; append and return its record (never raises)."""
    record = Record(name)
    start = time.perf_counter()
    log(f"{name}: start")
    try:
        record.data = fn() or {}
    except Skip as skip:
        record.status, record.reason = "skipped", str(skip)
    except Exception as err:  # noqa: BLE001 (any failure is recorded, the next check runs)
        record.status = "failed"
        record.reason = f"{type(err).__name__}: {err}"[:2000]
        record.data = {"traceback": traceback.format_exc()[-4000:]}
    record.seconds = time.perf_counter() - start
    log(f"{name}: {record.status} in {record.seconds:.1f} s {record.reason[:300]}")
    records.append(record)
    return record


def version_of(module: str) -> str | None:
    """The module's ``__version__`` (or "present"), None when it does not import."""
    try:
        found = importlib.import_module(module)
    except Exception:  # noqa: BLE001 (a broken binary raises OSError, RuntimeError ...)
        return None
    return str(getattr(found, "__version__", "present"))


def environment() -> dict[str, Any]:
    """Date, host, Python, package versions, and the GPU (name, memory, CUDA and cuDNN versions)."""
    info: dict[str, Any] = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "packages": {name: version_of(name) for name in PACKAGES},
    }
    try:
        import torch
    except ImportError:
        return info
    info["cuda_available"] = torch.cuda.is_available()
    info["torch_cuda"] = torch.version.cuda
    info["cudnn"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info["gpu"] = {"name": props.name, "memory_gib": round(props.total_memory / 2**30, 1),
                       "capability": f"{props.major}.{props.minor}", "count": torch.cuda.device_count(),
                       "bf16": torch.cuda.is_bf16_supported()}  # fmt: skip
    return info


def missing_required(packages: dict[str, str | None]) -> list[str]:
    """Packages senet needs that did not import."""
    return [name for name in REQUIRED if packages.get(name) is None]


def write_json(path: Path, value: Any) -> None:
    """``value`` as indented JSON, written to a temporary name first (a killed stage leaves no half file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, default=str) + "\n")
    tmp.replace(path)


def stage_report(stage: str, records: list[Record], **extra: Any) -> dict[str, Any]:
    """A stage's JSON: its checks and an overall status (failed if any check failed)."""
    statuses = {r.status for r in records}
    status = "failed" if "failed" in statuses else "ok" if "ok" in statuses else "skipped"
    reasons = "; ".join(f"{r.name}: {r.reason}" for r in records if r.status == "skipped")
    return {"stage": stage, "status": status, "reason": reasons if status == "skipped" else "",
            "checks": [r.to_dict() for r in records], **extra}  # fmt: skip
