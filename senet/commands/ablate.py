"""``senet ablate``: train a paper table's rows (Tables 4-6, 8, 10-16, the last-stage experiment)
or a grid of SE variants over several seeds, and print the table beside the paper's numbers.

``--grid table4`` ... ``table16``, ``last_stage`` reproduce the rows of the paper's tables (``--list``
shows each row's network, recipe and data as they would be planned); ``--axis reduction=4,16``
(repeatable: the product of the axes) and ``--baseline`` build a custom grid. Rows that name their
own recipe (Tables 4-6, 8) train with it (``--recipe`` sets the others'); the other options apply
to every row. ``--budget 2ep`` / ``2000img`` scales every row down for a quick run and says so in the
title. Every cell trains in ``OUT/<variant>/seed-<k>``; running the same command again skips
finished cells and continues interrupted ones. The table (error mean +- std over seeds, params,
GFLOPs, the difference to the baseline and whether it is within the seeds' spread) is printed and
written to ``OUT/table.md`` and ``OUT/table.csv``.
"""

from __future__ import annotations

import argparse
import sys

from senet.analysis.ablation import Options, grid_model, plan, run_grid
from senet.analysis.budget import Budget
from senet.analysis.curves import draw_grid_curves
from senet.analysis.grids import AXES, Grid, axis_grid
from senet.analysis.presets import PRESETS, preset
from senet.analysis.tables import format_csv, format_markdown, format_text, notes, summarize, title
from senet.config import ConfigError
from senet.io import write_atomic
from senet.options import given, print_config_and_exit, resolve
from senet.runtime import num_threads, prepare_output
from senet.train import TrainConfig
from senet.train.cli import add_train_args, config_from_args, model_given
from senet.train.engine import NonFiniteLossError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ablate",
        help="train a paper table's rows (Tables 4-6, 8, 10-16) or a grid of SE variants over seeds",
        description="Train every row of a grid (a paper table by name, or --axis specs) x every seed; "
        "resumable. Rows with their own recipe (Tables 4-6, 8) use it; --recipe and --model set the "
        "others'; the other options of `senet train` (data, epochs, lr, --set ...) apply to every row.",
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
    p.add_argument(
        "--budget",
        default=None,
        metavar="EPOCHSep[,IMAGESimg]",
        help="a quick run: fewer epochs (schedule shape kept) and/or the first N training images, "
        "e.g. 2ep, 2000img, 2ep,2000img; named in the table's title",
    )
    p.add_argument(
        "--list", action="store_true", help="list the presets, each row's model, recipe and data, and exit"
    )
    add_train_args(p, exclude=("overwrite",))  # cells resume in their own folders
    p.set_defaults(run=run)


def _data(config: TrainConfig) -> str:
    data = config.data
    cutout = f" cutout {data.cutout}" if data.cutout else ""
    return f"{data.dataset} {data.resolved_input_size()}px{cutout}"


def _paper(values: tuple[float, ...] | None) -> str:
    return "" if values is None else "paper " + " / ".join(f"{v:.2f}" for v in values)


def list_grids(base: TrainConfig, options: Options) -> str:
    """Every preset, each row planned with these options: network, recipe, data, epochs, paper."""
    lines = [f"presets as `senet ablate --grid NAME` plans them with these options (recipe {base.recipe}):"]
    for name, grid in PRESETS.items():
        lines.append(f"{name}: {grid.table}")
        try:
            cells = plan(grid, base, seeds=[0], out_dir=".", options=options, check=False)
        except ConfigError as err:
            lines.append(f"    (cannot plan with these options: {err})")
            continue
        table = [
            [c.variant.name, c.config.model.name, c.config.recipe, _data(c.config),
             f"{c.config.epochs} ep", _paper(c.variant.paper)]
            for c in cells
        ]  # fmt: skip
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        lines.extend("    " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in table)  # fmt: skip
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


def _notes(grid: Grid, config: TrainConfig, model: str | None, recipe_given: bool) -> list[str]:
    """What the run does differently from what a reader of the paper would assume."""
    said = [grid.note] if grid.note else []
    if grid.fallback and grid_model(grid, config, model) == grid.fallback != config.model.name:
        said.append(
            f"{config.model.name} (recipe {config.recipe}) cannot take these rows: using {grid.fallback}"
        )
    if recipe_given and any(v.recipe for v in grid.variants):
        said.append(f"the rows of {grid.name} train with their own recipes: --recipe does not apply to them")
    return said


def run(args: argparse.Namespace) -> int:
    if any(key == "seed" for key, _ in given(args)):
        raise ConfigError("--seed: an ablation trains every variant with each of --seeds; use --seeds")
    config = config_from_args(args)

    def options(start: TrainConfig) -> TrainConfig:  # the command's options over a row's own recipe
        return resolve(args, start)

    if args.list:
        print(list_grids(config, options))
        return 0
    grid = choose_grid(args)
    budget = Budget.parse(args.budget) if args.budget else None
    if print_config_and_exit(args, config):
        return 0
    suffix = f"-{budget.slug}" if budget else ""
    out = prepare_output(config.out_dir or f"runs/ablate-{grid.name}{suffix}", folder=True)
    model = model_given(args)
    for note in _notes(grid, config, model, args.recipe is not None):
        print(f"note: {note}", file=sys.stderr)
    try:
        with num_threads(config.threads):
            results = run_grid(
                grid, config, seeds=args.seeds, out_dir=out, model=model, options=options, budget=budget,
                quiet=args.quiet,
            )  # fmt: skip
    except NonFiniteLossError as err:
        print(f"senet ablate: {err}", file=sys.stderr)
        return 3
    rows = summarize(results)
    heading = title(grid.table, results, budget=budget, seeds=args.seeds)
    write_atomic(out / "table.md", format_markdown(rows, title=heading, top5=grid.top5))
    write_atomic(out / "table.csv", format_csv(rows))
    print(format_text(rows, title=heading, top5=grid.top5))
    found = notes(rows)
    if found:
        print("\n".join(["", *found]))
    print(f"written: {out / 'table.md'}, {out / 'table.csv'}")
    draw_grid_curves(results, out, quiet=args.quiet)  # Fig. 4: OUT/curves/<SE row>.png per SE/plain pair
    return 0
