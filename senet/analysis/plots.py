"""PNG plots of an :class:`senet.analysis.report.Analysis` (matplotlib, Agg backend: no display).

- ``class_means.png``: Fig. 6 style -- per chosen block, the mean excitation of sampled
  channels for chosen classes and over all images ("all").
- ``class_spread.png``: Fig. 7 style -- per block of the last stage, the mean excitation of
  sampled channels per chosen class with a band of +-1 standard deviation over its images.
- ``saturation.png``: share of gate values near 0 and near 1 per block (Sec. 7.2).
- ``specificity.png``: class specificity per block.
- ``importance.png``: top-1 accuracy lost when a block's gate is fixed to its mean / to 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from PIL import Image

from senet.analysis.report import Analysis, BlockReport, sample_channels
from senet.errors import SenetError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class PlottingUnavailable(SenetError):
    """matplotlib is not installed: the numbers (JSON, CSV) can be written, the pictures cannot."""


def pyplot() -> ModuleType:
    """matplotlib.pyplot on the Agg backend (no display), imported on first use: it takes about
    half a second, which every ``senet`` command, ``--help`` included, would otherwise pay.
    Raises :class:`PlottingUnavailable` (exit code 2) when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError as err:
        raise PlottingUnavailable(
            f"drawing the pictures needs matplotlib, which is not installed ({err}); "
            "install it with `pip install matplotlib` (the JSON / CSV numbers need nothing)"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


DPI = 90


def save(fig: Figure, path: Path) -> Path:
    """Lay out, write (PNG at :data:`DPI`, reduced to a 256-colour palette) and close ``fig``; returns ``path``."""
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    pyplot().close(fig)
    with Image.open(path) as image:  # 256 colours: a third of the size, the same picture to the eye
        small = image.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)
    return path


def plot_class_means(
    analysis: Analysis, path: str | Path, *, blocks: Sequence[str], classes: Sequence[int], channels: int = 50
) -> Path:
    """Fig. 6: one panel per block, x = sampled channel index, y = mean excitation per class and overall."""
    chosen = [b for b in analysis.blocks if b.name in blocks]
    if not chosen:
        raise ValueError(f"no block to plot among {list(blocks)}")
    cols = min(3, len(chosen))
    rows = math.ceil(len(chosen) / cols)
    fig, axes = pyplot().subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False)
    for ax, block in zip(axes.flat, chosen, strict=False):
        idx = sample_channels(block.channels, channels)
        x = range(len(idx))
        for k in classes:
            ax.plot(x, [block.class_means[k][c] for c in idx], lw=1.1, label=analysis.classes[k])
        ax.plot(x, [block.overall_means[c] for c in idx], "k--", lw=1.3, label="all")
        ax.set_title(f"{block.paper_name} ({block.name})" if block.paper_name != block.name else block.name)
        ax.set_xlabel(f"sampled channel ({len(idx)} of {block.channels})")
        ax.set_ylabel("mean excitation")
    for ax in axes.flat[len(chosen) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"{analysis.model}: class-mean excitations ({analysis.images} images)", fontsize=10)
    return save(fig, Path(path))


def plot_class_spread(
    analysis: Analysis, path: str | Path, *, blocks: Sequence[str], classes: Sequence[int], channels: int = 50
) -> Path:
    """Fig. 7: one panel per block (the last stage's), x = sampled channel index, per class the mean
    excitation over its images and a band of +-1 standard deviation over those images."""
    chosen = [b for b in analysis.blocks if b.name in blocks]
    if not chosen:
        raise ValueError(f"no block to plot among {list(blocks)}")
    fig, axes = pyplot().subplots(1, len(chosen), figsize=(4.2 * len(chosen), 3.1), squeeze=False)
    for ax, block in zip(axes.flat, chosen, strict=True):
        idx = sample_channels(block.channels, channels)
        x = list(range(len(idx)))
        for n, k in enumerate(classes):
            mean = [block.class_means[k][c] for c in idx]
            sd = [block.class_stds[k][c] for c in idx]
            ax.plot(x, mean, lw=1.1, color=f"C{n}", label=analysis.classes[k])
            low = [m - d for m, d in zip(mean, sd, strict=True)]
            high = [m + d for m, d in zip(mean, sd, strict=True)]
            ax.fill_between(x, low, high, color=f"C{n}", alpha=0.18, lw=0)
        ax.set_title(f"{block.paper_name} ({block.name})" if block.paper_name != block.name else block.name)
        ax.set_xlabel(f"sampled channel ({len(idx)} of {block.channels})")
        ax.set_ylabel("excitation: mean +- sd")
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle(
        f"{analysis.model}: excitations of the last stage per class ({analysis.images} images)", fontsize=10
    )
    return save(fig, Path(path))


def _bars(
    blocks: list[BlockReport], series: dict[str, list[float]], ylabel: str, title: str, path: Path
) -> Path:
    fig, ax = pyplot().subplots(figsize=(max(5.0, 0.45 * len(blocks) * len(series) + 2), 3.4))
    width = 0.8 / len(series)
    for i, (label, values) in enumerate(series.items()):
        ax.bar([j + i * width for j in range(len(blocks))], values, width, label=label)
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(blocks))])
    ax.set_xticklabels([b.paper_name for b in blocks], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return save(fig, path)


def plot_saturation(analysis: Analysis, path: str | Path) -> Path:
    b = analysis.blocks
    series = {
        f"s <= {analysis.low}": [x.near_zero for x in b],
        f"s >= {analysis.high}": [x.near_one for x in b],
    }
    return _bars(b, series, "share of gate values", "gate saturation per block", Path(path))


def plot_specificity(analysis: Analysis, path: str | Path) -> Path:
    series = {"specificity": [x.specificity for x in analysis.blocks]}
    return _bars(
        analysis.blocks, series, "RMS class spread / mean", "class specificity per block", Path(path)
    )


def plot_importance(analysis: Analysis, path: str | Path) -> Path:
    b = [x for x in analysis.blocks if x.importance is not None]
    if not b:
        raise ValueError("the analysis has no importance measurements")
    series = {
        "gate = dataset mean": [x.importance.drop_mean_gate for x in b],
        "gate = 1": [x.importance.drop_ones for x in b],
    }
    return _bars(
        b, series, "top-1 drop (points)", f"block importance (top-1 {analysis.top1:.1f}%)", Path(path)
    )


def plot_all(
    analysis: Analysis,
    out_dir: str | Path,
    *,
    blocks: Sequence[str],
    classes: Sequence[int],
    channels: int = 50,
    last: Sequence[str] = (),
) -> list[Path]:
    """Every plot into ``out_dir`` (``class_spread.png`` when ``last`` names blocks); returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        plot_class_means(
            analysis, out / "class_means.png", blocks=blocks, classes=classes, channels=channels
        ),
        *(
            [
                plot_class_spread(
                    analysis, out / "class_spread.png", blocks=last, classes=classes, channels=channels
                )
            ]
            if last
            else []
        ),
        plot_saturation(analysis, out / "saturation.png"),
        plot_specificity(analysis, out / "specificity.png"),
    ]
    if any(b.importance is not None for b in analysis.blocks):
        paths.append(plot_importance(analysis, out / "importance.png"))
    return paths
