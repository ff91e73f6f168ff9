"""Building the model a :class:`TrainConfig` names, its plain twin, and its complexity.

``model_overrides`` go to the registered builder; ``num_classes`` and ``in_chans`` come from the
data (:class:`senet.data.DataInfo`). An ``"se"`` entry given as a dict edits the fields of the
model's own :class:`SEConfig` (e.g. ``{"se": {"bias": false}}`` for the ablation recipe, Sec. 6)
and leaves a plain twin (``se=None``) plain, so one recipe serves both networks of a comparison.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from senet.api import create_model, list_models
from senet.complexity import Complexity, complexity
from senet.data import DataInfo
from senet.layers.se import SEConfig
from senet.train.config import TrainConfig
from senet.train.overrides import ConfigError, from_dict


def _base_se(name: str) -> SEConfig | None:
    """The SEConfig the builder ``name`` uses by default (built on the meta device: no memory)."""
    with torch.device("meta"):
        probe = create_model(name)
    return getattr(getattr(probe, "config", None), "se", None)


def resolve_overrides(name: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Builder keyword arguments: a dict ``se`` becomes the model's SEConfig with those fields."""
    out = dict(overrides)
    se = out.get("se")
    if isinstance(se, dict):
        base = _base_se(name)
        if base is None:
            out.pop("se")  # a plain model stays plain
        else:
            out["se"] = from_dict(SEConfig, dataclasses.asdict(base) | se, prefix="model_overrides.se.")
    return out


def builder_kwargs(config: TrainConfig, info: DataInfo) -> dict[str, Any]:
    for key in ("num_classes", "in_chans"):
        if key in config.model_overrides:
            raise ConfigError(f"model_overrides.{key}: set by the data ({info.dataset}); remove it")
    return resolve_overrides(config.model, config.model_overrides) | {
        "num_classes": info.num_classes,
        "in_chans": info.in_chans,
    }


def build_model(config: TrainConfig, info: DataInfo) -> nn.Module:
    """The network of ``config`` for data described by ``info`` (He-initialised by its builder)."""
    try:
        return create_model(config.model, **builder_kwargs(config, info))
    except TypeError as err:
        raise ConfigError(f"model_overrides for {config.model!r}: {err}") from err


def model_complexity(config: TrainConfig, info: DataInfo) -> Complexity:
    """Parameters and multiply-adds of one forward pass at the data's input size (meta device)."""
    return complexity(config.model, info.input_size, **builder_kwargs(config, info))


def plain_twin(name: str) -> str:
    """The registered baseline of an SE network: ``se_X`` -> ``X``, ``X`` -> ``X_plain``."""
    registered = set(list_models())
    for candidate in (name.removeprefix("se_") if name.startswith("se_") else None, f"{name}_plain"):
        if candidate and candidate in registered:
            return candidate
    raise ConfigError(f"no plain twin of {name!r} is registered (tried se_X -> X and X -> X_plain); name one")


def load_trained(path: str, *, device: str | torch.device = "cpu") -> tuple[nn.Module, TrainConfig, DataInfo]:
    """The eval-mode model of a checkpoint (run folder, checkpoint folder or ``.safetensors``),
    with the TrainConfig and DataInfo saved in it."""
    from senet.train.checkpoint import load_checkpoint

    found = load_checkpoint(path)
    config = TrainConfig.from_dict(found.config)
    info = DataInfo.from_dict(found.data_info)
    model = build_model(config, info)
    model.load_state_dict(found.weights)
    return model.to(device).eval(), config, info
