"""Loaders yielding normalised (images, labels) batches on the training device, and :func:`build_loaders`.

Both loader kinds share one contract (:class:`Loader`): iterate for ``(images, labels)`` -- images float32
(N, C, H, W) normalised, or (N, V, C, H, W) for an eval loader of V views (ten crops, or eval_flip / eval_shift's
2, 3 or 6), labels int64 (N,), both on
``device``; ``len(loader)`` batches per epoch; ``set_epoch(e)`` before each epoch makes the order and the
augmentation a pure function of (seed, e, rank) -- iterating does not advance the epoch by itself.
The last partial batch of an epoch is kept (it is smaller; nothing is dropped).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from senet.data.augment import (
    BatchAugment,
    Normalize,
    alternate_flip_bits,
    alternate_flip_mask,
    cutout,
    eval_views,
    pad_uint8,
)
from senet.data.config import IMAGENET_MEAN, IMAGENET_STD, DataConfig, DataError, DataInfo
from senet.data.datasets import TensorSplit, channel_stats, load_tensor_dataset
from senet.data.folder import (
    ImageList,
    file_list_eval_split,
    file_list_splits,
    folder_eval_split,
    folder_splits,
)
from senet.data.images import BadImageError
from senet.data.sampling import Shard, mix_seed, subset_indices
from senet.data.transforms import EvalTransform, TrainTransform

log = logging.getLogger("senet.data")

Batch = tuple[torch.Tensor, torch.Tensor]
Sample = tuple[np.ndarray | None, int, str, str]  # (uint8 pixels or None if unreadable, label, path, reason)


class Loader(Protocol):
    """What the training engine relies on."""

    batch_size: int
    num_samples: int  # samples this rank sees per epoch (after sharding / padding)

    def __iter__(self) -> Iterator[Batch]: ...
    def __len__(self) -> int: ...
    def set_epoch(self, epoch: int) -> None: ...
    @property
    def bad_images(self) -> list[str]: ...
    @property
    def skipped(self) -> dict[str, int]: ...


class TensorLoader:
    """Batches of a uint8 tensor dataset resident on ``device``, augmented there (:class:`BatchAugment`).

    ``alternate_flip`` (training): image i is mirrored in epoch e iff b_i XOR (e mod 2), b_i drawn once from
    ``seed`` (the same on every rank and on resume). ``eval_flip`` / ``eval_shift`` (evaluation): batches of
    views (B, V, C, H, W), see :func:`senet.data.augment.eval_views`.
    """

    def __init__(
        self, split: TensorSplit, *, batch_size: int, device: torch.device, train: bool, augment: BatchAugment,
        seed: int, rank: int, world_size: int, eval_flip: bool = False, eval_shift: int = 0,
        alternate_flip: bool = False,
    ) -> None:  # fmt: skip
        pad = augment.pad if train and augment.mode in ("crop", "cifar") else 0
        # (N, C, H + 2 pad, W + 2 pad) uint8
        self.images = pad_uint8(split.images, pad, augment.pad_mode).to(device)
        self.labels = split.labels.to(device)  # (N,) int64
        self.batch_size, self.train, self.augment, self.epoch = batch_size, train, augment, 0
        self.eval_flip = eval_flip and not train  # eval batches (B, 2, C, H, W): each image and its mirror
        self.eval_shift = 0 if train else eval_shift  # and the views translated by +-s: (B, 3 or 6, C, H, W)
        self.flip_bits = None  # b_i, (N,) bool, of the alternating flip
        if alternate_flip and train:
            self.flip_bits = alternate_flip_bits(len(split), mix_seed(seed, 0xF11B)).to(device)
        self.shard = Shard(len(split), train, seed, rank, world_size)
        self.num_samples = self.shard.size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-self.num_samples // self.batch_size)

    @property
    def bad_images(self) -> list[str]:
        return []

    @property
    def skipped(self) -> dict[str, int]:
        return {}

    def __iter__(self) -> Iterator[Batch]:
        index = self.shard.indices(self.epoch).to(self.images.device)
        generator = torch.Generator().manual_seed(
            mix_seed(self.shard.seed, self.epoch, self.shard.rank, 0xA06)
        )
        flips = None if self.flip_bits is None else alternate_flip_mask(self.flip_bits, self.epoch)  # (N,)
        for chunk in index.split(self.batch_size):
            batch = self.images[chunk]
            if self.train:
                images = self.augment(batch, generator, None if flips is None else flips[chunk])
            else:
                images = self.augment.normalize(batch)
            if self.eval_flip or self.eval_shift:
                images = eval_views(images, flip=self.eval_flip, shift=self.eval_shift)  # (B, V, C, H, W)
            yield images, self.labels[chunk]


class _EpochSampler(Sampler):
    """Yields (index, per-sample seed) keys of this rank's shard for the current epoch."""

    def __init__(self, shard: Shard) -> None:
        self.shard, self.epoch = shard, 0

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for i in self.shard.indices(self.epoch).tolist():
            yield i, mix_seed(self.shard.seed, self.epoch, i)

    def __len__(self) -> int:
        return self.shard.size


class ImageFileDataset(Dataset):
    """Decodes ``images.paths[i]`` with ``transform`` (in a worker process).

    An unreadable file does not raise in the worker: it comes back as ``(None, label, path, reason)`` and the
    main process decides (stop with :class:`BadImageError`, or skip), so the error keeps its type and file.
    """

    def __init__(self, images: ImageList, transform: TrainTransform | EvalTransform) -> None:
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key: tuple[int, int]) -> Sample:
        index, seed = key
        path = self.images.paths[index]
        try:
            return self.transform(path, seed), self.images.labels[index], path, ""
        except BadImageError as err:
            return None, self.images.labels[index], path, err.reason


def _collate(samples: list[Sample]) -> tuple[torch.Tensor | None, torch.Tensor, list[tuple[str, str]]]:
    good = [s for s in samples if s[0] is not None]
    bad = [(s[2], s[3]) for s in samples if s[0] is None]
    if not good:
        return None, torch.empty(0, dtype=torch.int64), bad
    images = torch.from_numpy(np.stack([s[0] for s in good]))  # (B, C, H, W) or (B, 10, C, H, W) uint8
    return images, torch.tensor([s[1] for s in good], dtype=torch.int64), bad


class FolderLoader:
    """Batches of image files decoded and augmented in DataLoader workers, normalised on ``device``.

    With ``skip_bad``, unreadable files are left out of their batch (which is then smaller; a batch of only
    bad files is skipped) and listed in :attr:`bad_images`; otherwise the first one stops the run with a
    :class:`BadImageError` naming the file. ``cutout`` masks each normalised training batch on the device
    (:func:`senet.data.augment.cutout`), with random numbers drawn from (seed, epoch, rank).
    """

    def __init__(
        self, images: ImageList, transform: TrainTransform | EvalTransform, *, batch_size: int, device: torch.device,
        train: bool, normalize: Normalize, workers: int, skip_bad: bool, seed: int, rank: int, world_size: int,
        cutout: int = 0,
    ) -> None:  # fmt: skip
        self.cutout = cutout if train else 0
        self.sampler = _EpochSampler(Shard(len(images), train, seed, rank, world_size))
        self.loader = DataLoader(
            ImageFileDataset(images, transform), batch_size=batch_size, sampler=self.sampler,
            num_workers=workers, collate_fn=_collate, pin_memory=device.type == "cuda",
            drop_last=False,
        )  # fmt: skip
        self.batch_size, self.device, self.normalize, self.skip_bad = batch_size, device, normalize, skip_bad
        self.num_samples = len(self.sampler)
        self._bad: dict[str, str] = {}  # path -> reason
        self._scanned = images.skipped

    @property
    def skipped(self) -> dict[str, int]:
        """Files left out, counted by reason: by the folder scan (hidden files, symlink loops, folders
        linked twice) and, with ``skip_bad_images``, the unreadable ones so far (by error kind)."""
        reasons = [reason for _, reason in self._scanned]
        reasons += [f"unreadable ({reason.split(':')[0]})" for reason in self._bad.values()]
        return dict(sorted(Counter(reasons).items()))

    def set_epoch(self, epoch: int) -> None:
        self.sampler.epoch = epoch

    def __len__(self) -> int:
        return len(self.loader)

    @property
    def bad_images(self) -> list[str]:
        """Distinct unreadable files skipped so far (only with ``skip_bad_images``)."""
        return list(self._bad)

    def __iter__(self) -> Iterator[Batch]:
        batches = iter(self.loader)
        try:
            yield from self._batches(batches)
        finally:
            # Stop the workers now, also when the epoch ends early (an error, a break), rather than whenever
            # the iterator is garbage-collected: a late shutdown races with the queues' feeder threads.
            shutdown = getattr(batches, "_shutdown_workers", None)
            if shutdown is not None:
                shutdown()

    def _batches(self, batches: Iterator) -> Iterator[Batch]:
        shard = self.sampler.shard
        generator = torch.Generator().manual_seed(mix_seed(shard.seed, self.sampler.epoch, shard.rank, 0xC07))
        for images, labels, bad in batches:
            for path, reason in bad:
                if not self.skip_bad:
                    raise BadImageError(
                        path,
                        reason
                        + "; set DataConfig.skip_bad_images (senet train: --set data.skip_bad_images=true) to skip unreadable files",
                    )
                if path not in self._bad:
                    self._bad[path] = reason
                    log.warning(
                        "skipping unreadable image %s: %s (%d skipped so far)", path, reason, len(self._bad)
                    )
            if images is None:
                continue
            images = images.to(self.device, non_blocking=True)
            if images.dim() == 5:  # ten-crop (B, 10, C, H, W)
                b, k = images.shape[:2]
                x = self.normalize(images.flatten(0, 1)).unflatten(0, (b, k))
            else:
                x = self.normalize(images)  # (B, C, H, W)
                x = cutout(x, self.cutout, generator) if self.cutout else x
            yield x, labels.to(self.device, non_blocking=True)


def _file_splits(config: DataConfig) -> tuple[ImageList, ImageList]:
    root = config.check_root()
    if config.dataset == "folder":
        return folder_splits(root, train_split=config.train_split, val_split=config.val_split)
    train_list = Path(config.train_list) if config.train_list else root / f"{config.train_split}.txt"
    return file_list_splits(train_list, _val_list(config, root), root)


def _val_list(config: DataConfig, root: Path) -> Path:
    return Path(config.val_list) if config.val_list else root / f"{config.val_split}.txt"


def build_eval_loader(
    config: DataConfig, *, batch_size: int, device: torch.device | str = "cpu", seed: int = 0
) -> tuple[Loader, DataInfo]:
    """(eval loader, info) of the validation split alone: a folder needs no training split (a test-only
    folder works), its classes are the validation split's own. Tensor datasets are built whole (their
    normalisation comes from the training images)."""
    if config.is_tensor:
        _, loader, info = build_loaders(config, batch_size=batch_size, device=device, seed=seed)
        return loader, info
    if batch_size < 1:
        raise DataError(f"batch sizes must be >= 1, got batch_size={batch_size}")
    root = config.check_root()
    if config.dataset == "folder":
        val = folder_eval_split(root, val_split=config.val_split)
    else:
        val = file_list_eval_split(_val_list(config, root), root)
    val = val.subset(subset_indices(len(val), config.limit_val))
    eval_tf = EvalTransform(
        config.resolved_input_size(), config.resolved_eval_resize(), ten_crop=config.ten_crop,
        interpolation=config.interpolation,
    )  # fmt: skip
    loader = FolderLoader(
        val, eval_tf, batch_size=batch_size, device=torch.device(device), train=False,
        normalize=_normalize(config), workers=config.workers, skip_bad=config.skip_bad_images, seed=seed,
        rank=0, world_size=1,
    )  # fmt: skip
    return loader, _folder_info(config, val, val, 0)


def _normalize(config: DataConfig) -> Normalize:
    mean, std = config.mean or IMAGENET_MEAN, config.std or IMAGENET_STD
    return Normalize(mean, std, value_scale=config.value_scale, bgr=config.channel_order == "BGR")


def _folder_info(config: DataConfig, train: ImageList, val: ImageList, num_train: int) -> DataInfo:
    """The DataInfo of folder / file-list data with ``train``'s classes."""
    return DataInfo(
        num_classes=len(train.classes), in_chans=3, classes=list(train.classes),
        input_size=config.resolved_input_size(), mean=config.mean or IMAGENET_MEAN,
        std=config.std or IMAGENET_STD, eval_resize=config.resolved_eval_resize(),
        interpolation=config.interpolation, channel_order=config.channel_order,
        value_scale=config.value_scale, num_train=num_train, num_val=len(val), dataset=config.dataset,
    )  # fmt: skip


def build_loaders(
    config: DataConfig, *, batch_size: int, device: torch.device | str = "cpu", rank: int = 0, world_size: int = 1,
    seed: int = 0, eval_batch_size: int | None = None,
) -> tuple[Loader, Loader, DataInfo]:  # fmt: skip
    """(train loader, eval loader, info) for ``config``; every file/layout check runs here, before training.

    ``batch_size`` is per rank. Tensor datasets are moved to ``device`` once; folder data decodes in
    ``config.workers`` processes. See :mod:`senet.data.sampling` for the sharding with ``world_size > 1``.
    """
    if batch_size < 1 or (eval_batch_size is not None and eval_batch_size < 1):
        raise DataError(
            f"batch sizes must be >= 1, got batch_size={batch_size}, eval_batch_size={eval_batch_size}"
        )
    if not 0 <= rank < world_size:
        raise DataError(f"rank {rank} is outside 0..{world_size - 1} (world_size {world_size})")
    device = torch.device(device)
    eval_bs = eval_batch_size or batch_size
    size = config.resolved_input_size()
    common = dict(device=device, seed=seed, rank=rank, world_size=world_size)
    if config.is_tensor:
        train, val = load_tensor_dataset(config)
        side = min(train.images.shape[-2:])
        if config.pad_mode == "reflect" and config.resolved_pad() >= side:
            raise DataError(
                f"DataConfig.pad: reflection padding by {config.resolved_pad()} px needs a pad smaller than "
                f"the {side}-pixel images of {config.dataset}"
            )
        mean, std = channel_stats(train.images)
        normalize = Normalize(mean, std)
        augment = BatchAugment(
            config.resolved_augment(), size, config.resolved_pad(), config.cutout, normalize, config.pad_mode
        )
        train_loader = TensorLoader(
            train, batch_size=batch_size, train=True, augment=augment,
            alternate_flip=config.flip == "alternate", **common,
        )  # fmt: skip
        val_loader = TensorLoader(
            val, batch_size=eval_bs, train=False, augment=augment, eval_flip=config.eval_flip,
            eval_shift=config.eval_shift, **common,
        )  # fmt: skip
        info = DataInfo(
            num_classes=len(train.classes), in_chans=int(train.images.shape[1]), classes=list(train.classes), input_size=size,
            mean=mean, std=std, eval_resize=config.resolved_eval_resize(), num_train=len(train), num_val=len(val),
            dataset=config.dataset,
        )  # fmt: skip
        return train_loader, val_loader, info
    train, val = _file_splits(config)
    train = train.subset(subset_indices(len(train), config.limit_train))
    val = val.subset(subset_indices(len(val), config.limit_val))
    filt, normalize = config.interpolation, _normalize(config)
    resize = config.resolved_eval_resize()
    flip = config.resolved_augment() == "imagenet"
    train_tf = TrainTransform(size, config.scale, config.ratio, flip=flip, interpolation=filt)
    if config.resolved_augment() == "none":
        train_tf = EvalTransform(size, resize, interpolation=filt)
    eval_tf = EvalTransform(size, resize, ten_crop=config.ten_crop, interpolation=filt)
    opts = dict(normalize=normalize, workers=config.workers, skip_bad=config.skip_bad_images, **common)
    train_loader = FolderLoader(
        train, train_tf, batch_size=batch_size, train=True, cutout=config.cutout, **opts
    )
    val_loader = FolderLoader(val, eval_tf, batch_size=eval_bs, train=False, **opts)
    return train_loader, val_loader, _folder_info(config, train, val, len(train))


def load_image(path: str | Path, info: DataInfo) -> torch.Tensor:
    """One image file as the eval transform sees it: float32 (1, C, H, W) normalised, on the CPU.

    Shorter side resized to ``info.eval_resize`` then centre-cropped to ``info.input_size``; converted to
    grey for 1-channel datasets (digits/MNIST expect bright strokes on a dark background).
    """
    resize = max(info.eval_resize, info.input_size)
    transform = EvalTransform(
        info.input_size, resize, channels=info.in_chans, interpolation=info.interpolation
    )
    pixels = torch.from_numpy(transform(str(path)))[None]  # (1, C, H, W) uint8
    bgr = info.channel_order == "BGR"
    return Normalize(tuple(info.mean), tuple(info.std), value_scale=info.value_scale, bgr=bgr)(pixels)


def forward_eval(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Logits (N, K) for an eval batch; a batch of views (N, V, C, H, W) (ten crops, or an image, its mirror
    and its translations) gives the log of the views' mean softmax, every view weighted 1/V. (airbench94
    instead averages logits, weighting each translation with its mirror 1/4, the untranslated pair 1/2.)"""
    if images.dim() == 4:
        return model(images)
    n, k = images.shape[:2]
    probs = model(images.flatten(0, 1)).float().softmax(-1).unflatten(0, (n, k)).mean(1)
    return probs.clamp_min(1e-12).log()
