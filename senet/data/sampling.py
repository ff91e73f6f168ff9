"""Which samples a rank sees in an epoch: a deterministic function of (seed, epoch, rank, world_size).

Training: one permutation per epoch (same on every rank), padded by repeating its first samples to a
multiple of ``world_size`` (at most world_size - 1 repeats, none when world_size = 1), then rank r takes
positions r, r + W, r + 2W, ... -- disjoint shards of equal length, so every rank runs the same number of
batches. Evaluation: no shuffle and no padding; rank r takes samples r, r + W, ... (shards differ in length by
at most one sample, and the union is the whole split exactly once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def mix_seed(*parts: int) -> int:
    """A 63-bit seed derived from integers (e.g. seed, epoch, rank, stream) by numpy's SeedSequence."""
    return int(
        np.random.SeedSequence([int(p) & 0xFFFFFFFFFFFFFFFF for p in parts]).generate_state(2, np.uint64)[0]
        >> 1
    )


def shard_size(n: int, *, rank: int, world_size: int, pad: bool) -> int:
    """Samples rank ``rank`` sees per epoch out of ``n``."""
    if pad:
        return -(-n // world_size)
    return len(range(rank, n, world_size))


def epoch_indices(
    n: int, *, shuffle: bool, pad: bool, seed: int, epoch: int, rank: int, world_size: int
) -> torch.Tensor:
    """Indices (int64) of rank ``rank``'s shard of ``n`` samples in epoch ``epoch``."""
    if shuffle:
        generator = torch.Generator().manual_seed(mix_seed(seed, epoch, 0x5EED))
        order = torch.randperm(n, generator=generator)
    else:
        order = torch.arange(n)
    if pad and world_size > 1 and n % world_size:
        total = -(-n // world_size) * world_size
        order = torch.cat([order, order.repeat(-(-total // n))[: total - n]])
    return order[rank::world_size]


def subset_indices(n: int, limit: int) -> list[int]:
    """``limit`` evenly spaced indices of ``range(n)`` (all when limit is 0 or >= n), covering every class of a
    sorted folder list."""
    if not limit or limit >= n:
        return list(range(n))
    return [int(i) for i in np.linspace(0, n - 1, limit).round()]


@dataclass(frozen=True)
class Shard:
    """Rank ``rank``'s share of ``n`` samples: shuffled and padded when ``train``, in order otherwise."""

    n: int
    train: bool
    seed: int
    rank: int
    world_size: int

    @property
    def size(self) -> int:
        """Samples per epoch on this rank."""
        return shard_size(self.n, rank=self.rank, world_size=self.world_size, pad=self.train)

    def indices(self, epoch: int) -> torch.Tensor:
        """This rank's sample indices (int64) for ``epoch``."""
        return epoch_indices(
            self.n,
            shuffle=self.train,
            pad=self.train,
            seed=self.seed,
            epoch=epoch,
            rank=self.rank,
            world_size=self.world_size,
        )
