"""Optimizer and learning-rate schedule of a :class:`~senet.train.config.TrainConfig`.

The rate is set every iteration by a ``LambdaLR`` whose factor is a pure function of the
iteration count, so the scheduler's state is just that count: a resumed run builds its scheduler
anew at the saved count (public ``last_epoch`` argument), with the base rate of its own config. BatchNorm parameters get their own
parameter group: freezing BN for the last epochs (SENet-154, Appendix) sets that group's rate to 0,
which keeps DistributedDataParallel's set of parameters unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from senet.config import ConfigError
from senet.train.config import TrainConfig
from senet.weights.adapt import classifier

_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
_NORMS = (*_BATCH_NORMS, nn.GroupNorm, nn.LayerNorm)


def split_params(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(other parameters, normalisation-layer parameters)."""
    norm_ids = {id(p) for m in model.modules() if isinstance(m, _NORMS) for p in m.parameters(recurse=False)}
    params = [p for p in model.parameters() if p.requires_grad]
    return [p for p in params if id(p) not in norm_ids], [p for p in params if id(p) in norm_ids]


def build_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """SGD (momentum, optional Nesterov) or AdamW over two groups: weights, then BN parameters;
    when fine-tuning with a separate backbone rate, a third group holds the classifier.

    Weight decay applies to every parameter, as in the Caffe solvers of the released models; with
    ``no_decay_norm_bias`` the norm group and the biases (groups "bias", "classifier_bias") get none.
    """
    other, norm = split_params(model)
    groups = [{"params": other, "name": "weights"}, {"params": norm, "name": "norm"}]
    if fine_tuning_groups(config):
        head_ids = {id(p) for p in model.get_submodule(classifier(model)).parameters()}
        groups[0]["params"] = [p for p in other if id(p) not in head_ids]
        groups.append({"params": [p for p in other if id(p) in head_ids], "name": "classifier"})
    if config.no_decay_norm_bias:  # biases (1-D parameters outside norm layers) decay-free too
        groups = _split_biases(groups)
        for group in groups:
            if group["name"] != "weights" and group["name"] != "classifier":
                group["weight_decay"] = 0.0
    lr, wd = config.scaled_lr, config.weight_decay
    if config.norm_lr_scale != 1.0:  # the norm group faster, its decay per step (lr x wd) unchanged
        norm_group = next(g for g in groups if g["name"] == "norm")
        norm_group["lr"] = lr * config.norm_lr_scale
        norm_group["weight_decay"] = norm_group.get("weight_decay", wd) / config.norm_lr_scale
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            groups, lr=lr, momentum=config.momentum, nesterov=config.nesterov, weight_decay=wd
        )
    return torch.optim.AdamW(groups, lr=lr, weight_decay=wd)


def _split_biases(groups: list[dict]) -> list[dict]:
    """The groups with the 1-D parameters (biases) of "weights" and "classifier" moved to groups of
    their own, "bias" and "classifier_bias", appended at the end (the order of the others kept)."""
    extra = []
    for group in groups:
        if group["name"] in ("weights", "classifier"):
            biases = [p for p in group["params"] if p.ndim <= 1]
            group["params"] = [p for p in group["params"] if p.ndim > 1]
            extra.append(
                {"params": biases, "name": "bias" if group["name"] == "weights" else "classifier_bias"}
            )
    return groups + extra


def fine_tuning_groups(config: TrainConfig) -> bool:
    """Whether the classifier gets a parameter group of its own (a backbone rate scale is set)."""
    return config.backbone_lr_scale != 1.0


def lr_factor(config: TrainConfig, iters_per_epoch: int) -> Callable[[int], float]:
    """The multiplier of the base rate at iteration ``it`` (0-based) for the config's schedule."""
    epochs, warmup = config.epochs, config.warmup_epochs

    def factor(it: int) -> float:
        t = it / iters_per_epoch  # epochs done, fractional
        if warmup > 0 and t < warmup:
            if config.warmup_lr is not None:  # a constant warm-up rate
                return config.warmup_lr / config.lr
            start = config.warmup_start_factor
            return start + (1.0 - start) * (it + 1) / (warmup * iters_per_epoch)
        if config.schedule == "step":
            return config.gamma ** math.floor(t / config.step_size)
        if config.schedule == "multistep":
            return config.gamma ** sum(t >= m * epochs for m in config.milestones)
        done = min(1.0, (t - warmup) / max(epochs - warmup, 1e-8))  # fraction of the decay done
        end = config.final_lr_factor
        if config.schedule == "cosine":
            return end + (1.0 - end) * 0.5 * (1.0 + math.cos(math.pi * done))
        if config.schedule == "linear":
            return end + (1.0 - end) * (1.0 - done)
        return 1.0

    return factor


def build_scheduler(
    config: TrainConfig, optimizer: torch.optim.Optimizer, iters_per_epoch: int, *, done: int = 0
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-iteration schedule; the BN group's rate is 0 during the last ``freeze_bn_last_epochs``.

    ``done``: iterations already trained (a resumed run). The schedule then continues at iteration
    ``done`` from the base rates in the groups' ``initial_lr`` (torch's resume convention), and
    sets every group's ``lr`` to ``initial_lr * factor(done)``.
    """
    base = lr_factor(config, iters_per_epoch)
    frozen_from = (config.epochs - config.freeze_bn_last_epochs) * iters_per_epoch

    def norm_factor(it: int) -> float:
        return 0.0 if config.freeze_bn_last_epochs and it >= frozen_from else base(it)

    scale = config.backbone_lr_scale  # the backbone at a fraction of the classifier's rate (1: alike)
    by_name: dict[str, Callable[[int], float]] = {
        "weights": lambda it: scale * base(it),
        "bias": lambda it: scale * base(it),
        "norm": lambda it: scale * norm_factor(it),
        "classifier": base,
        "classifier_bias": base,
    }
    if scale == 1.0:  # the plain functions (no multiplication by 1.0)
        by_name.update(weights=base, bias=base, norm=norm_factor)
    factors = [by_name[group.get("name", "weights")] for group in optimizer.param_groups]
    # LambdaLR's constructor takes one step: last_epoch = done - 1 leaves it at iteration `done`
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factors, last_epoch=done - 1)


def freeze_bn(model: nn.Module) -> int:
    """Put every BatchNorm layer in eval mode (running statistics frozen); returns how many."""
    count = 0
    for m in model.modules():
        if isinstance(m, _BATCH_NORMS):
            m.eval()
            count += 1
    return count


def stem(model: nn.Module, config: TrainConfig) -> nn.Module:
    """``model``'s ``stem`` submodule, which ``config.freeze_stem_after`` freezes; a ConfigError names a
    model without one."""
    found = getattr(model, "stem", None)
    if not isinstance(found, nn.Module):
        raise ConfigError(
            f"freeze_stem_after={config.freeze_stem_after}: model {config.model.name!r} has no 'stem' module"
        )
    return found


def freeze_stem(model: nn.Module, config: TrainConfig, epoch: int) -> int:
    """From epoch ``config.freeze_stem_after`` (0-based) on, switch off requires_grad of the stem's
    parameters: they get no gradient, the optimizer leaves them (momentum and decay included) and
    backward stops before the stem. Returns how many tensors are frozen now (0: not yet, or off)."""
    if not config.freeze_stem_after or epoch < config.freeze_stem_after:
        return 0
    params = list(stem(model, config).parameters())
    for p in params:
        p.requires_grad_(False)
    return len(params)
