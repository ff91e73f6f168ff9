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
from senet.analysis.stats import (
    HIGH,
    LOW,
    Importance,
    class_means,
    class_stds,
    importance,
    saturation,
    specificity,
)
from senet.config import ConfigError
from senet.data import forward_eval
from senet.data.images import is_image_file
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
    class_stds: list[list[float]] = field(repr=False, default_factory=list)
    """(K, C) sample standard deviation of each class's excitations over its images (Fig. 7)."""


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
        """The report as JSON (class means and stds rounded to 5 decimals; NaN for absent classes -> null)."""
        data = self.to_dict()
        for block in data["blocks"]:
            block["class_means"] = [[_round(v) for v in row] for row in block["class_means"]]
            block["class_stds"] = [[_round(v) for v in row] for row in block["class_stds"]]
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
    only: Sequence[int] | None = None,
) -> Analysis:
    """Record and summarise every SE block of ``model`` on ``loader`` (see :mod:`senet.analysis.stats`).

    ``only``: report the class statistics of these class indices only, in this order (the report's
    ``classes`` become their names): Fig. 6's 4 classes of a 1,000-class network."""
    keep = list(only) if only is not None else list(range(len(classes)))
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
        stds = class_stds(s, data.labels, len(classes))[keep]  # (K', C)
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
                means[keep].tolist(),
                overall[name].tolist(),
                by_block.get(name),
                stds.tolist(),
            )  # fmt: skip
        )
    names = [classes[k] for k in keep]
    return Analysis(model_name, data.labels.numel(), names, data.top1, data.top5, low, high, reports)


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


def last_stage_blocks(names: Sequence[str]) -> list[str]:
    """The blocks of the last stage (SE_5_1, SE_5_2, SE_5_3 for SE-ResNet-50): Fig. 7's."""
    stages: dict[str, list[str]] = {}
    for name in names:
        stages.setdefault(stage_of(name), []).append(name)
    return list(stages.values())[-1] if stages else []


@dataclass(frozen=True)
class Selection:
    """A figure's choice of validation images: some classes of an ImageNet-layout folder, the
    first ``per_class`` images of each (sorted by file name)."""

    name: str
    """The preset's name (``senet analyze --preset NAME``)."""
    figure: str
    """What the paper shows with it."""
    classes: tuple[tuple[str, str], ...]
    """(class folder = ImageNet WNID, readable name) of each class, in the figure's order."""
    per_class: int = 50
    """Images per class."""


FIG6 = Selection(
    "fig6",
    "Fig. 6 and Fig. 7 (Sec. 7.2): SE-ResNet-50's excitations on 4 ImageNet classes, 50 validation images each",
    (
        ("n01443537", "goldfish"),
        ("n02110958", "pug"),
        ("n02690373", "plane (airliner)"),
        ("n09246464", "cliff"),
    ),
)
"""The paper's selection (Sec. 7.2): goldfish, pug, plane, cliff; 50 validation images per class."""
SELECTIONS = {FIG6.name: FIG6}


def select_images(root: str | Path, selection: Selection, *, split: str = "val") -> list[tuple[Path, int]]:
    """(image, index in ``selection.classes``) of the selection's images in the class folders of
    ``root/split`` (or of ``root`` itself when it has no ``split`` folder: an ImageNet val folder).
    A missing or empty class folder is a :class:`ConfigError` naming every one."""
    base = Path(root)
    folder = base / split if (base / split).is_dir() else base
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder (give the ImageNet validation folder of class folders)")
    chosen, missing = [], []
    for index, (wnid, label) in enumerate(selection.classes):
        files = sorted(p for p in (folder / wnid).glob("*") if p.is_file() and is_image_file(p.name))
        if not files:
            missing.append(f"{wnid} ({label})")
        chosen += [(p, index) for p in files[: selection.per_class]]
    if missing:
        raise ConfigError(
            f"{folder}: the {selection.name} preset needs the class folders {', '.join(missing)}, "
            f"which are missing or hold no image; it reads an ImageNet-layout validation folder "
            f"(one folder per class, named by WNID)"
        )
    return chosen


def write_file_list(images: list[tuple[Path, int]], selection: Selection, out_dir: str | Path) -> Path:
    """``OUT/images.txt`` (``path label`` lines, the ``filelist`` dataset) and ``OUT/classes.txt``
    (the WNIDs, line i = label i) for :func:`select_images`' choice; returns the list's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "classes.txt", "".join(f"{wnid}\n" for wnid, _ in selection.classes))
    write_atomic(out / "images.txt", "".join(f"{path.resolve()} {label}\n" for path, label in images))
    return out / "images.txt"


def sample_channels(channels: int, count: int) -> list[int]:
    """``count`` channel indices spread evenly over 0..C-1 (Fig. 6 shows 50 sampled channels)."""
    if count >= channels:
        return list(range(channels))
    return sorted({round(i * (channels - 1) / (count - 1)) for i in range(count)}) if count > 1 else [0]


def figure_csv(
    analysis: Analysis, *, blocks: Sequence[str], classes: Sequence[int], channels: int = 0
) -> str:
    """The numbers behind Figs. 6 and 7: one row per block, class and channel with the class mean
    and standard deviation of the excitation (``channels``: that many sampled channels per block as
    the figures show them, :func:`sample_channels`; 0: all)."""
    lines = ["block,paper_name,class,channel,mean,std"]
    for b in (x for x in analysis.blocks if x.name in blocks):
        for k in classes:
            for c in sample_channels(b.channels, channels) if channels else range(b.channels):
                mean, sd = _round(b.class_means[k][c]), _round(b.class_stds[k][c])
                lines.append(f"{b.name},{b.paper_name},{analysis.classes[k]},{c},{_cell(mean)},{_cell(sd)}")
    return "\n".join(lines) + "\n"


def _cell(value: float | None) -> str:
    return "" if value is None else repr(value)


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
