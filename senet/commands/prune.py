"""``senet prune --weights SRC --ratio R --criterion se|l1|random --out DIR``: a narrower model folder.

Removes residual-stream channels of a trained SE-ResNet (ImageNet or CIFAR family) until one
forward pass costs at most (1 - R) of its multiply-adds (or parameters), ranking the channels by
their mean excitation over calibration images (``se``: the first ``--calibration-batches`` of the
data's validation split, labels unused, as ``senet analyze`` records them), their filters' L1
norm (``l1``) or at random (:mod:`senet.prune`). Writes a model folder whose ``config.json`` holds
the new widths, so ``eval``, ``complexity``, ``bench``, ``export`` and ``train --weights`` (the
fine-tune) read it, and ``prune.json`` beside it (kept channels, costs before and after).
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from senet.api import load_weights
from senet.config import ConfigError, fields, from_dict, nest
from senet.io import write_atomic
from senet.options import add_options, given
from senet.prune import PruneConfig, Pruned, prune
from senet.train.rundir import weights_source
from senet.train.sources import WeightsOptions, add_weights_args, load_weights_and_data
from senet.weights.model_dir import save_pretrained

REPORT_FILE = "prune.json"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prune",
        help="structured channel pruning of an SE-ResNet by excitations, filter L1 norm or at random",
        description="Remove residual-stream channels of a trained SE-ResNet to a budget of multiply-adds "
        "or parameters, ranked by mean excitation (se), filter L1 norm (l1) or at random; write a model "
        "folder with the new widths (fine-tune it with senet train --weights DIR). See docs/pruning.md.",
    )
    p.add_argument("--out", required=True, help="the model folder to write")
    p.add_argument("--json", action="store_true", help="print prune.json instead of a summary")
    add_options(p, PruneConfig, title="pruning options (PruneConfig)")
    add_weights_args(p, batch_size=128)
    p.set_defaults(run=run)


def _split(args: argparse.Namespace) -> tuple[PruneConfig, argparse.Namespace]:
    """The PruneConfig of the flags, and ``args`` without them (the weights and data options)."""
    own = set(fields(PruneConfig))
    pairs = dict(given(args))
    config = from_dict(PruneConfig, nest({k: v for k, v in pairs.items() if k in own}))
    rest = {k: v for k, v in vars(args).items() if not (k.startswith("option:") and k[7:] in own)}
    return config, argparse.Namespace(**rest)


def run(args: argparse.Namespace) -> int:
    config, weights_args = _split(args)
    source = dict(given(weights_args)).get("weights")
    if not source:
        raise ConfigError("--weights: give a training run or checkpoint, a model folder or a converted file")
    opts = from_dict(WeightsOptions, {"weights": source, "model": dict(given(weights_args)).get("model")})
    path = weights_source(str(source))
    model = load_weights(opts.model, path)  # with its card: preprocessing and labels for the new folder
    batches = None
    if config.criterion == "se":
        loaded = load_weights_and_data(weights_args)
        model = model.to(loaded.device)
        batches = (images for images, _ in itertools.islice(loaded.loader, config.calibration_batches))
    result = prune(model, config, batches)
    out = Path(args.out)
    card = model.card
    save_pretrained(
        result.model.cpu(), out, name=card.name, preprocessing=card.preprocessing, labels=card.labels,
        label_names=card.label_names, license=card.license,
        source=f"senet prune --criterion {config.criterion} --ratio {config.ratio} of {source}",
    )  # fmt: skip
    report = {"source": str(source), "config": vars_of(config)} | result.summary()
    write_atomic(out / REPORT_FILE, json.dumps(report, indent=1).encode())
    print(json.dumps(report, indent=1) if args.json else format_summary(result, config, out))
    return 0


def vars_of(config: PruneConfig) -> dict[str, object]:
    """The options of a prune run as a JSON-ready mapping."""
    return {name: getattr(config, name) for name in fields(PruneConfig)}


def format_summary(result: Pruned, config: PruneConfig, out: Path) -> str:
    """Costs before and after, and each slot's width."""
    before, after = result.before, result.after
    widths = ", ".join(
        f"{'stem' if slot == 0 else f'layer{slot}'} {old}->{new}"
        for slot, (old, new) in result.widths.items()
    )
    return "\n".join([
        f"criterion {config.criterion}, ratio {config.ratio} of {config.budget}: kept {result.fraction:.3f} "
        "of each stream's prunable channels",
        f"params {before.params:,} -> {after.params:,} ({after.params / before.params:.1%}), "
        f"multiply-adds at {before.input_size}px {before.macs:,} -> {after.macs:,} ({after.macs / before.macs:.1%})",
        f"widths: {widths}",
        f"written: {out} (fine-tune: senet train --weights {out} ...)",
    ])  # fmt: skip
