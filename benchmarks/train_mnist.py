"""Train a small SE-ResNet on MNIST with the ``fast`` recipe; target >= 99.0% test accuracy.

    .venv/bin/python benchmarks/train_mnist.py            # defaults below; results in docs/training.md
    .venv/bin/python benchmarks/train_mnist.py --set epochs=3 --set threads=2

Defaults: se_resnet20_cifar, the ``fast`` recipe (SGD + Nesterov, lr 0.1, 1 warm-up epoch, cosine,
batch 64, weight decay 5e-4, 1 thread) on all 60,000 training images resized to 16x16 (pad-2
random-crop augmentation), 2 epochs, evaluated on the 10,000 test images. Needs
../shared/data/mnist (the official idx files).
"""

from __future__ import annotations

import sys

from train_common import run

TARGET = 99.0


def main() -> int:
    overrides = ["data.dataset=mnist", "data.input_size=16", "epochs=2"]
    result = run(__doc__, dataset="mnist", out="runs/bench-mnist", overrides=overrides)
    if result is None:
        return 2
    verdict = "reached" if result.top1 >= TARGET else "did NOT reach"
    print(f"MNIST test top-1 {result.top1:.2f}% ({verdict} the {TARGET}% target) in {result.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
