"""``senet curves RUN...``: Fig. 4 of the paper -- training and validation curves of run folders.

Reads each run's ``metrics.jsonl`` and draws the top-1 error and the loss against the epoch,
training dashed and validation solid, one colour per network (runs of the same model are its
seeds: their mean and a +-1 std band); writes ``OUT/NAME.png`` and the numbers behind it,
``OUT/NAME.json`` and ``OUT/NAME.csv`` (:mod:`senet.analysis.curves`). A folder that is not a run
but holds runs (``senet train --twin``'s comparison, an ablation's rows) stands for all of them.
``senet train --twin`` and ``senet ablate`` draw the same picture when they finish.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from senet.analysis.curves import find_runs, read_curves, write_curves
from senet.config import ConfigError
from senet.options import add_options, build


@dataclass(frozen=True)
class CurvesOptions:
    """The options of ``senet curves``."""

    runs: tuple[str, ...] = field(metadata={"positional": True})
    """Run folders (each with metrics.jsonl), or folders holding runs; an SE network's and its twin's."""
    out: str = "."
    """The folder the picture and its numbers are written to."""
    name: str = "curves"
    """File name stem: NAME.png, NAME.json, NAME.csv."""
    labels: tuple[str, ...] = ()
    """One legend label per run folder found (default: each run's model; equal labels are seeds)."""
    title: str = ""
    """The picture's title (default: the labels compared)."""
    plot: bool = True
    """Draw NAME.png (needs matplotlib); false: only the numbers."""

    def __post_init__(self) -> None:
        if not self.runs:
            raise ConfigError("give at least one run folder")
        if not self.name or "/" in self.name:
            raise ConfigError(f"--name {self.name!r}: give a file name stem without '/'")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "curves",
        help="Fig. 4: training and validation curves (top-1 error, loss) of run folders as PNG + JSON + CSV",
        description="Draw the training and validation curves of runs (their metrics.jsonl) side by side, "
        "as the paper's Fig. 4 compares SE-ResNet-50 with ResNet-50, and write the numbers behind them.",
    )
    add_options(p, CurvesOptions, aliases={"out": ["-o"]})
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    opts = build(args, CurvesOptions)
    folders = [run_dir for given in opts.runs for run_dir in find_runs(given)]
    curves = read_curves(folders, opts.labels or None)
    labels = list(dict.fromkeys(c.label for c in curves))
    title = opts.title or " vs ".join(labels) + ": training (dashed) and validation (solid)"
    paths = write_curves(curves, opts.out, name=opts.name, title=title, plot=opts.plot)
    for label in labels:
        runs = [c for c in curves if c.label == label]
        last = [c.val_top1_error[-1] for c in runs if c.val_epochs]  # eval_every: the last validated
        error = f"last val top-1 error {sum(last) / len(last):.2f}%" if last else "no validated epoch yet"
        print(f"{label}: {len(runs)} run(s), {max(len(c.epochs) for c in runs)} epochs, {error}")
    print("written: " + ", ".join(str(p) for p in paths))
    return 0
