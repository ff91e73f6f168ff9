"""Command-line options shared by ``senet train`` and ``senet eval``: explicit flags map onto
:class:`TrainConfig` fields and become ``key=value`` overrides, checked like ``--set``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from senet.train.config import RECIPES, TrainConfig, recipe

# (flag, config field, type, help); each given flag becomes the override FIELD=VALUE.
DATA_FLAGS: list[tuple[str, str, type, str]] = [
    (
        "--data",
        "data.dataset",
        str,
        "dataset: digits, mnist, fashion-mnist, cifar10, cifar100, folder, filelist",
    ),
    ("--data-root", "data.root", str, "the dataset's folder"),
    ("--input-size", "data.input_size", int, "network input side (default: the dataset's)"),
    ("--workers", "data.workers", int, "DataLoader worker processes for folder data"),
]
TRAIN_FLAGS: list[tuple[str, str, type, str]] = [
    ("--epochs", "epochs", int, "training epochs"),
    ("--batch-size", "batch_size", int, "global minibatch (split over DDP processes)"),
    ("--lr", "lr", float, "base learning rate (scaled if the recipe sets lr_reference_batch)"),
    ("--weight-decay", "weight_decay", float, "weight decay"),
    ("--label-smoothing", "label_smoothing", float, "label smoothing epsilon"),
    ("--amp", "amp", str, "autocast: none, bf16 (CPU/GPU) or fp16 (GPU)"),
    ("--device", "device", str, "auto, cpu, cuda, cuda:1 ..."),
    ("--seed", "seed", int, "random seed"),
    ("--out", "out_dir", str, "run folder (default runs/<model>-<dataset>-<time>)"),
    ("--threads", "threads", int, "torch CPU threads, 0 = one per core (the fast recipe uses 1)"),
]
SWITCHES: list[tuple[str, str, str]] = [
    ("--channels-last", "channels_last", "channels_last memory format"),
    ("--compile", "compile", "torch.compile the model"),
    ("--deterministic", "deterministic", "deterministic algorithms and per-epoch seeding"),
    ("--sync-bn", "sync_bn", "SyncBatchNorm under DDP"),
    ("--tensorboard", "tensorboard", "write TensorBoard logs (needs the tensorboard package)"),
]


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def add_data_args(p: argparse.ArgumentParser) -> None:
    for flag, field, kind, text in DATA_FLAGS:
        p.add_argument(flag, type=kind, default=None, help=f"{text} [{field}]")


def add_set_arg(p: argparse.ArgumentParser, text: str) -> None:
    """The repeatable ``--set KEY=VALUE`` option, collected in ``args.overrides``."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=text)


def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--recipe", default=None, choices=sorted(RECIPES), help="start from a named recipe (default fast)"
    )
    p.add_argument("--model", default=None, help="registered model name (default: the recipe's)")
    add_data_args(p)
    for flag, field, kind, text in TRAIN_FLAGS:
        p.add_argument(flag, type=kind, default=None, help=f"{text} [{field}]")
    for flag, field, text in SWITCHES:
        p.add_argument(flag, action="store_true", default=None, help=f"{text} [{field}=true]")
    add_set_arg(
        p,
        "override any TrainConfig field, e.g. --set lr=0.05 --set data.cutout=8 "
        "--set model_overrides.se.reduction=8 (repeatable; applied after the flags)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")


def assignments(args: argparse.Namespace, flags: list[tuple[str, str, Any, str]]) -> list[str]:
    out = []
    for flag, field, *_ in flags:
        value = getattr(args, _dest(flag), None)
        if value is not None:
            out.append(f"{field}={value}")
    return out


def config_from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """The recipe (or ``base``), then the explicit flags, then every ``--set``, type-checked."""
    config = base or recipe(args.recipe or "fast")
    sets = assignments(args, DATA_FLAGS) + assignments(args, TRAIN_FLAGS)
    sets += [f"{field}=true" for flag, field, _ in SWITCHES if getattr(args, _dest(flag), None)]
    if getattr(args, "model", None):
        sets.insert(0, f"model={args.model}")
    return config.with_overrides(sets + list(args.overrides))


def apply_threads(args: argparse.Namespace) -> None:
    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)


def add_checkpoint_eval_args(p: argparse.ArgumentParser, *, batch_size: int = 256) -> None:
    """--checkpoint, the data flags, --set (DataConfig fields), --batch-size, --device, --threads."""
    p.add_argument("--checkpoint", required=True, help="run folder, checkpoint folder or model.safetensors")
    add_data_args(p)
    add_set_arg(p, "override a DataConfig field, e.g. --set ten_crop=true")
    p.add_argument("--batch-size", type=int, default=batch_size, help="evaluation batch size")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda ...")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")


def load_checkpoint_and_data(args: argparse.Namespace, *, extra: Sequence[str] = ()) -> CheckpointData:
    """The checkpoint's eval-mode model and config, and the evaluation loader of its data as
    changed by the data flags, ``--set`` and ``extra`` (``DataConfig`` assignments)."""
    from senet.data import build_loaders
    from senet.train.distributed import pick_device
    from senet.train.models import load_trained
    from senet.train.overrides import ConfigError

    apply_threads(args)
    device = pick_device(args.device)
    model, config, info = load_trained(args.checkpoint, device=device)
    sets = [
        s.removeprefix("data.") for s in assignments(args, DATA_FLAGS) + list(args.overrides) + list(extra)
    ]
    data = config.with_overrides([f"data.{s}" for s in sets]).data
    _, loader, data_info = build_loaders(data, batch_size=args.batch_size, device=device, seed=config.seed)
    if data_info.num_classes != info.num_classes or data_info.in_chans != info.in_chans:
        raise ConfigError(
            f"{data.dataset} has {data_info.num_classes} classes / {data_info.in_chans} channels but the "
            f"checkpoint was trained for {info.num_classes} / {info.in_chans}"
        )
    return CheckpointData(model, config, info, data, loader, device)


@dataclass
class CheckpointData:
    """What :func:`load_checkpoint_and_data` returns."""

    model: torch.nn.Module
    config: TrainConfig
    info: Any  # senet.data.DataInfo
    data: Any  # senet.data.DataConfig
    loader: Any  # the evaluation loader
    device: torch.device
