"""Training configuration: the typed :class:`TrainConfig`, one documented field per option.

Command-line options, ``--set`` and ``--config`` files go through :mod:`senet.config`, which
checks every field name and type; the paper's recipes that fill it are
:mod:`senet.train.recipes`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from senet.config import ConfigError, apply, from_dict, to_dict
from senet.data import DataConfig
from senet.spec import ModelSpec, from_legacy

Optimizer = Literal["sgd", "adamw"]
Schedule = Literal["step", "multistep", "cosine", "linear", "constant"]
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
    multistep (x gamma at each milestone), cosine, linear (to zero, or to final_lr_factor, at the
    end; after the warm-up, the one-cycle shape of Smith & Topin 2017 and Page 2018) or constant."""
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
    warmup_start_factor: float = 0.0
    """The linear warm-up starts at this fraction of lr (0: from zero; airbench94: 0.2)."""
    final_lr_factor: float = 0.0
    """The linear and cosine schedules end at this fraction of lr instead of zero (airbench94's
    linear decay ends at 0.07, while Lookahead still averages)."""
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
    eval_every: int = 1
    """Validate every N epochs and always after the last epoch (1: every epoch), counted from the
    first (epochs 1, 1 + N, 1 + 2N ...: a failing validation shows at once); 0: only after the last
    epoch. Short budgets spend the saved validation time on training. In metrics.jsonl the rows of the epochs not validated have
    no validation keys (val_loss, top1, top5, val_images, raw_*)."""
    checkpoint_every: int = 1
    """Write a checkpoint every N epochs (and after the last)."""
    keep_checkpoints: int = 2
    """How many of the newest checkpoints to keep. The oldest is deleted after the new one is
    complete, so the disk needs room for keep_checkpoints + 1 of them while one is written."""
    freeze_bn_last_epochs: int = 0
    """Freeze every BN layer (statistics and affine parameters) for the last N epochs, as for
    SENet-154 (Appendix)."""
    freeze_stem_after: int = 0
    """Stop training the model's ``stem`` (every parameter of it) after N epochs (0: never), so that
    backward no longer computes the gradient at the stem's output: airbench94 trains its whitening
    layer's bias for 3 epochs only. Single-process runs (DDP needs a fixed set of parameters)."""
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
    norm_lr_scale: float = 1.0
    """Multiplier of the rate of the normalisation layers' parameters (their weight decay divided by
    it, so that the decay per step stays): airbench94 (Jordan 2024) trains the BN shifts, its only
    BN parameters, 64x faster."""
    no_decay_norm_bias: bool = False
    """No weight decay on normalisation-layer parameters (BN gamma, beta) and biases, as in timm
    and torchvision's recipes; off: decay on every parameter (the paper's Caffe solvers)."""
    ema_decay: float = 0.0
    """Keep an exponential moving average of the weights (and BN statistics), updated after each
    optimizer step: ema = decay * ema + (1 - decay) * weights (0: off; e.g. 0.9998). When on, the
    validation metrics (top1, val_loss, result.json) are the EMA's, the trained weights' are logged
    as raw_top1 / raw_top5 / raw_val_loss, and each checkpoint holds the EMA as ema.safetensors
    (its state in state.pt)."""
    lookahead_every: int = 0
    """Lookahead weight averaging (Zhang et al. 2019) as airbench94 (Jordan 2024) uses it, every k
    optimizer steps (0: off; airbench: 5): the slow weights (a copy of every parameter and
    floating-point buffer, BN statistics too) move toward the fast (trained) ones,
    slow <- slow + (1 - alpha_t) (fast - slow), and the fast weights are reset to them;
    alpha_t = lookahead_decay * (t / T)^3 with t the global optimizer step and T the run's total
    (a no-op early in training, an average late). After the run's last step the fast weights are
    set to the slow ones, so the final checkpoint and metrics are theirs; earlier epochs evaluate
    the fast weights. The slow weights are in each checkpoint's state.pt. With ema_decay the EMA
    averages the weights after each lookahead update."""
    lookahead_decay: float = 0.95**5
    """The largest alpha_t of lookahead_every, reached at the run's last step (airbench: 0.95^5)."""
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
        if isinstance(self.eval_every, bool) or not isinstance(self.eval_every, int) or self.eval_every < 0:
            raise ConfigError(
                f"eval_every={self.eval_every!r}: must be an integer >= 0 (1: every epoch, 0: the last only)"
            )
        if self.accumulate_steps < 1:
            raise ConfigError(f"accumulate_steps={self.accumulate_steps!r}: must be >= 1")
        for name in ("clip_grad_norm", "mixup_alpha", "cutmix_alpha"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ConfigError(f"{name}={getattr(self, name)!r}: must be a finite number >= 0")
        if not (math.isfinite(self.norm_lr_scale) and self.norm_lr_scale > 0):
            raise ConfigError(f"norm_lr_scale={self.norm_lr_scale!r}: must be a finite number > 0")
        if not 0 <= self.ema_decay < 1:
            raise ConfigError(f"ema_decay={self.ema_decay!r}: must be in [0, 1)")
        if self.lookahead_every < 0:
            raise ConfigError(f"lookahead_every={self.lookahead_every!r}: must be >= 0 (0: off)")
        if not 0 <= self.lookahead_decay < 1:
            raise ConfigError(f"lookahead_decay={self.lookahead_decay!r}: must be in [0, 1)")
        for name in ("freeze_bn_last_epochs", "freeze_stem_after", "limit_train_batches", "limit_val_batches",
                     "threads", "log_every_steps"):  # fmt: skip
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
        for name in ("warmup_start_factor", "final_lr_factor"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"{name}={getattr(self, name)!r}: must be a fraction of lr in [0, 1]")
        if self.warmup_lr is not None and self.warmup_start_factor:
            raise ConfigError(
                "warmup_lr (a constant warm-up) and warmup_start_factor (a ramp's start) exclude each other"
            )
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

    def validates(self, epoch: int) -> bool:
        """Whether epoch ``epoch`` (1-based) is followed by validation: the first, every
        ``eval_every``-th after it and the last (``eval_every`` 0: the last only)."""
        return epoch == self.epochs or (self.eval_every > 0 and (epoch - 1) % self.eval_every == 0)

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
