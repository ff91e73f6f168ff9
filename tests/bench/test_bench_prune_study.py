"""benchmarks/prune_study.py (docs/pruning.md): the per-dataset settings, the tables from results.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

from bench_scripts import load_script

RECORDED = Path(__file__).resolve().parents[2] / "docs" / "bench" / "prune_study"


def _write(out: Path, rows: list[tuple[int, str, float, float, float]]) -> None:
    lines = [
        json.dumps({"key": {"seed": s, "criterion": c, "ratio": r}, "before": b, "after": a, "macs": 1 - r, "params": 1 - r})
        for s, c, r, b, a in rows
    ]  # fmt: skip
    (out / "results.jsonl").write_text("\n".join(lines) + "\n")


def test_mnist_setting_is_the_recorded_protocol() -> None:
    """The MNIST study's arguments are those its recorded results were made with."""
    study = load_script("prune_study")
    mnist = study.SETTINGS["mnist"]
    assert mnist.flags == ("--data.dataset", "mnist", "--data.input-size", "16", "--data.limit-val", "2000")
    assert mnist.base[-4:] == ("--epochs", "4", "--data.limit-train", "12000")
    assert mnist.tune[-2:] == ("--limit-train-batches", "63")
    assert (mnist.data.input_size, mnist.data.limit_train, mnist.data.limit_val) == (16, 12000, 2000)
    imagenette = study.SETTINGS["imagenette"]
    assert (imagenette.data.dataset, imagenette.data.input_size, imagenette.data.augment) == (
        "folder",
        32,
        "none",
    )
    assert "data.scale=0.35,1.0" in imagenette.flags


def test_recorded_mnist_table_has_every_cell() -> None:
    study = load_script("prune_study")
    lines = study.table(RECORDED).splitlines()
    assert "after 1-epoch fine-tune" in lines[0]
    assert len(lines) == 2 + 10  # "none" and 3 criteria x 3 ratios
    assert all(line.endswith("| 3 |") for line in lines[2:])


def test_paired_differences_and_interval(tmp_path: Path) -> None:
    """se - l1 per seed, rounded half away from zero; the 95% half-width is t(1) * sd / sqrt(2)."""
    study = load_script("prune_study")
    rows = [(s, c, 0.1, 50.0, 60.0) for s in (0, 1) for c in ("l1", "random")]
    rows += [(0, "se", 0.1, 51.05, 61.0), (1, "se", 0.1, 49.0, 63.0)]
    _write(tmp_path, rows)
    line = study.paired(tmp_path).splitlines()[2]
    # after: +1, +3 -> mean 2, sd sqrt(2), half = 12.71 * sqrt(2) / sqrt(2)
    assert (
        line
        == "| 0.1 | +1.00, +3.00 (+2.00 ± 12.71) | +1.00, +3.00 (+2.00 ± 12.71) | +1.1, -1.0 | +1.1, -1.0 |"
    )
    assert study.paired(tmp_path).splitlines()[3] == "| 0.3 |  |  |  |  |"
