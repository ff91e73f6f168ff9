"""Pieces the model families share: option checking for presets, He initialisation, the head."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import torch
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
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ClassifierNet(nn.Module):
    """A backbone (``forward_features``: (N, C, h, w)) with the common head: global average
    pool -> dropout -> ``fc``; :meth:`add_head` sets ``num_features`` = C."""

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def add_head(self, width: int, num_classes: int, drop_rate: float) -> None:
        self.num_features = width
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(drop_rate)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.forward_features(x)).flatten(1)  # (N, C)
        return self.fc(self.dropout(x))  # (N, num_classes)
