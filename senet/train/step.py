"""The optimizer side of a training step: gradient accumulation, clipping, fp16 scaling, the
schedule and the moving average of the weights.

With ``accumulate_steps = k`` the batches of an epoch form groups of k (the last group may be
shorter); each batch's loss is divided by its group's size before ``backward``, so the summed
gradient is that of the group's mean loss: one step over k batches of b equals one step over a
batch of k * b (BN, which normalises each batch on its own, aside). The optimizer, the schedule
and the EMA step once per group; under DDP the gradients are averaged over processes only at the
group's last batch (``no_sync`` before).
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from senet.train.config import TrainConfig


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
    ) -> None:
        self.model, self.optimizer, self.scheduler, self.scaler = model, optimizer, scheduler, scaler
        self.k, self.batches, self.clip = config.accumulate_steps, batches, config.clip_grad_norm
        self.ema, self.ema_source = ema, ema_source

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
        the schedule and the EMA."""
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
        if self.ema is not None:
            self.ema.update_parameters(self.ema_source)
