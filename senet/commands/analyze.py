"""``senet analyze --checkpoint RUN``: what the SE gates of a trained network learned (Sec. 7.2, Fig. 6).

Records every SE block's excitations on the checkpoint's validation data (or ``--data``) with
forward hooks on the gates, and writes ``OUT/summary.json`` (per block: class means, overall
means, saturation, class specificity, importance) and PNG plots: ``class_means.png`` (Fig. 6),
``saturation.png``, ``specificity.png``, ``importance.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from senet.analysis.hooks import se_blocks
from senet.analysis.plots import plot_all
from senet.analysis.report import analyze, default_blocks, format_report
from senet.analysis.stats import HIGH, LOW
from senet.config import ConfigError
from senet.runtime import prepare_output
from senet.train.sources import add_weights_args, given_weights, load_weights_and_data


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="excitation analysis of a trained SE network: class means, saturation, specificity, importance",
        description="Record the excitations of every SE block of a checkpoint on its validation data (or "
        "--data) and write summary.json and PNG plots (Fig. 6 style class means, gate saturation, class "
        "specificity, block importance).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--out", default=None, help="output folder (default: analysis/ beside the checkpoint)")
    add_weights_args(p, batch_size=128)
    p.add_argument("--classes", nargs="+", type=int, default=None,
                   help="class indices drawn in class_means.png (default: the first 4)")  # fmt: skip
    p.add_argument("--blocks", nargs="+", default=None,
                   help="SE blocks (module paths) in class_means.png (default: Fig. 6's choice)")  # fmt: skip
    p.add_argument("--channels", type=int, default=50, help="channels sampled per block in class_means.png")
    p.add_argument("--low", type=float, default=LOW, help="a gate value <= LOW counts as near 0")
    p.add_argument("--high", type=float, default=HIGH, help="a gate value >= HIGH counts as near 1")
    p.add_argument("--no-importance", action="store_true", help="skip the re-evaluations (2 per block)")
    p.add_argument("--limit-batches", type=int, default=0, help="use only the first N batches (0 = all)")
    p.add_argument("--json", action="store_true", help="print summary.json instead of the table")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_weights_and_data(args, extra={"ten_crop": False})
    model, info, loader = loaded.model, loaded.info, loaded.loader
    classes = args.classes if args.classes is not None else list(range(min(4, info.num_classes)))
    bad = [k for k in classes if not 0 <= k < info.num_classes]
    if bad:
        raise ConfigError(f"--classes {bad}: class indices run from 0 to {info.num_classes - 1}")
    names = list(se_blocks(model))
    blocks = args.blocks or default_blocks(names)
    unknown = [b for b in blocks if b not in names]
    if unknown:
        raise ConfigError(f"--blocks {unknown}: the model's SE blocks are {names}")
    given = Path(given_weights(args))
    out = Path(args.out) if args.out else (given.parent if given.is_file() else given) / "analysis"
    if out.is_file():
        raise ConfigError(f"--out {out}: is a file; give a folder")
    prepare_output(out, folder=True)  # before the (long) analysis
    analysis = analyze(
        model, loader, classes=info.classes, model_name=loaded.name, low=args.low, high=args.high,
        with_importance=not args.no_importance, limit_batches=args.limit_batches,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    analysis.save_json(out / "summary.json")
    paths = plot_all(analysis, out, blocks=blocks, classes=classes, channels=args.channels)
    if args.json:
        print(json.dumps(json.loads((out / "summary.json").read_text()), indent=1))
    else:
        print(format_report(analysis))
        print("written: " + ", ".join(str(p) for p in [out / "summary.json", *paths]))
    return 0
