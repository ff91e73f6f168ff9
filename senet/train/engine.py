"""The training engine as plain functions: :func:`train_one_epoch`, :func:`evaluate` and :func:`fit`.

``fit(config)`` trains one model in one run folder (``config.out_dir``) and returns a
:class:`FitResult`; a finished folder holds ``result.json``. It runs unchanged in one process or
under ``torchrun`` (DistributedDataParallel; see :mod:`senet.train.distributed`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from senet.config import ConfigError
from senet.data import build_loaders, forward_eval
from senet.io import write_atomic
from senet.train import checkpoint as ckpt
from senet.train import distributed as dist
from senet.train.config import TrainConfig
from senet.train.models import build_model, model_complexity
from senet.train.optim import build_optimizer, build_scheduler, freeze_bn
from senet.train.progress import Progress, format_seconds
from senet.train.rundir import (
    CONFIG,
    METRICS,
    RESULT,
    FitResult,
    append_metrics,
    default_run_dir,
    load_result,
    mean,
    read_metrics,
    truncate_metrics,
)


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; training stopped and the last good checkpoint was kept."""


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


def _prepare(images: torch.Tensor, channels_last: bool) -> torch.Tensor:
    if channels_last and images.dim() == 4:
        return images.contiguous(memory_format=torch.channels_last)
    return images


def train_one_epoch(
    model: nn.Module,
    loader: Any,
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
    if config.freeze_bn_last_epochs and epoch >= config.epochs - config.freeze_bn_last_epochs:
        freeze_bn(model)
    steps = len(loader) if not config.limit_train_batches else min(len(loader), config.limit_train_batches)
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
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        scheduler.step()
        n = labels.shape[0]
        correct = topk_correct(logits.detach(), labels, (1,))[0]
        totals += torch.tensor([loss.item() * n, correct, n], dtype=torch.float64)
        bar.update(n * env.world_size, loss=loss.item(), lr=optimizer.param_groups[0]["lr"])
    seconds = bar.elapsed
    loss_sum, correct, count = dist.all_reduce_sum(totals.to(env.device), env).tolist()
    bar.close()
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
    loader: Any,
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
    count = max(count, 1)
    return {
        "val_loss": loss_sum / count,
        "top1": 100 * top1 / count,
        "top5": 100 * top5 / count,
        "val_images": int(count),
    }


def set_base_lr(
    optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LambdaLR, lr: float
) -> None:
    """Make ``lr`` the base rate of every group (after loading saved states) and re-apply the schedule."""
    scheduler.base_lrs = [lr] * len(optimizer.param_groups)
    for group, factor in zip(optimizer.param_groups, scheduler.lr_lambdas, strict=True):
        group["initial_lr"] = lr
        group["lr"] = lr * factor(scheduler.last_epoch)
    scheduler._last_lr = [group["lr"] for group in optimizer.param_groups]


def _setup_determinism(config: TrainConfig, env: dist.DistEnv) -> None:
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    if config.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        if config.compile:
            torch.use_deterministic_algorithms(True)  # also sets inductor's flag (imports inductor)
        else:
            torch.set_deterministic_debug_mode("error")  # the same switch, without importing inductor
        torch.backends.cudnn.benchmark = False
    elif env.device.type == "cuda":
        torch.backends.cudnn.benchmark = True


def _check(config: TrainConfig, env: dist.DistEnv) -> None:
    if config.data.dataset != "digits" and not config.data.root:
        raise ConfigError(
            f"data.root: recipe {config.recipe!r} trains on {config.data.dataset!r}; give its folder "
            "(--data-root PATH or --set data.root=PATH)"
        )
    if config.amp == "fp16" and env.device.type != "cuda":
        raise ConfigError(
            "amp='fp16' needs a CUDA device (it uses a gradient scaler); use amp=bf16 on the CPU"
        )
    if config.sync_bn and env.distributed and env.device.type != "cuda":
        raise ConfigError("sync_bn=true needs CUDA devices: torch's SyncBatchNorm runs on GPU modules only")
    if config.batch_size % env.world_size:
        raise ConfigError(
            f"batch_size={config.batch_size} does not split evenly over {env.world_size} processes"
        )
    if config.tensorboard:
        try:
            import torch.utils.tensorboard  # noqa: F401
        except ImportError:
            raise ConfigError(
                "tensorboard=true needs the tensorboard package (pip install tensorboard)"
            ) from None


def fit(
    config: TrainConfig, *, resume: bool = False, quiet: bool = False, progress: bool = True
) -> FitResult:
    """Train ``config.model`` on ``config.data`` in the run folder ``config.out_dir``.

    With ``resume=True`` the newest checkpoint in that folder (if any) is loaded with its
    optimizer, scheduler and RNG states and training continues from the next epoch. Writes
    ``config.json``, ``metrics.jsonl``, ``checkpoints/`` and finally ``result.json``. ``quiet``
    prints nothing on stderr; ``progress=False`` keeps the per-epoch lines but no progress bar.
    """
    env = dist.init(config.device)
    saved = torch.get_num_threads(), torch.get_deterministic_debug_mode()
    try:
        _check(config, env)
        _setup_determinism(config, env)
        run_dir = Path(dist.broadcast_object(str(Path(config.out_dir or default_run_dir(config))), env))
        config = config.replace(out_dir=str(run_dir))
        train_loader, val_loader, info = build_loaders(
            config.data,
            batch_size=config.batch_size // env.world_size,
            eval_batch_size=config.eval_batch_size,
            device=env.device,
            rank=env.rank,
            world_size=env.world_size,
            seed=config.seed,
        )
        model = build_model(config, info).to(env.device)
        if config.channels_last:
            model = model.to(memory_format=torch.channels_last)
        optimizer = build_optimizer(config, model)
        steps = (
            len(train_loader)
            if not config.limit_train_batches
            else min(len(train_loader), config.limit_train_batches)
        )
        scheduler = build_scheduler(config, optimizer, steps)
        scaler = torch.amp.GradScaler("cuda") if config.amp == "fp16" else None
        start_epoch = 0
        found = ckpt.list_checkpoints(run_dir) if resume else []
        if found:
            state = ckpt.load_checkpoint(found[-1], with_state=True)
            model.load_state_dict(state.weights)
            optimizer.load_state_dict(state.state["optimizer"])
            scheduler.load_state_dict(state.state["scheduler"])
            if scaler is not None and state.state.get("scaler"):
                scaler.load_state_dict(state.state["scaler"])
            ckpt.set_rng_state(state.state["rng"])
            set_base_lr(optimizer, scheduler, config.scaled_lr)  # an --set lr=... on resume wins
            start_epoch = state.epoch
        show = env.is_main and not quiet
        if env.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            ckpt.clean_partial(run_dir)
            write_atomic(run_dir / CONFIG, json.dumps(config.to_dict(), indent=2) + "\n")
            truncate_metrics(run_dir / METRICS, start_epoch)
            (run_dir / RESULT).unlink(missing_ok=True)
        counts = model_complexity(config, info)
        train_model = dist.wrap(model, env, sync_bn=config.sync_bn)
        if config.compile:
            train_model = torch.compile(train_model)
        writer = _tensorboard(config, run_dir) if env.is_main else None
        if show and start_epoch:
            print(f"resuming {run_dir} after epoch {start_epoch}", file=sys.stderr)
        last = found[-1] if found else None
        metrics: dict[str, float] = {}
        seconds = 0.0
        for epoch in range(start_epoch, config.epochs):
            if config.deterministic:
                torch.manual_seed(config.seed * 1_000_003 + epoch)  # dropout etc.: same per epoch on resume
            train_loader.set_epoch(epoch)
            tic = time.perf_counter()
            try:
                stats = train_one_epoch(
                    train_model, train_loader, optimizer=optimizer, scheduler=scheduler, epoch=epoch,
                    config=config, env=env, scaler=scaler, show=show and progress,
                )  # fmt: skip
            except NonFiniteLossError as err:
                where = (
                    f"the last good checkpoint is {last}"
                    if last
                    else "no epoch finished, so there is no checkpoint"
                )
                raise NonFiniteLossError(
                    f"{err}; {where}. Lower the learning rate (--set lr=...) and retry."
                ) from None
            val = evaluate(
                model,  # not the DDP wrapper: its buffer broadcasts would need equal batch counts per rank
                val_loader, env=env, amp=config.amp, channels_last=config.channels_last,
                limit_batches=config.limit_val_batches,
            )  # fmt: skip
            seconds = time.perf_counter() - tic
            metrics = {
                "epoch": epoch + 1,
                **stats,
                **val,
                "lr": optimizer.param_groups[0]["lr"],
                "epoch_seconds": seconds,
            }
            bad = len(train_loader.bad_images) + len(val_loader.bad_images)
            if bad:  # only with data.skip_bad_images; each file was named when it was skipped
                metrics["skipped_images"] = bad
            if env.is_main:
                append_metrics(run_dir / METRICS, metrics)
                if writer is not None:
                    for key in ("train_loss", "train_top1", "val_loss", "top1", "top5", "lr"):
                        writer.add_scalar(key, metrics[key], epoch + 1)
                if show:
                    print(f"{config.model.name} {_epoch_line(metrics, config.epochs)}", file=sys.stderr)
                if (epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == config.epochs:
                    last = ckpt.save_checkpoint(
                        run_dir, epoch=epoch + 1, model=model, config=config.to_dict(), data_info=info.to_dict(),
                        keep=config.keep_checkpoints,
                        state={
                            "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(),
                            "scaler": scaler.state_dict() if scaler is not None else None,
                            "rng": ckpt.rng_state(),
                            "metrics": metrics,
                        },
                    )  # fmt: skip
            dist.barrier(env)
        if not metrics:  # resumed a finished run: evaluate the loaded weights
            metrics = evaluate(
                model, val_loader, env=env, amp=config.amp, channels_last=config.channels_last,
                limit_batches=config.limit_val_batches,
            )  # fmt: skip
        if writer is not None:
            writer.close()
        history = read_metrics(run_dir / METRICS) if env.is_main else []
        result = FitResult(
            run_dir=str(run_dir),
            checkpoint=str(ckpt.list_checkpoints(run_dir)[-1]) if env.is_main else "",
            model=config.model.name,
            dataset=config.data.dataset,
            epochs=config.epochs,
            top1=metrics["top1"],
            top5=metrics["top5"],
            top1_error=100.0 - metrics["top1"],
            top5_error=100.0 - metrics["top5"],
            val_loss=metrics["val_loss"],
            params=counts.params,
            macs=counts.macs,
            input_size=info.input_size,
            seconds=sum(row.get("epoch_seconds", 0.0) for row in history),
            train_images_per_second=mean([row.get("train_images_per_second", 0.0) for row in history]),
        )
        if env.is_main:
            write_atomic(run_dir / RESULT, json.dumps(result.to_dict(), indent=2) + "\n")
        return result
    finally:
        torch.set_num_threads(saved[0])  # fit() is a library call: leave the process as it was
        torch.set_deterministic_debug_mode(saved[1])
        dist.shutdown()


def _epoch_line(m: dict[str, Any], epochs: int) -> str:
    return (
        f"epoch {m['epoch']}/{epochs}  train loss {m['train_loss']:.4f} top-1 {m['train_top1']:.2f}%  "
        f"val loss {m['val_loss']:.4f} top-1 {m['top1']:.2f}% top-5 {m['top5']:.2f}%  "
        f"{m['train_images_per_second']:,.0f} img/s  {format_seconds(m['epoch_seconds'])}"
    )


def _tensorboard(config: TrainConfig, run_dir: Path) -> Any:
    if not config.tensorboard:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(run_dir / "tensorboard"))


# CONFIG, RESULT, FitResult and load_result are re-exported: senet.analysis imports them from here
__all__ = [
    "CONFIG",
    "RESULT",
    "FitResult",
    "NonFiniteLossError",
    "evaluate",
    "fit",
    "load_result",
    "train_one_epoch",
]
