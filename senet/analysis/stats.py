"""Statistics of recorded excitations (Sec. 7.2, Fig. 6) and the importance of each SE block.

Notation: s is one block's excitations over a dataset, (N, C) with N images and C channels
(see :mod:`senet.analysis.hooks`); y the (N,) labels in 0..K-1.

- class means m_k,c: the mean of s_c over the images of class k, (K, C) (Fig. 6 curves);
  the overall mean over all images is the "all" curve.
- class standard deviations sd_k,c (Fig. 7): the sample standard deviation (divisor n_k - 1)
  of s_c over the n_k images of class k, (K, C); with the class means, the per-class band of
  Fig. 7 (mean +- sd over instances, for the last stage's blocks).
- saturation: the share of all N x C gate values with s <= ``low`` (near 0, the channel is
  switched off) and with s >= ``high`` (near 1, the gate passes the channel unchanged). The
  paper gives no thresholds ("most of the activations are close to one" for SE_5_2); ours are
  ``LOW = 0.05`` and ``HIGH = 0.95`` (the outer 5% of the sigmoid's range), adjustable.
- class specificity of a block: with m_k,c the class means of the K' classes present and
  mbar_c = (1/K') sum_k m_k,c their unweighted average,

      specificity = sqrt( (1/(K' C)) sum_k,c (m_k,c - mbar_c)^2 ) / ( (1/C) sum_c |mbar_c| ),

  the root-mean-square spread of the class means around their average, relative to the mean
  excitation level. 0 means class-agnostic (every class excites each channel alike, as in the
  early blocks of Fig. 6); larger values mean more class-specific gates.
- importance of a block: the top-1 / top-5 accuracy after replacing its gate output by a
  constant -- its dataset mean per channel (keeps the average scaling, removes the dependence
  on the input) or 1 (removes the block's recalibration altogether) -- compared with the
  unchanged network. A large drop means the network relies on that block's dynamic gates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from senet.analysis.hooks import replace_gate
from senet.train.engine import evaluate

LOW = 0.05
HIGH = 0.95


def class_means(s: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """m_k,c: (K, C) mean excitation of each class; a class without images gets a row of NaN."""
    if s.dim() != 2 or labels.shape != s.shape[:1]:
        raise ValueError(f"expected s (N, C) and labels (N,), got {tuple(s.shape)} and {tuple(labels.shape)}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1}, got {int(labels.min())}..{int(labels.max())}"
        )
    s = s.double()
    sums = torch.zeros(num_classes, s.shape[1], dtype=torch.float64).index_add_(0, labels, s)  # (K, C)
    counts = torch.bincount(labels, minlength=num_classes).double()[:, None]  # (K, 1)
    means = sums / counts
    means[counts[:, 0] == 0] = float("nan")
    return means.float()


def class_stds(s: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """sd_k,c: (K, C) sample standard deviation (divisor n_k - 1) of each class's excitations over
    its images; a class with fewer than two images gets a row of NaN."""
    means = class_means(s, labels, num_classes).double()  # (K, C), also checks the shapes and labels
    s = s.double()
    deviations = s - means[labels]  # (N, C)
    squares = torch.zeros_like(means).index_add_(0, labels, deviations.pow(2))  # (K, C)
    counts = torch.bincount(labels, minlength=num_classes).double()[:, None]  # (K, 1)
    stds = (squares / (counts - 1)).sqrt()
    stds[counts[:, 0] < 2] = float("nan")
    return stds.float()


@dataclass(frozen=True)
class Saturation:
    """Shares (0..1) of the gate values near 0 (s <= low) and near 1 (s >= high)."""

    near_zero: float
    near_one: float
    low: float
    high: float


def saturation(s: torch.Tensor, *, low: float = LOW, high: float = HIGH) -> Saturation:
    """The share of the N x C excitations with s <= ``low`` and with s >= ``high``."""
    if not low < high:
        raise ValueError(f"saturation thresholds need low < high, got low={low}, high={high}")
    if s.numel() == 0:
        raise ValueError("saturation of an empty tensor")
    return Saturation(float((s <= low).double().mean()), float((s >= high).double().mean()), low, high)


def specificity(means: torch.Tensor) -> float:
    """Class specificity of a block from its (K, C) class means (NaN rows, absent classes, ignored).

    RMS of (m_k,c - mbar_c) over classes and channels divided by the mean |mbar_c| (see the module
    docstring); 0 when every class has the same mean excitation.
    """
    present = means[~torch.isnan(means).any(dim=1)].double()  # (K', C)
    if present.shape[0] == 0:
        raise ValueError("specificity needs the class means of at least one class")
    average = present.mean(dim=0)  # (C,) mbar_c
    spread = (present - average).pow(2).mean().sqrt()
    level = average.abs().mean()
    return float(spread / level) if level > 0 else float("nan") if spread > 0 else 0.0


@dataclass(frozen=True)
class Importance:
    """Accuracy (%) with block ``block``'s gate replaced; ``drop_*`` = baseline minus replaced (top-1)."""

    block: str
    top1_mean_gate: float
    top5_mean_gate: float
    top1_ones: float
    top5_ones: float
    drop_mean_gate: float
    drop_ones: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def importance(
    model: nn.Module,
    loader: Any,
    *,
    means: dict[str, torch.Tensor],
    baseline_top1: float,
    blocks: Sequence[str] | None = None,
    limit_batches: int = 0,
) -> list[Importance]:
    """Re-evaluate ``model`` on ``loader`` once per block with its gate = its dataset mean ``means[b]``
    (C,) and once with its gate = 1, one block at a time (two evaluations per block)."""
    out = []
    for block in blocks if blocks is not None else list(means):
        scores = {}
        for mode, value in (("mean", means[block]), ("ones", 1.0)):
            with replace_gate(model, block, value):
                scores[mode] = evaluate(model, loader, limit_batches=limit_batches)
        out.append(
            Importance(
                block,
                scores["mean"]["top1"],
                scores["mean"]["top5"],
                scores["ones"]["top1"],
                scores["ones"]["top5"],
                baseline_top1 - scores["mean"]["top1"],
                baseline_top1 - scores["ones"]["top1"],
            )
        )
    return out
