"""The public entry points: build registered models and list them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

import senet.models  # noqa: F401  (registers every model)
from senet.registry import MODELS


def create_model(
    name: str, pretrained: bool = False, weights: str | Path | None = None, **overrides: Any
) -> nn.Module:
    """Build the registered model ``name``; ``overrides`` go to its builder (e.g. ``num_classes``).

    ``pretrained=True`` loads the registered public weights (downloaded into ``$SENET_CACHE``
    and hash-checked); ``weights=PATH`` loads a local file (see docs/weights.md).
    An unknown name raises :class:`senet.registry.UnknownNameError` naming the closest models.
    """
    if pretrained and weights is not None:
        raise ValueError("give either pretrained=True or weights=PATH, not both")
    if pretrained or weights is not None:
        MODELS.get(name)  # an unknown name fails here, before any download
        from senet.weights import pretrained as hub
        from senet.weights.convert import load_weights

        return (
            hub.load_pretrained(name, **overrides) if pretrained else load_weights(name, weights, **overrides)
        )
    return MODELS.get(name)(**overrides)


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching the shell-style ``pattern`` (e.g. ``"se_*"``), sorted."""
    return MODELS.names(pattern)
