"""The paper-form table: mean +- sample std over seeds, params, GFLOPs, CSV and Markdown."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pytest

from senet.analysis.ablation import Cell, CellResult
from senet.analysis.budget import Budget
from senet.analysis.grids import Variant
from senet.analysis.tables import (
    compare,
    format_csv,
    format_markdown,
    format_text,
    mean_std,
    notes,
    pm,
    summarize,
    title,
)
from senet.train.config import TrainConfig
from senet.train.engine import FitResult


def _cell(variant: Variant, seed: int, top1_err: float, top5_err: float) -> CellResult:
    result = FitResult(
        "", "", "m", "digits", 1, 100 - top1_err, 100 - top5_err, top1_err, top5_err, 0.1, 272_000, 41_000_000,
        32, 1.0, 1.0,
    )  # fmt: skip
    return CellResult(Cell(variant, seed, TrainConfig(seed=seed, out_dir=str(Path("x")))), result, True)


def test_mean_and_sample_std() -> None:
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert mean_std([4.0]) == (4.0, None)
    assert pm(2.0, 1.0) == "2.00 ± 1.00" and pm(4.0, None) == "4.00 ± -"
    with pytest.raises(ValueError):
        mean_std([])


def test_rows_markdown_csv_and_text() -> None:
    r4, base = Variant("r=4", reduction=4, paper=(22.25, 6.09)), Variant("baseline", plain=True)
    results = [_cell(r4, 0, 10.0, 1.0), _cell(r4, 1, 12.0, 2.0), _cell(base, 0, 20.0, 3.0)]
    rows = summarize(results)
    assert [(r.variant, r.seeds) for r in rows] == [("r=4", 2), ("baseline", 1)]
    assert rows[0].top1_mean == 11.0 and rows[0].top1_std == pytest.approx(2**0.5)
    md = format_markdown(rows, title="T")
    assert "| r=4 | 11.00 ± 1.41 | 1.50 ± 0.71 | 0.2720 | 0.0410 | 2 | 22.25 / 6.09 |" in md
    assert "| baseline | 20.00 ± - | 3.00 ± - | 0.2720 | 0.0410 | 1 |  |" in md
    parsed = list(csv.DictReader(io.StringIO(format_csv(rows))))
    assert parsed[0]["top1_err_std"] == "1.4142" and parsed[1]["top1_err_std"] == ""
    assert parsed[0]["params"] == "272000" and parsed[0]["macs"] == "41000000"
    text = format_text(rows, title="T").splitlines()
    assert text[0] == "T" and text[1].startswith("variant") and "11.00 ± 1.41" in text[2]
    ends = [
        line.index(cell) + len(cell)
        for line, cell in zip(text[1:], ["top-1 err (%)", "11.00 ± 1.41", "20.00 ± -"], strict=True)
    ]
    assert len(set(ends)) == 1  # right-aligned numeric columns


def test_the_paper_column_only_when_a_row_has_paper_numbers() -> None:
    rows = summarize(
        [_cell(Variant("r=4", reduction=4), 0, 10.0, 1.0), _cell(Variant("r=16", reduction=16), 0, 11.0, 1.0)]
    )
    assert "paper" not in format_text(rows) and "paper" not in format_markdown(rows)
    assert format_markdown(rows).splitlines()[2] == "| r=4 | 10.00 ± - | 1.00 ± - | 0.2720 | 0.0410 | 1 |"


def _three(variant: Variant, errors: list[float]) -> list[CellResult]:
    return [_cell(variant, seed, err, 1.0) for seed, err in enumerate(errors)]


def test_differences_within_and_beyond_the_seeds_spread() -> None:
    base = Variant("ResNet-110", plain=True, model="se_preact_resnet110_cifar", paper=(6.37,))
    se = Variant("SE-ResNet-110", model="se_preact_resnet110_cifar", paper=(5.21,))
    wrn_base = Variant("WRN-16-8", plain=True, model="se_wrn16_8_cifar")
    wrn = Variant("SE-WRN-16-8", model="se_wrn16_8_cifar")
    results = (
        _three(base, [7.0, 7.2, 7.4]) + _three(se, [6.0, 6.2, 6.4])  # diff -1.00, stds 0.20: beyond
        + _three(wrn_base, [5.0, 5.5, 6.0]) + _three(wrn, [5.0, 5.3, 5.6])  # diff -0.20, stds 0.5 / 0.3
    )  # fmt: skip
    rows = summarize(results)
    assert [r.baseline for r in rows] == [None, "ResNet-110", None, "WRN-16-8"]  # each with its own twin
    found = {c.row: c for c in compare(rows)}
    assert found["SE-ResNet-110"].diff == pytest.approx(-1.0) and found["SE-ResNet-110"].within is False
    assert found["SE-WRN-16-8"].spread == pytest.approx(0.5) and found["SE-WRN-16-8"].within is True
    said = notes(rows)
    assert said[0] == (
        "SE-ResNet-110 vs ResNet-110: -1.00 points of top-1 error, beyond the seeds' spread "
        "(largest std 0.20, 3 / 3 seeds)."
    )
    assert "-0.20 points of top-1 error, within the seeds' spread (largest std 0.50" in said[1]
    assert said[-1].startswith("spread: a difference is within the seeds' spread when |Δ| <=")
    md = format_markdown(rows, title="Table 4", top5=False)
    assert (
        "| variant | error (%) | params (M) | GFLOPs | seeds | paper error (%) | Δ top-1 vs baseline |" in md
    )
    assert "| SE-ResNet-110 | 6.20 ± 0.20 | 0.2720 | 0.0410 | 3 | 5.21 | -1.00 beyond spread | +0.0% |" in md
    assert "| ResNet-110 | 7.20 ± 0.20 | 0.2720 | 0.0410 | 3 | 6.37 |  |  |" in md and "top-5" not in md
    assert "- SE-WRN-16-8 vs WRN-16-8: -0.20" in md
    parsed = list(csv.DictReader(io.StringIO(format_csv(rows))))
    assert (parsed[1]["baseline"], parsed[1]["within_spread"], parsed[3]["within_spread"]) == (
        "ResNet-110",
        "0",
        "1",
    )
    assert parsed[0]["paper_top1_err"] == "6.37" and parsed[0]["paper_top5_err"] == ""


def test_one_seed_has_no_known_spread_and_params_are_compared() -> None:
    base, r4 = (
        Variant("baseline", plain=True, paper_params=25.6),
        Variant("r=4", reduction=4, paper_params=35.7),
    )
    rows = summarize([_cell(base, 0, 20.0, 3.0), _cell(r4, 0, 19.5, 3.0)])
    rows[1] = dataclasses.replace(rows[1], params=299_200)  # +10% over the baseline's 272,000
    (only,) = compare(rows)
    assert only.within is None and only.extra_params == pytest.approx(0.1)
    assert (
        notes(rows)[0]
        == "r=4 vs baseline: -0.50 points of top-1 error; one seed, so no spread is known (give --seeds 0 1 2)."
    )
    text = format_text(rows)
    assert "paper params (M)" in text and "-0.50 spread unknown" in text and "+10.0%" in text
    assert "35.7" in text.splitlines()[2]


def test_the_title_names_the_budget() -> None:
    v = Variant("SE-ResNet-110", model="se_preact_resnet110_cifar")
    config = TrainConfig(recipe="preact_cifar", epochs=2, seed=0, out_dir="x")
    results = [CellResult(Cell(v, 0, config, full_epochs=164), _cell(v, 0, 5.0, 1.0).result, True)]
    text = title("Table 4 (CIFAR-10)", results, budget=Budget(epochs=2), seeds=[0])
    assert (
        text
        == "Table 4 (CIFAR-10) -- budget: 2 epochs of 164 -- m on digits at 32px, recipe preact_cifar, 2 epochs, seeds 0"
    )
    assert title("T", results, budget=None, seeds=[0, 1]).startswith("T -- m on digits")
