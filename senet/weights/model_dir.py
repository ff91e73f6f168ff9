"""Reading and writing weights with their card: model folders, training checkpoints, converted files.

:func:`save_pretrained` writes a model folder (``config.json``, ``model.safetensors``,
``README.md``) atomically. :func:`read_source` reads what senet itself wrote, in every format it
has written: a model folder; a training checkpoint (a checkpoint folder or its
``model.safetensors``, whose metadata holds the TrainConfig and DataInfo); a single-file
safetensors written by ``senet convert`` before model folders existed (``senet.config`` in its
metadata). Anything else is a foreign file: its layout is detected and converted, or refused with
an error naming the layout and the ``senet convert`` command (:func:`read_weights_file`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save as safetensors_bytes
from torch import nn

from senet.config import ConfigError, from_dict
from senet.io import fsync_path, write_atomic
from senet.models.inception import BNInception, BNInceptionConfig
from senet.models.resnet import ResNet, ResNetConfig
from senet.spec import ModelSpec, from_legacy
from senet.weights.card import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, ModelCard, card_of
from senet.weights.convert import Converted, FileLayout, read_weights_file
from senet.weights.imagenet import imagenet_labels
from senet.weights.preprocessing import Preprocessing
from senet.weights.safe_load import is_training_checkpoint, load_state_dict_file
from senet.zoo import MODELS


class PlainStateDictError(ConfigError):
    """A state dict in senet names without a card: it loads only into a named model."""


def save_pretrained(model: nn.Module, folder: str | Path, **card: Any) -> Path:
    """Write ``model`` as a model folder: ``config.json`` (its :class:`ModelCard`, with ``card``
    fields such as ``name``, ``preprocessing``, ``labels``, ``source``, ``license``), the weights
    and a README. The folder appears whole or not at all (written beside it, then renamed)."""
    folder = Path(folder)
    info = card_of(model, **card)
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    write_atomic(tmp / WEIGHTS_FILE, safetensors_bytes(tensors, metadata={"format": "senet-model-1"}))
    write_atomic(tmp / CONFIG_FILE, info.to_json())
    write_atomic(tmp / CARD_FILE, info.readme())
    fsync_path(tmp)
    if folder.exists():
        shutil.rmtree(folder)
    os.rename(tmp, folder)
    fsync_path(folder.parent)
    return folder


def read_source(
    path: str | Path, *, layout: FileLayout = "auto", target: ResNetConfig | None = None
) -> tuple[dict[str, torch.Tensor], ModelCard | None]:
    """The weights at ``path`` and the card of the network they belong to (see the module doc);
    None for a plain state dict in senet names, which fits only a named model. ``layout`` and
    ``target`` (the named model's configuration) go to :func:`read_weights_file`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        if is_model_folder(path):
            return _read_model_folder(path)
        if (path / WEIGHTS_FILE).is_file():
            path = path / WEIGHTS_FILE  # a training checkpoint folder
        elif (path / "checkpoints").is_dir():
            raise ConfigError(
                f"{path} is a training run folder: give one of its checkpoints "
                f"({path}/checkpoints/epoch-NNNN) here, or the run folder to a senet command"
            )
        else:
            raise ConfigError(
                f"{path}: neither a model folder ({CONFIG_FILE} + {WEIGHTS_FILE}) nor a checkpoint"
            )
    if is_training_checkpoint(path):  # header only: other files are read once, below
        state_dict, metadata = load_state_dict_file(path)
        return state_dict, _training_card(metadata, str(path))
    state_dict, converted = read_weights_file(path, layout=layout, target=target)
    if converted is None:
        return state_dict, None
    return converted.state_dict, converted_card(converted)


def is_model_folder(path: str | Path) -> bool:
    """Whether ``path`` is a model folder (``config.json`` and the weights beside it)."""
    return (Path(path) / CONFIG_FILE).is_file() and (Path(path) / WEIGHTS_FILE).is_file()


def read_card(folder: str | Path) -> ModelCard:
    """The :class:`ModelCard` of a model folder (its ``config.json``), without reading the weights."""
    where = str(Path(folder) / CONFIG_FILE)
    try:
        raw = json.loads((Path(folder) / CONFIG_FILE).read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(f"{where}: not valid JSON ({err})") from None
    return ModelCard.from_dict(raw, where)


def _read_model_folder(folder: Path) -> tuple[dict[str, torch.Tensor], ModelCard]:
    card = read_card(folder)
    state_dict, _ = load_state_dict_file(folder / WEIGHTS_FILE)
    return state_dict, card


def _training_card(metadata: dict[str, str], where: str) -> ModelCard:
    """The card of a training checkpoint: the network card it carries (widths included: a pruned
    network's), else (older checkpoints) the model folder it was fine-tuned from where that folder
    is still there, else its ModelSpec (an older ``model`` + ``model_overrides`` translated) built
    for its data's classes and channels; the data's normalisation."""
    config, info = json.loads(metadata["config"]), json.loads(metadata["data_info"])
    raw = config.get("model")
    if isinstance(raw, str):  # written before ModelSpec: model + model_overrides
        spec = from_legacy(raw, config.get("model_overrides") or {})
    else:
        spec = from_dict(ModelSpec, raw or {}, prefix="model.")
    source = config.get("weights")
    with torch.device("meta"):
        if "network" in metadata:  # the network's own card, widths included (a pruned network)
            network = ModelCard.from_dict(json.loads(metadata["network"]), f"{where}: network").build()
        elif source and is_model_folder(source):  # older checkpoints: the folder it was tuned from
            network = read_card(source).build(num_classes=info["num_classes"], in_chans=info["in_chans"])
        else:
            network = MODELS.get(spec.name).build(
                **spec.builder_kwargs(), num_classes=info["num_classes"], in_chans=info["in_chans"]
            )
    size, resize = int(info["input_size"]), int(info.get("eval_resize") or info["input_size"])
    prep = Preprocessing(
        mean=tuple(info["mean"]), std=tuple(info["std"]), input_size=size, crop_fraction=size / resize,
        interpolation=info.get("interpolation", "bilinear"), channel_order=info.get("channel_order", "RGB"),
        value_scale=float(info.get("value_scale", 1.0)),
    )  # fmt: skip
    labels = tuple(str(c) for c in info.get("classes") or ()) or None
    return card_of(
        network, name=spec.name, preprocessing=prep, labels=labels, source=f"senet training run ({where})"
    )


def card_fields(converted: Converted) -> dict[str, Any]:
    """The :func:`save_pretrained` card fields of a converted file: name, preprocessing, source,
    and the ImageNet labels where known."""
    card = converted_card(converted)
    fields = {"name": card.name, "preprocessing": card.preprocessing, "source": card.source}
    return fields | ({"labels": card.labels, "label_names": card.label_names} if card.labels else {})


def converted_card(converted: Converted) -> ModelCard:
    """The card of a converted file (its config fixes the network: stride, stem, SE width); an
    ImageNet-1k classifier gets the class list's WNIDs and names where one is found locally."""
    return ModelCard(
        family=(BNInception if isinstance(converted.config, BNInceptionConfig) else ResNet).__name__,
        config=converted.config,
        name=converted.model_name,
        preprocessing=converted.preprocessing or Preprocessing(),
        source=converted.source,
        **imagenet_labels(converted.config.num_classes),
    )
