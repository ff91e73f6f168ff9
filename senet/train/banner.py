"""What a run says the moment it starts: the banner (run folder, model, parameters, GFLOPs, images
per split, steps per epoch, the plan), the line each epoch ends with, and a warning when the network's stem would shrink the data's
images to almost nothing (an ImageNet network on 16x16 digits).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Protocol, TextIO

import torch
from torch import nn

from senet.api import create_model
from senet.complexity import Complexity
from senet.data import DataInfo, Loader
from senet.registry import MODELS
from senet.spec import ModelSpec
from senet.train import distributed as dist
from senet.train.config import TrainConfig
from senet.train.loop import steps_per_epoch
from senet.train.progress import format_seconds


class Run(Protocol):
    """What the banner reads of a :class:`senet.train.engine.Run` (which imports this module)."""

    config: TrainConfig
    env: dist.DistEnv
    run_dir: Path
    train_loader: Loader
    info: DataInfo
    counts: Complexity
    start_epoch: int
    show: bool


MIN_FEATURE_SIZE = 2
"""Smallest side (pixels) of the last feature map, before global pooling, that is not warned about."""


def banner(run: Run) -> str:
    """The start banner of ``run``: several lines, printed before the first epoch."""
    config, info, env = run.config, run.info, run.env
    steps = steps_per_epoch(run.train_loader, config.limit_train_batches)
    epochs = config.epochs - run.start_epoch
    start = (
        f"epochs {run.start_epoch + 1}-{config.epochs}" if run.start_epoch else _count(config.epochs, "epoch")
    )
    batch = f"batch {config.batch_size}" + (f" ({env.world_size} processes)" if env.world_size > 1 else "")
    checks = (
        f", validated every {config.eval_every} epochs from the first and after the last"
        if config.eval_every > 1
        else ", validated after the last epoch only"
        if config.eval_every == 0
        else ""
    )
    return "\n".join(
        [
            f"run folder: {run.run_dir}",
            f"model: {config.model.name} ({run.counts.params / 1e6:.3f} M parameters, "
            f"{run.counts.macs / 1e9:.4g} GFLOPs at {info.input_size}x{info.input_size})",
            f"data: {info.dataset or config.data.dataset}, {info.num_classes} classes, "
            f"{info.num_train:,} train / {info.num_val:,} val images",
            f"plan: {start} x {steps:,} steps of {batch} = {epochs * steps:,} steps{checks}; "
            f"recipe {config.recipe}, seed {config.seed}, device {env.device}",
        ]
    )


def total_stride(spec: ModelSpec, in_chans: int = 3) -> int:
    """How many input pixels one pixel of the network's last feature map spans along a side (32 for
    the ImageNet families, 4 for the CIFAR ResNets), measured on the meta device (no memory): the
    ratio of the registered input size to the smallest map any convolution or pooling makes from a
    spatial map."""
    probe = MODELS.get(spec.name).input_size
    sides: list[int] = []

    def hook(_module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        if (
            output.dim() == 4 and inputs[0].shape[-1] > 1
        ):  # not an SE block's 1x1 conv on the squeezed (N, C, 1, 1)
            sides.append(output.shape[-1])

    kinds = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
    with torch.device("meta"):
        model = create_model(spec.name, **(spec.builder_kwargs() | {"in_chans": in_chans}))
        handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, kinds)]
        try:
            model.eval()(torch.empty(1, in_chans, probe, probe))
        finally:
            for handle in handles:
                handle.remove()
    return max(1, round(probe / max(min(sides, default=probe), 1)))


def input_size_warning(spec: ModelSpec, input_size: int, in_chans: int = 3) -> str | None:
    """A warning when ``input_size`` images would leave the network's last feature map smaller than
    :data:`MIN_FEATURE_SIZE` pixels, naming the input size to use; None when the size is sensible."""
    stride = total_stride(spec, in_chans)
    if input_size / stride >= MIN_FEATURE_SIZE:
        return None
    own = MODELS.get(spec.name).input_size
    return (
        f"warning: {spec.name} shrinks its input {stride}x (stem and stages), so {input_size}x{input_size} "
        f"images leave a {input_size / stride:.2g} px feature map: train it at its own size "
        f"(--input-size {own}; at least {MIN_FEATURE_SIZE * stride}), or pick a network for small images "
        "(e.g. se_resnet20_cifar)"
    )


def announce(run: Run, stream: TextIO | None = None) -> None:
    """Print the warning about the input size (main process) and, unless quiet, the banner."""
    if not run.env.is_main:
        return
    stream = stream or sys.stderr
    warning = input_size_warning(run.config.model, run.info.input_size, run.info.in_chans)
    if warning:
        print(warning, file=stream)
    if run.show:
        print(banner(run), file=stream, flush=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def epoch_line(m: dict[str, Any], epochs: int) -> str:
    """The epoch's line on stderr; ``not validated`` in place of the validation numbers (eval_every)."""
    val = (
        f"val loss {m['val_loss']:.4f} top-1 {m['top1']:.2f}% top-5 {m['top5']:.2f}%"
        if "top1" in m
        else "not validated"
    )
    return (
        f"epoch {m['epoch']}/{epochs}  train loss {m['train_loss']:.4f} top-1 {m['train_top1']:.2f}%  "
        f"{val}  {m['train_images_per_second']:,.0f} img/s  {format_seconds(m['epoch_seconds'])}"
    )
