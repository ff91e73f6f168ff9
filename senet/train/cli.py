"""Command-line options of ``senet train`` / ``senet ablate`` (from :class:`TrainConfig`) and of the
commands that read a checkpoint (``eval``, ``analyze``: from :class:`CheckpointOptions`).

Every flag is generated from a dataclass field by :mod:`senet.options`; the few short names kept
from earlier versions (``--model``, ``--data``, ``--data-root``, ``--input-size``, ``--workers``,
``--out``) are aliases of the generated ones.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

import torch

from senet.config import ConfigError, apply, fields, merge, read_file, split_assignment
from senet.data import DataConfig, DataInfo, build_loaders
from senet.options import add_file_options, add_options, given, resolve
from senet.runtime import pick_device
from senet.train.config import RECIPES, TrainConfig, recipe
from senet.train.models import load_trained

#: Short flags of earlier versions, kept as aliases of the generated ones.
ALIASES: dict[str, list[str]] = {
    "model.name": ["--model"],
    "data.dataset": ["--data"],
    "data.root": ["--data-root"],
    "data.input_size": ["--input-size"],
    "data.workers": ["--workers"],
    "out_dir": ["--out"],
}


def add_train_args(p: argparse.ArgumentParser) -> None:
    """``--recipe``, one flag per TrainConfig key, ``--config``, ``--print-config``, ``--set``, ``--quiet``."""
    p.add_argument(
        "--recipe",
        default=None,
        metavar="{" + ",".join(sorted(RECIPES)) + "}",  # checked by recipe(), which names renamed ones
        help="start from a named recipe (default fast); its name is recorded as the key 'recipe'",
    )
    add_file_options(p, "training configuration")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    add_options(p, TrainConfig, aliases=ALIASES, exclude=("recipe",), title="training options (TrainConfig)")


def _read_train_file(path: str) -> dict[str, Any]:
    """A configuration file; one written before ModelSpec (``model`` + ``model_overrides``) is translated."""
    values = read_file(path)
    if isinstance(values.get("model"), str) or "model_overrides" in values:
        values = TrainConfig.from_dict(values).to_dict()
    return values


def config_from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """The recipe (or ``base``), then ``--config FILE``, then the flags, then every ``--set``."""
    config = base or recipe(args.recipe or "fast")
    if getattr(args, "config", None):
        config = merge(config, _read_train_file(args.config))
    return resolve(argparse.Namespace(**{**vars(args), "config": None}), config)


def model_given(args: argparse.Namespace) -> str | None:
    """The model name given on the command line (``--model`` / ``--model.name``), if any."""
    return dict(given(args)).get("model.name")


@dataclass(frozen=True)
class CheckpointOptions:
    """What ``senet eval`` and ``senet analyze`` read: a checkpoint and the data to score it on."""

    checkpoint: str = ""
    """A run folder, a checkpoint folder or a model.safetensors written by `senet train`."""
    data: DataConfig = field(default_factory=DataConfig)
    """The data; unset options keep the checkpoint's own (its validation split)."""
    batch_size: int = 256
    """Evaluation batch size."""
    device: str = "auto"
    """auto (CUDA when available), cpu, cuda ..."""
    threads: int = 0
    """torch CPU threads (0: torch's default)."""


def add_checkpoint_eval_args(p: argparse.ArgumentParser, *, batch_size: int = 256) -> None:
    """One flag per :class:`CheckpointOptions` key, and ``--set KEY=VALUE`` (data keys may omit ``data.``)."""
    add_options(p, CheckpointOptions, aliases=ALIASES, title="checkpoint and data options")
    p.set_defaults(default_batch_size=batch_size)  # the command's default unless --batch-size is given
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set any option by its dotted key, e.g. --set data.ten_crop=true (data keys may omit 'data.')",
    )


def checkpoint_options(
    args: argparse.Namespace, *, extra: dict[str, Any] | None = None
) -> tuple[CheckpointOptions, dict[str, Any]]:
    """The options given for a checkpoint command (the dotted assignments, to be laid over the
    checkpoint's own data options once it is loaded)."""
    pairs = dict(given(args))
    data_keys = set(fields(DataConfig))
    for key, value in map(split_assignment, args.overrides):
        pairs[f"data.{key}" if key in data_keys else key] = value
    pairs |= {f"data.{k}": v for k, v in (extra or {}).items()}
    path = pairs.pop("checkpoint", None)
    if not path:
        raise ConfigError("--checkpoint: give a run folder, checkpoint folder or model.safetensors")
    return CheckpointOptions(checkpoint=path, batch_size=args.default_batch_size), pairs


def given_checkpoint(args: argparse.Namespace) -> str:
    """The ``--checkpoint`` path given on the command line."""
    return str(dict(given(args)).get("checkpoint", ""))


@dataclass
class CheckpointData:
    """What :func:`load_checkpoint_and_data` returns."""

    model: torch.nn.Module
    config: TrainConfig
    info: DataInfo
    data: DataConfig
    loader: Any  # the evaluation loader
    device: torch.device


def load_checkpoint_and_data(
    args: argparse.Namespace, *, extra: dict[str, Any] | None = None
) -> CheckpointData:
    """The checkpoint's eval-mode model and config, and the evaluation loader of its data as
    changed by the data options, ``--set`` and ``extra`` (``DataConfig`` values)."""
    options, pairs = checkpoint_options(args, extra=extra)
    device = pick_device(str(pairs.get("device", "auto")))
    model, config, info = load_trained(options.checkpoint, device=device)
    options = apply(merge(options, {"data": config.data}), pairs)
    if options.threads:
        torch.set_num_threads(options.threads)
    data = options.data
    _, loader, data_info = build_loaders(data, batch_size=options.batch_size, device=device, seed=config.seed)
    if data_info.num_classes != info.num_classes or data_info.in_chans != info.in_chans:
        raise ConfigError(
            f"{data.dataset} has {data_info.num_classes} classes / {data_info.in_chans} channels but the "
            f"checkpoint was trained for {info.num_classes} / {info.in_chans}"
        )
    return CheckpointData(model, config, info, data, loader, device)
