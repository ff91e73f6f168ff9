"""What the commands that read weights share (``eval``, ``analyze``, ``predict``): any source of
weights, the data to score them on, and the options for both.

A source is a training run or checkpoint (its TrainConfig and DataInfo say what data it was
trained on: without data options the run's own validation split is used; other data is matched
to its classes by name, and only the validation split needs to exist), or any weights that
:func:`senet.api.load_weights` reads: a model folder, a file written by ``senet convert``, a
foreign checkpoint whose layout is recognised. Those need ``--data`` and ``--data-root``, and
are scored with their own preprocessing (resize, crop, interpolation, normalisation, channel
order, value range) and their label names mapped onto the folder's classes.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from senet.api import load_weights
from senet.config import ConfigError, apply, fields, from_dict, merge, nest, split_assignment
from senet.data import DataConfig, DataInfo, build_eval_loader
from senet.options import add_options, given
from senet.runtime import pick_device
from senet.train import rundir
from senet.train.cli import DATA_ALIASES
from senet.train.models import load_trained
from senet.train.progress import Tracked
from senet.weights.card import ModelCard
from senet.weights.preprocessing import Preprocessing
from senet.weights.safe_load import is_training_checkpoint

ALIASES: dict[str, list[str]] = {"weights": ["--checkpoint"], **DATA_ALIASES}


@dataclass(frozen=True)
class WeightsOptions:
    """Weights to score and the data to score them on."""

    weights: str = ""
    """A training run or checkpoint, a model folder, a file written by `senet convert`, or a
    foreign checkpoint whose layout senet recognises (timm, Cadene)."""
    model: str | None = None
    """The registered model the weights are for: needed for a plain state dict, checked otherwise."""
    data: DataConfig = field(default_factory=DataConfig)
    """The data; for a training run, unset options keep the run's own (its validation split)."""
    batch_size: int = 256
    """Evaluation batch size."""
    device: str = "auto"
    """auto (CUDA when available), cpu, cuda ..."""
    threads: int = 0
    """torch CPU threads (0: torch's default)."""


def add_weights_args(p: argparse.ArgumentParser, *, batch_size: int = 256) -> None:
    """One flag per :class:`WeightsOptions` key, and ``--set KEY=VALUE`` (data keys may omit ``data.``)."""
    add_options(p, WeightsOptions, aliases=ALIASES, title="weights and data options")
    p.set_defaults(default_batch_size=batch_size)  # the command's default unless --batch-size is given
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set any option by its dotted key, e.g. --set data.ten_crop=true (data keys may omit 'data.')",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar (or progress lines off a terminal)")


def given_weights(args: argparse.Namespace) -> str:
    """The ``--weights`` (``--checkpoint``) source given on the command line."""
    return str(dict(given(args)).get("weights", ""))


def _from_training(path: Path) -> bool:
    """Whether ``path`` (a checkpoint folder or its weights file) was written by ``senet train``."""
    return is_training_checkpoint(path / rundir.WEIGHTS if path.is_dir() else path)


@dataclass
class WeightsData:
    """What :func:`load_weights_and_data` returns."""

    model: nn.Module
    name: str
    info: DataInfo
    data: DataConfig
    loader: Any  # the evaluation loader (labels in the model's class indices), showing its progress
    device: torch.device
    card: ModelCard | None = None  # the weights' card, when they are not a training checkpoint


def _pairs(args: argparse.Namespace, extra: dict[str, Any] | None) -> dict[str, Any]:
    pairs = dict(given(args))
    data_keys = set(fields(DataConfig))
    for key, value in map(split_assignment, args.overrides):
        pairs[f"data.{key}" if key in data_keys else key] = value
    return pairs | {f"data.{k}": v for k, v in (extra or {}).items()}


def load_weights_and_data(args: argparse.Namespace, *, extra: dict[str, Any] | None = None) -> WeightsData:
    """The eval-mode model of the ``--weights`` source and the evaluation loader of the data as
    the options, ``--set`` and ``extra`` (``DataConfig`` values) say."""
    pairs = _pairs(args, extra)
    source = pairs.pop("weights", None)
    if not source:
        raise ConfigError("--weights: give a training run or checkpoint, a model folder or a converted file")
    options = WeightsOptions(weights=source, batch_size=args.default_batch_size)
    device = pick_device(str(pairs.get("device", "auto")))
    path = rundir.weights_source(source)
    if _from_training(path):
        model, config, info = load_trained(str(path), device=device)
        options = apply(merge(options, {"data": config.data}), pairs)
        name, card, seed = config.model.name, None, config.seed
    else:
        options = apply(options, pairs)
        model = load_weights(options.model, path).to(device)
        card, name, seed = model.card, model.card.name or options.model or "", 0
        options = merge(options, {"data": _data_for(card.preprocessing, options.data, pairs)})
        info = None
    if options.threads:
        torch.set_num_threads(options.threads)
    loader, data_info = build_eval_loader(
        options.data, batch_size=options.batch_size, device=device, seed=seed
    )
    loader = _fit_labels(loader, data_info, info, card, options.data)
    loader = Tracked(loader, f"{name} on {options.data.dataset}", enabled=not getattr(args, "quiet", False))
    return WeightsData(model, name, info or data_info, options.data, loader, device, card)


def _data_for(prep: Preprocessing, data: DataConfig, pairs: dict[str, Any]) -> DataConfig:
    """The data options with the weights' preprocessing where the command line did not set them."""
    if "data.dataset" not in pairs:
        raise ConfigError(
            "weights that are not a training run need --data (folder or filelist) and --data-root"
        )
    own = {
        "input_size": prep.input_size,
        "eval_resize": prep.resize,
        "mean": prep.mean,
        "std": prep.std,
        "interpolation": prep.interpolation,
        "channel_order": prep.channel_order,
        "value_scale": prep.value_scale,
    }
    chosen = {k: v for k, v in own.items() if f"data.{k}" not in pairs}
    given_data = nest({k[5:]: v for k, v in pairs.items() if k.startswith("data.")})
    if from_dict(DataConfig, given_data).is_tensor:  # MNIST, CIFAR: their own normalisation, no resize
        chosen = {k: v for k, v in chosen.items() if k == "input_size"}
    return from_dict(DataConfig, {**given_data, **chosen})


def load_for_prediction(
    source: str, model: str | None, device: torch.device
) -> tuple[nn.Module, str, DataInfo]:
    """The eval-mode model of any source, its name, and the DataInfo its eval transform needs
    (a training run's own; else built from the weights' card: preprocessing and label names)."""
    path = rundir.weights_source(source)
    if _from_training(path):
        network, config, info = load_trained(str(path), device=device)
        return network, config.model.name, info
    network = load_weights(model, path).to(device)
    card: ModelCard = network.card
    prep = card.preprocessing
    labels = list(card.labels) if card.labels is not None else [str(i) for i in range(card.num_classes)]
    info = DataInfo(
        num_classes=card.num_classes, in_chans=card.in_chans, classes=labels, input_size=prep.input_size,
        mean=prep.mean, std=prep.std, eval_resize=prep.resize, interpolation=prep.interpolation,
        channel_order=prep.channel_order, value_scale=prep.value_scale,
    )  # fmt: skip
    return network, card.name or model or card.family, info


class MappedLabels:
    """A loader whose labels are mapped to the model's class indices (``index[label]``)."""

    def __init__(self, loader: Any, index: torch.Tensor) -> None:
        self.loader, self.index = loader, index

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for images, labels in self.loader:  # labels: (N,) in the data's order -> the model's
            yield images, self.index.to(labels.device)[labels]

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


def _fit_labels(
    loader: Any, data: DataInfo, trained: DataInfo | None, card: ModelCard | None, config: DataConfig
) -> Any:
    """The loader with its labels in the model's class order, matched by class NAME: the data's
    classes (the same, in any order, or some of them) must all be among the model's; different
    names are refused with both lists. Weights without label names need the same class count."""
    if trained is not None:
        if data.in_chans != trained.in_chans:
            raise ConfigError(
                f"{config.dataset} has {data.in_chans} channels but the checkpoint was trained for "
                f"{trained.in_chans}"
            )
        return _by_name(loader, data.classes, trained.classes, config, "the checkpoint was trained on")
    assert card is not None
    if card.labels is not None:
        return _by_name(loader, data.classes, list(card.labels), config, "the weights' labels are")
    if data.num_classes != card.num_classes:
        raise ConfigError(
            f"the weights have {card.num_classes} classes, the data {data.num_classes} (and the weights "
            "name no labels to match them by)"
        )
    return loader


def _by_name(loader: Any, classes: list[str], known: list[str], config: DataConfig, whose: str) -> Any:
    """``loader`` with labels mapped from ``classes`` (the data's) to positions in ``known`` (the model's)."""
    if list(classes) == list(known):
        return loader
    missing = [c for c in classes if c not in known]
    if missing:
        raise ConfigError(
            f"the classes of {config.root or config.dataset} do not match the model's: {len(missing)} "
            f"unknown to it ({_names(missing)}); the data has {_names(classes)}, {whose} {_names(known)}"
        )
    position = {label: i for i, label in enumerate(known)}
    return MappedLabels(loader, torch.tensor([position[c] for c in classes]))


def _names(names: list[str], limit: int = 10) -> str:
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return "[" + ", ".join(repr(n) for n in names[:limit]) + more + "]"
