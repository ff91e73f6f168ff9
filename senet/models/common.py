"""Pieces every model family shares: option checking for config presets and He initialisation."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from torch import nn

C = TypeVar("C")


def replace_config(config: C, overrides: dict[str, Any], family: str) -> C:
    """A copy of the frozen dataclass ``config`` with ``overrides``.

    An unknown option is a ``TypeError`` naming it and listing the valid ones for ``family``.
    """
    fields = {f.name for f in dataclasses.fields(config)}  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f"unknown option(s) {unknown} for {family}; valid: {sorted(fields)}")
    return dataclasses.replace(config, **overrides)  # type: ignore[type-var]


def init_weights(model: nn.Module) -> None:
    """MSRA / He et al. 2015 initialisation of convolutions; BN to identity; classifier N(0, 0.01)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
