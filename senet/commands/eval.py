"""``senet eval --checkpoint RUN --data ...``: top-1 / top-5 accuracy (and error) of a trained network.

The checkpoint carries its TrainConfig and DataInfo: without data flags the run's own validation
split is used; ``--data``/``--data-root``/``--set data.X=...`` evaluate elsewhere (same classes).
"""

from __future__ import annotations

import argparse
import json

from senet.data import build_loaders
from senet.train.cli import DATA_FLAGS, add_data_args, apply_threads, assignments
from senet.train.distributed import pick_device
from senet.train.engine import evaluate
from senet.train.models import load_trained
from senet.train.overrides import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate a trained checkpoint (top-1 / top-5)",
        description="Evaluate a checkpoint (run folder, checkpoint folder or .safetensors file written by "
        "`senet train`) on its own validation data or on --data.",
    )
    p.add_argument("--checkpoint", required=True, help="run folder, checkpoint folder or model.safetensors")
    add_data_args(p)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a DataConfig field, e.g. --set ten_crop=true")  # fmt: skip
    p.add_argument("--batch-size", type=int, default=256, help="evaluation batch size")
    p.add_argument("--amp", default="none", choices=["none", "bf16", "fp16"], help="autocast dtype")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda ...")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    apply_threads(args)
    device = pick_device(args.device)
    model, config, info = load_trained(args.checkpoint, device=device)
    sets = [s.removeprefix("data.") for s in assignments(args, DATA_FLAGS) + list(args.overrides)]
    data = config.with_overrides([f"data.{s}" for s in sets]).data
    _, loader, data_info = build_loaders(data, batch_size=args.batch_size, device=device, seed=config.seed)
    if data_info.num_classes != info.num_classes or data_info.in_chans != info.in_chans:
        raise ConfigError(
            f"{data.dataset} has {data_info.num_classes} classes / {data_info.in_chans} channels but the "
            f"checkpoint was trained for {info.num_classes} / {info.in_chans}"
        )
    metrics = evaluate(model, loader, amp=args.amp)
    out = {
        "checkpoint": args.checkpoint,
        "model": config.model,
        "dataset": data.dataset,
        **metrics,
        "top1_error": 100 - metrics["top1"],
        "top5_error": 100 - metrics["top5"],
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"{config.model} on {data.dataset} ({out['val_images']} images): top-1 {out['top1']:.2f}% "
            f"top-5 {out['top5']:.2f}% (error {out['top1_error']:.2f} / {out['top5_error']:.2f}), "
            f"loss {out['val_loss']:.4f}"
        )
    return 0
