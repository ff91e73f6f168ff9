"""The public entry points: build registered models (with or without weights) and list them.

``create_model`` composes the layers below it: the table of :mod:`senet.zoo` builds the network,
:mod:`senet.weights` reads, converts and loads the weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from senet.models.resnet import ResNet, ResNetConfig
from senet.weights.convert import FileLayout, build_converted, load_state_dict_into, read_weights_file
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


def load_weights(name: str, path: str | Path, *, layout: FileLayout = "auto", **overrides: Any) -> nn.Module:
    """``create_model(name, weights=path)``: a senet checkpoint (its config wins over the
    registered one, e.g. for stride placement), a Caffe, Cadene or (by its SE widths) timm file,
    or a plain state dict in senet names loaded into the registered model ``name``; in eval mode.

    A bottleneck state dict in torchvision names without senet metadata, for a model with the
    stride on the first 1x1, is refused (timm / torchvision put it on the 3x3); ``layout``
    (``create_model(..., layout="senet")``, or giving ``stride_in_1x1``) states the layout
    instead (see :func:`senet.weights.convert.read_weights_file`)."""
    entry = MODELS.get(name)
    if layout == "auto" and "stride_in_1x1" in overrides:
        layout = "senet"  # the caller fixed the stride placement
    target = entry.config.replace(**overrides) if isinstance(entry.config, ResNetConfig) else None
    state_dict, converted = read_weights_file(path, layout=layout, target=target)
    if converted is None:
        return load_state_dict_into(entry.build(**overrides), state_dict)
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
