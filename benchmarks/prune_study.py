"""Pruning study (docs/pruning.md): SE excitations against filter L1 norm and chance, at equal cost.

    .venv/bin/python benchmarks/prune_study.py --out runs/prune-study            # everything
    .venv/bin/python benchmarks/prune_study.py --out runs/prune-study --table    # table + plot only
    .venv/bin/python benchmarks/prune_study.py --dataset imagenette --out runs/prune-study-imagenette

For each seed: train se_resnet20_cifar with ``senet train`` (mnist: 16x16, 12,000 training images,
4 epochs of the ``fast`` recipe; imagenette: imagenette-mini at 32x32 with the imagenet
random-resized crop of 35-100% of the area, 2,000 training images, 12 epochs of ``fast``); prune
it with every criterion to each ratio of its multiply-adds (:func:`senet.prune.prune`, what
``senet prune`` runs; calibration: 4 batches of 128 training images, un-augmented, for ``se``);
evaluate on the held-out images (mnist: 2,000 test images; imagenette: the 500 validation images);
fine-tune each pruned folder with ``senet train --weights`` (mnist: one epoch of 4,032 training
images; imagenette: two epochs of the 2,000) and read its validation top-1. Every step writes its
result (``results.jsonl``) and is skipped when re-run, so an interrupted study resumes.
``--table`` prints the Markdown table and writes the plot (matplotlib). Needs ../shared/data/mnist
or ../shared/data/imagenette-mini.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import json
import math
import os
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import torch

from senet.api import load_weights
from senet.commands.compare import T95
from senet.data import DataConfig, build_loaders
from senet.prune import PruneConfig, prune
from senet.train.rundir import weights_source
from senet.weights.model_dir import save_pretrained

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CRITERIA = ("se", "l1", "random")
RATIOS = (0.1, 0.3, 0.5)
SEEDS = (0, 1)


@dataclasses.dataclass(frozen=True)
class Setting:
    """One dataset's protocol: what the study trains, prunes, evaluates and fine-tunes on."""

    data: DataConfig
    """Evaluation (val split) and calibration (first 4 training batches) data, un-augmented; its
    root is the default of --data-root."""
    flags: tuple[str, ...]
    """``senet train`` data options shared by the base run and the fine-tune (--data.root is added)."""
    base: tuple[str, ...]
    """``senet train`` options of the base network."""
    tune: tuple[str, ...]
    """``senet train`` options of the fine-tune of each pruned network."""
    tune_label: str
    """The fine-tune in the table's header, e.g. "1-epoch"."""
    metric: str
    """The plot's y-axis label."""
    plot: str
    """Default plot path."""


MNIST = Setting(
    data=DataConfig(
        dataset="mnist",
        root=str(SHARED / "mnist"),
        input_size=16,
        limit_train=12000,
        limit_val=2000,
        augment="none",
        workers=0,
    ),  # fmt: skip
    flags=("--data.dataset", "mnist", "--data.input-size", "16", "--data.limit-val", "2000"),
    base=(
        "--recipe",
        "fast",
        "--model.name",
        "se_resnet20_cifar",
        "--epochs",
        "4",
        "--data.limit-train",
        "12000",
    ),
    # one epoch of 63 batches (4,032 images) of the same 12,000: the same normalisation as the base run
    tune=(
        "--recipe",
        "fast",
        "--epochs",
        "1",
        "--lr",
        "0.02",
        "--warmup-epochs",
        "0",
        "--data.limit-train",
        "12000",
        "--limit-train-batches",
        "63",
    ),  # fmt: skip
    tune_label="1-epoch",
    metric="MNIST top-1 (%), 2,000 test images",
    plot="docs/img/prune_study.png",
)
# the imagenette benchmark's pipeline at 32 px (docs/analysis.md, "Does SE help on the data here")
IMAGENETTE = Setting(
    data=DataConfig(
        dataset="folder", root=str(SHARED / "imagenette-mini"), input_size=32, augment="none", workers=0
    ),  # fmt: skip
    flags=(
        "--data.dataset",
        "folder",
        "--data.input-size",
        "32",
        "--set",
        "data.augment=imagenet",
        "--set",
        "data.scale=0.35,1.0",
        "--data.workers",
        "0",
    ),  # fmt: skip
    base=("--recipe", "fast", "--model.name", "se_resnet20_cifar", "--epochs", "12"),
    tune=("--recipe", "fast", "--epochs", "2", "--lr", "0.02", "--warmup-epochs", "0"),
    tune_label="2-epoch",
    metric="imagenette-mini top-1 (%), 500 val images",
    plot="docs/img/prune_study_imagenette.png",
)
SETTINGS = {"mnist": MNIST, "imagenette": IMAGENETTE}


def senet(*args: str) -> None:
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "senet", *args, "--quiet"], check=True, env=env)


def top1(run: Path) -> float:
    return float(json.loads((run / "result.json").read_text())["top1"])


@torch.no_grad()
def accuracy(model: torch.nn.Module, loader: object) -> float:
    model.eval()
    right = total = 0
    for images, labels in loader:  # type: ignore[attr-defined]
        right += int((model(images).argmax(1) == labels).sum())
        total += len(labels)
    return 100.0 * right / total


def study(setting: Setting, out: Path, root: str, seeds: tuple[int, ...]) -> None:
    torch.set_num_threads(1)
    done = {json.dumps(r["key"]) for r in read(out)}
    train, val, _ = build_loaders(dataclasses.replace(setting.data, root=root), batch_size=128, seed=0)
    calibration = [images for images, _ in itertools.islice(train, 4)]
    for seed in seeds:
        base = out / f"base-seed{seed}"
        if not (base / "result.json").is_file():
            senet("train", *setting.base, *setting.flags, "--data.root", root, "--seed", str(seed),
                  "--out-dir", str(base), "--overwrite")  # fmt: skip
        model = load_weights(None, weights_source(str(base)))  # its newest checkpoint
        control = [("none", 0.0)]  # the unpruned network, fine-tuned the same way
        for criterion, ratio in control + list(itertools.product(CRITERIA, RATIOS)):
            key = {"seed": seed, "criterion": criterion, "ratio": ratio}
            record(out, done, key, functools.partial(one, setting, model, val, calibration, out, root, **key))


def one(setting: Setting, model: torch.nn.Module, val: object, calibration: list[torch.Tensor], out: Path, root: str, *,
        seed: int, criterion: str, ratio: float) -> dict[str, float]:  # fmt: skip
    """Prune, save, evaluate, fine-tune one (seed, criterion, ratio) cell ("none": ratio 0, the control)."""
    folder, run = (
        out / f"pruned-{criterion}-{ratio}-seed{seed}",
        out / f"tuned-{criterion}-{ratio}-seed{seed}",
    )
    config = PruneConfig(ratio=ratio, criterion="l1" if criterion == "none" else criterion, seed=seed)
    result = prune(model, config, calibration)
    card = model.card
    save_pretrained(result.model, folder, name=card.name, preprocessing=card.preprocessing,
                    labels=card.labels, source=f"prune_study {criterion} {ratio}")  # fmt: skip
    before = accuracy(result.model, val)
    senet("train", *setting.tune, *setting.flags, "--data.root", root, "--weights", str(folder), "--seed", str(seed),
          "--out-dir", str(run), "--overwrite")  # fmt: skip
    return {"before": before, "after": top1(run), "macs": result.after.macs / result.before.macs,
            "params": result.after.params / result.before.params}  # fmt: skip


def read(out: Path) -> list[dict]:
    path = out / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def record(out: Path, done: set[str], key: dict, measure: object) -> None:
    if json.dumps(key) in done:
        return
    row = {"key": key, **measure()}  # type: ignore[operator]
    print(json.dumps(row), flush=True)
    with open(out / "results.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")


def table(out: Path, tune_label: str = "1-epoch") -> str:
    rows = read(out)
    lines = [f"| criterion | ratio | MACs kept | top-1 before fine-tune (%) | top-1 after {tune_label} fine-tune (%) | seeds |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    groups: dict[tuple[str, float], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["key"]["criterion"], r["key"]["ratio"]), []).append(r)
    for (criterion, ratio), rs in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        lines.append(f"| {criterion} | {ratio} | {mean([r['macs'] for r in rs]):.3f} | {fmt([r['before'] for r in rs])} "
                     f"| {fmt([r['after'] for r in rs])} | {len(rs)} |")  # fmt: skip
    return "\n".join(lines)


def paired(out: Path) -> str:
    """Per-seed differences of se to l1 and to random (paired: the same trained network and fine-tune
    seed), after the fine-tune with the 95% half-width of Student's t over the seeds, and before."""
    cell = {(r["key"]["seed"], r["key"]["criterion"], r["key"]["ratio"]): r for r in read(out)}
    lines = ["| ratio | after fine-tune: se - l1 | after fine-tune: se - random | before: se - l1 | before: se - random |",
             "|---|---|---|---|---|"]  # fmt: skip
    for ratio in RATIOS:
        row = [str(ratio)]
        for phase, other in itertools.product(("after", "before"), ("l1", "random")):
            seeds = sorted(s for s, c, p in cell if c == "se" and p == ratio and (s, other, p) in cell)
            ds = [round(cell[s, "se", ratio][phase] - cell[s, other, ratio][phase], 2) for s in seeds]
            row.append(spread(ds, digits=2 if phase == "after" else 1, interval=phase == "after"))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def spread(ds: list[float], digits: int, interval: bool) -> str:
    """``d0, d1, ... (mean ± t95 * sd / sqrt(n))``; the interval needs two seeds."""
    shown = ", ".join(signed(d, digits) for d in ds)
    if not interval or len(ds) < 2:
        return shown
    m = mean(ds)
    half = T95.get(len(ds) - 1, 1.96) * math.sqrt(sum((d - m) ** 2 for d in ds) / (len(ds) - 1) / len(ds))
    return f"{shown} ({signed(m, 2)} ± {half:.2f})"


def signed(x: float, digits: int) -> str:
    """``x`` with its sign, halves rounded away from zero (the accuracies have two decimals)."""
    d = Decimal(str(round(x, 4))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{0.0:.{digits}f}" if d == 0 else f"{d:+}"


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def fmt(xs: list[float]) -> str:
    return " / ".join(f"{x:.2f}" for x in xs) + (f" (mean {mean(xs):.2f})" if len(xs) > 1 else "")


def plot(out: Path, path: Path, metric: str = MNIST.metric) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read(out)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, phase in zip(axes, ("before", "after"), strict=True):
        for criterion in CRITERIA:
            rs = [r for r in rows if r["key"]["criterion"] == criterion]
            ax.scatter([r["macs"] for r in rs], [r[phase] for r in rs], label=criterion, alpha=0.7)
            points = sorted({r["key"]["ratio"] for r in rs})
            ax.plot([mean([r["macs"] for r in rs if r["key"]["ratio"] == p]) for p in points],
                    [mean([r[phase] for r in rs if r["key"]["ratio"] == p]) for p in points])  # fmt: skip
        base = [r[phase] for r in rows if r["key"]["criterion"] == "none"]
        if base:
            ax.axhline(mean(base), color="grey", linestyle="--", label="unpruned")
        ax.set_title(f"{phase} fine-tune")
        ax.set_xlabel("multiply-adds kept (fraction)")
        ax.set_ylabel(metric)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", choices=sorted(SETTINGS), default="mnist")
    parser.add_argument("--out", type=Path, default=Path("runs/prune-study"))
    parser.add_argument("--data-root", default=None, help="default: the dataset's folder in ../shared/data")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--table", action="store_true", help="only print the table and write the plot")
    parser.add_argument(
        "--paired", action="store_true", help="also print the per-seed se - l1 / se - random table"
    )
    parser.add_argument("--plot", type=Path, default=None, help="default: docs/img/prune_study[_DATASET].png")
    args = parser.parse_args()
    setting = SETTINGS[args.dataset]
    args.plot = args.plot or Path(setting.plot)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.table:
        study(setting, args.out, args.data_root or str(setting.data.root), tuple(args.seeds))
    print(table(args.out, setting.tune_label))
    if args.paired:
        print(paired(args.out))
    try:
        plot(args.out, args.plot, setting.metric)
        print(f"plot: {args.plot}")
    except ImportError:
        print("plot skipped: matplotlib is not installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
