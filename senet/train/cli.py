"""Command-line options of ``senet train`` / ``senet ablate``, generated from :class:`TrainConfig`
(the commands that read weights, ``eval`` / ``analyze``, have theirs in :mod:`senet.train.sources`).

Every flag is generated from a dataclass field by :mod:`senet.options`; the few short names kept
from earlier versions (``--model``, ``--data``, ``--data-root``, ``--input-size``, ``--workers``,
``--out``) are aliases of the generated ones.
"""

from __future__ import annotations

import argparse
from typing import Any

from senet.config import ConfigError, merge, read_file, to_dict
from senet.options import add_file_options, add_options, given, resolve
from senet.train.config import TrainConfig
from senet.train.recipes import RECIPES, recipe

#: Short flags of earlier versions, kept as aliases of the generated ones.
DATA_ALIASES: dict[str, list[str]] = {
    "data.dataset": ["--data"],
    "data.root": ["--data-root"],
    "data.input_size": ["--input-size"],
    "data.workers": ["--workers"],
}
ALIASES: dict[str, list[str]] = {"model.name": ["--model"], "out_dir": ["--out"], **DATA_ALIASES}


def add_train_args(p: argparse.ArgumentParser, *, exclude: tuple[str, ...] = ()) -> None:
    """``--recipe``, one flag per TrainConfig key, ``--config``, ``--print-config``, ``--set``, ``--quiet``."""
    p.add_argument(
        "--recipe",
        default=None,
        metavar="{" + ",".join(sorted(RECIPES)) + "}",  # checked by recipe(), which names renamed ones
        help="start from a named recipe (default fast); its name is recorded as the key 'recipe'",
    )
    add_file_options(p, "training configuration")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    add_options(
        p, TrainConfig, aliases=ALIASES, exclude=("recipe", *exclude), title="training options (TrainConfig)"
    )


def _read_train_file(path: str) -> dict[str, Any]:
    """A configuration file; one written before ModelSpec (``model`` + ``model_overrides``) is translated."""
    values = read_file(path)
    if isinstance(values.get("model"), str) or "model_overrides" in values:
        values = TrainConfig.from_dict(values).to_dict()
    return values


def config_from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """The recipe (or ``base``), then ``--config FILE``, then the flags, then every ``--set``."""
    config = base or recipe(args.recipe or "fast")
    if getattr(args, "config", None):
        config = merge(config, _read_train_file(args.config))
    config = resolve(argparse.Namespace(**{**vars(args), "config": None}), config)
    if base is not None:  # resuming: the network must stay the one the checkpoint holds
        _same_network(base, config)
    return config


def _same_network(base: TrainConfig, config: TrainConfig) -> None:
    """Refuse model changes (other than dropout) on top of a run's configuration."""
    old, new = to_dict(base.model), to_dict(config.model)
    changed = [k for k in old if k != "drop_rate" and old[k] != new.get(k)]
    if changed:
        shown = ", ".join(f"model.{k}={new[k]!r} (the run has {old[k]!r})" for k in changed)
        raise ConfigError(f"--resume: {shown}: a run continues with its own network; start a new run instead")


def model_given(args: argparse.Namespace) -> str | None:
    """The model name given on the command line (``--model`` / ``--model.name``), if any."""
    return dict(given(args)).get("model.name")
