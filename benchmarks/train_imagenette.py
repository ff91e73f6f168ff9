"""Train a small SE-ResNet on ../shared/data/imagenette-mini (10 ImageNet classes, 2,000 train / 500 val).

    .venv/bin/python benchmarks/train_imagenette.py       # defaults below; results in docs/training.md

Defaults: se_resnet20_cifar (0.27M parameters) on the class-folder tree through the folder pipeline
(JPEG decode in 2 worker processes), ImageNet-style random-size crop (area 35%-100%, aspect
3/4-4/3) to 32x32 plus flip; evaluation resizes the shorter side to 37 and centre-crops 32. The
``fast`` recipe's optimiser (SGD + Nesterov, lr 0.1, warm-up 1 epoch, cosine), batch 64, 15 epochs.
A CPU-sized run: the paper's 224 px networks are far beyond a 2-core budget.
"""

from __future__ import annotations

import sys

from train_common import run


def main() -> int:
    overrides = [
        "data.dataset=folder",
        "data.input_size=32",
        "data.augment=imagenet",
        "data.scale=0.35,1.0",
        "data.workers=2",
        "epochs=15",
    ]
    result = run(__doc__, dataset="imagenette-mini", out="runs/bench-imagenette", overrides=overrides)
    if result is None:
        return 2
    print(
        f"imagenette-mini val top-1 {result.top1:.2f}% / top-5 {result.top5:.2f}% in {result.seconds:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
