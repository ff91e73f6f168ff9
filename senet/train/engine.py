"""The training engine: :func:`fit` as four named steps around a :class:`Run`.

``fit(config)`` trains one model in one run folder (``config.out_dir``) and returns a
:class:`FitResult`; a finished folder holds ``result.json``. It runs unchanged in one process or
under ``torchrun`` (DistributedDataParallel; see :mod:`senet.train.distributed`). The steps:

- :func:`setup`: device, seeds, the run folder (locked; a new run refuses a folder holding another
  one), loaders, model, optimizer, schedule (resumed from the newest checkpoint that loads, if
  asked), complexity, DDP / compile wrappers, TensorBoard;
- :func:`run_epoch`: one epoch of training (:func:`train_one_epoch`) and its evaluation (when due:
  the first epoch, every ``eval_every``-th after it and the last);
- :func:`record`: ``metrics.jsonl``, TensorBoard, the epoch line on stderr, the checkpoint;
- :func:`finish`: ``result.json`` and the :class:`FitResult`.

The passes over data (:func:`train_one_epoch`, :func:`evaluate`) live in :mod:`senet.train.loop`
and the run folder's layout in :mod:`senet.train.rundir`; both are re-exported here.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from senet.complexity import Complexity
from senet.data import DataInfo, Loader, build_loaders
from senet.runtime import num_threads
from senet.train import checkpoint as ckpt
from senet.train import distributed as dist
from senet.train import preflight, rundir
from senet.train.banner import announce, epoch_line
from senet.train.config import TrainConfig
from senet.train.ema import EMA_WEIGHTS, build_ema, ema_weights
from senet.train.lookahead import Lookahead, build_lookahead
from senet.train.loop import (
    NonFiniteLossError,
    autocast,
    check_finite,
    evaluate,
    steps_per_epoch,
    topk_correct,
    train_one_epoch,
)
from senet.train.models import build_model, init_from_data, model_complexity
from senet.train.optim import build_optimizer, build_scheduler, freeze_stem, stem
from senet.train.progress import Tracked
from senet.train.rundir import CONFIG, RESULT, FitResult, RunFolderError, load_result
from senet.train.step import optimizer_steps

_LOGGED = ("train_loss", "train_top1", "val_loss", "top1", "top5", "lr")
"""The metrics written to TensorBoard each epoch (the validation ones after a validated epoch only)."""


@dataclass
class Run:
    """What one training run holds between the steps of :func:`fit` (made by :func:`setup`)."""

    config: TrainConfig
    """The run's configuration, with ``out_dir`` resolved to ``run_dir``."""
    env: dist.DistEnv
    run_dir: Path
    train_loader: Loader
    val_loader: Loader
    info: DataInfo
    model: nn.Module
    """The plain network: evaluated and checkpointed."""
    train_model: nn.Module
    """``model`` inside the DDP and ``torch.compile`` wrappers (when used): trained."""
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler | None
    """The fp16 gradient scaler (``amp="fp16"`` only)."""
    counts: Complexity
    """Parameters and multiply-adds of one forward pass at the data's input size."""
    start_epoch: int = 0
    """Epochs already done (a resumed run); training continues with the next one."""
    last_checkpoint: Path | None = None
    """The newest checkpoint written or resumed from (named when the loss turns NaN)."""
    ema: AveragedModel | None = None
    """The moving average of ``model`` (``ema_decay > 0``): evaluated and checkpointed with it."""
    lookahead: Lookahead | None = None
    """The slow weights of ``model`` (``lookahead_every > 0``): in each checkpoint's state."""
    writer: Any = None
    """The TensorBoard ``SummaryWriter`` (main process with ``tensorboard=true`` only)."""
    show: bool = True
    """Print the epoch lines (and the progress bar if ``progress``) on stderr."""
    progress: bool = True
    folder: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    """Holds the run folder's lock (main process) until it is closed: :func:`fit` closes it when
    the run ends, however it ends."""


def fit(
    config: TrainConfig, *, resume: bool = False, quiet: bool = False, progress: bool = True
) -> FitResult:
    """Train ``config.model`` (a ModelSpec) on ``config.data`` in the run folder ``config.out_dir``.

    With ``resume=True`` the newest checkpoint in that folder that loads (if any) is loaded with
    its optimizer, schedule position and RNG states and training continues from the next epoch;
    without it, a folder that holds another run is refused (:class:`RunFolderError`) unless
    ``config.overwrite``. While it runs, the folder is locked against other processes.
    Writes ``config.json``, ``metrics.jsonl``, ``checkpoints/`` and finally ``result.json``.
    ``quiet`` prints nothing on stderr; ``progress=False`` keeps the per-epoch lines but no
    progress bar. The thread count and determinism switches are restored on return: fit() is a
    library call and leaves the process as it was.
    """
    debug_mode = torch.get_deterministic_debug_mode()
    finished = False
    try:
        with num_threads(config.threads):
            run = setup(config, resume=resume, quiet=quiet, progress=progress)
            with run.folder:  # the lock is released however the run ends
                metrics: dict[str, Any] = {}
                for epoch in range(run.start_epoch, run.config.epochs):
                    metrics = run_epoch(run, epoch)
                    record(run, metrics)
                result = finish(run, metrics)
                finished = True
                return result
    finally:
        torch.set_deterministic_debug_mode(debug_mode)
        dist.shutdown(finished=finished)


def setup(config: TrainConfig, *, resume: bool = False, quiet: bool = False, progress: bool = True) -> Run:
    """Everything before the first epoch; with ``resume``, the newest loadable checkpoint's states
    are loaded. The run folder's lock is held by the returned Run's ``folder`` (close it when done;
    it is released here if the set-up fails)."""
    env = dist.init(config.device)
    preflight.check_environment(config, env, resume=resume)
    preflight.seed_and_determinism(config, env)
    run_dir = Path(dist.broadcast_object(str(Path(config.out_dir or rundir.default_run_dir(config))), env))
    with contextlib.ExitStack() as held:
        _claim(held, run_dir, config, env, resume=resume, quiet=quiet)
        # overwrite is an action on the folder, not part of the run: recorded as false
        run = _build(config.replace(out_dir=str(run_dir), overwrite=False), env, resume=resume)
        run.show, run.progress = env.is_main and not quiet, progress
        announce(run)  # the banner (run folder, model, data, plan) at once; a warning for too small inputs
        if run.show and run.start_epoch:
            print(f"resuming {run_dir} after epoch {run.start_epoch}", file=sys.stderr)
        run.folder = held.pop_all()  # last: a stop (SIGTERM) before this line still releases the lock
    return run


def _claim(
    held: contextlib.ExitStack,
    run_dir: Path,
    config: TrainConfig,
    env: dist.DistEnv,
    *,
    resume: bool,
    quiet: bool,
) -> None:
    """The main process locks ``run_dir`` (into ``held``) and, for a new run, checks that it holds no
    other run (or moves that one aside with ``overwrite``); every process raises its error."""
    problem = None
    if env.is_main:
        try:
            held.enter_context(rundir.folder_lock(run_dir, "this run"))
            aside = None if resume else rundir.claim_new(run_dir, overwrite=config.overwrite)
            if aside and not quiet:
                print(f"overwrite: the earlier run in {run_dir} moved to {aside}", file=sys.stderr)
        except RunFolderError as err:
            problem = str(err)
    problem = dist.broadcast_object(problem, env)
    if problem:
        raise RunFolderError(problem)


def _build(config: TrainConfig, env: dist.DistEnv, *, resume: bool) -> Run:
    """Loaders, model, optimizer, schedule (from the newest loadable checkpoint with ``resume``) and
    wrappers; the run folder made ready for the first epoch to train."""
    run_dir = Path(config.out_dir)
    train_loader, val_loader, info = build_loaders(
        config.data, batch_size=config.batch_size // env.world_size, eval_batch_size=config.eval_batch_size,
        device=env.device, rank=env.rank, world_size=env.world_size, seed=config.seed,
    )  # fmt: skip
    say = (lambda text: print(text, file=sys.stderr)) if env.is_main else None
    found = ckpt.load_newest(run_dir, say=say) if resume else None
    model = build_model(config, info, found.network if found else None).to(env.device)
    if found is None and config.weights is None:
        init_from_data(model, train_loader)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if config.freeze_stem_after:
        stem(model, config)  # a model without a stem fails here, not after N epochs
    optimizer = build_optimizer(config, model)
    scaler = torch.amp.GradScaler("cuda") if config.amp == "fp16" else None
    ema, lookahead = build_ema(config, model), build_lookahead(config, model)
    start_epoch, iters_done = (
        _load_state(found, config, model, optimizer, scaler, ema, lookahead) if found else (0, 0)
    )
    batches = steps_per_epoch(train_loader, config.limit_train_batches)
    steps = optimizer_steps(batches, config.accumulate_steps)
    scheduler = build_scheduler(config, optimizer, steps, done=iters_done)
    if env.is_main:
        rundir.prepare(run_dir, config.to_dict(), start_epoch)
    counts = model_complexity(config, info, model)
    train_model = dist.wrap(model, env, sync_bn=config.sync_bn)
    if config.compile:
        train_model = torch.compile(train_model)
    return Run(
        config=config, env=env, run_dir=run_dir, train_loader=train_loader, val_loader=val_loader, info=info,
        model=model, train_model=train_model, optimizer=optimizer, scheduler=scheduler, scaler=scaler,
        counts=counts, ema=ema, lookahead=lookahead, start_epoch=start_epoch,
        last_checkpoint=found.path if found else None,
        writer=preflight.tensorboard_writer(config, run_dir) if env.is_main else None,
    )  # fmt: skip


def run_epoch(run: Run, epoch: int) -> dict[str, Any]:
    """Train epoch ``epoch`` (0-based) and evaluate when due (:meth:`TrainConfig.validates`); the
    epoch's metrics row, without the validation keys (``val_loss``, ``top1``, ``top5``,
    ``val_images``, ``raw_*``) for an epoch not validated.

    Raises :class:`NonFiniteLossError` when the training loss, the validation loss or the weights
    (parameters and BN buffers) became NaN or infinite: nothing of this epoch is recorded, the last
    good checkpoint stays.
    """
    config = run.config
    if config.deterministic:
        torch.manual_seed(config.seed * 1_000_003 + epoch)  # dropout etc.: the same per epoch on resume
    run.train_loader.set_epoch(epoch)
    freeze_stem(run.model, config, epoch)
    tic = time.perf_counter()
    try:
        stats = train_one_epoch(
            run.train_model, run.train_loader, optimizer=run.optimizer, scheduler=run.scheduler, epoch=epoch,
            config=config, env=run.env, scaler=run.scaler, show=run.show and run.progress, ema=run.ema,
            ema_source=run.model, lookahead=run.lookahead,
        )  # fmt: skip
        val = _evaluate(run) if config.validates(epoch + 1) else {}
        check_finite(run.model, {**stats, **val}, epoch=epoch, env=run.env)
    except NonFiniteLossError as err:
        where = (
            f"the last good checkpoint is {run.last_checkpoint}"
            if run.last_checkpoint
            else "no epoch finished, so there is no checkpoint"
        )
        raise NonFiniteLossError(
            f"{err}; {where}. Lower the learning rate (--set lr=...) and retry."
        ) from None
    metrics = {
        "epoch": epoch + 1,
        **stats,
        **val,
        "lr": run.optimizer.param_groups[0]["lr"],
        "epoch_seconds": time.perf_counter() - tic,
    }
    bad = len(run.train_loader.bad_images) + len(run.val_loader.bad_images)
    if bad:  # only with data.skip_bad_images; each file was named when it was skipped
        metrics["skipped_images"] = bad
    skipped = Counter(run.train_loader.skipped) + Counter(run.val_loader.skipped)
    if skipped:  # files left out by reason (hidden, symlink loop, unreadable ...), each named in a warning
        metrics["skipped"] = dict(sorted(skipped.items()))
    return metrics


def record(run: Run, metrics: dict[str, Any]) -> None:
    """Log one epoch (``metrics.jsonl``, TensorBoard, stderr) and write its checkpoint when due."""
    config, epoch = run.config, metrics["epoch"]
    if run.env.is_main:
        rundir.append_metrics(run.run_dir, metrics)
        if run.writer is not None:
            for key in _LOGGED:
                if key in metrics:  # the validation keys only after a validated epoch
                    run.writer.add_scalar(key, metrics[key], epoch)
        if run.show:
            print(f"{config.model.name} {epoch_line(metrics, config.epochs)}", file=sys.stderr)
        if epoch % config.checkpoint_every == 0 or epoch == config.epochs:
            run.last_checkpoint = ckpt.save_checkpoint(
                run.run_dir, epoch=epoch, model=run.model, config=config.to_dict(),
                data_info=run.info.to_dict(), keep=config.keep_checkpoints,
                state={
                    "optimizer": run.optimizer.state_dict(),
                    "scheduler": run.scheduler.state_dict(),
                    "scaler": run.scaler.state_dict() if run.scaler is not None else None,
                    "rng": ckpt.rng_state(),
                    "metrics": metrics,
                    **({"ema": run.ema.state_dict()} if run.ema is not None else {}),
                    **({"lookahead": run.lookahead.state_dict()} if run.lookahead is not None else {}),
                },
                extra_weights={EMA_WEIGHTS: ema_weights(run.ema)} if run.ema is not None else None,
            )  # fmt: skip
    dist.barrier(run.env)


def finish(run: Run, metrics: dict[str, Any]) -> FitResult:
    """Close the run: ``result.json`` from the last epoch's ``metrics`` and the whole history.

    ``metrics`` without validation keys (empty: a finished run resumed, no epoch left) evaluate the
    loaded weights; the last epoch is always validated, so a run that trained has them.
    """
    config, main = run.config, run.env.is_main
    if "top1" not in metrics:
        metrics = metrics | _evaluate(run)
    if run.writer is not None:
        run.writer.close()
    history = rundir.read_metrics(run.run_dir) if main else []
    speeds = [row.get("train_images_per_second", 0.0) for row in history]
    result = FitResult(
        run_dir=str(run.run_dir),
        checkpoint=str(rundir.list_checkpoints(run.run_dir)[-1]) if main else "",
        model=config.model.name,
        dataset=config.data.dataset,
        epochs=config.epochs,
        top1=metrics["top1"],
        top5=metrics["top5"],
        top1_error=100.0 - metrics["top1"],
        top5_error=100.0 - metrics["top5"],
        val_loss=metrics["val_loss"],
        params=run.counts.params,
        macs=run.counts.macs,
        input_size=run.info.input_size,
        seconds=sum(row.get("epoch_seconds", 0.0) for row in history),
        train_images_per_second=sum(speeds) / len(speeds) if speeds else 0.0,
        skipped=dict(history[-1].get("skipped", {})) if history else {},
    )
    if main:
        rundir.write_result(run.run_dir, result)
    return result


def _evaluate(run: Run) -> dict[str, float]:
    """Validation metrics of the plain model (not the DDP wrapper: its buffer broadcasts would need
    equal batch counts on every process). With an EMA, the EMA's are the metrics and the trained
    weights' are added as ``raw_val_loss``, ``raw_top1``, ``raw_top5``."""
    config = run.config

    def score(model: nn.Module) -> dict[str, float]:
        loader = Tracked(run.val_loader, "validation", enabled=run.show and run.progress)  # bar / log lines
        return evaluate(
            model, loader, env=run.env, amp=config.amp, channels_last=config.channels_last,
            limit_batches=config.limit_val_batches,
        )  # fmt: skip

    if run.ema is None:
        return score(run.model)
    raw = score(run.model)
    return score(run.ema.module) | {f"raw_{key}": raw[key] for key in ("val_loss", "top1", "top5")}


def _load_state(
    found: ckpt.Checkpoint,
    config: TrainConfig,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    ema: AveragedModel | None = None,
    lookahead: Lookahead | None = None,
) -> tuple[int, int]:
    """Put a loaded checkpoint's weights, optimizer, scaler, EMA, Lookahead and RNG states in place;
    (epochs, iterations) done.

    The base rate of the schedule is this config's (an ``--set lr=...`` on resume wins): it goes
    into each group's ``initial_lr``, which :func:`build_scheduler` continues from.
    """
    model.load_state_dict(found.weights)
    optimizer.load_state_dict(found.state["optimizer"])
    for group in optimizer.param_groups:
        group["initial_lr"] = config.scaled_lr
    if scaler is not None and found.state.get("scaler"):
        scaler.load_state_dict(found.state["scaler"])
    for key, held, option in (("ema", ema, "ema_decay"), ("lookahead", lookahead, "lookahead_every")):
        if held is not None and key not in found.state:
            raise RunFolderError(f"{found.path}: no {key} state (trained with {option}=0); resume without it")
        if held is not None:
            held.load_state_dict(found.state[key])
    ckpt.set_rng_state(found.state["rng"])
    return found.epoch, int(found.state["scheduler"]["last_epoch"])


# senet.analysis and senet.commands import these from here (CONFIG, RESULT, FitResult and
# load_result live in senet.train.rundir; the passes over data in senet.train.loop)
__all__ = [
    "CONFIG",
    "RESULT",
    "FitResult",
    "NonFiniteLossError",
    "Run",
    "RunFolderError",
    "autocast",
    "evaluate",
    "finish",
    "fit",
    "load_result",
    "record",
    "run_epoch",
    "setup",
    "topk_correct",
    "train_one_epoch",
]
