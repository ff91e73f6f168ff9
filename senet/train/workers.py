"""Training runs in worker processes that stop together: ``senet train --jobs N``.

The parent turns SIGTERM and SIGINT (Ctrl-C) into :class:`Stopped`: the runs not yet handed out are
cancelled, every worker gets SIGTERM and, after :data:`GRACE_SECONDS`, SIGKILL, so that no worker
keeps training as an orphan; the caller then reports which runs stopped (:func:`stop_report`) and
exits with 128 + the signal's number.

A worker ignores SIGINT (a Ctrl-C in a terminal reaches the whole process group; the parent decides)
and turns SIGTERM into :class:`Stopped` too: :func:`senet.train.fit` unwinds (the run folder's lock is
released) and the process ends with 128 + SIGTERM, without taking the next run. A checkpoint being
written at that moment stays under its temporary name (``checkpoints/.epoch-NNNN.tmp-PID``), which
the next start of the run removes: :mod:`senet.train.checkpoint` renames a checkpoint into place only
once it is complete, so a stopped run continues from its newest complete checkpoint with
``senet train --resume RUN``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import FrameType

from senet.train.config import TrainConfig
from senet.train.engine import fit
from senet.train.rundir import CONFIG, RESULT, FitResult

GRACE_SECONDS = 10.0
"""How long a worker has to end after SIGTERM before it is killed (SIGKILL)."""

SIGNALS = (signal.SIGTERM, signal.SIGINT)
"""The signals that stop the runs."""


class Stopped(BaseException):
    """A SIGTERM or SIGINT arrived: training stops. A BaseException (as KeyboardInterrupt is), so that
    no ``except Exception`` on the way swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Inside: the first SIGTERM or SIGINT raises :class:`Stopped` in the main thread, later ones are
    ignored (a second Ctrl-C does not interrupt the clean-up). Nothing changes outside the main thread,
    where Python cannot set signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if not raised:
            raised = True
            raise Stopped(signum)

    before = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, old in before.items():
            signal.signal(s, old if old is not None else signal.SIG_DFL)  # None: set outside Python


def train_in_processes(configs: Sequence[TrainConfig], *, jobs: int, quiet: bool) -> list[FitResult]:
    """Train ``configs`` in ``jobs`` spawned processes; their results in the order of ``configs``.

    On SIGTERM or SIGINT the workers are stopped (:func:`stop_processes`) and :class:`Stopped` is
    raised; any other error lets the running runs finish first, as before.
    """
    context = multiprocessing.get_context("spawn")
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(configs)), mp_context=context, initializer=_worker_setup
    )
    try:
        with stop_on_signals():
            try:
                futures = [pool.submit(_fit_in_worker, config, quiet) for config in configs]
                results = [future.result() for future in futures]
            except Stopped:  # a second signal is ignored while the workers are stopped
                pool.shutdown(wait=False, cancel_futures=True)
                stop_processes([p for p in multiprocessing.active_children() if p not in before])
                raise
    finally:
        pool.shutdown(wait=True)
    return results


def stop_processes(
    processes: Sequence[multiprocessing.process.BaseProcess], grace: float = GRACE_SECONDS
) -> None:
    """SIGTERM to every process, SIGKILL to those still alive ``grace`` seconds later; all joined."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join()


def stop_report(stop: Stopped, configs: Sequence[TrainConfig]) -> str:
    """What a stop left: the runs stopped (each continues with ``--resume``), finished and not started."""
    lines = [f"senet train: {stop}: training ended (no process keeps training)"]
    for config in configs:
        run_dir = Path(str(config.out_dir))
        if (run_dir / RESULT).is_file():
            lines.append(f"  finished:    {run_dir}")
        elif (run_dir / CONFIG).is_file():
            lines.append(
                f"  stopped:     {run_dir} (continue it from its newest complete checkpoint: "
                f"senet train --resume {run_dir})"
            )
        else:
            lines.append(f"  not started: {run_dir}")
    lines.append(
        "checkpoints are renamed into place only when complete, so a stopped run resumes from its last "
        "finished checkpoint epoch; the same command with the same --out refuses folders holding these runs"
    )
    return "\n".join(lines)


def _worker_setup() -> None:
    """In each worker: Ctrl-C is the parent's to handle; SIGTERM ends the run (see the module's text)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_stopped)


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the unwinding is not interrupted
    raise Stopped(signum)


def _fit_in_worker(config: TrainConfig, quiet: bool) -> FitResult:
    """One run in a worker; on SIGTERM the process ends once fit() has unwound, rather than the pool
    handing it the next run."""
    try:
        return fit(config, quiet=quiet, progress=False)
    except Stopped as stop:
        sys.stderr.flush()
        os._exit(stop.exit_code)
