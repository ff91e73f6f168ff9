"""The public entry points: build registered models (with or without weights) and list them.

``create_model`` composes the layers below it: the table of :mod:`senet.zoo` builds the network,
:mod:`senet.weights` reads, converts and loads the weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from senet.models.resnet import ResNet
from senet.weights.convert import build_converted, load_state_dict_into, read_weights_file
from senet.weights.features import STAGES, FeatureExtractor
from senet.weights.pretrained import load_pretrained
from senet.zoo import MODELS


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
    entry = MODELS.get(name)  # an unknown name fails here, before any download
    if pretrained:
        return load_pretrained(name, **overrides)
    if weights is not None:
        return load_weights(name, weights, **overrides)
    return entry.build(**overrides)


def load_weights(name: str, path: str | Path, **overrides: Any) -> nn.Module:
    """``create_model(name, weights=path)``: a senet checkpoint (its config wins over the
    registered one, e.g. for stride placement), a Cadene file, or a plain state dict in senet
    names loaded into the registered model ``name``; in eval mode."""
    state_dict, converted = read_weights_file(path)
    if converted is None:
        return load_state_dict_into(MODELS.get(name).build(**overrides), state_dict)
    return build_converted(converted, name, path, **overrides)


def create_feature_extractor(name: str, *, stages: Sequence[str] = STAGES, **kwargs: Any) -> FeatureExtractor:
    """``FeatureExtractor(create_model(name, **kwargs))``; e.g. ``pretrained=True`` for a trunk."""
    model = create_model(name, **kwargs)
    if not isinstance(model, ResNet):
        raise TypeError(f"{name!r} is a {type(model).__name__}, not a ResNet-family network")
    return FeatureExtractor(model, stages=stages)


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching the shell-style ``pattern`` (e.g. ``"se_*"``), sorted."""
    return MODELS.names(pattern)
