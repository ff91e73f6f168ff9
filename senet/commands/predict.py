"""``senet predict IMAGE... --checkpoint RUN``: the top-5 classes of each image with probabilities.

Images go through the checkpoint's evaluation transform (grey for 1-channel models, shorter side
resized, centre crop, the training data's mean/std); class labels come from the saved DataInfo or the
weights' card, with readable names where the card has them or the labels are ImageNet WNIDs
(``senet.weights.imagenet``).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field

import torch

from senet.config import ConfigError
from senet.data import load_image
from senet.errors import SenetError
from senet.options import add_options, build
from senet.runtime import num_threads, pick_device
from senet.train.sources import load_for_prediction
from senet.weights.imagenet import display_names


class NonFiniteOutputError(SenetError):
    """The model's outputs hold NaN or inf: there is no prediction to print."""


@dataclass(frozen=True)
class PredictOptions:
    """The options of ``senet predict``."""

    images: tuple[str, ...] = field(metadata={"positional": True})
    """Image files (any PIL format; converted to RGB or grey)."""
    weights: str = ""
    """A training run or checkpoint, a model folder, a file written by `senet convert`, or a
    foreign checkpoint whose layout senet recognises."""
    model: str | None = None
    """The registered model the weights are for: needed for a plain state dict, checked otherwise."""
    top: int = 5
    """How many classes to list per image."""
    device: str = "auto"
    """auto (CUDA when available), cpu, cuda ..."""
    threads: int = 0
    """torch CPU threads (0: torch's default)."""
    json: bool = False
    """Print JSON instead of a list."""

    def __post_init__(self) -> None:
        if self.top < 1:
            raise ConfigError(f"--top must be >= 1, got {self.top}")
        if not self.weights:
            raise ConfigError(
                "--weights: give a training run or checkpoint, a model folder or a converted file"
            )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="top-5 classes of images with a trained checkpoint",
        description="Classify image files with any weights: a training run or checkpoint, a model "
        "folder, a converted file (their own preprocessing and label names).",
    )
    add_options(p, PredictOptions, aliases={"weights": ["--checkpoint"]})
    p.set_defaults(run=run)


@torch.no_grad()
def predict(
    model: torch.nn.Module, images: torch.Tensor, classes: list[str], top: int
) -> list[list[tuple[str, float]]]:
    """For each image of (N, C, H, W), the ``top`` (class name, probability) pairs, best first.

    Raises :class:`NonFiniteOutputError` when the model's outputs hold NaN or inf (broken weights)."""
    logits = model(images).float()  # (N, K)
    if not bool(torch.isfinite(logits).all()):
        rows = (~torch.isfinite(logits)).any(1).nonzero().flatten().tolist()
        raise NonFiniteOutputError(
            f"the model's outputs are not finite (NaN or inf) for {len(rows)} of {len(logits)} image(s): "
            "its weights are broken (e.g. a run that diverged); no prediction"
        )
    probs = logits.softmax(1)  # (N, K)
    values, indices = probs.topk(min(top, probs.shape[1]), dim=1)
    return [
        [(classes[i], float(v)) for v, i in zip(vs.tolist(), ix.tolist(), strict=True)]
        for vs, ix in zip(values, indices, strict=True)
    ]


def run(args: argparse.Namespace) -> int:
    opts = build(args, PredictOptions)
    with num_threads(opts.threads):
        device = pick_device(opts.device)
        model, _, info = load_for_prediction(opts.weights, opts.model, device)
        batch = torch.cat([load_image(path, info) for path in opts.images]).to(device)  # (N, C, H, W)
        ranked = predict(model, batch, list(info.classes), opts.top)
    card = getattr(model, "card", None)
    names = dict(zip(info.classes, display_names(list(info.classes), _names(card)), strict=True))
    if opts.json:
        rows = [
            {"image": p, "top": [{"class": c, "name": names[c], "probability": v} for c, v in r]}
            for p, r in zip(opts.images, ranked, strict=True)
        ]
        print(json.dumps(rows, indent=2))
        return 0
    for path, row in zip(opts.images, ranked, strict=True):
        print(path)
        for rank, (label, prob) in enumerate(row, start=1):
            shown = names[label] if names[label] == label else f"{names[label]} ({label})"
            print(f"  {rank}. {shown:<36} {100 * prob:6.2f}%")
    return 0


def _names(card: object) -> list[str] | None:
    """The readable class names a model card carries, if any."""
    names = getattr(card, "label_names", None)
    return list(names) if names is not None else None
