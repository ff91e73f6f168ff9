"""Training configuration: the typed :class:`TrainConfig` and the paper's recipes as named presets.

Every preset cites where its numbers come from (paper = Hu et al., TPAMI 2019, v4; the summary
is in ``shared/reference/paper.md`` "Training settings"). Values the paper does not state are
marked "not stated" with the source actually used. Presets are plain functions returning a
:class:`TrainConfig`; command-line options, ``--set`` and ``--config`` files go through
:mod:`senet.config`, which checks every field name and type.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from senet.config import ConfigError, apply, from_dict, to_dict
from senet.data import DataConfig
from senet.layers.se import SEConfig
from senet.spec import ModelSpec, from_legacy

Optimizer = Literal["sgd", "adamw"]
Schedule = Literal["step", "multistep", "cosine", "constant"]
Amp = Literal["none", "bf16", "fp16"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs; ``config.json`` in the run folder is this, resolved.

    Every field is an option of ``senet train`` (``--lr``, ``--data.root``,
    ``--model.se.reduction``), of ``--set KEY=VALUE`` and of ``--config FILE``.
    """

    model: ModelSpec = field(default_factory=ModelSpec)
    """The network: a registered name and its options (``num_classes`` and ``in_chans`` come
    from the data). A bare name given in Python becomes ``ModelSpec(name)``."""
    data: DataConfig = field(default_factory=DataConfig)
    """The data pipeline."""
    weights: str | None = None
    """Start from these weights (a model folder, a training run or checkpoint, a converted file):
    the backbone loads, the classifier is re-initialised when the data has another number of
    classes, the first convolution adapts to the data's channels. none: He initialisation."""
    freeze_backbone: bool = False
    """Train only the classifier: every other parameter stays fixed, BN statistics included."""
    backbone_lr_scale: float = 1.0
    """The backbone's learning rate as a fraction of the classifier's (fine-tuning; 1: the same)."""
    recipe: str = "custom"
    """The name of the recipe this configuration started from (a label, recorded in config.json)."""
    epochs: int = 10
    """Training epochs."""
    batch_size: int = 128
    """The global minibatch (split evenly over DDP processes)."""
    eval_batch_size: int | None = None
    """Evaluation batch size; none: the training batch size."""
    optimizer: Optimizer = "sgd"
    """SGD with momentum (the paper) or AdamW."""
    lr: float = 0.1
    """Base learning rate (scaled linearly when lr_reference_batch is set)."""
    lr_reference_batch: int | None = None
    """When set, the rate is lr * batch_size * accumulate_steps / lr_reference_batch (Goyal et al.
    2017): scaled by the effective batch."""
    momentum: float = 0.9
    """SGD momentum."""
    nesterov: bool = False
    """Nesterov momentum (needs momentum > 0)."""
    weight_decay: float = 1e-4
    """L2 weight decay."""
    schedule: Schedule = "multistep"
    """Learning-rate schedule, set every iteration: step (x gamma every step_size epochs),
    multistep (x gamma at each milestone), cosine or constant."""
    step_size: int = 30
    """Epochs between drops of the step schedule."""
    milestones: tuple[float, ...] = (0.5, 0.75)
    """Drops of the multistep schedule, as increasing fractions of the epochs."""
    gamma: float = 0.1
    """Factor of each learning-rate drop."""
    warmup_epochs: float = 0.0
    """Epochs of linear warm-up before the schedule."""
    warmup_lr: float | None = None
    """A constant rate for the warm-up epochs instead of the linear ramp (He et al. 2016a's 0.01
    before ResNet-110's 0.1 on CIFAR); scaled with lr by lr_reference_batch. none: the ramp."""
    label_smoothing: float = 0.0
    """Label smoothing epsilon of the cross-entropy."""
    amp: Amp = "none"
    """Autocast dtype: bf16 (CPU and GPU) or fp16 (GPU, with a gradient scaler)."""
    channels_last: bool = True
    """Train in the channels_last memory format (NHWC). On by default: measured faster on CPU for
    both SE networks and their twins (one training step, 1 thread, interleaved medians, AVX2 EPYC:
    SE-ResNet-20 at batch 128 1.19x, SE-ResNet-50 at batch 8 1.12x over NCHW; docs/speed.md)."""
    compile: bool = False
    """torch.compile the model."""
    device: str = "auto"
    """auto (CUDA when available), cpu, cuda, cuda:1 ..."""
    threads: int = 0
    """torch intra-op CPU threads (0: torch's default, one per core)."""
    seed: int = 0
    """Random seed."""
    deterministic: bool = False
    """Deterministic algorithms and per-epoch seeding: a resumed run reproduces an uninterrupted one."""
    out_dir: str = ""
    """The run folder ('': runs/<model>-<dataset>-<time>). A new run refuses a folder that holds
    another run: continue that one with --resume, or see overwrite."""
    overwrite: bool = False
    """Start a new run in an out_dir that holds another run: the old run's files move to
    OUT.old-<time> first (nothing is deleted). Not with --resume; recorded as false."""
    checkpoint_every: int = 1
    """Write a checkpoint every N epochs (and after the last)."""
    keep_checkpoints: int = 2
    """How many of the newest checkpoints to keep. The oldest is deleted after the new one is
    complete, so the disk needs room for keep_checkpoints + 1 of them while one is written."""
    freeze_bn_last_epochs: int = 0
    """Freeze every BN layer (statistics and affine parameters) for the last N epochs, as for
    SENet-154 (Appendix)."""
    sync_bn: bool = False
    """SyncBatchNorm under DDP (CUDA only)."""
    tensorboard: bool = False
    """Write TensorBoard logs (needs the tensorboard extra: pip install 'senet[tensorboard]')."""
    limit_train_batches: int = 0
    """Stop each epoch after N batches (0: all), for smoke runs."""
    limit_val_batches: int = 0
    """Stop each evaluation after N batches (0: all)."""
    log_every_steps: int = 50
    """Read the training loss, accuracy and NaN check back from the device every N steps (and at
    the end of each epoch; 0: only then): one host synchronisation per N steps, not per step. The
    progress display shows the values of the last read; a NaN/inf loss stops the run at the read
    after it, naming its step."""
    accumulate_steps: int = 1
    """Gradient accumulation: one optimizer step per N batches of batch_size, an effective batch
    of batch_size * N (e.g. the paper's 1,024 as 4 x 256 on a few GPUs). lr_reference_batch scales
    the rate by this effective batch, and the schedule counts optimizer steps."""
    clip_grad_norm: float = 0.0
    """Clip the gradients' global L2 norm to this before each optimizer step (0: off)."""
    no_decay_norm_bias: bool = False
    """No weight decay on normalisation-layer parameters (BN gamma, beta) and biases, as in timm
    and torchvision's recipes; off: decay on every parameter (the paper's Caffe solvers)."""
    ema_decay: float = 0.0
    """Keep an exponential moving average of the weights (and BN statistics), updated after each
    optimizer step: ema = decay * ema + (1 - decay) * weights (0: off; e.g. 0.9998). When on, the
    validation metrics (top1, val_loss, result.json) are the EMA's, the trained weights' are logged
    as raw_top1 / raw_top5 / raw_val_loss, and each checkpoint holds the EMA as ema.safetensors
    (its state in state.pt)."""
    mixup_alpha: float = 0.0
    """Mixup (Zhang et al. 2018): each batch is mixed with a shuffled copy of itself with weight
    lambda ~ Beta(alpha, alpha), the targets likewise (0: off). Combined with label_smoothing."""
    cutmix_alpha: float = 0.0
    """CutMix (Yun et al. 2019): a box of area (1 - lambda) of each image is pasted from the
    shuffled copy, lambda ~ Beta(alpha, alpha) (0: off). With mixup too, each batch uses one of the
    two at random. Training accuracy counts the label with the larger mixing weight."""

    def __post_init__(self) -> None:
        if isinstance(self.model, str):  # a bare registered name is the common case
            object.__setattr__(self, "model", ModelSpec(self.model))
        positive = ("epochs", "batch_size", "step_size", "checkpoint_every", "keep_checkpoints")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)!r}: must be >= 1")
        if self.accumulate_steps < 1:
            raise ConfigError(f"accumulate_steps={self.accumulate_steps!r}: must be >= 1")
        for name in ("clip_grad_norm", "mixup_alpha", "cutmix_alpha"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ConfigError(f"{name}={getattr(self, name)!r}: must be a finite number >= 0")
        if not 0 <= self.ema_decay < 1:
            raise ConfigError(f"ema_decay={self.ema_decay!r}: must be in [0, 1)")
        for name in ("freeze_bn_last_epochs", "limit_train_batches", "limit_val_batches", "threads",
                     "log_every_steps"):  # fmt: skip
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}={getattr(self, name)!r}: must be >= 0")
        if self.eval_batch_size is not None and self.eval_batch_size < 1:
            raise ConfigError(f"eval_batch_size={self.eval_batch_size!r}: must be >= 1")
        if self.lr_reference_batch is not None and self.lr_reference_batch < 1:
            raise ConfigError(f"lr_reference_batch={self.lr_reference_batch!r}: must be >= 1")
        if not 0 < self.backbone_lr_scale <= 1:
            raise ConfigError(f"backbone_lr_scale={self.backbone_lr_scale!r}: must be in (0, 1]")
        if (self.freeze_backbone or self.backbone_lr_scale != 1) and not self.weights:
            raise ConfigError(
                "freeze_backbone / backbone_lr_scale fine-tune pretrained weights: give weights=SOURCE"
            )
        if self.warmup_lr is not None and not 0 < self.warmup_lr < math.inf:
            raise ConfigError(f"warmup_lr={self.warmup_lr!r}: must be a finite number > 0 (or none)")
        for name in ("lr", "momentum", "weight_decay", "warmup_epochs"):  # NaN passes every comparison
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"{name}={getattr(self, name)!r}: must be a finite number")
        if not self.lr > 0:
            raise ConfigError(f"lr={self.lr!r}: must be > 0")
        if not math.isfinite(self.scaled_lr):
            raise ConfigError(
                f"lr={self.lr!r} scaled by batch_size / lr_reference_batch is {self.scaled_lr!r}: "
                "must be a finite number"
            )
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"label_smoothing={self.label_smoothing!r}: must be in [0, 1)")
        if self.weight_decay < 0 or self.momentum < 0 or self.warmup_epochs < 0:
            raise ConfigError("weight_decay, momentum and warmup_epochs must be >= 0")
        if self.nesterov and not self.momentum > 0:
            raise ConfigError(f"nesterov=true needs momentum > 0 (got momentum={self.momentum!r})")
        if not 0 < self.gamma <= 1:
            raise ConfigError(f"gamma={self.gamma!r}: must be in (0, 1]")
        if any(not 0 < m <= 1 for m in self.milestones) or list(self.milestones) != sorted(self.milestones):
            raise ConfigError(
                f"milestones={self.milestones!r}: must be increasing fractions of the epochs in (0, 1]"
            )

    @property
    def scaled_lr(self) -> float:
        """The base learning rate after the linear batch-size scaling (if any)."""
        if self.lr_reference_batch is None:
            return self.lr
        return self.lr * self.effective_batch / self.lr_reference_batch

    @property
    def effective_batch(self) -> int:
        """The batch of one optimizer step: batch_size * accumulate_steps."""
        return self.batch_size * self.accumulate_steps

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def with_overrides(self, assignments: Iterable[str] | dict[str, Any]) -> TrainConfig:
        """A copy with ``key=value`` overrides (``lr=0.05``, ``data.root=...``), type-checked."""
        return apply(self, assignments)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """From a (possibly older) ``config.json``: ``model`` + ``model_overrides`` are translated."""
        values = dict(values)
        if isinstance(values.get("model"), str) or "model_overrides" in values:
            name = values.pop("model", ModelSpec().name)
            values["model"] = from_legacy(str(name), values.pop("model_overrides", None) or {})
        return from_dict(cls, values)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))


# ---------------------------------------------------------------------------------------------
# Recipes. Each returns a full TrainConfig; `senet train --recipe NAME` starts from it.


def imagenet() -> TrainConfig:
    """ImageNet (Sec. 5.1 / Table 2): synchronous SGD, momentum 0.9, minibatch 1024, lr 0.6 divided
    by 10 every 30 epochs, 100 epochs from scratch; random-size crop to 224 + flip; evaluation on
    the 224 centre crop of the 256 resize. The rate scales linearly for other batch sizes.
    Weight decay is not stated in the paper: 1e-4 as in He et al. 2016 (ResNet)."""
    return TrainConfig(
        model=ModelSpec("se_resnet50"),
        data=DataConfig(dataset="folder", root="", input_size=224, augment="imagenet", workers=8),
        recipe="imagenet",
        epochs=100,
        batch_size=1024,
        lr=0.6,
        lr_reference_batch=1024,
        momentum=0.9,
        weight_decay=1e-4,
        schedule="step",
        step_size=30,
        gamma=0.1,
    )


def ablation() -> TrainConfig:
    """Ablation study (Sec. 6, its set-up): lr 0.1 on 8 GPUs, the fixed 270-epoch schedule with drops at
    125/200/250 (the schedule quoted for ResNet-50 23.21 / 6.53 and SE-ResNet-50 22.20 / 6.00),
    label smoothing, and the FC biases of the SE blocks removed. Batch size (256) and the label
    smoothing value (0.1, Szegedy et al. 2016) are not stated in the paper."""
    base = imagenet()
    return base.replace(
        recipe="ablation",
        model=dataclasses.replace(base.model, se=SEConfig(bias=False)),
        epochs=270,
        batch_size=256,
        lr=0.1,
        lr_reference_batch=256,
        schedule="multistep",
        milestones=(125 / 270, 200 / 270, 250 / 270),
        label_smoothing=0.1,
    )


def mobile() -> TrainConfig:
    """Mobile networks (Sec. 5.1, Table 3): batch 256, SGD momentum 0.9, lr 0.1, ~400 epochs, weight
    decay 4e-5 (the earlier arXiv version). The paper divides the rate by 10 at plateaus without
    giving the epochs: this preset uses fixed drops at 50% and 75% of training instead. Its
    "lighter augmentation as in ShuffleNet" is not quantified; the standard crop is kept."""
    return imagenet().replace(
        model=ModelSpec("se_mobilenet_v1"),
        recipe="mobile",
        epochs=400,
        batch_size=256,
        lr=0.1,
        lr_reference_batch=256,
        weight_decay=4e-5,
        schedule="multistep",
        milestones=(0.5, 0.75),
    )


def imagenet_large() -> TrainConfig:
    """SENet-154 (Appendix): batch 2048, lr 1.0, label smoothing, dropout 0.2 before the
    classifier (the model's default), all BN layers frozen for the last few epochs. The epochs and
    schedule follow the ImageNet recipe (100 epochs, /10 every 30); "the last few epochs" is taken
    as 2 and the smoothing value as 0.1 -- none of these three is stated in the paper."""
    return imagenet().replace(
        model=ModelSpec("senet154", drop_rate=0.2),
        recipe="imagenet_large",
        batch_size=2048,
        lr=1.0,
        lr_reference_batch=2048,
        label_smoothing=0.1,
        freeze_bn_last_epochs=2,
    )


def cifar() -> TrainConfig:
    """The CIFAR recipe of the post-activation ResNet-110 (He et al. 2016a, Sec. 4.2), kept for
    ``resnet110_cifar``: SGD momentum 0.9, batch 128, lr 0.1, weight decay 1e-4, divided by 10 at
    32k and 48k of 64k iterations (50% and 75%; 64k x 128 / 50k images = 164 epochs); 4-pixel zero
    padding, random 32x32 crop and flip. He et al. 2016a's warm-up (0.01 until the training error
    is below 80%, about 400 iterations) is not applied. The baselines of Tables 4-5 (Sec. 5.1) are
    the pre-activation networks: see ``preact_cifar``, ``wrn_cifar`` and ``shake_cifar``."""
    return TrainConfig(
        model=ModelSpec("se_resnet110_cifar"),
        data=DataConfig(dataset="cifar10", root="", input_size=32, augment="cifar"),
        recipe="cifar",
        epochs=164,
        batch_size=128,
        lr=0.1,
        momentum=0.9,
        weight_decay=1e-4,
        schedule="multistep",
        milestones=(0.5, 0.75),
    )


#: CIFAR-10 and CIFAR-100 both have 50,000 training images.
CIFAR_TRAIN_IMAGES = 50_000


def preact_cifar() -> TrainConfig:
    """Tables 4-5's pre-activation ResNet-164 (and -110) baselines, trained as in He et al. 2016b
    ("Identity mappings", Appendix, following He et al. 2016a, Sec. 4.2): SGD momentum 0.9, batch
    128, weight decay 1e-4, lr 0.1 divided by 10 at 32k and 48k of 64k iterations (164 epochs, drops
    at 50% and 75%), after a warm-up at 0.01 for the first 400 iterations (400 x 128 / 50k = 1.024
    epochs); 4-pixel zero padding, random 32x32 crop and flip; He initialisation. Chosen here: the
    epochs round 163.84 up to 164, and the drops fall at 50% / 75% of those epochs (82 / 123, within
    one epoch of the iterations). The same recipe serves ``preact_resnet110_cifar``
    (``--model``); the paper's batch of 128 was split over 2 GPUs, which this single-process
    recipe does not reproduce (BN statistics over 128 images, not 2 x 64)."""
    return cifar().replace(
        model=ModelSpec("se_preact_resnet164_cifar"),
        recipe="preact_cifar",
        warmup_epochs=400 * 128 / CIFAR_TRAIN_IMAGES,
        warmup_lr=0.01,
    )


def wrn_cifar() -> TrainConfig:
    """Tables 4-5's WRN-16-8 baseline, trained as in Zagoruyko & Komodakis 2016 (Sec. 3 "Experimental
    results"; their train_cifar.sh): SGD with Nesterov momentum 0.9 (dampening 0), batch 128, lr 0.1
    multiplied by 0.2 at epochs 60, 120 and 160 of 200, weight decay 5e-4. No dropout: the WRN-16-8
    row of their Table 4 (11.0M, 4.81% / 22.07%) is the network without it (the model's default
    ``block_drop_rate=0``; their dropout rows use 0.3). Chosen here: the SE paper's augmentation
    (4-pixel zero padding, crop, flip, mean/std), where WRN's released script pads by reflection."""
    return cifar().replace(
        model=ModelSpec("se_wrn16_8_cifar"),
        recipe="wrn_cifar",
        epochs=200,
        nesterov=True,
        weight_decay=5e-4,
        milestones=(60 / 200, 120 / 200, 160 / 200),
        gamma=0.2,
    )


def shake_cifar() -> TrainConfig:
    """Table 4's Shake-Shake 26 2x96d + Cutout baseline: Gastaldi 2017 (its CIFAR-10 set-up, and the
    released code's CIFAR-10 command and trainer) with Cutout (DeVries & Taylor 2017, a 16 x 16 square for CIFAR-10):
    SGD with Nesterov momentum 0.9, batch 128, lr 0.2 with a cosine decay without restarts, set
    every iteration, 1800 epochs, weight decay 1e-4; 4-pixel zero padding, crop and flip. Cutout's
    square is centred at a uniform random pixel and clipped at the border, on the normalised
    image, after crop and flip. The model is Shake-Shake-Image (forward and backward
    coefficients drawn per image)."""
    return cifar().replace(
        model=ModelSpec("se_shake_shake26_2x96d_cifar"),
        data=dataclasses.replace(cifar().data, cutout=16),
        recipe="shake_cifar",
        epochs=1800,
        lr=0.2,
        nesterov=True,
        schedule="cosine",
    )


def fast() -> TrainConfig:
    """Quick CPU runs (not from the paper): a CIFAR-style SE-ResNet-20 on the embedded digits,
    SGD with Nesterov momentum, lr 0.1 with one warm-up epoch and a cosine decay over 8 epochs,
    weight decay 5e-4, batch 64, one CPU thread. Networks this small gain little from intra-op
    threads, and on a busy machine a descheduled OpenMP thread stalls every operation (measured
    here: 71 ms per step with 1 thread, 1212 ms with 2, while other jobs ran); ``senet train``
    instead trains the SE network and its twin in two processes at once."""
    return TrainConfig(
        model=ModelSpec("se_resnet20_cifar"),
        data=DataConfig(dataset="digits", workers=0),
        recipe="fast",
        epochs=8,
        batch_size=64,
        lr=0.1,
        momentum=0.9,
        nesterov=True,
        weight_decay=5e-4,
        schedule="cosine",
        warmup_epochs=1.0,
        threads=1,
    )


def cifar_budget() -> TrainConfig:
    """CIFAR-10 in a short wall-clock budget on a CPU (issue 16, not from the paper; not yet run
    to its 30-minute target here). The tricks of the fastest CIFAR trainers that ``senet train``
    has: tensor-resident uint8 data (``cifar10`` is kept on the device, no decoding); a short
    warm-up then a decay to zero in one cycle (Smith & Topin 2017, "Super-convergence", Sec. 3;
    Page 2018, "How to train your ResNet" (DAWNBench): here one warm-up epoch then cosine rather
    than the linear decay); label smoothing 0.2 (Szegedy et al. 2016, Sec. 7; the value of Page
    2018 and of Jordan 2024, "airbench"); an exponential moving average of the weights (Polyak &
    Juditsky 1992; airbench) evaluated at each epoch; Nesterov SGD, batch 256 with lr 0.4 (the
    linear scaling of Goyal et al. 2017, Sec. 2.1, from 0.1 at 64), weight decay 5e-4; 4-pixel
    padding, crop and flip. 12 epochs: at half the issue's 556 images/s for an SE-ResNet-20
    step on two threads (SE network and twin trained at once, one thread each; an estimate, not
    measured here), an epoch of the 40,000-image development split takes about 2.3 minutes,
    validation included. Missing
    here: test-time flip averaging, and a wider network, which the fastest trainers also use.
    Give the data with ``--data.root ../shared/data/cifar10-dev``."""
    return TrainConfig(
        model=ModelSpec("se_resnet20_cifar"),
        data=DataConfig(dataset="cifar10", root="", input_size=32, augment="cifar"),
        recipe="cifar_budget",
        epochs=12,
        batch_size=256,
        lr=0.4,
        momentum=0.9,
        nesterov=True,
        weight_decay=5e-4,
        schedule="cosine",
        warmup_epochs=1.0,
        label_smoothing=0.2,
        ema_decay=0.99,
        threads=1,
    )


RECIPES: dict[str, Callable[[], TrainConfig]] = {
    "imagenet": imagenet,
    "ablation": ablation,
    "mobile": mobile,
    "imagenet_large": imagenet_large,
    "cifar": cifar,
    "preact_cifar": preact_cifar,
    "wrn_cifar": wrn_cifar,
    "shake_cifar": shake_cifar,
    "fast": fast,
    "cifar_budget": cifar_budget,
}


#: Recipes renamed so that no name means two things (``senet154`` is the model).
RENAMED = {"senet154": "imagenet_large"}


def recipe(name: str) -> TrainConfig:
    """The preset ``name``; an unknown name is an error listing the recipes."""
    if name not in RECIPES:
        renamed = f" (the SENet-154 recipe is now {RENAMED[name]!r})" if name in RENAMED else ""
        raise ConfigError(f"unknown recipe {name!r}{renamed}; choose from {', '.join(RECIPES)}")
    return RECIPES[name]()


#: Table 5's CIFAR-100 Shake-Shake network in place of Table 4's CIFAR-10 one (SE and plain twin).
SHAKE_CIFAR100_MODELS = {
    "se_shake_shake26_2x96d_cifar": "se_shake_even29_2x4x64d_cifar",
    "shake_shake26_2x96d_cifar": "shake_even29_2x4x64d_cifar",
}


def cifar100(config: TrainConfig) -> TrainConfig:
    """The same CIFAR recipe on CIFAR-100 (Table 5): the dataset changes; the pre-activation ResNet
    (He et al. 2016b) and WRN (Zagoruyko & Komodakis) recipes are otherwise the same on both.

    Shake-Shake (``shake_cifar``) changes more: Table 5's network is Shake-Even-Image 29 2x4x64d
    (Gastaldi 2017, its CIFAR-100 experiment), trained with batch 32, lr 0.025 and weight decay
    5e-4 (recalled from that paper's CIFAR-100 set-up: neither its text nor the released code,
    whose README gives CIFAR-10 commands only, could be read here to confirm them; a third-party
    reimplementation uses lr 0.025 with batch 128), still 1800 epochs of cosine decay; Cutout is an
    8 x 8 square (DeVries & Taylor 2017, CIFAR-100). Note that Table 5's Shake-Even baseline,
    15.85%, is Gastaldi's figure without Cutout. A recipe this function does not know is an error.
    """
    if config.recipe in ("cifar", "preact_cifar", "wrn_cifar"):
        return config.replace(data=dataclasses.replace(config.data, dataset="cifar100"))
    if config.recipe == "shake_cifar":
        name = SHAKE_CIFAR100_MODELS.get(config.model.name, config.model.name)
        return config.replace(
            model=dataclasses.replace(config.model, name=name),
            data=dataclasses.replace(config.data, dataset="cifar100", cutout=8),
            batch_size=32,
            lr=0.025,
            weight_decay=5e-4,
        )
    raise ConfigError(
        f"cifar100: no CIFAR-100 version of recipe {config.recipe!r}; "
        "choose from cifar, preact_cifar, wrn_cifar, shake_cifar"
    )
