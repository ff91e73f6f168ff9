"""Top-1 agreement of the optimised bf16 model with fp32 on real images (a benchmark script).

    python benchmarks/agreement.py --model se_resnet50 --data ../shared/data/imagenette-mini \\
        [--weights RUN/checkpoints/epoch-NNNN/model.safetensors] [--split val] [--limit 200]

Images of a class-folder tree are decoded by :func:`senet.data.images.open_image` (RGB), resized
with PIL bilinear to ``--size`` x ``--size`` if needed (not the training pipeline's resize + centre
crop: the question is fp32 vs bf16), normalised by :class:`senet.data.augment.Normalize` with the
ImageNet mean / std of :mod:`senet.data.config`, run through ``senet.optimize(model)`` in fp32
and ``dtype=torch.bfloat16`` and compared: the fraction of images whose top-1 class is the same,
and the largest logit gap.
Without ``--weights`` the model is randomly initialised, whose near-tied logits make the
agreement a pessimistic, weakly meaningful figure; the output says which it was.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from senet.api import create_model
from senet.data.augment import Normalize
from senet.data.config import IMAGENET_MEAN, IMAGENET_STD
from senet.data.images import open_image
from senet.data.transforms import to_chw
from senet.fast.inference import optimize

SUFFIXES = (".jpeg", ".jpg", ".png")


def load_images(root: Path, *, size: int, limit: int | None) -> torch.Tensor:
    """(N, 3, size, size) float32, normalised; files sorted by path, ``limit`` spread over classes."""
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist")
    classes = sorted(p for p in root.iterdir() if p.is_dir())
    files = [sorted(f for f in c.iterdir() if f.suffix.lower() in SUFFIXES) for c in classes]
    if not any(files):
        raise FileNotFoundError(f"no {'/'.join(SUFFIXES)} images in class folders under {root}")
    per_class = None if limit is None else max(1, limit // max(1, len(classes)))
    chosen = [f for group in files for f in group[:per_class]]
    batch = []
    for path in chosen:
        image = open_image(path)  # RGB
        if image.size != (size, size):
            image = image.resize((size, size), Image.BILINEAR)
        batch.append(torch.from_numpy(to_chw(image)))  # uint8 (3, size, size)
    return Normalize(IMAGENET_MEAN, IMAGENET_STD)(torch.stack(batch))  # float32 (N, 3, size, size)


def agreement(model: torch.nn.Module, images: torch.Tensor, *, batch: int = 25) -> dict[str, float]:
    """Top-1 agreement of bf16 and fp32 optimised copies of ``model`` on ``images``."""
    fp32, bf16 = optimize(model), optimize(model, dtype=torch.bfloat16)
    same, gap, margin = 0, 0.0, []
    with torch.inference_mode():
        for chunk in images.split(batch):
            a, b = fp32(chunk), bf16(chunk)  # (n, classes)
            same += int((a.argmax(1) == b.argmax(1)).sum())
            gap = max(gap, float((a - b).abs().max()))
            top2 = a.topk(2, dim=1).values
            margin += (top2[:, 0] - top2[:, 1]).tolist()
    return {
        "images": len(images),
        "top1_agreement": same / len(images),
        "max_abs_logit_diff": gap,
        "median_fp32_top1_margin": float(np.median(margin)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python benchmarks/agreement.py", description=__doc__.split("\n")[0])
    p.add_argument("--model", default="se_resnet50")
    p.add_argument("--weights", type=Path, default=None, help="trained weights (default: random init)")
    p.add_argument("--data", type=Path, required=True, help="class-folder tree, e.g. imagenette-mini")
    p.add_argument("--split", default="val", help="sub-folder of --data (default val; '' for none)")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--limit", type=int, default=None, help="at most this many images, spread over classes")
    p.add_argument("--num-classes", type=int, default=None, help="classifier width (default: the model's)")
    args = p.parse_args(argv)
    overrides = {} if args.num_classes is None else {"num_classes": args.num_classes}
    torch.manual_seed(0)
    model = create_model(args.model, weights=args.weights, **overrides).eval()
    images = load_images(
        args.data / args.split if args.split else args.data, size=args.size, limit=args.limit
    )
    result = {"model": args.model, "weights": str(args.weights) if args.weights else "random init"}
    print(json.dumps(result | agreement(model, images), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
