"""Typed configuration of the data pipeline: what to load (:class:`DataConfig`) and what came out (:class:`DataInfo`)."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from senet.errors import SenetError

#: Dataset kinds understood by :func:`senet.data.build_loaders`.
Dataset = Literal["digits", "mnist", "fashion-mnist", "cifar10", "cifar100", "folder", "filelist"]
DATASETS: tuple[str, ...] = get_args(Dataset)
TENSOR_DATASETS = DATASETS[:5]
FILE_DATASETS = DATASETS[5:]

#: Augmentation presets. ``default`` resolves per dataset (see :func:`resolve_augment`).
Augment = Literal["default", "none", "crop", "cifar", "imagenet"]
AUGMENTS: tuple[str, ...] = get_args(Augment)

#: Horizontal-flip schedules of the cifar augmentation (see ``DataConfig.flip``).
Flip = Literal["random", "alternate"]
FLIPS: tuple[str, ...] = get_args(Flip)

#: What the crop/cifar augmentation pads with (see ``DataConfig.pad_mode``).
PadMode = Literal["zeros", "reflect"]
PAD_MODES: tuple[str, ...] = get_args(PadMode)

#: Input size used when ``DataConfig.input_size`` is None.
DEFAULT_INPUT_SIZE = {"digits": 16, "mnist": 28, "fashion-mnist": 28, "cifar10": 32, "cifar100": 32}
DEFAULT_FOLDER_SIZE = 224

#: ImageNet channel statistics (RGB, on a 0..1 scale) used for folder/filelist data.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class DataError(SenetError):
    """Bad data input (a missing or corrupt file, a wrong layout, a label out of range): the message names it."""


@dataclass(frozen=True)
class DataConfig:
    """What to load and how to augment it; every field is an option (``--data.root`` ...)."""

    dataset: Dataset = "digits"
    """One of digits, mnist, fashion-mnist, cifar10, cifar100, folder, filelist. digits is
    scikit-learn's embedded 8x8 digits and needs nothing outside the install."""
    root: str | None = None
    """The dataset's folder (none for digits; a relative path is made absolute). mnist: the four idx files (.gz or raw); cifar: the
    extracted batches folder or its parent; folder: ROOT/<train_split>/<class>/*.jpg; filelist:
    the root the lists' paths are resolved against."""
    input_size: int | None = None
    """Side of the square network input; none: the dataset's (digits 16, mnist 28, cifar 32,
    folders 224)."""
    augment: Augment = "default"
    """default (cifar -> cifar, folders -> imagenet, digits/mnist -> crop), none, crop (zero-pad +
    random crop), cifar (crop + horizontal flip) or imagenet (random-resized crop + flip; folders)."""
    pad: int | None = None
    """Padding (pixels) of the crop/cifar augmentation; none: 4 for cifar, 2 otherwise."""
    pad_mode: PadMode = "zeros"
    """Tensor datasets: what the crop/cifar augmentation pads with: zeros (black pixels, as the
    usual CIFAR crop) or reflect (the image mirrored at its border, as airbench94; needs pad < the
    image side), so that a translated image has no black band."""
    flip: Flip = "random"
    """Tensor datasets, cifar augmentation: random (each image mirrored with probability 1/2, drawn anew
    every epoch) or alternate (airbench94's alternating flip, Jordan 2024, Sec. 3.6: a bit b_i per image,
    drawn once from the seed, the same on every rank and on resume; image i is mirrored in epoch e iff
    b_i XOR (e mod 2), so each image is seen mirrored every other epoch). The crop stays random."""
    cutout: int = 0
    """Side in pixels of the Cutout square (DeVries & Taylor 2017; 0: none): training images only,
    after the crop and flip, on the normalised image (so the square is the mean); one square per
    image, centred at a uniformly random pixel and clipped at the border. Drawn from the seed."""
    scale: tuple[float, float] = (0.08, 1.0)
    """Area fraction range of the imagenet random-resized crop."""
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    """Aspect-ratio range of the imagenet random-resized crop."""
    eval_resize: int | None = None
    """Shorter side before the evaluation centre crop (folders); none: 256 for 224, 352 for 299,
    else round(input_size / 0.875)."""
    ten_crop: bool = False
    """Evaluate folders on 10 crops (4 corners + centre, and their mirrors)."""
    eval_flip: bool = False
    """Evaluate tensor datasets on each image and its mirror image, scoring the mean of the two
    softmax outputs (test-time flip, as the fastest CIFAR trainers do; folders: ten_crop)."""
    eval_shift: int = 0
    """Tensor datasets: also evaluate each image translated by +s and -s pixels in both axes (s = this;
    reflection padding by s, top-left and bottom-right crops: airbench94's multi-crop test-time
    augmentation), scoring the mean softmax of the 3 views, or of 6 with eval_flip (each and its mirror).
    0: none; must be < input_size / 2."""
    workers: int = 2
    """DataLoader worker processes for folder data (0: decode in the main process)."""
    skip_bad_images: bool = False
    """Skip unreadable images (counted) instead of stopping."""
    train_split: str = "train"
    """Training sub-folder (folder) or list name ROOT/<split>.txt (filelist)."""
    val_split: str = "val"
    """Validation sub-folder (folder) or list name (filelist)."""
    train_list: str | None = None
    """An explicit training file list (filelist), instead of <root>/<train_split>.txt."""
    val_list: str | None = None
    """An explicit validation file list (filelist)."""
    download: bool = False
    """Fetch missing mnist/fashion-mnist/cifar files into root (md5-checked)."""
    limit_train: int = 0
    """Keep only the first N training samples (0: all), for smoke runs."""
    limit_val: int = 0
    """Keep only the first N validation samples (0: all)."""
    mean: tuple[float, ...] | None = None
    """Folder data: per-channel mean on the value_scale; none: ImageNet's (0.485, 0.456, 0.406)."""
    std: tuple[float, ...] | None = None
    """Folder data: per-channel std on the value_scale; none: ImageNet's (0.229, 0.224, 0.225)."""
    interpolation: Literal["bilinear", "bicubic"] = "bilinear"
    """Folder data: the resize filter (timm's SE weights were evaluated bicubic)."""
    channel_order: Literal["RGB", "BGR"] = "RGB"
    """Folder data: the network's channel order (Caffe models take BGR)."""
    value_scale: float = 1.0
    """Folder data: pixels run from 0 to this before normalising (255: Caffe's convention)."""

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise DataError(
                f"DataConfig.dataset: unknown dataset {self.dataset!r}; choose from {', '.join(DATASETS)}"
            )
        if self.augment not in AUGMENTS:
            raise DataError(
                f"DataConfig.augment: unknown augmentation {self.augment!r}; choose from {', '.join(AUGMENTS)}"
            )
        if self.input_size is not None and self.input_size < 4:
            raise DataError(f"DataConfig.input_size: {self.input_size} is too small (need >= 4)")
        if self.flip not in FLIPS:
            raise DataError(f"DataConfig.flip: unknown flip {self.flip!r}; choose from {', '.join(FLIPS)}")
        if self.pad_mode not in PAD_MODES:
            raise DataError(
                f"DataConfig.pad_mode: unknown mode {self.pad_mode!r}; choose from {', '.join(PAD_MODES)}"
            )
        for name in ("cutout", "eval_shift", "workers", "limit_train", "limit_val"):
            if getattr(self, name) < 0:
                raise DataError(f"DataConfig.{name}: must be >= 0, got {getattr(self, name)}")
        if self.pad is not None and self.pad < 0:
            raise DataError(f"DataConfig.pad: must be >= 0, got {self.pad}")
        lo, hi = self.scale
        if not 0 < lo <= hi <= 1:
            raise DataError(f"DataConfig.scale: need 0 < min <= max <= 1, got {self.scale}")
        if not 0 < self.ratio[0] <= self.ratio[1] < math.inf:
            raise DataError(f"DataConfig.ratio: need 0 < min <= max (finite), got {self.ratio}")
        if not 0 < self.value_scale < math.inf:
            raise DataError(f"DataConfig.value_scale: must be finite and > 0, got {self.value_scale}")
        if self.mean is not None and not all(math.isfinite(m) for m in self.mean):
            raise DataError(f"DataConfig.mean: must be finite, got {self.mean}")
        if self.std is not None and not all(0 < s < math.inf for s in self.std):
            raise DataError(f"DataConfig.std: must be finite and > 0, got {self.std}")
        for name in ("root", "train_list", "val_list"):  # config.json must not depend on the directory
            value = getattr(self, name)
            if value:
                object.__setattr__(self, name, os.path.abspath(os.path.expanduser(value)))
        tensor = self.dataset in TENSOR_DATASETS
        if tensor and self.augment == "imagenet":
            raise DataError(
                f"DataConfig.augment: 'imagenet' needs folder/filelist data, not {self.dataset!r}"
            )
        if not tensor and self.augment in ("crop", "cifar"):
            raise DataError(
                f"DataConfig.augment: {self.augment!r} applies to tensor datasets, not {self.dataset!r}"
            )
        if self.eval_flip and not tensor:
            raise DataError("DataConfig.eval_flip applies to tensor datasets; folders have ten_crop")
        self._check_tensor_tricks(tensor)
        if tensor and (self.ten_crop or self.eval_resize is not None):
            raise DataError("DataConfig.ten_crop / eval_resize apply to folder/filelist data only")
        custom = (self.mean, self.std, self.interpolation, self.channel_order, self.value_scale)
        if tensor and custom != (None, None, "bilinear", "RGB", 1.0):
            raise DataError(
                "DataConfig.mean / std / interpolation / channel_order / value_scale apply to folder data"
            )

    def _check_tensor_tricks(self, tensor: bool) -> None:
        """flip="alternate" and eval_shift: tensor datasets only, and sizes that make sense."""
        if self.eval_shift and not tensor:
            raise DataError("DataConfig.eval_shift applies to tensor datasets; folders have ten_crop")
        size = self.resolved_input_size()
        if self.eval_shift and 2 * self.eval_shift >= size:
            raise DataError(
                f"DataConfig.eval_shift: {self.eval_shift} pixels is too large for {size}-pixel images "
                f"(need eval_shift < input_size / 2, i.e. <= {(size - 1) // 2})"
            )
        if self.pad_mode == "reflect" and not tensor:
            raise DataError(
                f"DataConfig.pad_mode: 'reflect' applies to tensor datasets, not {self.dataset!r}"
            )
        if self.flip == "alternate" and not tensor:
            raise DataError(f"DataConfig.flip: 'alternate' applies to tensor datasets, not {self.dataset!r}")
        if self.flip == "alternate" and self.resolved_augment() != "cifar":
            raise DataError(
                f"DataConfig.flip: 'alternate' needs the cifar augmentation (the one that flips), "
                f"not {self.resolved_augment()!r}"
            )

    @property
    def is_tensor(self) -> bool:
        """True for datasets kept resident as uint8 tensors on the device."""
        return self.dataset in TENSOR_DATASETS

    def check_root(self) -> Path:
        """The root folder as a Path; an empty or missing root is an error for every dataset but digits."""
        if not self.root:
            if self.dataset == "digits":
                return Path(".")
            raise DataError(f"DataConfig.root: dataset {self.dataset!r} needs a root folder (none given)")
        return Path(self.root)

    def resolved_input_size(self) -> int:
        if self.input_size is not None:
            return self.input_size
        return DEFAULT_INPUT_SIZE.get(self.dataset, DEFAULT_FOLDER_SIZE)

    def resolved_augment(self) -> str:
        if self.augment != "default":
            return self.augment
        if self.dataset in ("cifar10", "cifar100"):
            return "cifar"
        if self.is_tensor:
            return "crop"
        return "imagenet"

    def resolved_pad(self) -> int:
        if self.pad is not None:
            return self.pad
        return 4 if self.dataset in ("cifar10", "cifar100") else 2

    def resolved_eval_resize(self) -> int:
        """Shorter side before the centre crop: 256 -> 224 and 352 -> 299 as in the paper (Sec. 5.1)."""
        size = self.resolved_input_size()
        if self.eval_resize is not None:
            if self.eval_resize < size:
                raise DataError(f"DataConfig.eval_resize: {self.eval_resize} is smaller than the crop {size}")
            return self.eval_resize
        if not self.is_tensor:
            return {224: 256, 299: 352}.get(size, round(size / 0.875))
        return size

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("scale", "ratio"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


@dataclass(frozen=True)
class DataInfo:
    """What a built dataset looks like; enough to rebuild the eval transform for prediction.

    num_classes: K; in_chans: 1 (digits, mnist) or 3; classes: K names (index = label);
    input_size: side of the network input; mean/std: per-channel normalisation on a 0..1 scale;
    eval_resize: shorter side before the eval centre crop (== input_size for tensor datasets);
    num_train / num_val: samples in each split (before sharding).
    """

    num_classes: int
    in_chans: int
    classes: list[str]
    input_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    eval_resize: int = 0
    interpolation: str = "bilinear"
    channel_order: str = "RGB"
    value_scale: float = 1.0
    num_train: int = 0
    num_val: int = 0
    dataset: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataInfo:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["classes"] = list(known["classes"])
        known["mean"] = tuple(known["mean"])
        known["std"] = tuple(known["std"])
        return cls(**known)
