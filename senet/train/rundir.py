"""The run folder: every file name and path in it, and the small JSON files written there.

Layout of a run folder::

    RUN/config.json                                the resolved TrainConfig
    RUN/metrics.jsonl                              one JSON line per epoch
    RUN/summary.csv                                the same, one CSV row per epoch
    RUN/checkpoints/epoch-0003/model.safetensors   weights (+ config and DataInfo as metadata)
    RUN/checkpoints/epoch-0003/state.pt            optimizer, scheduler, scaler, epoch, RNG states
    RUN/checkpoints/.epoch-0004.tmp-PID/           a checkpoint being written (removed on restart)
    RUN/checkpoints/.epoch-0001.discard-PID/       a checkpoint being deleted (removed on restart)
    RUN/checkpoints/.epoch-0005.skipped-PID/       a checkpoint that did not load on resume (kept)
    RUN/tensorboard/                               event files (only with tensorboard=true)
    RUN/result.json                                written last: the run finished
    RUN/run.lock                                   the pid (and host) of the process training it

This module knows where things are: it lists, cleans and resolves checkpoint folders and reads
and writes ``config.json``, ``metrics.jsonl`` and ``result.json``. What is inside one checkpoint
folder, and how it is written atomically, is :mod:`senet.train.checkpoint`'s. A folder with
``result.json`` is a finished run: :func:`load_result` reads it back (the ablation runner uses it
to skip finished runs).

A run folder belongs to one run: :func:`folder_lock` keeps a second process out while one trains
(the ablation runner locks its grid folder with it too), and :func:`claim_new` refuses to start a
new run in a folder that holds another one, or moves the old one aside when asked to.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from senet.config import ConfigError
from senet.errors import WeightsFileError
from senet.io import fsync_path, write_atomic
from senet.jsonio import strict_json
from senet.train.config import TrainConfig

CONFIG = "config.json"
METRICS = "metrics.jsonl"
SUMMARY = "summary.csv"
"""metrics.jsonl as a table: one row per epoch, a column per scalar metric (rewritten with each row)."""
RESULT = "result.json"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
WEIGHTS = "model.safetensors"
"""The weights file of a checkpoint folder; a folder without it is not a checkpoint."""
STATE = "state.pt"
"""The training state of a checkpoint folder (needed to resume, not to evaluate)."""
LOCK = "run.lock"
"""The lock file of a run folder while a process trains in it (see :func:`folder_lock`)."""
RUN_ENTRIES = (CONFIG, METRICS, SUMMARY, RESULT, CHECKPOINTS, TENSORBOARD)
"""What a run leaves in its folder: any of these there means the folder holds a run."""
_EPOCH_DIR = re.compile(r"^epoch-(\d{4,})$")
_LEFTOVERS = (".epoch-*.tmp-*", ".epoch-*.discard-*")
"""Hidden checkpoint folders a killed process left half written or half deleted."""


class CheckpointError(WeightsFileError, FileNotFoundError):
    """No usable checkpoint where one was expected; the message names the path."""


class RunFolderError(ConfigError):
    """A run folder that cannot be used as asked (it holds another run, another process trains in
    it, a file in it is damaged); the message names the folder and the ways out."""


@dataclass(frozen=True)
class FitResult:
    """What a finished run reports (also written to ``RUN/result.json``).

    Errors are percentages (100 - accuracy); ``macs`` are the paper's "FLOPs" (multiply-adds of
    one forward pass at ``input_size``).
    """

    run_dir: str
    checkpoint: str
    model: str
    dataset: str
    epochs: int
    top1: float
    top5: float
    top1_error: float
    top5_error: float
    val_loss: float
    params: int
    macs: int
    input_size: int
    seconds: float
    train_images_per_second: float
    skipped: dict[str, int] = field(default_factory=dict)
    """Image files left out by reason (unreadable, hidden, symlink loop ...), as the last epoch
    counted them; each was named in a warning when it was skipped."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_run_dir(config: TrainConfig) -> Path:
    """``runs/MODEL-DATASET-YYYYmmdd-HHMMSS`` (for a run given no ``out_dir``)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{config.model.name}-{config.data.dataset}-{stamp}"


def prepare(run_dir: Path, config: dict[str, Any], epochs_done: int) -> None:
    """Make ``run_dir`` ready for training after ``epochs_done`` epochs (0: a fresh run).

    Removes what a killed run left (partial checkpoints, metric lines of later epochs) and an old
    ``result.json``, sets aside checkpoints of later epochs (those that did not load on resume, as
    ``.epoch-NNNN.skipped-PID``) and writes ``config.json``.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    clean_partial(run_dir)
    for later in list_checkpoints(run_dir):
        if _epoch(later) > epochs_done:
            os.rename(later, later.with_name(f".{later.name}.skipped-{os.getpid()}"))
    write_atomic(run_dir / CONFIG, json.dumps(config, indent=2) + "\n")
    truncate_metrics(run_dir, epochs_done)
    (run_dir / RESULT).unlink(missing_ok=True)


# --- one run per folder -----------------------------------------------------------------------


def claim_new(run_dir: Path, *, overwrite: bool = False) -> Path | None:
    """Check that a new run may start in ``run_dir``; the folder the old run moved to, if any.

    A folder holding any of :data:`RUN_ENTRIES` holds another run: it is refused (naming the two
    ways out), or with ``overwrite`` those entries move to ``RUN.old-<time>`` (a run folder of its
    own; nothing is deleted). Other files in the folder stay. Call it holding :func:`folder_lock`.
    """
    found = [name for name in RUN_ENTRIES if (run_dir / name).exists()]
    if not found:
        return None
    if not overwrite:
        raise RunFolderError(
            f"{run_dir}: holds another run ({', '.join(found)}); continue it with --resume {run_dir}, "
            f"or start a new run there with --overwrite (the old run moves to {run_dir}.old-<time>)"
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        aside = run_dir.with_name(f"{run_dir.name}.old-{stamp}" + (f"-{n}" if n > 1 else ""))
        with contextlib.suppress(FileExistsError):
            aside.mkdir()
            break
    for name in found:
        os.rename(run_dir / name, aside / name)
    fsync_path(run_dir)
    fsync_path(aside)
    return aside


@contextlib.contextmanager
def folder_lock(folder: str | Path, what: str, *, name: str = LOCK) -> Iterator[Path]:
    """Hold ``FOLDER/name`` (this process's pid and host) while ``what`` ("this run", "this grid")
    trains in ``folder``: a second process gets an error naming the pid. Advisory (only senet looks
    at it); released when the block ends, an exception included; a lock left by a process that has
    gone (killed) on this host is taken over. The folder is created if needed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    for attempt in range(2):  # the second after removing a stale lock
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
            break
        except FileExistsError:
            holder = _holder(path)
            if holder or attempt:
                raise RunFolderError(
                    f"{path}: another process ({holder or 'unknown'}) is training {what}; wait for it or stop "
                    f"it (delete {path} only if no such process exists)"
                ) from None
            path.unlink(missing_ok=True)  # stale: the process that wrote it is gone
    try:
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
    finally:
        os.close(fd)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _holder(path: Path) -> str:
    """``pid N`` (``pid N on HOST``) of a live lock holder; '' when the lock is stale (its process is
    gone, or the file is empty). A holder on another host cannot be checked: it counts as alive."""
    try:
        pid, *host = path.read_text().split()
    except (OSError, ValueError):
        return ""
    if not pid.isdigit():
        return ""
    if host and host[0] != socket.gethostname():
        return f"pid {pid} on {host[0]}"
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return ""
    except PermissionError:  # alive, another user's
        pass
    return f"pid {pid}"


# --- metrics.jsonl and result.json ------------------------------------------------------------


def append_metrics(run_dir: Path, row: dict[str, Any]) -> None:
    """Add one epoch's line to ``metrics.jsonl`` (flushed to disk before returning)."""
    with open(run_dir / METRICS, "a") as f:
        f.write(strict_json(row) + "\n")
        f.flush()
        os.fsync(f.fileno())
    write_summary(run_dir)


def write_summary(run_dir: Path) -> None:
    """Rewrite ``summary.csv`` from ``metrics.jsonl``: the scalar metrics (nested ones, such as the
    skipped files by reason, stay in the JSON), columns in order of first appearance."""
    rows = read_metrics(run_dir)
    columns = list(
        dict.fromkeys(k for row in rows for k, v in row.items() if not isinstance(v, (dict, list)))
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(run_dir / SUMMARY, out.getvalue())


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """The rows of ``metrics.jsonl``, oldest first ([] if there is none).

    A last line that is not JSON (torn: the writer was killed or the disk filled mid-line) is
    dropped with a message naming the file; a damaged line before it is a :class:`RunFolderError`.
    """
    return [row for _, row in _metric_lines(run_dir / METRICS)]


def truncate_metrics(run_dir: Path, epochs_done: int) -> None:
    """Keep the lines of the first ``epochs_done`` epochs: drops those a killed run logged after
    the checkpoint being resumed, and a torn last line."""
    path = run_dir / METRICS
    if path.is_file():
        keep = [line for line, row in _metric_lines(path) if row["epoch"] <= epochs_done]
        write_atomic(path, "".join(line + "\n" for line in keep))
        write_summary(run_dir)


def _metric_lines(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(line, row) for each line of a ``metrics.jsonl``; a torn last line is dropped, with a message."""
    if not path.is_file():
        return []
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append((line, json.loads(line)))
        except ValueError as err:
            if number < len(lines):
                raise RunFolderError(f"{path}, line {number}: not a JSON row ({err})") from None
            print(f"{path}: dropped its torn last line {line[:60]!r} (a run stopped while writing it)",
                  file=sys.stderr)  # fmt: skip
    return rows


def write_result(run_dir: Path, result: FitResult) -> None:
    """Write ``result.json`` (atomically): the run is finished."""
    write_atomic(run_dir / RESULT, strict_json(result.to_dict(), indent=2) + "\n")


def load_result(run_dir: str | Path) -> FitResult | None:
    """The result of a finished run folder, or None if it has not finished."""
    path = Path(run_dir) / RESULT
    return FitResult(**json.loads(path.read_text())) if path.is_file() else None


# --- checkpoints/ -----------------------------------------------------------------------------


def checkpoint_dir(run_dir: str | Path, epoch: int) -> Path:
    """``RUN/checkpoints/epoch-NNNN``: where the checkpoint after ``epoch`` epochs lives."""
    return Path(run_dir) / CHECKPOINTS / f"epoch-{epoch:04d}"


def partial_dir(run_dir: str | Path, epoch: int) -> Path:
    """The temporary name a checkpoint folder is written under by this process before its rename."""
    return Path(run_dir) / CHECKPOINTS / f".epoch-{epoch:04d}.tmp-{os.getpid()}"


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoint folders of a run, oldest first (temporary folders are ignored)."""
    root = Path(run_dir) / CHECKPOINTS
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if _EPOCH_DIR.match(p.name) and (p / WEIGHTS).is_file()]
    return sorted(found, key=_epoch)


def _epoch(checkpoint: Path) -> int:
    return int(_EPOCH_DIR.match(checkpoint.name).group(1))


def discard(folder: Path) -> None:
    """Delete a checkpoint folder so that a kill at any moment leaves it whole under its name or
    gone from it: renamed (atomically) to ``.NAME.discard-PID``, then deleted; a kill during the
    deletion leaves only the hidden name, which :func:`clean_partial` removes at the next start."""
    aside = folder.with_name(f".{folder.name}.discard-{os.getpid()}")
    shutil.rmtree(aside, ignore_errors=True)
    os.rename(folder, aside)
    shutil.rmtree(aside, ignore_errors=True)


def prune_checkpoints(run_dir: str | Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoint folders (each with :func:`discard`)."""
    for old in list_checkpoints(run_dir)[:-keep]:
        discard(old)


def clean_partial(run_dir: str | Path) -> None:
    """Remove the hidden checkpoint folders a killed run left half written or half deleted (run it
    holding :func:`folder_lock`: another process's folders being written look the same)."""
    root = Path(run_dir) / CHECKPOINTS
    if root.is_dir():
        for pattern in _LEFTOVERS:
            for p in root.glob(pattern):
                shutil.rmtree(p, ignore_errors=True)


def resolve(path: str | Path) -> Path:
    """The weights file for a run folder, a checkpoint folder or a ``.safetensors`` file."""
    path = Path(path)
    if path.is_file():
        if path.suffix != ".safetensors":
            raise CheckpointError(
                f"{path}: expected a .safetensors file, a checkpoint folder or a run folder"
            )
        return path
    if (path / WEIGHTS).is_file():
        return path / WEIGHTS
    if path.is_dir():
        found = list_checkpoints(path)
        if found:
            return found[-1] / WEIGHTS
        raise CheckpointError(
            f"{path}: no checkpoint found (expected {path}/{CHECKPOINTS}/epoch-NNNN/{WEIGHTS})"
        )
    raise CheckpointError(f"checkpoint {str(path)!r} does not exist")


def weights_source(source: str | Path) -> Path:
    """A training run folder as its newest checkpoint; any other source as it is."""
    path = Path(source)
    if path.is_dir() and (path / CHECKPOINTS).is_dir() and not (path / WEIGHTS).is_file():
        return resolve(path).parent
    return path
