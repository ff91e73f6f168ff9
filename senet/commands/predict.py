"""``senet predict IMAGE... --checkpoint RUN``: the top-5 classes of each image with probabilities.

Images go through the checkpoint's evaluation transform (grey for 1-channel models, shorter side
resized, centre crop, the training data's mean/std); class names come from the saved DataInfo.
"""

from __future__ import annotations

import argparse
import json

import torch

from senet.data import load_image
from senet.train.cli import apply_threads
from senet.train.distributed import pick_device
from senet.train.models import load_trained


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="top-5 classes of images with a trained checkpoint",
        description="Classify image files with a checkpoint written by `senet train`.",
    )
    p.add_argument("images", nargs="+", help="image files (any PIL format; converted to RGB or grey)")
    p.add_argument("--checkpoint", required=True, help="run folder, checkpoint folder or model.safetensors")
    p.add_argument("--top", type=int, default=5, help="how many classes to list")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda ...")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


@torch.no_grad()
def predict(
    model: torch.nn.Module, images: torch.Tensor, classes: list[str], top: int
) -> list[list[tuple[str, float]]]:
    """For each image of (N, C, H, W), the ``top`` (class name, probability) pairs, best first."""
    probs = model(images).float().softmax(1)  # (N, K)
    values, indices = probs.topk(min(top, probs.shape[1]), dim=1)
    return [
        [(classes[i], float(v)) for v, i in zip(vs.tolist(), ix.tolist(), strict=True)]
        for vs, ix in zip(values, indices, strict=True)
    ]


def run(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise ValueError(f"--top must be >= 1, got {args.top}")
    apply_threads(args)
    device = pick_device(args.device)
    model, _, info = load_trained(args.checkpoint, device=device)
    batch = torch.cat([load_image(path, info) for path in args.images]).to(device)  # (N, C, H, W)
    ranked = predict(model, batch, list(info.classes), args.top)
    if args.json:
        print(
            json.dumps(
                [
                    {"image": p, "top": [{"class": c, "probability": v} for c, v in r]}
                    for p, r in zip(args.images, ranked, strict=True)
                ],
                indent=2,
            )
        )
        return 0
    for path, row in zip(args.images, ranked, strict=True):
        print(path)
        for rank, (name, prob) in enumerate(row, start=1):
            print(f"  {rank}. {name:<24} {100 * prob:6.2f}%")
    return 0
