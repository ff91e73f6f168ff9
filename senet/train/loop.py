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

from senet.data import DataError, Loader, forward_eval
from senet.errors import NonFiniteError
from senet.train import distributed as dist
from senet.train.config import TrainConfig
from senet.train.optim import freeze_bn
from senet.train.progress import Progress


class NonFiniteLossError(NonFiniteError):
    """The loss (training or validation) or the weights became NaN or infinite; training stopped and
    the last good checkpoint was kept."""


_CHECKED = ("train_loss", "val_loss", "top1", "top5")
"""The reported metrics :func:`check_finite` looks at (the losses can overflow while every step's is finite)."""


def non_finite_tensors(model: nn.Module) -> list[str]:
    """Names of the parameters and floating-point buffers (BN statistics) holding NaN or inf."""
    named = [*model.named_parameters(), *model.named_buffers()]
    named = [(name, t) for name, t in named if t.is_floating_point()]
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


def steps_per_epoch(loader: Loader, limit_batches: int = 0) -> int:
    """Training iterations in one epoch: the loader's batches, or ``limit_batches`` if fewer (0: all)."""
    return min(len(loader), limit_batches) if limit_batches else len(loader)


def _prepare(images: torch.Tensor, channels_last: bool) -> torch.Tensor:
    if channels_last and images.dim() == 4:
        return images.contiguous(memory_format=torch.channels_last)
    return images


def _step(loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None) -> None:
    """One optimizer update from ``loss`` (through the fp16 gradient scaler when there is one)."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()


def train_one_epoch(
    model: nn.Module,
    loader: Loader,
    *,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    epoch: int,
    config: TrainConfig,
    env: dist.DistEnv,
    scaler: torch.amp.GradScaler | None = None,
    show: bool = True,
) -> dict[str, float]:
    """One pass over ``loader``; returns the mean training loss, top-1 accuracy and images/s.

    Raises :class:`NonFiniteLossError` as soon as the loss is NaN or infinite on any process.
    """
    model.train()
    if config.freeze_backbone or (
        config.freeze_bn_last_epochs and epoch >= config.epochs - config.freeze_bn_last_epochs
    ):
        freeze_bn(model)  # a frozen backbone keeps its BN statistics too
    steps = steps_per_epoch(loader, config.limit_train_batches)
    bar = Progress(steps, f"epoch {epoch + 1}/{config.epochs}", enabled=show)
    totals = torch.zeros(3, dtype=torch.float64)  # loss sum, correct, samples
    for step, (images, labels) in enumerate(loader):
        if step >= steps:
            break
        images = _prepare(images, config.channels_last)  # (N, C, H, W)
        with autocast(env.device, config.amp):
            logits = model(images)  # (N, K)
            loss = F.cross_entropy(logits.float(), labels, label_smoothing=config.label_smoothing)
        if dist.any_true(not bool(torch.isfinite(loss.detach())), env):
            bar.close(f"epoch {epoch + 1}: stopped at step {step + 1}")
            lr = optimizer.param_groups[0]["lr"]
            raise NonFiniteLossError(
                f"the training loss became {loss.item()} at epoch {epoch + 1}, step {step + 1} "
                f"(lr {lr:.4g}); training stopped"
            )
        _step(loss, optimizer, scaler)
        scheduler.step()
        n = labels.shape[0]
        correct = topk_correct(logits.detach(), labels, (1,))[0]
        totals += torch.tensor([loss.item() * n, correct, n], dtype=torch.float64)
        bar.update(n * env.world_size, loss=loss.item(), lr=optimizer.param_groups[0]["lr"])
    seconds = bar.elapsed
    loss_sum, correct, count = dist.all_reduce_sum(totals.to(env.device), env).tolist()
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

    Batches of shape (N, 10, C, H, W) (10-crop evaluation) are scored on the mean of the crops'
    softmax outputs (:func:`senet.data.forward_eval`).
    """
    env = env or dist.DistEnv(0, 1, 0, next(model.parameters()).device)
    model.eval()
    totals = torch.zeros(4, dtype=torch.float64)  # loss sum, top-1, top-5, samples
    for step, (images, labels) in enumerate(loader):
        if limit_batches and step >= limit_batches:
            break
        with autocast(env.device, amp):
            logits = forward_eval(model, _prepare(images, channels_last)).float()  # (N, K)
        loss_sum = F.cross_entropy(logits, labels, reduction="sum")
        top1, top5 = topk_correct(logits, labels, (1, 5))
        totals += torch.tensor([loss_sum.item(), top1, top5, labels.shape[0]], dtype=torch.float64)
    loss_sum, top1, top5, count = dist.all_reduce_sum(totals.to(env.device), env).tolist()
    if not count:
        raise _nothing_read(loader, "validation")
    return {
        "val_loss": loss_sum / count,
        "top1": 100 * top1 / count,
        "top5": 100 * top5 / count,
        "val_images": int(count),
    }
