"""A run folder belongs to one run (refusal, overwrite, lock) and its checkpoints survive damage:
resume falls back past a checkpoint that does not load, a torn metrics line is dropped, pruning is
crash-safe, files get the umask's mode."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from train_fixtures import tiny_config

from senet.cli import main
from senet.config import ConfigError
from senet.train import engine, fit, load_checkpoint, load_result, rundir
from senet.train.checkpoint import CheckpointError

TINY = ["--model", "se_resnet20_cifar", "--set", "data.input_size=8", "--set", "data.limit_train=64"]
TINY += ["--set", "data.limit_val=32", "--batch-size", "32", "--epochs", "1", "--quiet", "--deterministic"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> dict:
    """A finished 2-epoch run (checkpoints 1 and 2), trained under umask 022; copy it before changing it."""
    run = tmp_path_factory.mktemp("finished") / "run"
    old = os.umask(0o022)
    try:
        result = fit(tiny_config(run, epochs=2), quiet=True)
    finally:
        os.umask(old)
    return {"run": run, "result": result}


def _copy(finished: dict, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(finished["run"], run)
    return run


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(child.stdout)


# --- one run per folder -----------------------------------------------------------------------


def test_a_new_run_refuses_a_folder_that_holds_another_run(finished, tmp_path) -> None:
    run = _copy(finished, tmp_path)
    before = {
        p.name: p.read_bytes() for p in (run / "metrics.jsonl", run / "result.json", run / "config.json")
    }
    with pytest.raises(ConfigError, match=rf"{run}: holds another run.*--resume {run}.*--overwrite"):
        fit(tiny_config(run, epochs=1), quiet=True)
    assert {p: (run / p).read_bytes() for p in before} == before  # nothing of the old run touched
    assert [p.name for p in rundir.list_checkpoints(run)] == ["epoch-0001", "epoch-0002"]
    assert not (run / "run.lock").exists()


def test_the_command_refuses_with_one_line_naming_the_ways_out(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", *TINY, "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["train", *TINY, "--out", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(run) in err and f"--resume {run}" in err and "--overwrite" in err


def test_overwrite_moves_the_old_run_aside_and_starts_clean(finished, tmp_path) -> None:
    run = _copy(finished, tmp_path)
    old_result = (run / "result.json").read_text()
    result = fit(tiny_config(run, epochs=1, overwrite=True), quiet=True)
    (aside,) = tmp_path.glob("run.old-*")
    assert (aside / "result.json").read_text() == old_result and len(rundir.list_checkpoints(aside)) == 2
    assert load_result(aside) == finished["result"].__class__(**json.loads(old_result))
    # the new run's checkpoint is its own, not pruned in favour of the old run's later epochs
    assert [p.name for p in rundir.list_checkpoints(run)] == ["epoch-0001"]
    assert Path(result.checkpoint) == run / "checkpoints" / "epoch-0001" and load_result(run) == result
    assert [r["epoch"] for r in rundir.read_metrics(run)] == [1]
    assert json.loads((run / "config.json").read_text())["overwrite"] is False  # an action, not recorded
    with pytest.raises(ConfigError, match="overwrite.*resum"):
        fit(tiny_config(run, epochs=1, overwrite=True), resume=True, quiet=True)


def test_a_second_process_is_kept_out_by_the_lock(finished, tmp_path) -> None:
    run = _copy(finished, tmp_path)
    lock = run / "run.lock"
    lock.write_text(f"{os.getpid()}\n")  # a live process trains in this folder
    with pytest.raises(ConfigError, match=rf"another process \(pid {os.getpid()}\) is training this run"):
        fit(tiny_config(run, epochs=2), resume=True, quiet=True)
    lock.write_text(f"{os.getpid()} some-other-host\n")  # cannot be checked from here: kept
    with pytest.raises(ConfigError, match="on some-other-host"):
        fit(tiny_config(run, epochs=2), resume=True, quiet=True)
    lock.write_text(f"{_dead_pid()}\n")  # a killed run's lock is taken over, and released at the end
    assert fit(tiny_config(run, epochs=2), resume=True, quiet=True).top1 == finished["result"].top1
    assert not lock.exists()


def test_the_lock_is_released_when_the_run_fails(tmp_path, monkeypatch) -> None:
    def broken(run, epoch):
        assert (run.run_dir / "run.lock").read_text().split()[0] == str(os.getpid())  # held meanwhile
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "run_epoch", broken)
    with pytest.raises(RuntimeError, match="boom"):
        fit(tiny_config(tmp_path / "run", epochs=1), quiet=True)
    assert not (tmp_path / "run" / "run.lock").exists()


# --- checkpoints and metrics ------------------------------------------------------------------


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _hostile(path: Path) -> None:
    import argparse

    torch.save({"optimizer": argparse.Namespace(x=1)}, path)  # an object weights_only refuses


@pytest.mark.parametrize(
    ("name", "damage", "reason"),
    [
        ("state.pt", _truncate, "cannot read the training state"),
        ("model.safetensors", _truncate, "cannot read the weights"),
        ("state.pt", _hostile, "refused to load the training state"),
    ],
)
def test_resume_falls_back_to_the_newest_checkpoint_that_loads(
    finished, tmp_path, capsys, name, damage, reason
) -> None:
    run = _copy(finished, tmp_path)
    damage(run / "checkpoints" / "epoch-0002" / name)
    (run / "result.json").unlink()  # killed after writing epoch 2 (the file is damaged)
    capsys.readouterr()
    resumed = fit(tiny_config(run, epochs=2), resume=True, quiet=True)
    err = capsys.readouterr().err
    assert f"skipping checkpoint {run / 'checkpoints' / 'epoch-0002'}" in err and reason in err
    assert "weights_only" not in err  # torch's advice to load untrusted pickles is never shown
    assert (resumed.top1, resumed.val_loss) == (finished["result"].top1, finished["result"].val_loss)
    assert load_checkpoint(run, with_state=True).epoch == 2  # rewritten, loads
    (skipped,) = (run / "checkpoints").glob(".epoch-0002.skipped-*")  # the damaged one is kept aside
    assert (skipped / name).is_file()


def test_no_loadable_checkpoint_is_an_error_naming_each(finished, tmp_path) -> None:
    run = _copy(finished, tmp_path)
    for found in rundir.list_checkpoints(run):
        _truncate(found / "state.pt")
    with pytest.raises(CheckpointError, match=r"none of its checkpoints loads.*epoch-0002.*epoch-0001"):
        fit(tiny_config(run, epochs=2), resume=True, quiet=True)
    with pytest.raises(CheckpointError, match="refused to load the training state") as caught:
        _hostile(rundir.list_checkpoints(run)[0] / "state.pt")
        load_checkpoint(rundir.list_checkpoints(run)[0], with_state=True)
    assert "weights_only" not in str(caught.value)


def test_a_torn_last_metrics_line_is_dropped_naming_the_file(finished, tmp_path, capsys) -> None:
    run = _copy(finished, tmp_path)
    shutil.rmtree(run / "checkpoints" / "epoch-0002")
    (run / "result.json").unlink()
    metrics = run / "metrics.jsonl"
    lines = metrics.read_text().splitlines()
    metrics.write_text(lines[0] + "\n" + lines[1][:25])  # killed while writing epoch 2's line
    capsys.readouterr()
    resumed = fit(tiny_config(run, epochs=2), resume=True, quiet=True)
    assert f"{metrics}: dropped its torn last line" in capsys.readouterr().err
    assert resumed.top1 == finished["result"].top1
    rows = metrics.read_text().splitlines()
    assert rows[0] == lines[0] and [json.loads(r)["epoch"] for r in rows] == [1, 2]  # epoch 2 logged again
    metrics.write_text("{broken\n" + lines[1] + "\n")  # not the last line: an error naming file and line
    with pytest.raises(ConfigError, match=rf"{metrics}, line 1"):
        rundir.read_metrics(run)


def test_a_kill_while_pruning_leaves_no_half_deleted_checkpoint(finished, tmp_path, monkeypatch) -> None:
    run = _copy(finished, tmp_path)
    real = shutil.rmtree

    def killed(path, ignore_errors=False, **kwargs):  # deletes one file, then the process "dies"
        if not Path(path).exists() and ignore_errors:
            return
        next(p for p in Path(path).iterdir() if p.is_file()).unlink()
        raise SystemExit("killed")

    monkeypatch.setattr(shutil, "rmtree", killed)
    with pytest.raises(SystemExit):
        rundir.prune_checkpoints(run, keep=1)
    monkeypatch.setattr(shutil, "rmtree", real)
    for folder in (run / "checkpoints").iterdir():  # under a final name: whole, or not there at all
        if not folder.name.startswith("."):
            assert {p.name for p in folder.iterdir()} == {"model.safetensors", "state.pt"}, folder
    assert [p.name for p in rundir.list_checkpoints(run)] == ["epoch-0002"]
    (run / "result.json").unlink()
    fit(tiny_config(run, epochs=2), resume=True, quiet=True)  # the next start removes the leftover
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch-0002"]


def test_run_files_get_the_umask_mode(finished) -> None:
    run, newest = finished["run"], finished["run"] / "checkpoints" / "epoch-0002"
    for path in (run / "config.json", run / "result.json", run / "metrics.jsonl", *newest.iterdir()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
