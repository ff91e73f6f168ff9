"""Fig. 4: curves from run folders (synthetic metrics.jsonl), `senet curves`, and the pictures that
`senet train --twin` and `senet ablate` draw when they finish."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from senet.analysis import curves as curves_mod
from senet.analysis.curves import draw_grid_curves, read_curve, twin_pairs, write_or_note
from senet.cli import main
from senet.train.config import TrainConfig
from senet.train.rundir import append_metrics

PNG = b"\x89PNG\r\n\x1a\n"


def _run(folder: Path, model: str, rows: list[tuple[float, float, float, float]]) -> Path:
    """A run folder: config.json naming ``model`` and one metrics row per (train_loss, train_top1,
    val_loss, top1)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(TrainConfig(model=model).to_dict()))
    for epoch, (tl, ta, vl, va) in enumerate(rows, start=1):
        append_metrics(folder, {"epoch": epoch, "train_loss": tl, "train_top1": ta, "val_loss": vl,
                                "top1": va, "top5": 99.0, "lr": 0.1})  # fmt: skip
    return folder


SE0 = [(2.0, 30.0, 1.9, 35.0), (1.5, 50.0, 1.4, 55.5), (1.0, 70.0, 1.2, 62.0)]
SE1 = [(2.2, 28.0, 2.1, 33.0), (1.6, 48.0, 1.5, 52.5), (1.2, 66.0, 1.3, 60.0)]
PLAIN = [(2.1, 25.0, 2.0, 30.0), (1.7, 45.0, 1.6, 50.0), (1.3, 60.0, 1.4, 57.25)]


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "compare"
    _run(root / "se_resnet20_cifar" / "seed-0", "se_resnet20_cifar", SE0)
    _run(root / "se_resnet20_cifar" / "seed-1", "se_resnet20_cifar", SE1)
    _run(root / "resnet20_cifar" / "seed-0", "resnet20_cifar", PLAIN)
    return root


def test_a_curve_holds_the_files_numbers_as_errors(runs: Path) -> None:
    c = read_curve(runs / "resnet20_cifar" / "seed-0")
    assert c.label == "resnet20_cifar" and c.epochs == (1, 2, 3)
    assert c.train_loss == (2.1, 1.7, 1.3) and c.val_loss == (2.0, 1.6, 1.4)
    assert c.train_top1_error == (75.0, 55.0, 40.0) and c.val_top1_error == (70.0, 50.0, 42.75)


def test_senet_curves_writes_png_json_csv_matching_the_runs(
    runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fig4"
    assert (
        main(["curves", str(runs / "se_resnet20_cifar"), str(runs / "resnet20_cifar"), "-o", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    assert "se_resnet20_cifar: 2 run(s), 3 epochs, last val top-1 error 39.00%" in printed
    assert (out / "curves.png").read_bytes()[:8] == PNG
    data = json.loads((out / "curves.json").read_text())
    assert [r["label"] for r in data["runs"]] == ["se_resnet20_cifar"] * 2 + ["resnet20_cifar"]
    for run, source in zip(data["runs"], (SE0, SE1, PLAIN), strict=True):
        got = [
            (r["train_loss"], r["train_top1_error"], r["val_loss"], r["val_top1_error"]) for r in run["rows"]
        ]
        assert got == [(tl, 100 - ta, vl, 100 - va) for tl, ta, vl, va in source]
    se = data["mean"]["se_resnet20_cifar"]  # the two seeds: mean and sample std per epoch
    assert se["runs"] == 2 and se["epochs"] == [1, 2, 3]
    assert se["val_top1_error"] == pytest.approx([66.0, 46.0, 39.0])
    assert se["val_top1_error_std"] == pytest.approx([2**0.5, 1.5 * 2**0.5, 2**0.5])
    assert data["mean"]["resnet20_cifar"]["train_loss_std"] == [0.0, 0.0, 0.0]
    rows = list(csv.DictReader((out / "curves.csv").open()))
    assert len(rows) == 9 and rows[0]["label"] == "se_resnet20_cifar" and rows[0]["epoch"] == "1"
    assert float(rows[8]["val_top1_error"]) == 42.75 and float(rows[8]["train_loss"]) == 1.3


def test_a_comparison_folder_stands_for_its_runs_and_labels_can_be_given(
    runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fig4"
    argv = ["curves", str(runs), "-o", str(out), "--name", "f4", "--labels", "A,B,B", "--plot", "false"]
    assert main(argv) == 0
    assert not (out / "f4.png").exists() and (out / "f4.json").is_file()
    data = json.loads((out / "f4.json").read_text())
    assert data["mean"]["B"]["runs"] == 2 and data["mean"]["A"]["runs"] == 1  # sorted: resnet20 first
    assert main(["curves", str(runs), "-o", str(out), "--labels", "A,B"]) == 2
    assert "2 labels for 3 run folders" in capsys.readouterr().err


def test_a_folder_without_epochs_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["curves", str(tmp_path / "empty"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no finished epoch" in err and f"{tmp_path / 'empty'}:" in err


def test_without_matplotlib_the_numbers_are_written_and_the_error_is_clear(
    runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert main(["curves", str(runs), "-o", str(tmp_path / "a")]) == 2
    assert "needs matplotlib" in capsys.readouterr().err
    curves = curves_mod.read_curves(curves_mod.find_runs(runs))
    paths = write_or_note(curves, tmp_path / "b")
    assert [p.name for p in paths] == ["curves.json", "curves.csv"]
    assert "no curves picture" in capsys.readouterr().err


def test_ablation_rows_are_paired_with_their_plain_row(runs: Path, tmp_path: Path) -> None:
    assert twin_pairs({"r=4": [("se_resnet20_cifar", "a")], "base": [("resnet20_cifar", "b")],
                       "r=8": [("se_resnet20_cifar", "c")], "other": [("resnet50", "d")]}) == [
        ("r=4", "base"), ("r=8", "base")]  # fmt: skip
    assert twin_pairs({"r=4": [("se_resnet20_cifar", "a")]}) == []

    def cell(row: str, model: str, run: Path) -> SimpleNamespace:
        return SimpleNamespace(cell=SimpleNamespace(variant=SimpleNamespace(name=row)),
                               result=SimpleNamespace(model=model, run_dir=str(run)))  # fmt: skip

    results = [cell("r=16", "se_resnet20_cifar", runs / "se_resnet20_cifar" / f"seed-{k}") for k in (0, 1)]
    results.append(cell("ResNet-20", "resnet20_cifar", runs / "resnet20_cifar" / "seed-0"))
    written = draw_grid_curves(results, tmp_path / "grid", quiet=True)
    assert [p.name for p in written] == ["r=16.json", "r=16.csv", "r=16.png"]
    assert written[0].parent == tmp_path / "grid" / "curves"
    data = json.loads(written[0].read_text())
    assert data["mean"]["r=16"]["runs"] == 2 and data["mean"]["ResNet-20"]["runs"] == 1


def test_train_twin_draws_the_curves_in_the_comparison_folder(tmp_path: Path) -> None:
    argv = ["train", "--model", "se_resnet20_cifar", "--twin", "--epochs", "2", "--batch-size", "32",
            "--input-size", "8", "--threads", "1", "--jobs", "1", "--quiet", "--set", "data.limit_train=64",
            "--set", "data.limit_val=32", "--out", str(tmp_path / "cmp")]  # fmt: skip
    assert main(argv) == 0
    assert (tmp_path / "cmp" / "curves.png").read_bytes()[:8] == PNG
    data = json.loads((tmp_path / "cmp" / "curves.json").read_text())
    assert list(data["mean"]) == ["se_resnet20_cifar", "resnet20_cifar"]
    metrics = [json.loads(line) for line in (tmp_path / "cmp" / "resnet20_cifar" / "metrics.jsonl").open()]
    assert [r["val_top1_error"] for r in data["runs"][1]["rows"]] == [100 - m["top1"] for m in metrics]


def test_rows_without_validation_are_left_out_of_the_validation_curves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """eval_every > 1: the validation series hold the validated epochs (of every seed, for the mean),
    the training series every epoch; a first row without validation is no error."""
    for seed, validated in ((0, {2, 3}), (1, {1, 3})):
        folder = tmp_path / "runs" / f"seed-{seed}"
        _run(folder, "se_resnet20_cifar", [])
        for epoch, (tl, ta, vl, va) in enumerate(SE0 if seed == 0 else SE1, start=1):
            val = {"val_loss": vl, "top1": va, "top5": 99.0} if epoch in validated else {}
            append_metrics(folder, {"epoch": epoch, "train_loss": tl, "train_top1": ta, **val, "lr": 0.1})
    c = read_curve(tmp_path / "runs" / "seed-0")
    assert c.epochs == (1, 2, 3) and c.train_loss == (2.0, 1.5, 1.0)
    assert c.val_epochs == (2, 3) and c.val_loss == (1.4, 1.2) and c.val_top1_error == (44.5, 38.0)
    assert main(["curves", str(tmp_path / "runs"), "-o", str(tmp_path / "fig")]) == 0
    assert "2 run(s), 3 epochs, last val top-1 error 39.00%" in capsys.readouterr().out
    assert (tmp_path / "fig" / "curves.png").read_bytes()[:8] == PNG
    mean = json.loads((tmp_path / "fig" / "curves.json").read_text())["mean"]["se_resnet20_cifar"]
    assert mean["epochs"] == [1, 2, 3] and mean["train_loss"] == pytest.approx([2.1, 1.55, 1.1])
    assert mean["val_epochs"] == [3] and mean["val_top1_error"] == pytest.approx([39.0])
    rows = list(csv.DictReader((tmp_path / "fig" / "curves.csv").open()))
    assert [(r["epoch"], r["val_loss"]) for r in rows[:3]] == [("1", ""), ("2", "1.4"), ("3", "1.2")]


def test_a_run_with_no_validated_epoch_yet_draws_its_training_curves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _run(tmp_path / "run", "resnet20_cifar", [])
    append_metrics(folder, {"epoch": 1, "train_loss": 2.0, "train_top1": 30.0, "lr": 0.1})
    assert read_curve(folder).val_epochs == () and read_curve(folder).train_top1_error == (70.0,)
    assert main(["curves", str(folder), "-o", str(tmp_path / "fig"), "--plot", "false"]) == 0
    assert "1 epochs, no validated epoch yet" in capsys.readouterr().out
