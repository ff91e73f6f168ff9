"""Training sums kept on the device and read back to the host once per log interval.

Every ``tensor.item()``, ``bool(tensor)`` or ``int(tensor)`` of a CUDA tensor stops the host until
the GPU has caught up (a pipeline stall). :class:`StepMeter` therefore adds each step's loss, its
correct count and a finite flag to tensors on the device, and copies them to the host only when
:meth:`StepMeter.read` is called: every ``log_every_steps`` steps and at the end of the epoch. Under
DDP the read is also the one ``all_reduce`` of the interval (the NaN flag of every process).
Every copy to the host goes through :func:`to_host`, which counts them (the tests check the count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from senet.train import distributed as dist

_reads = 0
"""How many times :func:`to_host` copied values to the host (in this process)."""


def to_host(values: torch.Tensor) -> list[float]:
    """``values`` (1-D) as Python floats: the one device-to-host synchronisation of a read."""
    global _reads
    _reads += 1
    return values.tolist()


def host_reads() -> int:
    """The number of :func:`to_host` calls so far (a counter for tests and profiling)."""
    return _reads


@dataclass(frozen=True)
class Reading:
    """What one :meth:`StepMeter.read` found."""

    loss: float
    """Mean training loss over the steps since the previous read, over every process (nan: none)."""
    loss_sum: float
    """Summed over the processes: sum of per-sample losses since the epoch began."""
    correct: float
    """Summed over the processes: top-1 hits since the epoch began."""
    bad_step: int
    """The first step (1-based, this epoch) whose loss was NaN or inf on this process; 0: none."""
    bad_loss: float
    """That step's loss."""
    any_bad: bool
    """Whether any process saw a non-finite loss."""
    first_step: int
    """The first step (1-based) of the interval read."""
    steps: int
    """The last step (1-based) of the interval read: the steps done this epoch."""


class StepMeter:
    """Per-epoch sums (loss x samples, top-1 hits) and the first non-finite step, on ``device``.

    Sample counts are host integers (the batch sizes are known there): they cost nothing.
    """

    def __init__(self, device: torch.device, every: int) -> None:
        dtype = torch.float64 if device.type != "mps" else torch.float32
        self.every = every
        self.sums = torch.zeros(2, dtype=dtype, device=device)  # (loss sum, correct)
        self.first_bad = torch.zeros((), dtype=dtype, device=device)  # 1-based step; 0: none
        self.bad_loss = torch.zeros((), dtype=dtype, device=device)
        self.count = 0
        self.last_read = 0
        """The step count (1-based) at the previous read (0: none yet this epoch)."""
        self._read_loss_sum = 0.0
        self._read_count = 0
        self.total_loss = 0.0
        """Loss x samples summed over the processes, as of the last read."""
        self.total_correct = 0.0
        """Top-1 hits summed over the processes, as of the last read."""

    def add(self, step: int, loss: torch.Tensor, correct: torch.Tensor, n: int) -> None:
        """Add step ``step``'s (0-based) mean ``loss`` over ``n`` samples and its ``correct`` count
        (0-d tensors on the device); no synchronisation."""
        loss = loss.detach().to(self.sums.dtype)
        self.sums += torch.stack([loss * n, correct.to(self.sums.dtype)])
        newly = ~torch.isfinite(loss) & (self.first_bad == 0)
        self.first_bad = torch.where(newly, float(step + 1), self.first_bad)
        self.bad_loss = torch.where(newly, loss, self.bad_loss)
        self.count += n

    def due(self, step: int) -> bool:
        """Whether the values are read after step ``step`` (0-based): every ``every`` steps."""
        return self.every > 0 and (step + 1) % self.every == 0

    def read(self, steps: int, env: dist.DistEnv) -> Reading:
        """Copy the sums to the host (one synchronisation; under DDP one ``all_reduce`` before it)
        after ``steps`` steps of this epoch."""
        local = torch.cat([self.sums, (self.first_bad > 0).to(self.sums.dtype)[None]])
        total = dist.all_reduce_sum(local, env)
        values = to_host(torch.cat([total, self.first_bad[None], self.bad_loss[None]]))
        loss_sum, correct, bad, first_bad, bad_loss = values
        n = (self.count - self._read_count) * env.world_size  # samples of every process since the last read
        mean = (loss_sum - self._read_loss_sum) / n if n else math.nan
        first_step = self.last_read + 1
        self._read_loss_sum, self._read_count, self.last_read = loss_sum, self.count, steps
        self.total_loss, self.total_correct = loss_sum, correct
        return Reading(mean, loss_sum, correct, int(first_bad), bad_loss, bad > 0, first_step, steps)
