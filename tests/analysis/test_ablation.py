"""Grids as data, the runner's resumption (fit counted through a monkeypatch) and its checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from senet.analysis import ablation
from senet.analysis.grids import Grid, Variant, axis_grid
from senet.analysis.presets import PRESETS, preset
from senet.config import ConfigError
from senet.data import DataConfig
from senet.layers.se import SEConfig
from senet.spec import ModelSpec
from senet.train.config import TrainConfig
from senet.train.engine import CONFIG, RESULT, FitResult
from senet.train.recipes import recipe


def _base(**changes: Any) -> TrainConfig:
    return TrainConfig(
        model="se_resnet20_cifar", data=DataConfig(dataset="digits", workers=0), epochs=1
    ).replace(**changes)


class FakeFit:
    """Stands in for senet.train.engine.fit: writes config.json and result.json like a finished run.

    ``stop_at`` (a 1-based call number) raises KeyboardInterrupt there, as a user's Ctrl-C would,
    after writing config.json but before result.json.
    """

    def __init__(self, stop_at: int = 0) -> None:
        self.calls: list[tuple[str, bool]] = []
        self.stop_at = stop_at

    def __call__(self, config: TrainConfig, *, resume: bool = False, **_: Any) -> FitResult:
        self.calls.append((config.out_dir, resume))
        run = Path(config.out_dir)
        run.mkdir(parents=True, exist_ok=True)
        (run / CONFIG).write_text(json.dumps(config.to_dict()))
        if len(self.calls) == self.stop_at:
            raise KeyboardInterrupt
        error = 10.0 + config.seed + (config.model.se.reduction if config.model.se else 0)
        result = FitResult(
            str(run),
            "",
            config.model.name,
            "digits",
            1,
            100 - error,
            99.0,
            error,
            1.0,
            0.5,
            1000,
            2000,
            16,
            0.1,
            1.0,
        )
        (run / RESULT).write_text(json.dumps(result.to_dict()))
        return result


GRID = axis_grid(["reduction=4,16"])


def test_a_second_run_does_not_retrain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeFit()
    monkeypatch.setattr(ablation, "fit", fake)
    first = ablation.run_grid(GRID, _base(), seeds=[0, 1], out_dir=tmp_path, quiet=True)
    assert len(fake.calls) == 4 and all(r.trained for r in first)
    assert [c.split("/")[-2:] for c, _ in fake.calls] == [
        ["r=4", "seed-0"],
        ["r=4", "seed-1"],
        ["r=16", "seed-0"],
        ["r=16", "seed-1"],
    ]
    second = ablation.run_grid(GRID, _base(), seeds=[0, 1], out_dir=tmp_path, quiet=True)
    assert len(fake.calls) == 4 and not any(r.trained for r in second)
    assert [r.result for r in second] == [r.result for r in first]
    assert json.loads((tmp_path / ablation.GRID_FILE).read_text())["cells"][3]["variant"] == "r=16"


def test_an_interrupted_grid_continues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeFit(stop_at=3)
    monkeypatch.setattr(ablation, "fit", fake)
    with pytest.raises(KeyboardInterrupt):
        ablation.run_grid(GRID, _base(), seeds=[0, 1], out_dir=tmp_path, quiet=True)
    assert len(fake.calls) == 3
    fake.stop_at = 0
    results = ablation.run_grid(GRID, _base(), seeds=[0, 1], out_dir=tmp_path, quiet=True)
    assert len(fake.calls) == 5  # the interrupted cell (r=16, seed 0) again, then the last one
    assert fake.calls[3] == (
        str(tmp_path / "r=16" / "seed-0"),
        True,
    )  # resume=True: fit continues its checkpoints
    assert [r.trained for r in results] == [False, False, True, True]
    assert not (tmp_path / ablation.LOCK_FILE).exists()  # released after the interruption too


def test_a_changed_recipe_is_not_mixed_into_a_finished_grid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ablation, "fit", FakeFit())
    ablation.run_grid(GRID, _base(), seeds=[0], out_dir=tmp_path, quiet=True)
    with pytest.raises(ConfigError, match=r"different configuration \(fields \['lr'\]\)"):
        ablation.run_grid(GRID, _base(lr=0.5), seeds=[0], out_dir=tmp_path, quiet=True)


def test_variants_merge_into_the_recipe_overrides(tmp_path: Path) -> None:
    base = _base(model=ModelSpec("se_resnet20_cifar", se=SEConfig(bias=False)))
    grid = axis_grid(["reduction=4,16", "gate=sigmoid,tanh"], baseline=True)
    cells = ablation.plan(grid, base, seeds=[3], out_dir=tmp_path)
    assert [c.variant.name for c in cells] == [
        "r=4, gate=sigmoid", "r=4, gate=tanh", "r=16, gate=sigmoid", "r=16, gate=tanh", "baseline"
    ]  # fmt: skip
    assert cells[1].config.model.se == SEConfig(bias=False, reduction=4, gate="tanh")
    assert cells[4].config.model.is_plain and cells[4].config.seed == 3  # the baseline: the plain twin
    assert cells[4].config.model.name == "resnet20_cifar"
    assert cells[1].run_dir == tmp_path / "r=4_gate=tanh" / "seed-3"


def test_every_preset_plans_on_its_default_model(tmp_path: Path) -> None:
    for name, grid in PRESETS.items():
        cells = ablation.plan(grid, recipe("fast"), seeds=[0], out_dir=tmp_path)
        assert len(cells) == len(grid.variants), name
    assert (
        ablation.plan(preset("table13"), recipe("fast"), seeds=[0], out_dir=tmp_path)[1].config.model.name
        == "se_resnet18"
    )
    assert [v.paper for v in preset("table10").variants][-1] == (23.30, 6.55)


def test_plan_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SE_Stage_2.*se_stages"):
        ablation.plan(
            preset("table13"), recipe("fast"), seeds=[0], out_dir=tmp_path, model="se_resnet20_cifar"
        )
    with pytest.raises(ConfigError, match="has no SE blocks"):
        ablation.plan(GRID, recipe("fast"), seeds=[0], out_dir=tmp_path, model="resnet20_cifar")
    with pytest.raises(ConfigError, match="repeated values"):
        ablation.plan(GRID, recipe("fast"), seeds=[1, 1], out_dir=tmp_path)
    with pytest.raises(ConfigError, match="NAME one of"):
        axis_grid(["ratio=4"])
    with pytest.raises(ConfigError, match="reduction='x'"):
        axis_grid(["reduction=x"])
    with pytest.raises(ConfigError, match="no variant"):
        preset("table14").select(["SE-SIDE"])
    grid = Grid("g", "t", (Variant("a b"), Variant("a_b")))
    with pytest.raises(ConfigError, match="collide"):
        ablation.plan(grid, recipe("fast"), seeds=[0], out_dir=tmp_path)


def test_one_process_at_a_time_per_grid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeFit()
    monkeypatch.setattr(ablation, "fit", fake)
    lock = tmp_path / ablation.LOCK_FILE
    lock.write_text(str(os.getpid()))  # a live process holds the grid
    with pytest.raises(ConfigError, match=f"another process \\(pid {os.getpid()}\\)"):
        ablation.run_grid(GRID, _base(), seeds=[0], out_dir=tmp_path, quiet=True)
    assert fake.calls == []
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    lock.write_text(gone.stdout.strip())  # a killed run's stale lock is taken over
    ablation.run_grid(GRID, _base(), seeds=[0], out_dir=tmp_path, quiet=True)
    assert len(fake.calls) == 2 and not lock.exists()
