"""What `senet train` trains: the bare command compares SE and twin over seeds (the main job), a
named recipe or model trains one network (``--twin`` adds the twin); the seeds table and its verdict."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from senet.cli import main
from senet.commands import compare
from senet.commands import train as train_cmd
from senet.train.config import TrainConfig
from senet.train.rundir import FitResult, append_metrics


def _result(config: TrainConfig, top1: float) -> FitResult:
    run = Path(config.out_dir)
    run.mkdir(parents=True, exist_ok=True)
    append_metrics(run, {"epoch": config.epochs, "val_images": 400})
    return FitResult(str(run), "", config.model.name, "digits", config.epochs, top1, 99.0, 100 - top1, 1.0,
                     0.5, 1000, 2000, 16, 1.0, 100.0)  # fmt: skip


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[TrainConfig]:
    """Replaces fit in the command: records each config; SE networks score 1 point above their twin."""
    seen: list[TrainConfig] = []

    def fake(config: TrainConfig, **_: Any) -> FitResult:
        seen.append(config)
        return _result(
            config, 90.0 + config.seed * 0.25 + (1.0 if config.model.name.startswith("se_") else 0)
        )

    monkeypatch.setattr(train_cmd, "fit", fake)
    return seen


def _train(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["train", "--quiet", "--jobs", "1", *args]) == 0
    return out.getvalue()


def test_bare_train_compares_over_the_demo_seeds(fits, tmp_path) -> None:
    table = _train("--out", str(tmp_path))
    pairs = [(c.model.name, c.seed, c.epochs) for c in fits]
    epochs = train_cmd.DEMO_EPOCHS
    assert pairs == [
        (n, s, epochs) for s in train_cmd.DEMO_SEEDS for n in ("se_resnet20_cifar", "resnet20_cifar")
    ]
    assert fits[0].out_dir == str(tmp_path / "se_resnet20_cifar" / "seed-0")
    assert "91.25 ± 0.25" in table and "90.25 ± 0.25" in table  # mean ± sd over seeds 0 1 2
    assert "difference +1.00 points" in table and "larger than the seed-to-seed noise" in table


def test_a_named_recipe_trains_its_network_only(fits, tmp_path) -> None:
    _train("--recipe", "fast", "--out", str(tmp_path / "one"))
    assert [(c.model.name, c.epochs) for c in fits] == [("se_resnet20_cifar", 8)]  # the recipe's own budget
    fits.clear()
    _train("--recipe", "fast", "--twin", "--out", str(tmp_path / "two"))
    assert [c.model.name for c in fits] == ["se_resnet20_cifar", "resnet20_cifar"] and fits[0].seed == 0
    fits.clear()
    _train("--model", "resnet20_cifar", "--out", str(tmp_path / "three"))
    assert [c.model.name for c in fits] == ["resnet20_cifar"]


def test_given_epochs_and_seed_win_over_the_demo_budget(fits, tmp_path) -> None:
    _train("--epochs", "2", "--seed", "5", "--out", str(tmp_path))
    assert [(c.seed, c.epochs) for c in fits] == [(5, 2), (5, 2)]


def test_the_verdict_compares_the_difference_with_its_spread() -> None:
    noisy = compare.verdict([1.0, -0.5, 0.5], image_points=0.28)
    assert "within the seed-to-seed noise, not a result" in noisy and "1 image = 0.28 points" in noisy
    assert "larger than the seed-to-seed noise" in compare.verdict([1.0, 1.1, 0.9], image_points=0.28)
    assert "no claim" in compare.verdict([0.28], image_points=0.28)
