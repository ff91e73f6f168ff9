"""eval_every: validation every N epochs and after the last; the rows of the other epochs have no
validation keys, and everything that reads metrics rows (result, summary.csv, TensorBoard, the
epoch line, curves, resume) copes with them."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from train_fixtures import tiny_config

from senet.analysis.curves import read_curve, write_curves
from senet.cli import main
from senet.train import ConfigError, TrainConfig, fit, load_checkpoint, load_result
from senet.train import distributed as dist
from senet.train.engine import record

VALIDATION = {"val_loss", "top1", "top5", "val_images"}
TRAINING = ("train_loss", "train_top1", "lr")


def _rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def every_second(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A finished 3-epoch run with eval_every=2 (validated after epochs 1 and 3) and its stderr."""
    run = tmp_path_factory.mktemp("eval_every") / "run"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        fit(tiny_config(run, epochs=3, eval_every=2), progress=False)
    return run, err.getvalue()


def test_epochs_1_3_5_and_the_last_are_validated() -> None:
    config = TrainConfig(epochs=6, eval_every=2)
    assert [e for e in range(1, 7) if config.validates(e)] == [1, 3, 5, 6]
    assert [e for e in range(1, 8) if config.replace(epochs=7, eval_every=3).validates(e)] == [1, 4, 7]
    assert all(TrainConfig(epochs=4).validates(e) for e in range(1, 5))
    assert [e for e in range(1, 6) if TrainConfig(epochs=5, eval_every=0).validates(e)] == [5]


def test_only_due_epochs_are_validated_and_the_result_is_the_last(every_second: tuple[Path, str]) -> None:
    run, err = every_second
    rows = _rows(run)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert VALIDATION <= set(rows[0]) and not VALIDATION & set(rows[1]) and VALIDATION <= set(rows[2])
    assert all({*TRAINING, "epoch_seconds", "train_images_per_second"} <= set(r) for r in rows)
    result = load_result(run)
    assert result.top1 == rows[2]["top1"] and result.val_loss == rows[2]["val_loss"]
    assert result.top1_error == 100 - rows[2]["top1"] and result.epochs == 3
    assert "validated every 2 epochs from the first and after the last" in err
    lines = [line for line in err.splitlines() if " epoch " in f" {line}" and "/3 " in line]
    assert len(lines) == 3 and "not validated" in lines[1] and "val loss" not in lines[1]
    assert "val loss" in lines[0] and "val loss" in lines[2]
    with open(run / "summary.csv") as f:
        table = list(csv.DictReader(f))
    assert table[1]["top1"] == "" and float(table[2]["top1"]) == rows[2]["top1"]
    state = load_checkpoint(run / "checkpoints" / "epoch-0002", with_state=True).state
    assert "top1" not in state["metrics"] and state["metrics"]["train_loss"] == rows[1]["train_loss"]


def test_skipping_validation_does_not_change_the_training(
    every_second: tuple[Path, str], tmp_path: Path
) -> None:
    """The same training numbers every epoch and the same final validation as validating every epoch
    (deterministic mode)."""
    dense = fit(tiny_config(tmp_path / "dense", epochs=3), quiet=True)
    sparse, every = _rows(every_second[0]), _rows(tmp_path / "dense")
    assert [[r[k] for k in TRAINING] for r in sparse] == [[r[k] for k in TRAINING] for r in every]
    assert VALIDATION <= set(every[1]) and (sparse[0]["top1"], sparse[2]["top1"]) == (
        every[0]["top1"],
        dense.top1,
    )
    assert load_result(every_second[0]).val_loss == dense.val_loss


def test_a_run_killed_after_an_epoch_not_validated_resumes_bit_exactly(tmp_path: Path) -> None:
    changes = dict(epochs=3, eval_every=2, ema_decay=0.9)
    full = fit(tiny_config(tmp_path / "full", **changes), quiet=True)
    fit(tiny_config(tmp_path / "part", **changes), quiet=True)
    part = tmp_path / "part"  # killed after epoch 2 (not validated): no epoch-3 checkpoint, no result
    shutil.rmtree(part / "checkpoints" / "epoch-0003")
    (part / "result.json").unlink()
    resumed = fit(tiny_config(part, **changes), resume=True, quiet=True)
    assert (resumed.top1, resumed.val_loss) == (full.top1, full.val_loss)
    a = load_checkpoint(full.checkpoint, with_state=True)
    b = load_checkpoint(resumed.checkpoint, with_state=True)
    assert all(torch.equal(a.weights[k], b.weights[k]) for k in a.weights)
    rows, reference = _rows(part), _rows(tmp_path / "full")
    assert [sorted(set(r) - {"epoch_seconds", "train_images_per_second"}) for r in rows] == [
        sorted(set(r) - {"epoch_seconds", "train_images_per_second"}) for r in reference
    ]
    keys = (*TRAINING, "epoch")
    assert [[r[k] for k in keys] for r in rows] == [[r[k] for k in keys] for r in reference]
    assert "raw_top1" not in rows[1] and {"raw_top1", "raw_top5", "raw_val_loss"} <= set(rows[2])
    assert rows[2]["top1"] == reference[2]["top1"]


def test_record_logs_only_the_keys_an_epoch_has(tmp_path: Path) -> None:
    logged: list[tuple[str, float, int]] = []
    writer = SimpleNamespace(add_scalar=lambda key, value, step: logged.append((key, value, step)))
    run = SimpleNamespace(
        config=tiny_config(tmp_path, epochs=3, eval_every=2, checkpoint_every=5), run_dir=tmp_path,
        env=dist.DistEnv(0, 1, 0, torch.device("cpu")), writer=writer, show=False,
    )  # fmt: skip
    row = {"train_loss": 1.5, "train_top1": 40.0, "lr": 0.05, "epoch_seconds": 1.0}
    record(run, {**row, "epoch": 2})  # type: ignore[arg-type]
    assert logged == [("train_loss", 1.5, 2), ("train_top1", 40.0, 2), ("lr", 0.05, 2)]
    assert _rows(tmp_path) == [{**row, "epoch": 2}] and not (tmp_path / "checkpoints").exists()


def test_curves_of_a_run_validated_every_second_epoch(
    every_second: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = every_second[0]
    rows = _rows(run)
    curve = read_curve(run)
    assert curve.epochs == (1, 2, 3) and curve.val_epochs == (1, 3)
    assert curve.val_top1_error == (100 - rows[0]["top1"], 100 - rows[2]["top1"])
    assert curve.train_loss == tuple(r["train_loss"] for r in rows)
    paths = write_curves([curve], tmp_path / "fig")
    assert [p.name for p in paths] == ["curves.json", "curves.csv", "curves.png"]
    data = json.loads(paths[0].read_text())
    assert [r["val_loss"] for r in data["runs"][0]["rows"]] == [
        rows[0]["val_loss"],
        None,
        rows[2]["val_loss"],
    ]
    mean = data["mean"]["se_resnet20_cifar"]
    assert mean["epochs"] == [1, 2, 3] and mean["val_epochs"] == [1, 3] and len(mean["val_loss"]) == 2
    table = list(csv.DictReader(paths[1].open()))
    assert [t["val_top1_error"] == "" for t in table] == [False, True, False]
    assert main(["curves", str(run), "-o", str(tmp_path / "cli")]) == 0
    assert f"3 epochs, last val top-1 error {100 - rows[2]['top1']:.2f}%" in capsys.readouterr().out


@pytest.mark.parametrize("value", [-1, -2, 1.5, True, "2"])
def test_a_bad_eval_every_is_named(value: object) -> None:
    with pytest.raises(ConfigError, match=f"eval_every={value!r}: must be an integer >= 0"):
        TrainConfig(eval_every=value)  # type: ignore[arg-type]


def test_eval_every_is_an_option(capsys) -> None:
    assert TrainConfig().with_overrides(["eval_every=4"]).eval_every == 4
    assert main(["train", "--model", "se_resnet20_cifar", "--eval-every", "-1"]) == 2
    assert "eval_every=-1" in capsys.readouterr().err
