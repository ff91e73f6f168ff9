"""``senet eval --checkpoint RUN --data ...``: top-1 / top-5 accuracy (and error) of a trained network.

The checkpoint carries its TrainConfig and DataInfo: without data flags the run's own validation
split is used; ``--data``/``--data-root``/``--set data.X=...`` evaluate elsewhere (same classes).
"""

from __future__ import annotations

import argparse
import json

from senet.train.cli import add_checkpoint_eval_args, given_checkpoint, load_checkpoint_and_data
from senet.train.engine import evaluate


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate a trained checkpoint (top-1 / top-5)",
        description="Evaluate a checkpoint (run folder, checkpoint folder or .safetensors file written by "
        "`senet train`) on its own validation data or on --data.",
    )
    add_checkpoint_eval_args(p)
    p.add_argument("--amp", default="none", choices=["none", "bf16", "fp16"], help="autocast dtype")
    p.set_defaults(default_batch_size=256)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_checkpoint_and_data(args)
    model, config, data, loader = loaded.model, loaded.config, loaded.data, loaded.loader
    metrics = evaluate(model, loader, amp=args.amp)
    out = {
        "checkpoint": str(given_checkpoint(args)),
        "model": config.model.name,
        "dataset": data.dataset,
        **metrics,
        "top1_error": 100 - metrics["top1"],
        "top5_error": 100 - metrics["top5"],
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"{config.model.name} on {data.dataset} ({out['val_images']} images): top-1 {out['top1']:.2f}% "
            f"top-5 {out['top5']:.2f}% (error {out['top1_error']:.2f} / {out['top5_error']:.2f}), "
            f"loss {out['val_loss']:.4f}"
        )
    return 0
