"""``senet`` checkpoints: a safetensors file whose metadata carries the model's configuration.

Metadata keys (all strings, as safetensors requires): ``senet.model`` (registered name or
empty), ``senet.config`` (the :class:`ResNetConfig` as JSON), ``senet.preprocessing`` (JSON,
see :class:`senet.weights.pretrained.Preprocessing`) and ``senet.source``. Files are written
atomically: a temporary file in the same folder, fsync, then a rename.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save as safetensors_bytes

from senet.io import write_atomic
from senet.layers.se import SEConfig
from senet.models.resnet import ResNetConfig, Stage


def config_to_json(config: ResNetConfig) -> str:
    """``config`` as JSON (stages and SE options nested)."""
    return json.dumps(dataclasses.asdict(config), sort_keys=True)


def _relu_before_se_default(raw: Mapping[str, Any], source: str) -> bool:
    """``relu_before_se`` for a file written before that field existed: True for a basic-block
    network converted from the Cadene / timm-legacy layout, whose blocks have that ReLU
    (layouts.md) although the converter of that version left it out; False for all others."""
    return source == "cadene" and raw.get("block") == "basic"


def config_from_json(text: str, *, source: str = "") -> ResNetConfig:
    """The inverse of :func:`config_to_json`; a bad field is an error naming it. ``source`` (the
    file's ``senet.source``) fills fields that files of earlier versions lack."""
    raw: dict[str, Any] = json.loads(text)
    raw.setdefault("relu_before_se", _relu_before_se_default(raw, source))
    raw["stages"] = tuple(Stage(**row) for row in raw["stages"])
    raw["se"] = None if raw.get("se") is None else SEConfig(**raw["se"])
    raw["se_stages"] = tuple(raw.get("se_stages", (1, 2, 3, 4)))
    fields = {f.name for f in dataclasses.fields(ResNetConfig)}
    unknown = sorted(set(raw) - fields)
    if unknown:
        raise ValueError(f"senet.config names unknown ResNetConfig field(s) {unknown}")
    return ResNetConfig(**raw)


def save_weights_file(
    path: str | Path,
    state_dict: Mapping[str, torch.Tensor],
    *,
    config: ResNetConfig,
    model_name: str | None = None,
    preprocessing: Mapping[str, Any] | None = None,
    source: str = "",
) -> Path:
    """Write ``state_dict`` and its configuration as one safetensors file, atomically."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in state_dict.items()}
    metadata = {
        "senet.model": model_name or "",
        "senet.config": config_to_json(config),
        "senet.preprocessing": json.dumps(dict(preprocessing or {}), sort_keys=True),
        "senet.source": source,
    }
    return write_atomic(path, safetensors_bytes(tensors, metadata=metadata))
