"""``senet train``: train one network with a recipe, or (with no arguments, the main job) an SE
network and its plain twin side by side on the embedded digits, over several seeds.

What is trained: with no arguments at all (no ``--recipe``, ``--model`` or ``--config``) the
``fast`` recipe's SE network and its plain twin, each with the seeds of :data:`DEMO_SEEDS` for
:data:`DEMO_EPOCHS` epochs; a named recipe or a model trains that one network, and ``--twin`` adds
its twin. A comparison trains both by the same code with the same seeds and recipe, and a table
compares top-1 / top-5 accuracy (mean and spread over the seeds), parameters, GFLOPs
(multiply-adds, Sec. 4) and time, and says whether the difference stands out of the seed-to-seed
noise; the training and validation curves of the runs (Fig. 4) are drawn into the comparison's
folder (``curves.png``, ``.json``, ``.csv``). ``--resume RUN`` continues a stopped run; ``--out
RUN`` refuses a folder that holds another run unless ``--overwrite`` (which moves it aside).
A SIGTERM or Ctrl-C stops training (with ``--jobs N``, every worker process), lists the runs
stopped (each continues with ``--resume``) and exits with 128 + the signal (143, 130):
:mod:`senet.train.workers`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from senet.analysis.curves import read_curves, write_or_note
from senet.commands.compare import seeds_table
from senet.config import ConfigError, split_assignment
from senet.options import given, print_config_and_exit
from senet.train.cli import add_train_args, config_from_args, model_given
from senet.train.config import TrainConfig
from senet.train.engine import CONFIG, FitResult, NonFiniteLossError, fit
from senet.train.models import plain_twin
from senet.train.workers import Stopped, stop_on_signals, stop_report, train_in_processes


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a network (no arguments: SE network vs its plain twin on the embedded digits)",
        description="Train with a named recipe (imagenet, ablation, mobile, imagenet_large, cifar, fast) and "
        "overrides. With no --model, trains the recipe's SE network and its plain twin and compares them.",
    )
    add_train_args(p)
    p.add_argument(
        "--twin",
        nargs="?",
        const="auto",
        default=None,
        metavar="NAME",
        help="also train the plain twin (se_X -> X, or NAME) and compare; the default of a bare `senet train`",
    )
    p.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=None,
        metavar="SEED",
        help="comparison: train each network once per seed; the table shows mean and spread "
        f"(default {' '.join(map(str, DEMO_SEEDS))} for a bare `senet train`, else the one --seed)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="comparison: train the two networks in this many processes at once "
        "(default 2 when the recipe uses 1 thread and there are >= 2 cores, else 1)",
    )
    p.add_argument("--resume", default=None, metavar="RUN", help="continue the run in folder RUN")
    p.add_argument("--json", action="store_true", help="print the result(s) as JSON on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.print_config:
        base = TrainConfig.load(Path(args.resume) / CONFIG) if args.resume else None
        print_config_and_exit(args, config_from_args(args, base=base))
        return 0
    compared = not args.resume and bool(args.twin or bare(args))
    jobs = 1
    if args.resume:
        configs = [_resume_config(args)]
    elif compared:
        configs, jobs = _comparison(args)
    else:
        configs = [config_from_args(args)]
    main_process = int(os.environ.get("RANK", "0")) == 0  # under torchrun only rank 0 reports
    try:
        results = _train(configs, jobs=jobs, resume=bool(args.resume), quiet=args.quiet)
    except NonFiniteLossError as err:
        print(f"senet train: {err}", file=sys.stderr)
        return 3
    except Stopped as stop:  # SIGTERM / Ctrl-C: training ended; say what is left and how to go on
        if main_process:
            print(stop_report(stop, configs), file=sys.stderr)
        return stop.exit_code
    if not main_process:
        return 0
    if compared:
        draw_curves(results, quiet=args.quiet)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        print(format_results(results))
    return 0


DEMO_SEEDS = (0, 1, 2)
"""Seeds of the bare ``senet train`` (the main job): one seed cannot tell an effect from noise."""
DEMO_EPOCHS = 4
"""Epochs of the bare ``senet train``: 2 networks x 3 seeds in about two minutes on 2 cores."""


def bare(args: argparse.Namespace) -> bool:
    """Whether this is the main job: no recipe, model or configuration file named (a named recipe or
    model trains that one network; a config file names its model)."""
    return not (args.recipe or model_given(args) or args.config)


def _resume_config(args: argparse.Namespace) -> TrainConfig:
    path = Path(args.resume) / CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a run folder (no {CONFIG}); cannot resume")
    return config_from_args(args, base=TrainConfig.load(path)).replace(out_dir=str(args.resume))


def _train(configs: list[TrainConfig], *, jobs: int, resume: bool, quiet: bool) -> list[FitResult]:
    """Train ``configs`` (one after the other, or in ``jobs`` processes); a SIGTERM or Ctrl-C raises
    :class:`Stopped` once the runs have unwound (locks released, complete checkpoints kept)."""
    if jobs > 1:
        return train_in_processes(configs, jobs=jobs, quiet=quiet)
    with stop_on_signals():
        return [fit(config, resume=resume, quiet=quiet) for config in configs]


def _comparison(args: argparse.Namespace) -> tuple[list[TrainConfig], int]:
    """The runs of a comparison (the SE network and its twin, per seed) and how many processes train them."""
    se_config = config_from_args(args)
    demo = bare(args)
    chosen = {key for key, _ in given(args)} | {
        split_assignment(s)[0] for s in getattr(args, "overrides", [])
    }
    if demo and "epochs" not in chosen:
        se_config = se_config.replace(epochs=DEMO_EPOCHS)
    seeds = args.seeds or (list(DEMO_SEEDS) if demo and "seed" not in chosen else [se_config.seed])
    name = se_config.model.name
    twin = plain_twin(name) if args.twin in (None, "auto") else args.twin
    root = Path(se_config.out_dir or f"runs/compare-{time.strftime('%Y%m%d-%H%M%S')}")
    configs = [
        se_config.replace(
            model=dataclasses.replace(se_config.model, name=n),
            seed=seed,
            out_dir=str(root / n / f"seed-{seed}" if len(seeds) > 1 else root / n),
        )
        for seed in seeds
        for n in (name, twin)
    ]
    jobs = args.jobs or (2 if se_config.threads == 1 and (os.cpu_count() or 1) >= 2 else 1)
    if not args.quiet:
        how = f"{jobs} processes at once" if jobs > 1 else "one after the other"
        print(
            f"training {name} and its plain twin {twin} on {se_config.data.dataset} "
            f"(recipe {se_config.recipe}, {se_config.epochs} epochs, seeds {' '.join(map(str, seeds))}): "
            f"{len(configs)} runs, {how}, in {root}",
            file=sys.stderr,
        )
    return configs, jobs


def draw_curves(results: list[FitResult], *, quiet: bool = False) -> list[Path]:
    """Fig. 4 of a comparison: the training and validation curves of both networks (their
    mean and spread over the seeds) as ``curves.png`` + ``.json`` + ``.csv`` in the comparison's folder."""
    root = Path(os.path.commonpath([r.run_dir for r in results]))
    try:
        curves = read_curves([r.run_dir for r in results])
    except ConfigError as err:  # the runs finished; only the picture is lost
        if not quiet:
            print(f"note: no curves picture: {err}", file=sys.stderr)
        return []
    title = " vs ".join(dict.fromkeys(c.label for c in curves)) + ": training (dashed) and validation (solid)"
    paths = write_or_note(curves, root, title=title, quiet=quiet)
    if not quiet:
        print(f"curves (Fig. 4): {', '.join(str(p) for p in paths)}", file=sys.stderr)
    return paths


def format_results(results: list[FitResult]) -> str:
    """A side-by-side table: accuracy, params, GFLOPs (multiply-adds) and training time; with
    several runs of a model (seeds), their mean and spread (:func:`senet.commands.compare.table`)."""
    if len({r.model for r in results}) < len(results):
        return seeds_table(results)
    width = max(len(r.model) for r in results + []) if results else 5
    head = f"{'model':<{width}}  {'top-1 acc':>9}  {'top-5 acc':>9}  {'params (M)':>10}  {'GFLOPs':>8}  {'time (s)':>8}"
    lines = [head]
    for r in results:
        lines.append(
            f"{r.model:<{width}}  {r.top1:>8.2f}%  {r.top5:>8.2f}%  {r.params / 1e6:>10.4f}  "
            f"{r.macs / 1e9:>8.4f}  {r.seconds:>8.1f}"
        )
    first = results[0]
    lines.append(
        f"data: {first.dataset} at {first.input_size}x{first.input_size}, {first.epochs} epochs; "
        "GFLOPs = multiply-adds of one forward pass (Sec. 4)"
    )
    lines.extend(f"run folder: {r.run_dir}" for r in results)
    return "\n".join(lines)
