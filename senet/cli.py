"""The ``senet`` command: one sub-command per module, each adding its own parser."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from senet.commands import ablate as ablate_cmd
from senet.commands import analyze as analyze_cmd
from senet.commands import bench as bench_cmd
from senet.commands import complexity as complexity_cmd
from senet.commands import convert as convert_cmd
from senet.commands import eval as eval_cmd
from senet.commands import export as export_cmd
from senet.commands import models as models_cmd
from senet.commands import predict as predict_cmd
from senet.commands import train as train_cmd

COMMANDS = [
    models_cmd,
    complexity_cmd,
    convert_cmd,
    export_cmd,
    train_cmd,
    eval_cmd,
    predict_cmd,
    bench_cmd,
    ablate_cmd,
    analyze_cmd,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="senet", description="Squeeze-and-Excitation networks: models, training and tools."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (KeyError, ValueError, TypeError, FileNotFoundError) as err:
        print(f"senet {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
