"""Fig. 4 of the paper: training and validation curves of an SE network and its plain twin.

Fig. 4 (Sec. 5.1) plots the top-1 error of ResNet-50 and SE-ResNet-50 against the epoch, training
and validation, one curve each. Here the curves come from run folders (``RUN/metrics.jsonl``, one
row per epoch, see :mod:`senet.train.rundir`): per epoch the training loss and top-1 accuracy of
the epoch's batches (``train_loss``, ``train_top1``) and the validation loss and top-1 after it
(``val_loss``, ``top1``). Errors are 100 - accuracy, in percent. A run trained with
``eval_every`` > 1 has validation numbers for some epochs only: its validation curves are drawn
through the validated epochs (``val_epochs``), its training curves through every epoch.

Runs are grouped by label (the model's name unless given): the runs of one label are its seeds,
drawn as their mean over the seeds with a band of +-1 standard deviation (epochs that not every
seed reached are left out of the mean). :func:`write_curves` writes the picture (``NAME.png``)
and the numbers behind it: ``NAME.csv`` (one row per run and epoch) and ``NAME.json`` (the runs'
rows and the per-label means and standard deviations).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean, stdev
from typing import TYPE_CHECKING, Any

from senet.analysis.plots import PlottingUnavailable, pyplot, save
from senet.config import ConfigError
from senet.io import write_atomic
from senet.spec import ModelSpec
from senet.train.config import TrainConfig
from senet.train.models import plain_twin
from senet.train.rundir import CONFIG, METRICS, read_metrics

if TYPE_CHECKING:
    from senet.analysis.ablation import CellResult

SERIES = ("train_loss", "train_top1_error", "val_loss", "val_top1_error")
"""The numbers of one epoch of a curve, in CSV column order (the ``val_`` ones: validated epochs only)."""


@dataclass(frozen=True)
class Curve:
    """One run's history: per epoch (1-based) the training loss and top-1 error (%), per validated
    epoch (every one unless the run had ``eval_every`` > 1) the validation loss and top-1 error."""

    label: str
    """The legend's name: the model (runs with the same label are seeds of one network)."""
    run_dir: str
    """The run folder the numbers were read from."""
    epochs: tuple[int, ...]
    train_loss: tuple[float, ...]
    """Mean cross-entropy over the epoch's training batches."""
    train_top1_error: tuple[float, ...]
    """100 - top-1 accuracy (%) over the epoch's training batches (augmented images)."""
    val_epochs: tuple[int, ...]
    """The validated epochs, which the validation series belong to (a subset of ``epochs``)."""
    val_loss: tuple[float, ...]
    """Mean cross-entropy on the validation split after the epoch."""
    val_top1_error: tuple[float, ...]
    """100 - top-1 accuracy (%) on the validation split after the epoch."""

    def epochs_of(self, key: str) -> tuple[int, ...]:
        """The epochs of the series ``key`` (one of :data:`SERIES`): the validated ones for ``val_``."""
        return self.val_epochs if key.startswith("val_") else self.epochs

    def rows(self) -> list[dict[str, Any]]:
        """One dict per epoch: label, run, epoch and the :data:`SERIES` (None for the validation
        numbers of an epoch not validated)."""
        by_epoch = {k: dict(zip(self.epochs_of(k), getattr(self, k), strict=True)) for k in SERIES}
        return [
            {"label": self.label, "run": self.run_dir, "epoch": e, **{k: by_epoch[k].get(e) for k in SERIES}}
            for e in self.epochs
        ]


def _label_of(run_dir: Path) -> str:
    """The run's model name from its ``config.json``; the folder's name when it has none."""
    if (run_dir / CONFIG).is_file():
        return TrainConfig.load(run_dir / CONFIG).model.name
    return run_dir.name


def read_curve(run_dir: str | Path, label: str | None = None) -> Curve:
    """The curve of the run in ``run_dir`` (finished or not); an error names a folder without epochs.
    The validation series come from the rows that have validation numbers (``eval_every``)."""
    path = Path(run_dir)
    if not path.is_dir():
        raise ConfigError(f"{path}: not a run folder (no such folder)")
    rows = read_metrics(path)
    if not rows:
        raise ConfigError(f"{path}: no finished epoch ({METRICS} is missing or empty): nothing to draw")
    missing = [k for k in ("epoch", "train_loss", "train_top1") if k not in rows[0]]
    if missing:
        raise ConfigError(f"{path / METRICS}: rows lack {missing}; not a senet training run")
    validated = [r for r in rows if "top1" in r and "val_loss" in r]
    return Curve(
        label=label or _label_of(path),
        run_dir=str(path),
        epochs=tuple(int(r["epoch"]) for r in rows),
        train_loss=tuple(float(r["train_loss"]) for r in rows),
        train_top1_error=tuple(100.0 - float(r["train_top1"]) for r in rows),
        val_epochs=tuple(int(r["epoch"]) for r in validated),
        val_loss=tuple(float(r["val_loss"]) for r in validated),
        val_top1_error=tuple(100.0 - float(r["top1"]) for r in validated),
    )


def find_runs(path: str | Path) -> list[Path]:
    """``path`` if it is a run folder (it holds ``metrics.jsonl``), else the run folders below it
    (a comparison's ``ROOT/<model>/seed-<k>``, an ablation's ``OUT/<row>/seed-<k>``), sorted."""
    root = Path(path)
    if (root / METRICS).is_file() or not root.is_dir():
        return [root]
    found = sorted(p.parent for p in root.glob("**/" + METRICS))
    return found or [root]


def read_curves(run_dirs: Sequence[str | Path], labels: Sequence[str] | None = None) -> list[Curve]:
    """:func:`read_curve` of each folder; ``labels`` (one per folder) replace the model names."""
    if labels is not None and len(labels) != len(run_dirs):
        raise ConfigError(f"{len(labels)} labels for {len(run_dirs)} run folders: give one label per folder")
    return [read_curve(d, labels[i] if labels else None) for i, d in enumerate(run_dirs)]


def grouped(curves: Sequence[Curve]) -> dict[str, list[Curve]]:
    """The curves by label, labels in order of first appearance."""
    groups: dict[str, list[Curve]] = {}
    for c in curves:
        groups.setdefault(c.label, []).append(c)
    return groups


def mean_curve(runs: Sequence[Curve]) -> dict[str, Any]:
    """Per epoch reached (validation series: validated) by every run: the mean and sample standard
    deviation (0 for one run) of each of :data:`SERIES` over the runs; ``{"epochs": [...],
    "val_epochs": [...], "train_loss": [...], "train_loss_std": ...}``, the ``val_`` series over
    ``val_epochs``, the training ones over ``epochs``."""
    out: dict[str, Any] = {"runs": len(runs)}
    for split, epochs_key in (("train_loss", "epochs"), ("val_loss", "val_epochs")):
        out[epochs_key] = sorted(set.intersection(*(set(r.epochs_of(split)) for r in runs)))
    for key in SERIES:
        common = out["val_epochs" if key.startswith("val_") else "epochs"]
        by_epoch = [dict(zip(r.epochs_of(key), getattr(r, key), strict=True)) for r in runs]
        values = [[series[e] for series in by_epoch] for e in common]  # (E, runs)
        out[key] = [mean(v) for v in values]
        out[f"{key}_std"] = [stdev(v) if len(v) > 1 else 0.0 for v in values]
    return out


def to_json(curves: Sequence[Curve], title: str = "") -> dict[str, Any]:
    """The numbers of a picture: every run's rows and each label's mean curve."""
    return {
        "title": title,
        "runs": [{"label": c.label, "run": c.run_dir, "rows": c.rows()} for c in curves],
        "mean": {label: mean_curve(runs) for label, runs in grouped(curves).items()},
    }


def to_csv(curves: Sequence[Curve]) -> str:
    """One row per run and epoch: ``label,run,epoch,train_loss,train_top1_error,val_loss,val_top1_error``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["label", "run", "epoch", *SERIES], lineterminator="\n")
    writer.writeheader()
    for c in curves:
        writer.writerows(c.rows())
    return buffer.getvalue()


def write_curves(
    curves: Sequence[Curve], out_dir: str | Path, *, name: str = "curves", title: str = "", plot: bool = True
) -> list[Path]:
    """``NAME.json`` and ``NAME.csv`` in ``out_dir``, and the picture ``NAME.png`` (unless ``plot`` is
    False); returns the written paths. The picture needs matplotlib (:mod:`senet.analysis.plots`)."""
    if not curves:
        raise ConfigError("no run to draw")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.json", out / f"{name}.csv"]
    write_atomic(paths[0], json.dumps(to_json(curves, title), indent=1, allow_nan=False) + "\n")
    write_atomic(paths[1], to_csv(curves))
    if plot:
        paths.append(plot_curves(curves, out / f"{name}.png", title=title))
    return paths


PANELS = (("top1_error", "top-1 error (%)"), ("loss", "cross-entropy loss (log scale)"))
"""The two panels of the picture: the error (what Fig. 4 plots) and the loss."""


def plot_curves(curves: Sequence[Curve], path: str | Path, *, title: str = "") -> Path:
    """Fig. 4 style: per label (one colour) the training (dashed) and validation (solid) curves of
    the top-1 error and of the loss against the epoch; several seeds: their mean and a +-1 std band."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, len(PANELS), figsize=(10.0, 3.8), squeeze=False)
    for n, (label, runs) in enumerate(grouped(curves).items()):
        m = mean_curve(runs)
        colour = f"C{n}"
        seeds = f" ({m['runs']} seeds)" if m["runs"] > 1 else ""
        for ax, (what, ylabel) in zip(axes.flat, PANELS, strict=True):
            for split, style, xs in (("train", "--", m["epochs"]), ("val", "-", m["val_epochs"])):
                key = f"{split}_{what}"
                ys, sd = m[key], m[f"{key}_std"]
                dots = "o" if len(xs) < len(m["epochs"]) else ""  # eval_every > 1: mark the validated epochs
                ax.plot(
                    xs, ys, style, marker=dots, ms=3, color=colour, lw=1.4, label=f"{label} {split}{seeds}"
                )
                if m["runs"] > 1:
                    low = [y - s for y, s in zip(ys, sd, strict=True)]
                    high = [y + s for y, s in zip(ys, sd, strict=True)]
                    ax.fill_between(xs, low, high, color=colour, alpha=0.15, lw=0)
            ax.set_xlabel("epoch")
            ax.set_ylabel(ylabel)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if what == "loss":
                ax.set_yscale("log")  # the first epoch's validation loss can be 10x the rest (BN statistics)
            ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title, fontsize=10)
    return save(fig, Path(path))


def twin_pairs(runs: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str]]:
    """(SE label, plain label) pairs among labelled runs ``{label: [(model, run_dir), ...]}``: a label
    whose runs train a plain network is the twin of each label whose SE network has that plain twin."""
    plain: dict[str, str] = {}
    for label, rows in runs.items():
        if rows and all(ModelSpec(model).is_plain for model, _ in rows):
            plain.setdefault(rows[0][0], label)
    pairs = []
    for label, rows in runs.items():
        if not rows or ModelSpec(rows[0][0]).is_plain:
            continue
        try:
            twin = plain_twin(rows[0][0])
        except (ConfigError, KeyError):
            continue
        if twin in plain:
            pairs.append((label, plain[twin]))
    return pairs


def write_or_note(
    curves: Sequence[Curve],
    out_dir: str | Path,
    *,
    name: str = "curves",
    title: str = "",
    quiet: bool = False,
) -> list[Path]:
    """:func:`write_curves` for the end of a training command: without matplotlib the numbers are
    still written and a note on stderr says why the picture is not (the runs stay a success)."""
    try:
        return write_curves(curves, out_dir, name=name, title=title)
    except PlottingUnavailable as err:
        if not quiet:
            print(f"note: no curves picture: {err}", file=sys.stderr)
        return write_curves(curves, out_dir, name=name, title=title, plot=False)


def draw_grid_curves(
    results: Sequence[CellResult], out_dir: str | Path, *, quiet: bool = False
) -> list[Path]:
    """Fig. 4 for an ablation grid: one picture per SE row and its plain row (the row whose network
    is the SE row's plain twin, e.g. Table 10's ``r=16`` against ``ResNet-50``), written as
    ``OUT/curves/<SE row>.png`` (+ .json, .csv); none when the grid has no plain row. Without
    matplotlib only the numbers are written, and a note says so."""
    runs: dict[str, list[tuple[str, str]]] = {}
    for r in results:
        runs.setdefault(r.cell.variant.name, []).append((r.result.model, r.result.run_dir))
    written: list[Path] = []
    for se_label, plain_label in twin_pairs(runs):
        try:
            curves = [read_curve(d, label) for label in (se_label, plain_label) for _, d in runs[label]]
        except ConfigError as err:  # the runs finished; only this picture is lost
            if not quiet:
                print(f"note: no curves picture for {se_label}: {err}", file=sys.stderr)
            continue
        name = re.sub(r"[^A-Za-z0-9_.=+-]+", "_", se_label).strip("_") or "se"
        title = f"{se_label} vs {plain_label}: training (dashed) and validation (solid)"
        written += write_or_note(curves, Path(out_dir) / "curves", name=name, title=title, quiet=quiet)
    if written and not quiet:
        print(f"curves (Fig. 4): {written[0].parent}", file=sys.stderr)
    return written
