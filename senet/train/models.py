"""Building the network a :class:`TrainConfig` names, its plain twin, and its complexity.

The :class:`senet.spec.ModelSpec` in ``config.model`` gives the registered name and its options;
``num_classes`` and ``in_chans`` come from the data (:class:`senet.data.DataInfo`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from senet.api import create_model
from senet.complexity import Complexity, complexity, count
from senet.config import ConfigError
from senet.data import DataInfo
from senet.models.common import init_weights
from senet.spec import ModelSpec
from senet.train.checkpoint import load_checkpoint
from senet.train.config import TrainConfig
from senet.train.rundir import weights_source
from senet.weights.adapt import classifier
from senet.weights.card import ModelCard


def builder_kwargs(spec: ModelSpec, info: DataInfo) -> dict[str, Any]:
    """The registered builder's keyword arguments for ``spec`` on data described by ``info``."""
    return spec.builder_kwargs() | {"num_classes": info.num_classes, "in_chans": info.in_chans}


def build_model(config: TrainConfig, info: DataInfo, network: dict[str, Any] | None = None) -> nn.Module:
    """The network of ``config`` for data described by ``info``: He-initialised by its builder, or
    from ``config.weights`` fitted to the data's classes and channels (fine-tuning). ``network``, a
    checkpoint's own card, builds the checkpoint's network instead (its weights are loaded next), so
    a run resumes or loads without the weights it started from."""
    if network is not None:
        return _frozen(config, ModelCard.from_dict(network, "the checkpoint's network").build())
    weights = None if config.weights is None else weights_source(config.weights)
    try:
        model = create_model(config.model.name, weights=weights, **builder_kwargs(config.model, info))
    except TypeError as err:
        raise ConfigError(f"model options for {config.model.name!r}: {err}") from err
    card = getattr(model, "card", None)
    if card is not None and card.labels is not None and list(card.labels) != list(info.classes):
        head = classifier(model)  # the same number of classes, but other ones: a new task
        init_weights(model.get_submodule(head))
        print(f"{head}: classifier re-initialised (the weights' classes are not the data's)", file=sys.stderr)
    return _frozen(config, model)


def init_from_data(model: nn.Module, loader: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> bool:
    """Data-dependent initialisation of a fresh network: one with an ``init_from_data(images)``
    method (:class:`senet.models.fastnet.FastNet`'s whitened stem) is given the first training
    batch (N, C, H, W). Returns whether it had one. The loaders' order and augmentation depend on
    (seed, epoch) only, so reading this batch changes nothing that follows."""
    init = getattr(model, "init_from_data", None)
    if not callable(init):
        return False
    images, _ = next(iter(loader))
    init(images)
    return True


def _frozen(config: TrainConfig, model: nn.Module) -> nn.Module:
    """``model`` in training mode, its backbone frozen where ``config`` asks for it."""
    if config.freeze_backbone:
        head = classifier(model)
        for name, param in model.named_parameters():
            param.requires_grad_(name.startswith(head + "."))
    return model.train()


def model_complexity(config: TrainConfig, info: DataInfo, model: nn.Module | None = None) -> Complexity:
    """Parameters and multiply-adds of one forward pass at the data's input size: of the registered
    network (meta device), or of ``model`` when the run starts from weights, whose widths may not
    be the registered ones (a pruned model folder)."""
    if config.weights is not None and model is not None:
        return count(model, info.input_size, config.model.name)
    return complexity(config.model.name, info.input_size, **builder_kwargs(config.model, info))


def plain_twin(name: str) -> str:
    """The registered plain baseline of the SE network ``name`` (``se_X`` -> ``X``, ``senet154`` ->
    ``senet154_plain``), from its registry entry."""
    spec = ModelSpec(name)
    if spec.is_plain:
        raise ConfigError(f"no plain twin of {name!r}: it is a plain network itself; name an SE network")
    return spec.twin().name


def load_trained(path: str, *, device: str | torch.device = "cpu") -> tuple[nn.Module, TrainConfig, DataInfo]:
    """The eval-mode model of a checkpoint (run folder, checkpoint folder or ``.safetensors``),
    with the TrainConfig and DataInfo saved in it (an older ``config.json`` is translated)."""
    found = load_checkpoint(path)
    config = TrainConfig.from_dict(found.config)
    info = DataInfo.from_dict(found.data_info)
    model = build_model(config, info, found.network)
    model.load_state_dict(found.weights)
    return model.to(device).eval(), config, info
