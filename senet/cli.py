"""The ``senet`` command: one sub-command per module, each adding its own parser.

:func:`main` is the error boundary: an expected error (:class:`senet.errors.SenetError`, the
configuration and data errors it generalises, an unknown name, a file the operating system
refuses) is printed as one line naming the file, field or value, with the exit code listed in
:mod:`senet.errors`; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from senet import __version__
from senet.commands import ablate as ablate_cmd
from senet.commands import analyze as analyze_cmd
from senet.commands import bench as bench_cmd
from senet.commands import complexity as complexity_cmd
from senet.commands import convert as convert_cmd
from senet.commands import curves as curves_cmd
from senet.commands import eval as eval_cmd
from senet.commands import export as export_cmd
from senet.commands import models as models_cmd
from senet.commands import predict as predict_cmd
from senet.commands import prune as prune_cmd
from senet.commands import train as train_cmd
from senet.errors import EXIT_CODES_HELP, EXIT_INPUT, EXIT_INTERRUPTED, SenetError, os_reason
from senet.registry import UnknownNameError

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
    curves_cmd,
    prune_cmd,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="senet",
        description="Squeeze-and-Excitation networks: models, training and tools.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"senet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


#: Raised for bad input before :class:`SenetError` existed; still reported as one line (exit 2).
#: ``ValueError`` covers ConfigError and DataError; TypeError: unknown model options.
EXPECTED = (SenetError, UnknownNameError, ValueError, TypeError)


def one_line(err: BaseException) -> str:
    """The error's message on one line (a KeyError's str() is the repr of its argument)."""
    if isinstance(err, OSError) and not isinstance(err, SenetError):
        text = os_reason(err)
    else:
        text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return " ".join(text.split()) or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code (see :mod:`senet.errors` and ``senet --help``)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (*EXPECTED, OSError) as err:
        print(f"senet {args.command}: error: {one_line(err)}", file=sys.stderr)
        return int(getattr(err, "exit_code", EXIT_INPUT))


if __name__ == "__main__":
    sys.exit(main())
