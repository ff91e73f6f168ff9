"""The paper-form table: mean +- sample std over seeds, params, GFLOPs, CSV and Markdown."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from senet.analysis.ablation import Cell, CellResult
from senet.analysis.grids import Variant
from senet.analysis.tables import format_csv, format_markdown, format_text, mean_std, pm, summarize
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
