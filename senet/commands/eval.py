"""``senet eval --weights SOURCE [--data ...]``: top-1 / top-5 accuracy (and error) of any weights.

A training checkpoint carries its TrainConfig and DataInfo: without data flags the run's own
validation split is used; ``--data``/``--data-root``/``--set data.X=...`` evaluate elsewhere, the
classes matched by name. Other weights need the data options and use their own preprocessing.
Non-finite outputs are an error, not a NaN score.
"""

from __future__ import annotations

import argparse
import json
import math

from senet.train.engine import evaluate
from senet.train.sources import add_weights_args, given_weights, load_weights_and_data


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate any weights (top-1 / top-5)",
        description="Evaluate a training run or checkpoint on its own validation data (or --data), or "
        "any other weights (a model folder, a converted file, a recognised foreign checkpoint) on "
        "--data / --data-root with the weights' own preprocessing and label names.",
    )
    add_weights_args(p)
    p.add_argument("--amp", default="none", choices=["none", "bf16", "fp16"], help="autocast dtype")
    p.set_defaults(default_batch_size=256)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_weights_and_data(args)
    model, data, loader = loaded.model, loaded.data, loaded.loader
    metrics = evaluate(model, loader, amp=args.amp)
    if not math.isfinite(metrics["val_loss"]):
        raise ValueError(
            f"{loaded.name}: the weights give non-finite outputs (loss {metrics['val_loss']}): diverged or corrupt"
        )
    reported = loaded.card.reported_top1 if loaded.card is not None else None
    out = {
        "weights": str(given_weights(args)),
        "model": loaded.name,
        "dataset": data.dataset,
        **metrics,
        "top1_error": 100 - metrics["top1"],
        "top5_error": 100 - metrics["top5"],
        "reported_top1": reported,
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"{loaded.name} on {data.dataset} ({out['val_images']} images): top-1 {out['top1']:.2f}% "
            f"top-5 {out['top5']:.2f}% (error {out['top1_error']:.2f} / {out['top5_error']:.2f}), "
            f"loss {out['val_loss']:.4f}"
        )
        reported = loaded.card.reported_top1 if loaded.card is not None else None
        if reported is not None:
            print(f"reported top-1 of these weights: {reported:.2f}% ({loaded.card.source})")
    return 0
