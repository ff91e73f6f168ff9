"""Train a small SE-ResNet on MNIST with the ``fast`` recipe; target >= 99.0% test accuracy.

    .venv/bin/python benchmarks/train_mnist.py            # defaults below; results in docs/training.md
    .venv/bin/python benchmarks/train_mnist.py --set epochs=3 --set threads=2

Defaults: se_resnet20_cifar, the ``fast`` recipe (SGD + Nesterov, lr 0.1, 1 warm-up epoch, cosine,
batch 64, weight decay 5e-4, 1 thread) on all 60,000 training images resized to 16x16 (pad-2
random-crop augmentation), 2 epochs, evaluated on the 10,000 test images. Needs
../shared/data/mnist (the official idx files).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from senet.commands.train import format_results
from senet.train import fit, recipe

ROOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
TARGET = 99.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=str(ROOT), help="folder with the MNIST idx files")
    p.add_argument("--out", default="runs/bench-mnist", help="run folder")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args()
    if not Path(args.root).is_dir():
        print(f"MNIST not found at {args.root}; pass --root", file=sys.stderr)
        return 2
    config = recipe("fast").with_overrides(
        [
            "data.dataset=mnist",
            f"data.root={args.root}",
            "data.input_size=16",
            "epochs=2",
            f"out_dir={args.out}",
        ]
        + args.overrides
    )
    result = fit(config)
    print(format_results([result]))
    verdict = "reached" if result.top1 >= TARGET else "did NOT reach"
    print(f"MNIST test top-1 {result.top1:.2f}% ({verdict} the {TARGET}% target) in {result.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
