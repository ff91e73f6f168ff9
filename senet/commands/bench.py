"""``senet bench MODEL...``: SE models and their plain twins timed side by side (docs/speed.md).

The options other than ``--targets``, ``--json`` and ``--report`` are the fields of
:class:`senet.bench.config.BenchConfig`, one to one (``min_sample_ms`` is ``--min-sample-ms``);
the config is read from the parsed options and the reproducing command written from it by
walking the dataclass's fields, not field by field.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any, get_args

from senet.bench.config import DTYPE_NAMES, MODES, BenchConfig, Device
from senet.bench.report import format_table, read_report, summarize_timings
from senet.bench.runner import run_bench
from senet.bench.targets import Target, load_targets
from senet.bench.timing import Clock
from senet.io import write_atomic


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _option(p: argparse.ArgumentParser, name: str, help: str, **kwargs: Any) -> None:
    """The option ``--name`` of :class:`BenchConfig` field ``name``, its default taken from the field."""
    default = {f.name: f.default for f in fields(BenchConfig)}[name]
    flag = "--" + name.replace("_", "-")
    if isinstance(default, bool):
        p.add_argument(flag, action="store_true", help=help)
        return
    if default is not None:
        kwargs.setdefault("type", _csv if isinstance(default, tuple) else type(default))
        help += f" (default {','.join(default) if isinstance(default, tuple) else default})"
    p.add_argument(flag, default=default, help=help, **kwargs)


def _add_config_options(p: argparse.ArgumentParser) -> None:
    """One option per :class:`BenchConfig` field (``models`` is the positional list)."""
    p.add_argument("models", nargs="*", help="model names; the plain twin of each SE model is added")
    _option(p, "batch", "batch N of throughput and training")
    _option(p, "reps", "timed repetitions per model and setting")
    _option(p, "warmup", "untimed calls before each setting")
    _option(p, "dtypes", f"optimized dtypes, any of {','.join(DTYPE_NAMES)}")
    _option(
        p,
        "compile",
        "also time optimize(compile=True) (Inductor; needs a C++ compiler; compiles on first call)",
    )
    _option(p, "modes", f"any of {','.join(MODES)}")
    _option(p, "image_size", "input side (default 32 for *_cifar, else 224)", type=int)
    _option(p, "threads", "torch threads (default: PyTorch's choice)", type=int)
    _option(p, "device", "auto: CUDA if available", choices=get_args(Device))
    _option(p, "min_sample_ms", "each sample averages calls up to this long")
    _option(
        p,
        "clock",
        "wall time, or CPU time of this process (for a shared CPU with --threads 1)",
        choices=get_args(Clock),
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="time SE models against their plain twins (eager vs optimized, fp32 and bf16)",
        description="Latency at batch 1, throughput at batch N and one training step, eager and "
        "optimized (senet.optimize), fp32 and bf16; each SE model and its plain twin are timed "
        "interleaved (warm-up, repetitions, medians). CUDA is used where available.",
    )
    _add_config_options(p)
    p.add_argument(
        "--targets", type=Path, default=None, metavar="FILE",
        help="judge the run against the targets of this JSON file (this project's: docs/bench/targets.json)",
    )  # fmt: skip
    p.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the full report here")
    p.add_argument(
        "--report", type=Path, default=None, metavar="RUN.json",
        help="time nothing: print the table (and --targets verdicts) of a report saved with --json",
    )  # fmt: skip
    p.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    """The :class:`BenchConfig` of parsed options: each field from the option of the same name."""
    values = {f.name: getattr(args, f.name) for f in fields(BenchConfig)}
    return BenchConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def command_line(config: BenchConfig) -> str:
    """The ``senet bench`` command that reproduces ``config`` (recorded in the JSON report)."""
    parts = ["senet bench", *config.models]
    for f in fields(config):
        value, flag = getattr(config, f.name), "--" + f.name.replace("_", "-")
        if f.name == "models" or value is None or value is False:
            continue
        if value is True:
            parts.append(flag)
        elif isinstance(value, tuple):
            parts.append(f"{flag} {','.join(value)}")
        else:
            parts.append(f"{flag} {value:.15g}" if isinstance(value, float) else f"{flag} {value}")
    return " ".join(parts)


def _reprint(path: Path, targets: tuple[Target, ...]) -> int:
    """The table and target verdicts of a saved run, and the command that measured it."""
    try:
        report = read_report(path)
    except ValueError as err:
        raise SystemExit(str(err)) from err
    print(format_table(summarize_timings(report, targets)))
    command = report["meta"].get("command")
    if command:
        print(f"measured by: {command}")
    return 0


def run(args: argparse.Namespace) -> int:
    targets = load_targets(args.targets) if args.targets is not None else ()
    if args.report is not None:
        return _reprint(args.report, targets)
    config = config_from_args(args)
    report = run_bench(config, log=lambda line: print(line, file=sys.stderr))
    report = summarize_timings(report, targets)
    report["meta"]["command"] = command_line(config)
    print(format_table(report))
    if args.json is not None:
        write_atomic(args.json, json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
