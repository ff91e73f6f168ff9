"""`senet train` on SIGTERM: with --jobs 2 the parent ends its worker processes; a single run, a comparison
one run after the other and a resumed run unwind in the process. Each says how to resume and exits 143."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from train_fixtures import PYTHON, subprocess_env

from senet.train.workers import Stopped, stop_on_signals

TINY = ["--set", "data.input_size=8", "--set", "data.limit_train=64", "--set", "data.limit_val=32"]
TINY += ["--batch-size", "32", "--epochs", "10000", "--seeds", "0", "--deterministic"]


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux: /proc/PID/task/*/children)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(c) for c in (task / "children").read_text().split())
        except OSError:  # the thread ended meanwhile
            pass
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def _stop_once_started(command: list[str], started) -> tuple[int, str, set[int]]:
    """Start ``command``, SIGTERM it once ``started()`` holds: (exit status, stderr, the child processes it had
    then). Nothing is left running, whatever fails."""
    process = subprocess.Popen(command, env=subprocess_env(), stderr=subprocess.PIPE, text=True)
    workers: set[int] = set()
    try:
        assert _wait_for(started, timeout=90), "training did not start"
        workers = children(process.pid)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in workers:  # never leave a stray process behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    return process.returncode, err, workers


def _locked(run: Path):
    """Whether ``run`` is training: its lock and its config.json exist."""
    return lambda: (run / "run.lock").is_file() and (run / "config.json").is_file()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_sigterm_ends_every_worker_and_says_how_to_resume(tmp_path) -> None:
    command = [PYTHON, "-m", "senet", "train", *TINY, "--jobs", "2", "--out", str(tmp_path)]
    runs = [tmp_path / "se_resnet20_cifar", tmp_path / "resnet20_cifar"]
    # both workers are training once both run folders hold their config.json
    status, err, workers = _stop_once_started(
        command, lambda: all((r / "config.json").is_file() for r in runs)
    )
    assert len(workers) >= 2  # the two workers (and multiprocessing's resource tracker)
    assert status == 128 + signal.SIGTERM, err
    assert _wait_for(lambda: not any(alive(pid) for pid in workers), timeout=10), "a worker survived"
    assert "stopped by SIGTERM" in err
    for run in runs:
        assert f"senet train --resume {run}" in err
        assert not (run / "run.lock").exists()  # the worker unwound fit() (a SIGKILL leaves the lock)


@pytest.mark.parametrize("how", ["single", "jobs-1", "resumed"])
def test_sigterm_in_process_unwinds_and_says_how_to_resume(tmp_path, how: str) -> None:
    single = [PYTHON, "-m", "senet", "train", "--model", "se_resnet20_cifar", *TINY, "--out", str(tmp_path)]
    run = tmp_path
    if how == "jobs-1":
        single = [*single[:4], "--twin", *single[4:], "--jobs", "1"]
        run = tmp_path / "se_resnet20_cifar"
    if how == "resumed":  # stopped once, then resumed (from the start if no epoch had finished) and stopped
        status, err, _ = _stop_once_started(single, _locked(run))
        assert status == 143, err
        single = [PYTHON, "-m", "senet", "train", "--resume", str(run)]
    status, err, _ = _stop_once_started(single, _locked(run))
    assert status == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM: training ended" in err and f"senet train --resume {run}" in err
    assert not (run / "run.lock").exists()  # fit() unwound
    if how == "jobs-1":
        assert f"not started: {tmp_path / 'resnet20_cifar'}" in err


def test_a_signal_raises_stopped_once_then_is_ignored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals():
        with pytest.raises(Stopped) as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler runs in the main thread between bytecodes
        assert stop.value.exit_code == 143
        os.kill(os.getpid(), signal.SIGINT)  # ignored: the clean-up is not interrupted
        time.sleep(0.1)
    assert signal.getsignal(signal.SIGTERM) is before
