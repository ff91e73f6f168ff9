"""One analysis of a trained SE network on a dataset (Sec. 7.2): record, summarise, write JSON.

:func:`collect` runs the model once over the data with the gate hooks on and keeps every
block's excitations (N, C), the labels and the accuracy; :func:`analyze` adds the statistics of
:mod:`senet.analysis.stats` per block (class means, saturation, specificity, importance).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from senet.analysis.hooks import paper_name, record_excitations, stage_of
from senet.analysis.stats import HIGH, LOW, Importance, class_means, importance, saturation, specificity
from senet.data import forward_eval
from senet.io import write_atomic
from senet.train.engine import topk_correct


@dataclass
class Collected:
    """Excitations per block (name -> (N, C)), labels (N,) and the unchanged network's accuracy (%)."""

    excitations: dict[str, torch.Tensor]
    labels: torch.Tensor
    top1: float
    top5: float


@torch.no_grad()
def collect(
    model: nn.Module, loader: Any, *, blocks: Sequence[str] | None = None, limit_batches: int = 0
) -> Collected:
    """One eval-mode pass over ``loader`` recording the excitations of every SE block (or ``blocks``)."""
    model.eval()
    labels, hits = [], torch.zeros(2, dtype=torch.long)
    with record_excitations(model, blocks=blocks) as recorder:
        for step, (images, target) in enumerate(loader):
            if limit_batches and step >= limit_batches:
                break
            if images.dim() != 4:
                raise ValueError(
                    f"analysis needs (N, C, H, W) batches (no ten-crop), got {tuple(images.shape)}"
                )
            logits = forward_eval(model, images).float()  # (N, K)
            hits += torch.tensor(topk_correct(logits, target, (1, 5)))
            labels.append(target.cpu())
    y = torch.cat(labels) if labels else torch.zeros(0, dtype=torch.long)
    if y.numel() == 0:
        raise ValueError("the analysis data is empty")
    n = y.numel()
    return Collected(recorder.stacked(), y, 100.0 * int(hits[0]) / n, 100.0 * int(hits[1]) / n)


@dataclass
class BlockReport:
    """Everything reported for one SE block; ``class_means`` is (K, C) as nested lists."""

    name: str
    paper_name: str
    stage: str
    channels: int
    mean: float
    near_zero: float
    near_one: float
    specificity: float
    class_means: list[list[float]] = field(repr=False)
    overall_means: list[float] = field(repr=False)
    importance: Importance | None = None


@dataclass
class Analysis:
    """The whole report: per-block statistics plus the network's unchanged accuracy."""

    model: str
    images: int
    classes: list[str]
    top1: float
    top5: float
    low: float
    high: float
    blocks: list[BlockReport]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save_json(self, path: str | Path) -> None:
        """The report as JSON (class means rounded to 5 decimals; NaN for absent classes -> null)."""
        data = self.to_dict()
        for block in data["blocks"]:
            block["class_means"] = [[_round(v) for v in row] for row in block["class_means"]]
            block["overall_means"] = [_round(v) for v in block["overall_means"]]
        write_atomic(path, json.dumps(data, indent=1) + "\n")


def _round(v: float) -> float | None:
    return None if v != v else round(v, 5)


def analyze(
    model: nn.Module,
    loader: Any,
    *,
    classes: Sequence[str],
    model_name: str = "",
    low: float = LOW,
    high: float = HIGH,
    with_importance: bool = True,
    limit_batches: int = 0,
) -> Analysis:
    """Record and summarise every SE block of ``model`` on ``loader`` (see :mod:`senet.analysis.stats`)."""
    data = collect(model, loader, limit_batches=limit_batches)
    overall = {name: s.mean(dim=0) for name, s in data.excitations.items()}  # (C,) per block
    gains = (
        importance(model, loader, means=overall, baseline_top1=data.top1, limit_batches=limit_batches)
        if with_importance
        else []
    )
    by_block = {g.block: g for g in gains}
    reports = []
    for name, s in data.excitations.items():
        means = class_means(s, data.labels, len(classes))
        sat = saturation(s, low=low, high=high)
        reports.append(
            BlockReport(
                name,
                paper_name(name),
                stage_of(name),
                s.shape[1],
                float(s.mean()),
                sat.near_zero,
                sat.near_one,
                specificity(means),
                means.tolist(),
                overall[name].tolist(),
                by_block.get(name),
            )  # fmt: skip
        )
    return Analysis(model_name, data.labels.numel(), list(classes), data.top1, data.top5, low, high, reports)


def default_blocks(names: Sequence[str]) -> list[str]:
    """The blocks Fig. 6 shows: the last block of each stage, and every block of the last stage
    (SE_2_3, SE_3_4, SE_4_6, SE_5_1, SE_5_2, SE_5_3 for SE-ResNet-50)."""
    stages: dict[str, list[str]] = {}
    for name in names:
        stages.setdefault(stage_of(name), []).append(name)
    groups = list(stages.values())
    if not groups:
        return []
    return [g[-1] for g in groups[:-1]] + groups[-1]


def format_report(analysis: Analysis) -> str:
    """A per-block table for the terminal."""
    head = (
        f"{'block':<14} {'paper':<8} {'C':>5} {'mean s':>7} {'s<=' + str(analysis.low):>8} "
        f"{'s>=' + str(analysis.high):>8} {'specif.':>8} {'drop(mean)':>10} {'drop(1)':>8}"
    )
    lines = [
        f"{analysis.model}: {analysis.images} images, top-1 {analysis.top1:.2f}% top-5 {analysis.top5:.2f}%",
        head,
    ]
    for b in analysis.blocks:
        imp = b.importance
        drops = (
            f"{imp.drop_mean_gate:>10.2f} {imp.drop_ones:>8.2f}" if imp is not None else f"{'-':>10} {'-':>8}"
        )
        lines.append(
            f"{b.name:<14} {b.paper_name:<8} {b.channels:>5} {b.mean:>7.3f} {b.near_zero:>8.1%} "
            f"{b.near_one:>8.1%} {b.specificity:>8.3f} {drops}"
        )
    lines.append("drop = top-1 accuracy points lost with the block's gate set to its dataset mean / to 1")
    return "\n".join(lines)
