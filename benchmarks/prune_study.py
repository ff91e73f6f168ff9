"""Pruning study (docs/pruning.md): SE excitations against filter L1 norm and chance, at equal cost.

    .venv/bin/python benchmarks/prune_study.py --out runs/prune-study            # everything
    .venv/bin/python benchmarks/prune_study.py --out runs/prune-study --table    # table + plot only

For each seed: train se_resnet20_cifar on MNIST (16x16, 12,000 training images, 4 epochs of the
``fast`` recipe) with ``senet train``; prune it with every criterion to each ratio of its
multiply-adds (:func:`senet.prune.prune`, what ``senet prune`` runs; calibration: 4 batches of 128
training images for ``se``); evaluate on 2,000 test images; fine-tune each pruned folder for one
epoch on 4,000 training images with ``senet train --weights`` and read its validation top-1.
Every step writes its result (``results.jsonl``) and is skipped when re-run, so an interrupted
study resumes. ``--table`` prints the Markdown table and writes ``prune_study.png`` (matplotlib).
Needs ../shared/data/mnist.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from senet.api import load_weights
from senet.data import DataConfig, build_loaders
from senet.prune import PruneConfig, prune
from senet.train.rundir import weights_source
from senet.weights.model_dir import save_pretrained

MNIST = str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
CRITERIA = ("se", "l1", "random")
RATIOS = (0.1, 0.3, 0.5)
SEEDS = (0, 1)
DATA = ["--data.dataset", "mnist", "--data.input-size", "16", "--data.limit-val", "2000"]
BASE = [
    "--recipe",
    "fast",
    "--model.name",
    "se_resnet20_cifar",
    "--epochs",
    "4",
    "--data.limit-train",
    "12000",
]
# one epoch of 63 batches (4,032 images) of the same 12,000: the same normalisation as the base run
TUNE = [
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
]


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


def study(out: Path, root: str, seeds: tuple[int, ...]) -> None:
    torch.set_num_threads(1)
    done = {json.dumps(r["key"]) for r in read(out)}
    data = DataConfig(dataset="mnist", root=root, input_size=16, limit_train=12000, limit_val=2000,
                      augment="none", workers=0)  # fmt: skip
    train, val, _ = build_loaders(data, batch_size=128, seed=0)
    calibration = [images for images, _ in itertools.islice(train, 4)]
    for seed in seeds:
        base = out / f"base-seed{seed}"
        if not (base / "result.json").is_file():
            senet(
                "train",
                *BASE,
                *DATA,
                "--data.root",
                root,
                "--seed",
                str(seed),
                "--out-dir",
                str(base),
                "--overwrite",
            )
        model = load_weights(None, weights_source(str(base)))  # its newest checkpoint
        control = [("none", 0.0)]  # the unpruned network, fine-tuned the same way
        for criterion, ratio in control + list(itertools.product(CRITERIA, RATIOS)):
            key = {"seed": seed, "criterion": criterion, "ratio": ratio}
            record(out, done, key, functools.partial(one, model, val, calibration, out, root, **key))


def one(model: torch.nn.Module, val: object, calibration: list[torch.Tensor], out: Path, root: str, *,
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
    senet("train", *TUNE, *DATA, "--data.root", root, "--weights", str(folder), "--seed", str(seed),
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


def table(out: Path) -> str:
    rows = read(out)
    lines = ["| criterion | ratio | MACs kept | top-1 before fine-tune (%) | top-1 after 1-epoch fine-tune (%) | seeds |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    groups: dict[tuple[str, float], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["key"]["criterion"], r["key"]["ratio"]), []).append(r)
    for (criterion, ratio), rs in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        lines.append(f"| {criterion} | {ratio} | {mean([r['macs'] for r in rs]):.3f} | {fmt([r['before'] for r in rs])} "
                     f"| {fmt([r['after'] for r in rs])} | {len(rs)} |")  # fmt: skip
    return "\n".join(lines)


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def fmt(xs: list[float]) -> str:
    return " / ".join(f"{x:.2f}" for x in xs) + (f" (mean {mean(xs):.2f})" if len(xs) > 1 else "")


def plot(out: Path, path: Path) -> None:
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
        ax.set_ylabel("MNIST top-1 (%), 2,000 test images")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/prune-study"))
    parser.add_argument("--data-root", default=MNIST)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--table", action="store_true", help="only print the table and write the plot")
    parser.add_argument("--plot", type=Path, default=Path("docs/img/prune_study.png"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.table:
        study(args.out, args.data_root, tuple(args.seeds))
    print(table(args.out))
    try:
        plot(args.out, args.plot)
        print(f"plot: {args.plot}")
    except ImportError:
        print("plot skipped: matplotlib is not installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
