"""Shared body of the real-data training benchmarks (train_mnist.py, train_imagenette.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from senet.commands.train import format_results
from senet.train import FitResult, fit, recipe

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def run(doc: str, *, dataset: str, out: str, overrides: list[str]) -> FitResult | None:
    """Parse ``--root/--out/--set``, train the ``fast`` recipe with ``overrides`` and print the table."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=str(DATA / dataset), help=f"the {dataset} folder")
    p.add_argument("--out", default=out, help="run folder")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args()
    if not Path(args.root).is_dir():
        print(f"{dataset} not found at {args.root}; pass --root", file=sys.stderr)
        return None
    config = recipe("fast").with_overrides(
        [f"data.root={args.root}", f"out_dir={args.out}", *overrides, *args.overrides]
    )
    result = fit(config)
    print(format_results([result]))
    return result
