"""The public entry points: build registered models (with or without weights) and list them.

``create_model`` composes the layers below it: the table of :mod:`senet.zoo` builds the network,
:mod:`senet.weights` reads, converts and loads the weights.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from senet.models.resnet import ResNet, ResNetConfig
from senet.weights.adapt import load_adapted
from senet.weights.card import ModelCard, card_of
from senet.weights.convert import FileLayout
from senet.weights.features import STAGES, FeatureExtractor
from senet.weights.hub import cache_dir
from senet.weights.imagenet import imagenet_labels
from senet.weights.model_dir import PlainStateDictError, converted_card, read_source, save_pretrained
from senet.weights.pretrained import convert_pretrained, get_entry, pretrained_tags, split_tag
from senet.zoo import MODELS

__all__ = [
    "create_feature_extractor",
    "create_model",
    "expand_models",
    "list_models",
    "load_weights",
    "save_pretrained",
]


def create_model(
    name: str | None = None,
    pretrained: bool | str = False,
    weights: str | Path | None = None,
    **overrides: Any,
) -> nn.Module:
    """Build the registered model ``name``; ``overrides`` go to its builder (e.g. ``num_classes``).

    ``weights=SOURCE`` loads a model folder (:func:`save_pretrained`), a training checkpoint, a
    file written by ``senet convert``, or a foreign checkpoint whose layout is recognised (see
    docs/weights.md); ``name`` may then be omitted (the weights' card names the network).
    ``pretrained=True`` loads the model's default published weights, ``pretrained="timm_ra2"``
    (or a name ``"se_resnet50.timm_ra2"``) a tagged set (``senet models --pretrained`` lists
    them), downloaded into torch.hub's cache and hash-checked. With weights, ``num_classes``
    other than the weights' re-initialises the classifier and ``in_chans`` adapts the first
    convolution (fine-tuning; one line on stderr says so). An unknown name raises
    :class:`senet.registry.UnknownNameError` naming the closest models.
    """
    if pretrained and weights is not None:
        raise ValueError("give either pretrained=... or weights=PATH, not both")
    if name is not None and "." in name:  # a pretrained tag: se_resnet50.timm_ra2
        name, pretrained = split_tag(name)[0], name
    if weights is not None:
        return load_weights(name, weights, **overrides)
    if name is None:
        raise ValueError("create_model: name a registered model (senet.list_models() lists them)")
    entry = MODELS.get(name)  # an unknown name fails here, before any download
    if pretrained:
        return load_published(name, pretrained, **overrides)
    return entry.build(**overrides)


def load_published(name: str, pretrained: bool | str = True, **overrides: Any) -> nn.Module:
    """The registered published weights of ``name`` (see :func:`create_model`), fitted to
    ``overrides`` like any weights, with their card (preprocessing, reported top-1, license)."""
    entry = get_entry(name, pretrained)
    online = not (cache_dir() / entry.filename).is_file()  # the weights are downloaded: so is the class list
    converted = convert_pretrained(name, pretrained)
    card = dataclasses.replace(
        converted_card(converted), reported_top1=entry.top1, license=entry.license or ""
    )
    if card.labels is None and online:  # every published entry is an ImageNet-1k classifier
        card = dataclasses.replace(card, **imagenet_labels(card.num_classes, download=True))
    return _fitted(card, converted.state_dict, overrides)


def load_weights(
    name: str | None, source: str | Path, *, layout: FileLayout = "auto", **overrides: Any
) -> nn.Module:
    """The network of the weights at ``source`` with the weights loaded (fitted to ``overrides``'
    ``num_classes`` / ``in_chans`` where they differ: fine-tuning), in eval mode, carrying its
    ``card`` (preprocessing, labels, source). ``name`` checks the weights are for that model; a
    plain state dict in senet names (no metadata) loads into the registered ``name``.

    A bottleneck state dict in torchvision names without senet metadata, for a model with the
    stride on the first 1x1, is refused (timm / torchvision put it on the 3x3); ``layout``
    (``create_model(..., layout="senet")``, or giving ``stride_in_1x1``) states the layout
    instead (see :func:`senet.weights.convert.read_weights_file`)."""
    entry = MODELS.get(name) if name is not None else None  # an unknown name fails before any read
    if layout == "auto" and "stride_in_1x1" in overrides:
        layout = "senet"  # the caller fixed the stride placement
    target = None
    if entry is not None and isinstance(entry.config, ResNetConfig):
        target = entry.config.replace(**overrides)
    state_dict, card = read_source(source, layout=layout, target=target)
    if card is None:
        if name is None:
            raise PlainStateDictError(
                f"{source}: a state dict without senet metadata; name the model to load it into "
                "(create_model(NAME, weights=...) or --model NAME)"
            )
        card = card_of(_meta_build(name), name=name, source=str(source))
    if name is not None and card.name not in (None, name):
        raise ValueError(f"{source} holds weights for {card.name!r}, not {name!r}")
    return _fitted(card, state_dict, overrides)


def _fitted(card: ModelCard, state_dict: dict[str, torch.Tensor], overrides: dict[str, Any]) -> nn.Module:
    """The card's network built with ``overrides``, the weights loaded and fitted, in eval mode."""
    model = card.build(**overrides)
    load_adapted(model, state_dict)
    same_classes = card.num_classes == getattr(model.config, "num_classes", card.num_classes)
    model.card = dataclasses.replace(
        card,
        config=model.config,
        labels=card.labels if same_classes else None,
        label_names=card.label_names if same_classes else None,
    )
    model.preprocessing = card.preprocessing  # type: ignore[attr-defined]
    return model.eval()


def _meta_build(name: str) -> nn.Module:
    with torch.device("meta"):
        return MODELS.get(name).build()


def create_feature_extractor(name: str, *, stages: Sequence[str] = STAGES, **kwargs: Any) -> FeatureExtractor:
    """``FeatureExtractor(create_model(name, **kwargs))``; e.g. ``pretrained=True`` for a trunk."""
    model = create_model(name, **kwargs)
    if not isinstance(model, ResNet):
        raise TypeError(f"{name!r} is a {type(model).__name__}, not a ResNet-family network")
    return FeatureExtractor(model, stages=stages)


def list_models(pattern: str = "*", *, pretrained: bool = False) -> list[str]:
    """Registered model names matching the shell-style ``pattern`` (e.g. ``"se_*"``), sorted;
    with ``pretrained=True`` the tags of published weights instead (``se_resnet50.cadene`` ...,
    each model's default first), whose tag or model name matches ``pattern``: each is a name
    :func:`create_model` takes."""
    if pretrained:
        return pretrained_tags(pattern)
    return MODELS.names(pattern)


def expand_models(patterns: Sequence[str]) -> list[str]:
    """Model names for names or shell patterns (``se_*``), in order, each once; none: every model.
    A pattern that matches nothing is an error; a plain name is checked when it is used (the
    registry's error suggests close names)."""
    names: list[str] = []
    for pattern in patterns or ("*",):
        matched = list_models(pattern) if any(c in pattern for c in "*?[") else [pattern]
        if not matched:
            raise ValueError(f"no model matches {pattern!r}")
        names.extend(n for n in matched if n not in names)
    return names
