"""The optimizer side of a training step: gradient accumulation, clipping, fp16 scaling, the
schedule, Lookahead and the moving average of the weights.

With ``accumulate_steps = k`` the batches of an epoch form groups of k (the last group may be
shorter); each batch's loss is divided by its group's size before ``backward``, so the summed
gradient is that of the group's mean loss: one step over k batches of b equals one step over a
batch of k * b (BN, which normalises each batch on its own, aside). The optimizer, the schedule,
Lookahead and the EMA step once per group; under DDP the gradients are averaged over processes
only at the group's last batch (``no_sync`` before).
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from senet.train.config import TrainConfig
from senet.train.lookahead import Lookahead


def optimizer_steps(batches: int, accumulate_steps: int) -> int:
    """Optimizer steps in an epoch of ``batches`` batches (a last, shorter group steps too)."""
    return math.ceil(batches / accumulate_steps)


class Stepper:
    """Call :meth:`context` around each batch's forward and backward, :meth:`backward` on its loss."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
        config: TrainConfig,
        *,
        batches: int,
        scaler: torch.amp.GradScaler | None = None,
        ema: AveragedModel | None = None,
        ema_source: nn.Module | None = None,
        lookahead: Lookahead | None = None,
    ) -> None:
        """``ema_source``: the plain network inside ``model``'s wrappers, which the EMA and
        ``lookahead`` (the slow weights) average (none: ``model`` itself, for ``lookahead``)."""
        self.model, self.optimizer, self.scheduler, self.scaler = model, optimizer, scheduler, scaler
        self.k, self.batches, self.clip = config.accumulate_steps, batches, config.clip_grad_norm
        self.ema, self.ema_source, self.lookahead = ema, ema_source, lookahead
        self.total = optimizer_steps(batches, self.k) * config.epochs
        """The run's optimizer steps (all epochs), T of Lookahead's alpha_t."""

    def _group(self, step: int) -> tuple[int, bool, bool]:
        """(size of the group of batch ``step``, whether ``step`` opens it, whether it closes it)."""
        start = step // self.k * self.k
        size = min(self.k, self.batches - start)
        return size, step == start, step == start + size - 1

    def context(self, step: int) -> contextlib.AbstractContextManager:
        """DDP's ``no_sync`` for every batch of a group but its last (nothing otherwise)."""
        _, _, last = self._group(step)
        no_sync = getattr(self.model, "no_sync", None)
        return contextlib.nullcontext() if last or no_sync is None else no_sync()

    def backward(self, step: int, loss: torch.Tensor) -> None:
        """Back-propagate batch ``step``'s loss; at a group's last batch, clip and step the optimizer,
        the schedule, Lookahead (at the global step ``scheduler.last_epoch``) and the EMA."""
        size, first, last = self._group(step)
        if first:
            self.optimizer.zero_grad(set_to_none=True)
        scaled = loss / size if size > 1 else loss
        (self.scaler.scale(scaled) if self.scaler is not None else scaled).backward()
        if not last:
            return
        if self.clip > 0:
            if self.scaler is not None:
                self.scaler.unscale_(self.optimizer)
            params = [p for group in self.optimizer.param_groups for p in group["params"]]
            nn.utils.clip_grad_norm_(params, self.clip, foreach=True)  # a tensor: no synchronisation
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        if self.lookahead is not None:
            source = self.model if self.ema_source is None else self.ema_source
            self.lookahead.step(source, self.scheduler.last_epoch, self.total)
        if self.ema is not None:
            self.ema.update_parameters(self.ema_source)
