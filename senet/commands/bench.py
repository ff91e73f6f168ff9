"""``senet bench MODEL...``: SE models and their plain twins timed side by side (docs/speed.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from senet.fast.bench import MODES, BenchConfig, run_bench
from senet.fast.report import format_table, summarize
from senet.io import write_atomic


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="time SE models against their plain twins (eager vs optimized, fp32 and bf16)",
        description="Latency at batch 1, throughput at batch N and one training step, eager and "
        "optimized (senet.optimize), fp32 and bf16; each SE model and its plain twin are timed "
        "interleaved (warm-up, repetitions, medians). CUDA is used where available.",
    )
    p.add_argument("models", nargs="+", help="model names; the plain twin of each SE model is added")
    p.add_argument("--batch", type=int, default=16, help="batch N for throughput and training (default 16)")
    p.add_argument(
        "--reps", type=int, default=10, help="timed repetitions per model and setting (default 10)"
    )
    p.add_argument("--warmup", type=int, default=2, help="untimed calls before each setting (default 2)")
    p.add_argument(
        "--dtype", type=_csv, default=("fp32", "bf16"), help="optimized dtypes: fp32,bf16 (default both)"
    )
    p.add_argument(
        "--compile",
        action="store_true",
        help="also time optimize(compile=True) (Inductor; needs a C++ compiler; compiles on first call)",
    )
    p.add_argument("--modes", type=_csv, default=MODES, help=f"any of {','.join(MODES)} (default all)")
    p.add_argument(
        "--image-size", type=int, default=None, help="input side (default 32 for *_cifar, else 224)"
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: PyTorch's choice)")
    p.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto", help="default: CUDA if available"
    )
    p.add_argument(
        "--min-sample-ms", type=float, default=50.0, help="each sample averages calls up to this long"
    )
    p.add_argument(
        "--clock",
        choices=("wall", "process"),
        default="wall",
        help="wall time (default), or CPU time of this process (for a shared CPU with --threads 1)",
    )
    p.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the full report here")
    p.set_defaults(run=run)


def command_line(config: BenchConfig) -> str:
    """The ``senet bench`` command that reproduces ``config`` (recorded in the JSON report)."""
    parts = ["senet bench", *config.models, f"--batch {config.batch}", f"--reps {config.reps}"]
    parts += [
        f"--warmup {config.warmup}",
        f"--dtype {','.join(config.dtypes)}",
        *(["--compile"] if config.compile else []),
        f"--modes {','.join(config.modes)}",
    ]
    parts += [f"--image-size {config.image_size}"] if config.image_size else []
    parts += [f"--threads {config.threads}"] if config.threads else []
    parts += [
        f"--device {config.device}",
        f"--min-sample-ms {config.min_sample_s * 1000:g}",
        f"--clock {config.clock}",
    ]
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    config = BenchConfig(
        models=tuple(args.models),
        batch=args.batch,
        reps=args.reps,
        warmup=args.warmup,
        dtypes=tuple(args.dtype),
        compile=args.compile,
        modes=tuple(args.modes),
        image_size=args.image_size,
        threads=args.threads,
        device=args.device,
        min_sample_s=args.min_sample_ms / 1000.0,
        clock=args.clock,
    )
    report = run_bench(config, log=lambda line: print(line, file=sys.stderr))
    report = summarize(report)
    report["meta"]["command"] = command_line(config)
    print(format_table(report))
    if args.json is not None:
        write_atomic(args.json, json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
