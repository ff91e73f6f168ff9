"""``senet`` checkpoints: a safetensors file whose metadata carries the model's configuration.

Metadata keys (all strings, as safetensors requires): ``senet.model`` (registered name or
empty), ``senet.config`` (the :class:`ResNetConfig` as JSON; a :class:`BNInceptionConfig` with a
``"family": "BNInception"`` entry), ``senet.preprocessing`` (JSON,
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

from senet.config import from_dict, to_dict
from senet.io import write_atomic
from senet.layers.se import SEConfig
from senet.models.inception import BNInceptionConfig
from senet.models.resnet import ResNetConfig, Stage

INCEPTION = "BNInception"
"""The ``family`` entry of a BN-Inception config (a ResNet config has none, as in earlier files)."""


def config_to_json(config: ResNetConfig | BNInceptionConfig) -> str:
    """``config`` as JSON (stages, module rows and SE options nested)."""
    if isinstance(config, BNInceptionConfig):
        return json.dumps({"family": INCEPTION} | to_dict(config), sort_keys=True)
    return json.dumps(dataclasses.asdict(config), sort_keys=True)


def _relu_before_se_default(raw: Mapping[str, Any], source: str) -> bool:
    """``relu_before_se`` for a file written before that field existed: True for a basic-block
    network converted from the Cadene / timm-legacy layout, whose blocks have that ReLU
    (layouts.md) although the converter of that version left it out; False for all others."""
    return source == "cadene" and raw.get("block") == "basic"


def config_from_json(text: str, *, source: str = "") -> ResNetConfig | BNInceptionConfig:
    """The inverse of :func:`config_to_json`; a bad field is an error naming it. ``source`` (the
    file's ``senet.source``) fills fields that files of earlier versions lack."""
    raw: dict[str, Any] = json.loads(text)
    if raw.get("family") == INCEPTION:
        return from_dict(BNInceptionConfig, {k: v for k, v in raw.items() if k != "family"})
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
    config: ResNetConfig | BNInceptionConfig,
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
