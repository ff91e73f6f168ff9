"""``senet ablate``: train a grid of SE variants (Tables 10-16) with one recipe and several seeds.

``--grid table10`` ... ``table16`` reproduce the rows of the paper's ablation tables; ``--axis
reduction=4,16`` (repeatable: the product of the axes) and ``--baseline`` build a custom grid.
Every cell trains in ``OUT/<variant>/seed-<k>``; running the same command again skips finished
cells and continues interrupted ones. The table (top-1 / top-5 error mean +- std over seeds,
params, GFLOPs) is printed and written to ``OUT/table.md`` and ``OUT/table.csv``.
"""

from __future__ import annotations

import argparse
import sys

from senet.analysis.ablation import run_grid
from senet.analysis.curves import draw_grid_curves
from senet.analysis.grids import AXES, PRESETS, Grid, axis_grid, preset
from senet.analysis.tables import format_csv, format_markdown, format_text, summarize
from senet.config import ConfigError
from senet.io import write_atomic
from senet.options import given, print_config_and_exit
from senet.runtime import num_threads, prepare_output
from senet.train.cli import add_train_args, config_from_args, model_given
from senet.train.engine import NonFiniteLossError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ablate",
        help="train a grid of SE variants over seeds and print the paper-style table (Tables 10-16)",
        description="Train every variant of a grid (a paper table by name, or --axis specs) x every seed "
        "with one recipe; resumable. Options of `senet train` set the recipe, model and data.",
    )
    p.add_argument("--grid", default=None, choices=sorted(PRESETS), help="a paper table's grid")
    p.add_argument(
        "--axis",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help=f"a custom axis ({', '.join(AXES)}); several give their product",
    )
    p.add_argument(
        "--baseline", action="store_true", help="add the plain network (se=None) to an --axis grid"
    )
    p.add_argument("--variants", nargs="+", default=None, metavar="NAME", help="only these rows of --grid")
    p.add_argument(
        "--seeds", nargs="+", type=int, default=[0, 1], help="seeds (one run per variant and seed)"
    )
    p.add_argument("--list", action="store_true", help="list the preset grids and exit")
    add_train_args(p, exclude=("overwrite",))  # cells resume in their own folders
    p.set_defaults(run=run)


def list_grids() -> str:
    lines = []
    for name, grid in PRESETS.items():
        rows = ", ".join(v.name for v in grid.variants)
        model = f" [model {grid.model}]" if grid.model else ""
        lines.append(f"{name}: {grid.table}{model}\n    {rows}")
    return "\n".join(lines)


def choose_grid(args: argparse.Namespace) -> Grid:
    if args.grid and (args.axis or args.baseline):
        raise ConfigError("give either --grid NAME or --axis/--baseline, not both")
    if args.grid:
        grid = preset(args.grid)
        return grid.select(args.variants) if args.variants else grid
    if args.variants:
        raise ConfigError("--variants selects rows of a --grid preset")
    return axis_grid(args.axis, baseline=args.baseline)


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(list_grids())
        return 0
    if any(key == "seed" for key, _ in given(args)):
        raise ConfigError("--seed: an ablation trains every variant with each of --seeds; use --seeds")
    grid = choose_grid(args)
    config = config_from_args(args)
    if print_config_and_exit(args, config):
        return 0
    out = prepare_output(config.out_dir or f"runs/ablate-{grid.name}", folder=True)
    model = model_given(args)
    if grid.note and not model:
        print(f"note: {grid.note}", file=sys.stderr)
    try:
        with num_threads(config.threads):
            results = run_grid(grid, config, seeds=args.seeds, out_dir=out, model=model, quiet=args.quiet)
    except NonFiniteLossError as err:
        print(f"senet ablate: {err}", file=sys.stderr)
        return 3
    rows = summarize(results)
    first = results[0].result
    title = (
        f"{grid.table} -- {first.model if len({r.result.model for r in results}) == 1 else 'models'} on "
        f"{first.dataset} at {first.input_size}px, recipe {config.recipe}, {config.epochs} epochs, "
        f"seeds {' '.join(map(str, args.seeds))}"
    )
    write_atomic(out / "table.md", format_markdown(rows, title=title))
    write_atomic(out / "table.csv", format_csv(rows))
    print(format_text(rows, title=title))
    print(f"written: {out / 'table.md'}, {out / 'table.csv'}")
    draw_grid_curves(results, out, quiet=args.quiet)  # Fig. 4: OUT/curves/<SE row>.png per SE/plain pair
    return 0
