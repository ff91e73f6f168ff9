"""``senet analyze --checkpoint RUN``: what the SE gates of a trained network learned (Sec. 7.2, Figs. 6-7).

Records every SE block's excitations on the checkpoint's validation data (or ``--data``) with
forward hooks on the gates, and writes ``OUT/summary.json`` (per block: class means and standard
deviations, overall means, saturation, class specificity, importance), the numbers behind the two
figures (``class_means.csv``: Fig. 6's blocks, ``class_spread.csv``: Fig. 7's, one row per block,
class and sampled channel) and PNG plots: ``class_means.png`` (Fig. 6), ``class_spread.png``
(Fig. 7: mean +- standard deviation over each class's images, last stage), ``saturation.png``,
``specificity.png``, ``importance.png``.

``--preset fig6`` is the paper's selection (:data:`senet.analysis.report.FIG6`): the first 50
validation images of goldfish, pug, plane (airliner) and cliff from an ImageNet-layout folder
(``--data-root``: the folder of WNID class folders, or its parent holding ``val/``), Fig. 6's
blocks, 50 sampled channels, no importance re-evaluations.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from senet.analysis.hooks import se_blocks
from senet.analysis.plots import plot_all
from senet.analysis.report import (
    SELECTIONS,
    Analysis,
    analyze,
    default_blocks,
    figure_csv,
    format_report,
    last_stage_blocks,
    select_images,
    write_file_list,
)
from senet.analysis.stats import HIGH, LOW
from senet.config import ConfigError
from senet.io import write_atomic
from senet.options import given
from senet.runtime import prepare_output
from senet.train.sources import add_weights_args, given_weights, load_weights_and_data


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="excitation analysis of a trained SE network: class means (Fig. 6) and spread (Fig. 7), "
        "saturation, specificity, importance",
        description="Record the excitations of every SE block of a checkpoint on its validation data (or "
        "--data) and write summary.json, the figures' numbers as CSV and PNG plots (Fig. 6 style class "
        "means, Fig. 7 style class mean +- std of the last stage, gate saturation, class specificity, "
        "block importance).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--out", default=None, help="output folder (default: analysis/ beside the checkpoint)")
    p.add_argument("--preset", default=None, choices=sorted(SELECTIONS),
                   help="the paper's selection: fig6 = goldfish, pug, plane, cliff, 50 images each, from the "
                   "ImageNet-layout folder --data-root (class folders named by WNID)")  # fmt: skip
    add_weights_args(p, batch_size=128)
    p.add_argument("--classes", nargs="+", default=None,
                   help="classes drawn in the figures, by name or index (default: the first 4)")  # fmt: skip
    p.add_argument("--blocks", nargs="+", default=None,
                   help="SE blocks (module paths) in class_means.png (default: Fig. 6's choice)")  # fmt: skip
    p.add_argument("--channels", type=int, default=50, help="channels sampled per block in the figures")
    p.add_argument("--low", type=float, default=LOW, help="a gate value <= LOW counts as near 0")
    p.add_argument("--high", type=float, default=HIGH, help="a gate value >= HIGH counts as near 1")
    p.add_argument("--no-importance", action="store_true", help="skip the re-evaluations (2 per block)")
    p.add_argument("--limit-batches", type=int, default=0, help="use only the first N batches (0 = all)")
    p.add_argument("--json", action="store_true", help="print summary.json instead of the table")
    p.set_defaults(run=run)


def _out_dir(args: argparse.Namespace) -> Path:
    source = Path(given_weights(args))
    out = Path(args.out) if args.out else (source.parent if source.is_file() else source) / "analysis"
    if out.is_file():
        raise ConfigError(f"--out {out}: is a file; give a folder")
    return out


def _preset_data(args: argparse.Namespace, out: Path) -> dict[str, object]:
    """The data options of ``--preset``: a file list of the selection's images (written into ``out``)."""
    selection = SELECTIONS[args.preset]
    options = dict(given(args))
    root = options.get("data.root")
    if not root:
        raise ConfigError(f"--preset {args.preset}: give --data-root, an ImageNet-layout validation folder")
    images = select_images(str(root), selection, split=str(options.get("data.val_split", "val")))
    listed = write_file_list(images, selection, out)
    return {"dataset": "filelist", "root": str(listed.parent), "val_list": str(listed)}


def _class_indices(wanted: list[str], classes: list[str]) -> list[int]:
    """``--classes`` by name (as the data names them) or by index; an unknown one is an error."""
    indices, bad = [], []
    for item in wanted:
        k = classes.index(item) if item in classes else int(item) if item.lstrip("-").isdigit() else None
        if k is None or not 0 <= k < len(classes):
            bad.append(int(item) if item.lstrip("-").isdigit() else item)
        else:
            indices.append(k)
    if bad:
        raise ConfigError(
            f"--classes {bad}: class indices run from 0 to {len(classes) - 1}, or name one of {classes[:20]}"
        )
    return indices


def run(args: argparse.Namespace) -> int:
    out = _out_dir(args)
    prepare_output(out, folder=True)  # before the (long) analysis
    extra: dict[str, object] = {"ten_crop": False}
    if args.preset:
        extra |= _preset_data(args, out)
    loaded = load_weights_and_data(args, extra=extra)
    model, info = loaded.model, loaded.info
    only = None
    if args.preset:  # the selection's classes, as the model indexes them (matched by name)
        only = [info.classes.index(wnid) for wnid, _ in SELECTIONS[args.preset].classes]
    shown = [info.classes[k] for k in only] if only is not None else list(info.classes)
    classes = _class_indices(args.classes, shown) if args.classes else list(range(min(4, len(shown))))
    names = list(se_blocks(model))
    blocks = args.blocks or default_blocks(names)
    unknown = [b for b in blocks if b not in names]
    if unknown:
        raise ConfigError(f"--blocks {unknown}: the model's SE blocks are {names}")
    analysis = analyze(
        model, loaded.loader, classes=info.classes, model_name=loaded.name, low=args.low, high=args.high,
        with_importance=not (args.no_importance or args.preset), limit_batches=args.limit_batches, only=only,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    analysis.save_json(out / "summary.json")
    last = last_stage_blocks(names)
    written = [out / "summary.json", *_write_csv(analysis, out, blocks, last, classes, args.channels)]
    shown_as = analysis
    if args.preset:  # the legend names the classes: "goldfish (n01443537)"
        names = [f"{label} ({wnid})" for wnid, label in SELECTIONS[args.preset].classes]
        shown_as = dataclasses.replace(analysis, classes=names)
    written += plot_all(shown_as, out, blocks=blocks, classes=classes, channels=args.channels, last=last)
    if args.json:
        print(json.dumps(json.loads((out / "summary.json").read_text()), indent=1))
    else:
        print(format_report(analysis))
        print("written: " + ", ".join(str(p) for p in written))
    return 0


def _write_csv(
    analysis: Analysis, out: Path, blocks: list[str], last: list[str], classes: list[int], channels: int
) -> list[Path]:
    """class_means.csv (Fig. 6's blocks) and class_spread.csv (Fig. 7's), the sampled channels only."""
    paths = [out / "class_means.csv", out / "class_spread.csv"]
    for path, chosen in zip(paths, (blocks, last), strict=True):
        write_atomic(path, figure_csv(analysis, blocks=chosen, classes=classes, channels=channels))
    return paths
