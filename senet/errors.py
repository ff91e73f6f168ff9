"""The errors the ``senet`` command reports as one line, and the exit code of each.

Library code raises a :class:`SenetError` (or a subclass) whose message names the file, the
configuration field or the value at fault; :func:`senet.cli.main` prints it as
``senet COMMAND: error: MESSAGE`` and exits with its :attr:`~SenetError.exit_code`. Anything
else is a bug and keeps its traceback. Every class stays a subclass of what it replaced
(``ValueError``, ``OSError``, ``RuntimeError``), so existing ``except`` clauses keep working.

Exit codes of the command line:

====  =========================================================================
0     success
1     an unexpected error (a bug: the traceback is printed)
2     bad input: an option, configuration, data, weights file or output path
3     training stopped on a non-finite loss or weights (the last good checkpoint is kept)
130   interrupted (Ctrl-C)
143   stopped by SIGTERM (``senet train --jobs N``: 128 + the signal, its workers ended)
====  =========================================================================
"""

from __future__ import annotations

import os
from typing import ClassVar

EXIT_OK, EXIT_BUG, EXIT_INPUT, EXIT_NON_FINITE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

EXIT_CODES_HELP = (
    "exit codes: 0 success; 1 unexpected error (a bug: traceback printed); 2 bad input (an option, "
    "configuration, data, weights file or output path: one line naming it); 3 training stopped on "
    "non-finite values; 130 interrupted; 143 stopped by SIGTERM"
)


class SenetError(ValueError):
    """An expected failure of a ``senet`` operation; the message names the file, field or value."""

    exit_code: ClassVar[int] = EXIT_INPUT
    """The command line's exit status for this error."""


class WeightsFileError(SenetError):
    """A weights, checkpoint or model file that cannot be read: missing, truncated or not in
    the format its name or header claims."""


class OutputError(SenetError, OSError):
    """A file or folder that cannot be written (read-only, not a folder, disk full)."""


class NonFiniteError(SenetError, RuntimeError):
    """Training produced a non-finite loss or weights; the run stopped at the last good checkpoint."""

    exit_code: ClassVar[int] = EXIT_NON_FINITE


def os_reason(err: OSError) -> str:
    """``"PATH: Permission denied"`` for an OSError (the path is the file it names, if any)."""
    reason = err.strerror or str(err)
    if err.errno is not None and err.strerror is None:
        reason = os.strerror(err.errno)
    if isinstance(err, FileExistsError) and err.filename and os.path.isfile(err.filename):
        reason = "is a file, not a folder"
    elif isinstance(err, NotADirectoryError):
        reason = "a part of this path is a file, not a folder"
    where = err.filename if err.filename is not None else None
    if err.filename2 is not None:
        where = f"{err.filename} -> {err.filename2}"
    return f"{where}: {reason}" if where is not None else reason


__all__ = [
    "EXIT_CODES_HELP",
    "NonFiniteError",
    "OutputError",
    "SenetError",
    "WeightsFileError",
    "os_reason",
]
