"""The two passes over data: :func:`train_one_epoch` and :func:`evaluate` (plus their small helpers).

Both run unchanged in one process or under DistributedDataParallel: per-process sums are added
over the processes (:func:`senet.train.distributed.all_reduce_sum`) before they are reported.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel

from senet.data import DataError, Loader, forward_eval
from senet.errors import NonFiniteError
from senet.train import distributed as dist
from senet.train.config import TrainConfig
from senet.train.lookahead import Lookahead, floating_tensors
from senet.train.meter import Reading, StepMeter, to_host
from senet.train.mix import mix_batch, mixing
from senet.train.optim import freeze_bn
from senet.train.progress import Progress
from senet.train.step import Stepper


class NonFiniteLossError(NonFiniteError):
    """The loss (training or validation) or the weights became NaN or infinite; training stopped and
    the last good checkpoint was kept."""


_CHECKED = ("train_loss", "val_loss", "top1", "top5")
"""The reported metrics :func:`check_finite` looks at (the losses can overflow while every step's is finite)."""


def non_finite_tensors(model: nn.Module) -> list[str]:
    """Names of the parameters and floating-point buffers (BN statistics) holding NaN or inf."""
    named = floating_tensors(model)
    if not named:
        return []
    finite = torch.stack([torch.isfinite(t.detach()).all() for _, t in named]).tolist()  # one sync
    return [name for (name, _), ok in zip(named, finite, strict=True) if not ok]


def check_finite(model: nn.Module, metrics: dict[str, float], *, epoch: int, env: dist.DistEnv) -> None:
    """Raise :class:`NonFiniteLossError` naming what went non-finite in epoch ``epoch`` (0-based):
    the reported losses / accuracies, or the weights (every parameter and BN buffer)."""
    bad = [f"{key} {metrics[key]}" for key in _CHECKED if key in metrics and not math.isfinite(metrics[key])]
    tensors = non_finite_tensors(model)
    if not dist.any_true(bool(bad or tensors), env):
        return
    if tensors:
        more = f" and {len(tensors) - 5} more" if len(tensors) > 5 else ""
        bad.append(f"NaN/inf in {len(tensors)} weight tensor(s): {', '.join(tensors[:5])}{more}")
    elif not bad:
        bad.append("NaN/inf in the weights of another process")
    raise NonFiniteLossError(f"after epoch {epoch + 1}: {'; '.join(bad)}; training stopped")


def _nothing_read(loader: object, what: str) -> DataError:
    """The error for a pass over ``loader`` that yielded no sample (every image skipped)."""
    bad = list(getattr(loader, "bad_images", []))
    if not bad:
        return DataError(f"the {what} data yielded no image: nothing to train or evaluate on")
    return DataError(
        f"no {what} image could be read: all {len(bad)} were skipped as unreadable (e.g. {bad[0]}); "
        "nothing to train or evaluate on"
    )


def autocast(device: torch.device, amp: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on CPU or GPU, fp16 on GPU, or nothing."""
    if amp == "none":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def topk_correct(logits: torch.Tensor, labels: torch.Tensor, ks: Iterable[int] = (1, 5)) -> list[int]:
    """How many of the N samples have their label among the top-k logits, for each k."""
    ks = list(ks)
    kmax = min(max(ks), logits.shape[1])
    pred = logits.topk(kmax, dim=1).indices  # (N, kmax)
    hit = pred.eq(labels[:, None])  # (N, kmax)
    return [int(hit[:, : min(k, kmax)].any(dim=1).sum()) for k in ks]


def topk_hits(logits: torch.Tensor, labels: torch.Tensor, ks: Iterable[int] = (1, 5)) -> torch.Tensor:
    """:func:`topk_correct` as a tensor of counts (len(ks),) on the device: no synchronisation."""
    ks = list(ks)
    kmax = min(max(ks), logits.shape[1])
    hit = logits.topk(kmax, dim=1).indices.eq(labels[:, None])  # (N, kmax)
    return torch.stack([hit[:, : min(k, kmax)].any(dim=1).sum() for k in ks])


def top1_hits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """How many of the N samples have their label as the top logit: a 0-d tensor on the device."""
    return logits.topk(1, dim=1).indices[:, 0].eq(labels).sum()  # as topk_correct (ties alike)


def steps_per_epoch(loader: Loader, limit_batches: int = 0) -> int:
    """Training iterations in one epoch: the loader's batches, or ``limit_batches`` if fewer (0: all)."""
    return min(len(loader), limit_batches) if limit_batches else len(loader)


def _prepare(images: torch.Tensor, channels_last: bool) -> torch.Tensor:
    if channels_last and images.dim() == 4:
        return images.contiguous(memory_format=torch.channels_last)
    return images


def train_one_epoch(
    model: nn.Module,
    loader: Loader,
    *,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LambdaLR,
    epoch: int,
    config: TrainConfig,
    env: dist.DistEnv,
    scaler: torch.amp.GradScaler | None = None,
    show: bool = True,
    ema: AveragedModel | None = None,
    ema_source: nn.Module | None = None,
    lookahead: Lookahead | None = None,
) -> dict[str, float]:
    """One pass over ``loader``; returns the mean training loss, top-1 accuracy and images/s.

    The optimizer steps through :class:`~senet.train.step.Stepper` (accumulation, clipping, the
    schedule, ``lookahead``'s slow weights and the EMA ``ema`` of ``ema_source``: the plain network
    inside ``model``'s wrappers);
    batches are mixed (:mod:`senet.train.mix`) when mixup or CutMix is on.

    The loss sums, top-1 counts and a NaN/inf flag stay on the device (:class:`StepMeter`) and are
    read every ``config.log_every_steps`` steps and at the end of the epoch: at most one
    synchronisation per interval. Raises :class:`NonFiniteLossError` at the first read after the loss
    became NaN or infinite on any process, naming the step and the steps read together.
    """
    model.train()
    if config.freeze_backbone or (
        config.freeze_bn_last_epochs and epoch >= config.epochs - config.freeze_bn_last_epochs
    ):
        freeze_bn(model)  # a frozen backbone keeps its BN statistics too
    steps = steps_per_epoch(loader, config.limit_train_batches)
    bar = Progress(steps, f"epoch {epoch + 1}/{config.epochs}", enabled=show)
    meter = StepMeter(env.device, config.log_every_steps)
    stepper = Stepper(model, optimizer, scheduler, config, batches=steps, scaler=scaler, ema=ema,
                      ema_source=ema_source, lookahead=lookahead)  # fmt: skip
    shown: dict[str, float] = {}
    step = -1
    for step, (images, labels) in enumerate(loader):
        if step >= steps:
            break
        images = _prepare(images, config.channels_last)  # (N, C, H, W)
        mixed = mix_batch(images, labels, config) if mixing(config) else None
        with stepper.context(step):
            with autocast(env.device, config.amp):
                logits = model(mixed.images if mixed else images)  # (N, K)
                targets = mixed.targets(logits.shape[1]) if mixed else labels
                loss = F.cross_entropy(logits.float(), targets, label_smoothing=config.label_smoothing)
            stepper.backward(step, loss)
        n = labels.shape[0]
        meter.add(step, loss, top1_hits(logits.detach(), mixed.counted if mixed else labels), n)
        if meter.due(step):
            shown["loss"] = _check(meter.read(step + 1, env), meter, epoch, bar)
        shown["lr"] = optimizer.param_groups[0]["lr"]  # a host float: set by the scheduler
        bar.update(n * env.world_size, **shown)
    seconds = bar.elapsed
    done = min(step + 1, steps)
    if meter.last_read != done or done == 0:
        _check(meter.read(done, env), meter, epoch, bar)
    loss_sum, correct, count = meter.total_loss, meter.total_correct, meter.count * env.world_size
    bar.close()
    if not count:
        raise _nothing_read(loader, "training")
    return {
        "train_loss": loss_sum / max(count, 1),
        "train_top1": 100.0 * correct / max(count, 1),
        "train_images": int(count),
        "train_seconds": seconds,
        "train_images_per_second": count / max(seconds, 1e-9),
    }


def _check(reading: Reading, meter: StepMeter, epoch: int, bar: Progress) -> float:
    """The interval's mean loss; raises :class:`NonFiniteLossError` if any process saw a NaN/inf."""
    if not reading.any_bad:
        return reading.loss
    span = f"steps {reading.first_step}-{reading.steps} were read together"
    bar.close(f"epoch {epoch + 1}: stopped at step {reading.steps}")
    if reading.bad_step:
        where = f"became {reading.bad_loss} at epoch {epoch + 1}, step {reading.bad_step} ({span})"
    else:
        where = f"became NaN/inf on another process in epoch {epoch + 1} ({span})"
    raise NonFiniteLossError(f"the training loss {where}; training stopped")


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    env: dist.DistEnv | None = None,
    amp: str = "none",
    channels_last: bool = False,
    limit_batches: int = 0,
) -> dict[str, float]:
    """Top-1 / top-5 accuracy (%) and mean cross-entropy over ``loader`` (summed over processes).

    Batches of shape (N, V, C, H, W) (ten crops, or an image and its mirror) are scored on the mean of the views'
    softmax outputs (:func:`senet.data.forward_eval`).
    """
    env = env or dist.DistEnv(0, 1, 0, next(model.parameters()).device)
    model.eval()
    totals = torch.zeros(3, dtype=torch.float64, device=env.device)  # loss sum, top-1, top-5
    count = 0  # samples: a host int
    for step, (images, labels) in enumerate(loader):
        if limit_batches and step >= limit_batches:
            break
        with autocast(env.device, amp):
            logits = forward_eval(model, _prepare(images, channels_last)).float()  # (N, K)
        loss_sum = F.cross_entropy(logits, labels, reduction="sum")
        totals += torch.cat([loss_sum.double()[None], topk_hits(logits, labels, (1, 5)).double()])
        count += labels.shape[0]
    reduced = torch.cat([totals, torch.tensor([float(count)], dtype=torch.float64, device=env.device)])
    loss_sum, top1, top5, count = to_host(dist.all_reduce_sum(reduced, env))  # the one read
    if not count:
        raise _nothing_read(loader, "validation")
    return {
        "val_loss": loss_sum / count,
        "top1": 100 * top1 / count,
        "top5": 100 * top5 / count,
        "val_images": int(count),
    }
