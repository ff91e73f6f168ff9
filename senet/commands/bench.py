"""``senet bench MODEL...``: SE models and their plain twins timed side by side (docs/speed.md).

The options other than ``--targets``, ``--json`` and ``--report`` are generated from the fields
of :class:`senet.bench.config.BenchConfig` by :mod:`senet.options` (``min_sample_ms`` is
``--min-sample-ms``); the reproducing command is written back from the same fields.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from senet.bench.config import BenchConfig
from senet.bench.report import format_table, read_report, summarize_timings
from senet.bench.runner import run_bench
from senet.bench.targets import Target, load_targets
from senet.io import write_atomic
from senet.options import add_options, build, flag_name
from senet.runtime import prepare_output


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="time SE models against their plain twins (eager vs optimized, fp32 and bf16)",
        description="Latency at batch 1, throughput at batch N and one training step, eager and "
        "optimized (senet.optimize), fp32 and bf16; each SE model and its plain twin are timed "
        "interleaved (warm-up, repetitions, medians). CUDA is used where available.",
    )
    add_options(
        p, BenchConfig, aliases={"dtypes": ["--dtype"]}
    )  # --dtype: recorded commands before the rename
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
    """The :class:`BenchConfig` of parsed options (generated from its fields by senet.options)."""
    return build(args, BenchConfig)


def command_line(config: BenchConfig) -> str:
    """The ``senet bench`` command that reproduces ``config`` (recorded in the JSON report)."""
    parts = ["senet bench", *config.models]
    for f in fields(config):
        value, flag = getattr(config, f.name), flag_name(f.name)
        if f.name == "models" or value is None or value is False or value == ():
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
    if args.json is not None:
        prepare_output(args.json, folder=False)  # before the (long) timings
    report = run_bench(config, log=lambda line: print(line, file=sys.stderr))
    report = summarize_timings(report, targets)
    report["meta"]["command"] = command_line(config)
    print(format_table(report))
    if args.json is not None:
        write_atomic(args.json, json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
