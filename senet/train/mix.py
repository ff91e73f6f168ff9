"""Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019): batch operations with soft targets.

A batch is combined with a shuffled copy of itself: mixup blends whole images with weight lambda,
CutMix pastes a box of area (1 - lambda) from the partner image (lambda is then the area actually
kept). The targets blend the one-hot labels alike, ``lam * y + (1 - lam) * y[perm]``, and the
cross-entropy takes them as class probabilities (label smoothing applies on top). Every random
number comes from torch's global generator, which checkpoints save and restore: a resumed run mixes
exactly as an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from senet.train.config import TrainConfig


@dataclass(frozen=True)
class Mixed:
    """A mixed batch: images (N, C, H, W), the partner of each sample and the weight of its own label."""

    images: torch.Tensor
    labels: torch.Tensor
    """The original labels (N,)."""
    partner: torch.Tensor
    """The partner's labels (N,): ``labels[perm]``."""
    lam: float
    """Weight of the own label in the target (the image area kept, for CutMix)."""

    def targets(self, num_classes: int) -> torch.Tensor:
        """Soft targets (N, K): ``lam * onehot(labels) + (1 - lam) * onehot(partner)``."""
        own = F.one_hot(self.labels, num_classes).float()
        other = F.one_hot(self.partner, num_classes).float()
        return self.lam * own + (1.0 - self.lam) * other

    @property
    def counted(self) -> torch.Tensor:
        """The labels training accuracy is counted against: the one with the larger weight."""
        return self.labels if self.lam >= 0.5 else self.partner


def mixing(config: TrainConfig) -> bool:
    """Whether the config mixes batches (mixup or CutMix on)."""
    return config.mixup_alpha > 0 or config.cutmix_alpha > 0


def mix_batch(images: torch.Tensor, labels: torch.Tensor, config: TrainConfig) -> Mixed:
    """Mixup or CutMix of ``images`` (N, C, H, W) with a random permutation of the batch; with both
    alphas set, each batch uses one of the two (probability 1/2)."""
    cutmix = config.cutmix_alpha > 0
    if cutmix and config.mixup_alpha > 0:
        cutmix = bool(torch.rand(()) < 0.5)  # a CPU tensor: no device synchronisation
    alpha = config.cutmix_alpha if cutmix else config.mixup_alpha
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    perm = torch.randperm(labels.shape[0]).to(labels.device)
    partner = images[perm]
    if cutmix:
        h, w = images.shape[-2:]
        ratio = (1.0 - lam) ** 0.5
        ch, cw = int(h * ratio), int(w * ratio)
        cy, cx = int(torch.randint(h, ())), int(torch.randint(w, ()))
        y0, y1 = max(cy - ch // 2, 0), min(cy + ch - ch // 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + cw - cw // 2, w)
        mixed = images.clone()
        mixed[..., y0:y1, x0:x1] = partner[..., y0:y1, x0:x1]
        lam = 1.0 - (y1 - y0) * (x1 - x0) / (h * w)
    else:
        mixed = lam * images + (1.0 - lam) * partner
    return Mixed(mixed, labels, labels[perm], lam)
