"""The ablation runner (Sec. 6-7): every variant of a grid x every seed, trained with one recipe.

Each cell (variant, seed) is one :func:`senet.train.engine.fit` run in its own folder
``OUT/<variant>/seed-<k>``. A cell whose ``result.json`` exists is finished and is read back, not
retrained; a cell with checkpoints but no result was interrupted and continues from its newest
checkpoint (``fit(resume=True)``). So running the same command again completes an interrupted
grid, and a finished grid only re-prints its table. A cell folder trained with a different
configuration is an error (never silently mixed into one table).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from senet.analysis.budget import Budget
from senet.analysis.grids import Grid, Variant
from senet.api import create_model
from senet.config import ConfigError
from senet.io import write_atomic
from senet.spec import ModelSpec
from senet.train import FitResult, TrainConfig, fit, load_result
from senet.train.engine import CONFIG
from senet.train.progress import format_seconds
from senet.train.recipes import cifar100, recipe
from senet.train.rundir import folder_lock

GRID_FILE = "grid.json"
LOCK_FILE = "grid.lock"
"""Held (:func:`senet.train.rundir.folder_lock`) while a grid trains: one process per grid folder."""


@dataclass(frozen=True)
class Cell:
    """One training run of a grid: a variant, a seed and its full TrainConfig (``out_dir`` set)."""

    variant: Variant
    seed: int
    config: TrainConfig
    full_epochs: int = 0
    """The recipe's epochs before a ``--budget`` cut them (0: not recorded)."""

    @property
    def run_dir(self) -> Path:
        return Path(self.config.out_dir)


@dataclass(frozen=True)
class CellResult:
    """A finished cell; ``trained`` is False when its result was read from an earlier run."""

    cell: Cell
    result: FitResult
    trained: bool


def slug(name: str) -> str:
    """A variant name as a folder name: ``SE-PRE`` stays, ``r=4, gate=tanh`` -> ``r=4_gate=tanh``."""
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", name).strip("_") or "variant"


Options = Callable[[TrainConfig], TrainConfig]
"""The command's own options laid over a row's recipe (``senet ablate``'s flags, ``--set``, ``--config``)."""


def plan(
    grid: Grid,
    base: TrainConfig,
    *,
    seeds: Sequence[int],
    out_dir: str | Path,
    model: str | None = None,
    options: Options | None = None,
    row_recipes: bool = True,
    budget: Budget | None = None,
    check: bool = True,
) -> list[Cell]:
    """The cells of ``grid`` in run order (variant-major), each checked on the meta device (unless
    ``check`` is off: ``senet ablate --list`` only shows the settings).

    A row's configuration is ``base``, or -- for a row with its own setting (Tables 4-6, 8) -- its
    own recipe (``row_recipes=False``: ``base`` for every row, e.g. to train Table 4's networks
    with one recipe) with the row's CIFAR-100 / input-size changes and ``options`` (the command's
    flags) laid over it again; then ``budget``.
    The network is the row's own, else ``model``, else the recipe's -- or the grid's ``fallback``
    when the recipe's network cannot take the rows' options (:func:`grid_model`). Each variant's
    options are laid over that :class:`ModelSpec` (SE fields field-wise).
    """
    if not seeds:
        raise ConfigError("seeds: give at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds: repeated values in {list(seeds)}")
    name = grid_model(grid, base, model)
    folders = [slug(v.name) for v in grid.variants]
    if len(set(folders)) != len(folders):
        raise ConfigError(f"grid {grid.name}: variant names {folders} collide as folder names")
    cells = []
    for variant, folder in zip(grid.variants, folders, strict=True):
        config = row_config(variant, base, options=options, row_recipes=row_recipes)
        full_epochs = config.epochs
        if budget is not None:
            config = budget.apply(config)
        spec = config.model if variant.model else dataclasses.replace(config.model, name=name)
        cell_spec = check_variant(spec, variant) if check else variant.apply(spec)
        for seed in seeds:
            run_dir = Path(out_dir) / folder / f"seed-{seed}"
            cell = config.replace(model=cell_spec, seed=seed, out_dir=str(run_dir))
            cells.append(Cell(variant, seed, cell, full_epochs))
    return cells


def row_config(
    variant: Variant, base: TrainConfig, *, options: Options | None = None, row_recipes: bool = True
) -> TrainConfig:
    """The configuration a row trains with, before its model options, seed and folder (see :func:`plan`)."""
    if not variant.own_setting:
        return base
    config = recipe(variant.recipe) if variant.recipe is not None and row_recipes else base
    if variant.cifar100:
        config = cifar100(config)
    if variant.input_size is not None:
        config = config.replace(data=dataclasses.replace(config.data, input_size=variant.input_size))
    return options(config) if options is not None else config


def grid_model(grid: Grid, base: TrainConfig, model: str | None = None) -> str:
    """The network of the rows that do not name their own: ``model`` (``--model``), else the
    recipe's, else -- when the recipe's cannot take the rows' options -- the grid's fallback.

    Table 13 under ``--recipe ablation`` is SE-ResNet-50; under ``fast`` (SE-ResNet-20 on CIFAR,
    no ``se_stages``) it falls back to SE-ResNet-18.
    """
    own = [v.name for v in grid.variants if v.model is not None]
    if model and own:
        raise ConfigError(
            f"grid {grid.name}: the rows {own} name their own networks, so --model does not apply "
            "(choose rows with --variants)"
        )
    if model or grid.fallback is None:
        return model or base.model.name
    try:
        for variant in grid.variants:
            if variant.model is None:
                check_variant(base.model, variant)
    except ConfigError:
        return grid.fallback
    return base.model.name


def check_variant(spec: ModelSpec, variant: Variant) -> ModelSpec:
    """The variant's spec, built once on the meta device (no memory) so that an option the model
    lacks fails before any training."""
    try:
        cell = variant.apply(spec)
    except ConfigError as err:
        raise ConfigError(f"variant {variant.name!r}: {err}") from None
    try:
        with torch.device("meta"):
            create_model(cell.name, **cell.builder_kwargs())
    except (TypeError, ValueError) as err:
        raise ConfigError(f"variant {variant.name!r} does not fit {spec.name}: {err}") from err
    return cell


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values))


def check_same_config(cell: Cell) -> None:
    """A cell folder written by an earlier run must hold the same configuration as this one.

    Fields present in only one of the two (a TrainConfig field added or removed by an upgrade of
    senet) are not compared.
    """
    path = cell.run_dir / CONFIG
    if not path.is_file():
        return
    old, new = json.loads(path.read_text()), _normalised(cell.config.to_dict())
    changed = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
    if changed:
        raise ConfigError(
            f"{cell.run_dir}: trained with a different configuration (fields {changed}); "
            "give another --out folder or delete this one"
        )


def run_grid(
    grid: Grid,
    base: TrainConfig,
    *,
    seeds: Sequence[int],
    out_dir: str | Path,
    model: str | None = None,
    options: Options | None = None,
    row_recipes: bool = True,
    budget: Budget | None = None,
    quiet: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> list[CellResult]:
    """Train every cell of ``grid`` x ``seeds`` that has not finished; return all results in grid order.

    The keywords up to ``budget`` are :func:`plan`'s.
    """
    say = log or (lambda text: None if quiet else print(text, file=sys.stderr))
    cells = plan(
        grid, base, seeds=seeds, out_dir=out_dir, model=model, options=options, row_recipes=row_recipes,
        budget=budget,
    )  # fmt: skip
    for cell in cells:
        check_same_config(cell)
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    with folder_lock(root, "this grid", name=LOCK_FILE):  # the cells lock their own folders too
        _write_grid(root / GRID_FILE, grid, cells)
        results: list[CellResult] = []
        trained_seconds = 0.0
        for i, cell in enumerate(cells, 1):
            tic = time.perf_counter()
            results.append(
                _run_cell(cell, _where(i, len(cells), results, trained_seconds), say, quiet, progress)
            )
            if results[-1].trained:
                trained_seconds += time.perf_counter() - tic
        return results


def _where(i: int, n: int, done: list[CellResult], trained_seconds: float) -> str:
    """``cell i of n`` and, once a cell trained in this process, the grid's ETA at the mean time per
    trained cell (cells finished earlier cost nothing and are not counted)."""
    trained = sum(r.trained for r in done)
    if not trained:
        return f"cell {i} of {n}"
    left = trained_seconds / trained * (n - i + 1)
    return f"cell {i} of {n} (grid ETA {format_seconds(left)})"


def _run_cell(cell: Cell, index: str, say: Callable[[str], None], quiet: bool, progress: bool) -> CellResult:
    where = f"{index}: {cell.variant.name}, seed {cell.seed}"
    done = load_result(cell.run_dir)
    if done is not None:
        say(f"{where}: finished earlier ({cell.run_dir}), not retrained")
        return CellResult(cell, done, trained=False)
    say(f"{where}: training {cell.config.model.name} in {cell.run_dir}")
    return CellResult(cell, fit(cell.config, resume=True, quiet=quiet, progress=progress), trained=True)


def _write_grid(path: Path, grid: Grid, cells: list[Cell]) -> None:
    """A record of the grid (its variants and cells); informative, the cells' config.json are the truth."""
    record = {
        "grid": grid.name,
        "table": grid.table,
        "note": grid.note,
        "cells": [
            {
                "variant": c.variant.name,
                "seed": c.seed,
                "run_dir": str(c.run_dir),
                "model": c.config.model.name,
                "recipe": c.config.recipe,
                "dataset": c.config.data.dataset,
                "epochs": c.config.epochs,
            }
            for c in cells
        ],
        "variants": [
            {"name": v.name, "changes": _normalised(v.changes()), "paper": v.paper} for v in grid.variants
        ],
    }
    write_atomic(path, json.dumps(record, indent=2) + "\n")
