"""Epoch order and distributed shards: deterministic, disjoint, equal batch counts on every rank."""

from __future__ import annotations

import pytest
import torch

from senet.data import DataConfig, build_loaders
from senet.data.augment import BatchAugment, Normalize
from senet.data.datasets import TensorSplit
from senet.data.loaders import TensorLoader
from senet.data.sampling import epoch_indices, mix_seed, subset_indices


@pytest.mark.parametrize(("n", "world"), [(10, 3), (7, 2), (2, 4), (12, 4)])
def test_train_shards_disjoint_equal_and_cover(n: int, world: int) -> None:
    shards = [
        epoch_indices(n, shuffle=True, pad=True, seed=1, epoch=2, rank=r, world_size=world)
        for r in range(world)
    ]
    assert len({len(s) for s in shards}) == 1 and len(shards[0]) == -(-n // world)
    allidx = torch.cat(shards)
    assert set(allidx.tolist()) == set(range(n)) and len(allidx) - n < max(world, n)


@pytest.mark.parametrize(("n", "world"), [(10, 3), (7, 2), (5, 1)])
def test_eval_shards_partition_exactly(n: int, world: int) -> None:
    shards = [
        epoch_indices(n, shuffle=False, pad=False, seed=0, epoch=0, rank=r, world_size=world)
        for r in range(world)
    ]
    assert sorted(torch.cat(shards).tolist()) == list(range(n))


def test_order_depends_on_seed_and_epoch_only() -> None:
    def order(seed: int, epoch: int) -> list[int]:
        return epoch_indices(
            100, shuffle=True, pad=True, seed=seed, epoch=epoch, rank=0, world_size=1
        ).tolist()

    assert order(0, 1) == order(0, 1) and order(0, 1) != order(0, 2) and order(0, 1) != order(1, 1)
    assert mix_seed(1, 2) == mix_seed(1, 2) != mix_seed(2, 1)


def test_subset_indices_spread() -> None:
    assert subset_indices(10, 0) == list(range(10)) and subset_indices(100, 3) == [0, 50, 99]


def test_tensor_loader_ranks_disjoint_same_batch_count() -> None:
    n = 301
    ids = torch.arange(n)
    pixels = (
        torch.stack([ids % 256, ids // 256], 1).view(n, 2, 1, 1).to(torch.uint8)
    )  # each image encodes its index
    split = TensorSplit(pixels, ids % 10, [str(i) for i in range(10)])
    augment = BatchAugment("none", 1, 0, 0, Normalize((0.0, 0.0), (1 / 255, 1 / 255)))
    seen = []
    for rank in range(3):
        common = dict(device=torch.device("cpu"), augment=augment, seed=3, rank=rank, world_size=3)
        train = TensorLoader(split, batch_size=32, train=True, **common)
        val = TensorLoader(split, batch_size=32, train=False, **common)
        train.set_epoch(1)
        batches = list(train)
        assert len(batches) == len(train) == 4 and train.num_samples == 101
        seen.append(torch.cat([x[:, 0, 0, 0] + 256 * x[:, 1, 0, 0] for x, _ in batches]).round().long())
        assert val.num_samples == len(range(rank, n, 3))
    union = torch.cat(seen)
    assert set(union.tolist()) == set(range(n)) and len(union) == n + 2  # 2 repeats pad 301 to 303


def test_digits_two_ranks() -> None:
    lengths = []
    for rank in range(2):
        train, _, info = build_loaders(DataConfig(), batch_size=100, rank=rank, world_size=2)
        lengths.append((len(train), train.num_samples))
    assert lengths[0] == lengths[1] == (8, info.num_train // 2)
