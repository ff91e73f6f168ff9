"""``senet ablate`` says which cell of how many it trains, with an ETA for the grid."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ablation import GRID, FakeFit, _base

from senet.analysis import ablation


def test_cells_are_counted_with_a_grid_eta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeFit()
    monkeypatch.setattr(ablation, "fit", fake)
    clock = iter(range(0, 1000, 60))  # every fit takes 60 s (perf_counter read before and after)
    monkeypatch.setattr(ablation.time, "perf_counter", lambda: float(next(clock)))
    said: list[str] = []
    ablation.run_grid(GRID, _base(), seeds=[0, 1], out_dir=tmp_path, log=said.append)
    assert said[0].startswith("cell 1 of 4: r=4, seed 0: training se_resnet20_cifar in ")
    assert said[1].startswith("cell 2 of 4 (grid ETA 3:00): r=4, seed 1")  # 3 cells left x 60 s
    assert said[3].startswith("cell 4 of 4 (grid ETA 1:00): r=16, seed 1")
    said.clear()
    ablation.run_grid(GRID, _base(), seeds=[0, 1], out_dir=tmp_path, log=said.append)
    assert said[2].startswith("cell 3 of 4: r=16, seed 0: finished earlier")  # nothing trained: no ETA
