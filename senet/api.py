"""The public entry points: build registered models and list them."""

from __future__ import annotations

from typing import Any

from torch import nn

import senet.models  # noqa: F401  (registers every model)
from senet.registry import MODELS


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build the registered model ``name``; ``overrides`` go to its builder (e.g. ``num_classes``).

    An unknown name raises :class:`senet.registry.UnknownNameError` naming the closest models.
    """
    return MODELS.get(name)(**overrides)


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching the shell-style ``pattern`` (e.g. ``"se_*"``), sorted."""
    return MODELS.names(pattern)
