"""`senet ablate` and `senet analyze` end to end on tiny digits runs (a few seconds on one thread)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from senet.analysis import ablation
from senet.cli import main

TINY = ["--epochs", "1", "--batch-size", "32", "--input-size", "8", "--threads", "1", "--quiet",
        "--set", "data.limit_train=64", "--set", "data.limit_val=32"]  # fmt: skip


def test_ablate_prints_the_table_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = []
    real_fit = ablation.fit

    def counting_fit(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(args[0].out_dir)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(ablation, "fit", counting_fit)
    argv = ["ablate", "--grid", "table15", "--seeds", "0", "--out", str(tmp_path), *TINY]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert len(calls) == 2 and "SE_3x3" in first and "± -" in first and "22.48 / 6.02" in first
    assert main(argv) == 0
    assert len(calls) == 2 and capsys.readouterr().out == first  # nothing retrained, the same table
    md = (tmp_path / "table.md").read_text()
    assert md.startswith("**Table 15") and "| SE_3x3 |" in md
    assert (tmp_path / "SE_3x3" / "seed-0" / "result.json").is_file()


def test_ablate_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ablate", "--grid", "table10", "--axis", "gate=tanh"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["ablate", "--axis", "reduction=4", "--seed", "3"]) == 2
    assert "--seeds" in capsys.readouterr().err


def test_ablate_list_names_every_preset_and_each_rows_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ablate", "--list", "--recipe", "ablation"]) == 0
    out = capsys.readouterr().out
    for name in ("table4", "table5", "table6", "table8", *[f"table{n}" for n in range(10, 17)], "last_stage"):
        assert f"\n{name}: " in out, name
    assert "cannot plan" not in out
    rows = [
        r"SE-ResNet-110 +se_preact_resnet110_cifar +preact_cifar +cifar10 32px +164 ep +paper 5.21\n",
        r"Shake-Shake-26-2x96d-Cutout +shake_shake26_2x96d_cifar +shake_cifar +cifar10 32px cutout 16 +1800 ep",
        r"SE-Shake-Even-29-2x4x64d-Cutout +se_shake_even29_2x4x64d_cifar +shake_cifar +cifar100 32px cutout 8",
        r"SE-ResNet-152 +se_resnet152 +imagenet +folder 224px +100 ep +paper 40.37 / 11.01",
        r"SENet-154-320 +senet154 +imagenet_large +folder 320px",
        r"SE_Stage_2 +se_resnet50 +ablation +folder 224px +270 ep",  # Table 13 is SE-ResNet-50
        r"SE_Stage_2-4 +se_resnet50 +ablation",
    ]
    for row in rows:
        assert re.search(row, out), row


def test_a_budget_run_names_its_budget_and_the_seeds_spread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["ablate", "--grid", "last_stage", "--variants", "baseline", "SE_Stage_2-4", "--budget", "1ep,64img", "--seeds", "0", "1", "--out", str(tmp_path),
            "--batch-size", "32", "--input-size", "8", "--threads", "1", "--quiet", "--set", "data.limit_val=32"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "using se_resnet18" in captured.err  # the fast recipe's SE-ResNet-20 has no se_stages
    lines = captured.out.splitlines()
    assert lines[0].startswith("Sec. 4: SE-ResNet-50 without SE in its last stage")
    assert "-- budget: 1 epoch of 8, 64 training images -- models on digits at 8px, recipe fast" in lines[0]
    assert "Δ top-1 vs baseline" in lines[1] and "paper params (M)" in lines[1]
    assert re.search(r"SE_Stage_2-4 .*(within|beyond) spread +\+\d+\.\d%", captured.out)
    assert "SE_Stage_2-4 vs baseline: " in captured.out and "seeds' spread (largest std" in captured.out
    config = json.loads((tmp_path / "SE_Stage_2-4" / "seed-1" / "config.json").read_text())
    assert config["epochs"] == 1 and config["data"]["limit_train"] == 64
    assert config["model"]["se_stages"] == [1, 2, 3]


def test_a_cifar_pair_runs_under_its_own_recipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["ablate", "--grid", "table4", "--variants", "ResNet-110", "SE-ResNet-110", "--budget", "1ep,64img",
            "--seeds", "0", "--data", "digits", "--out", str(tmp_path), *TINY[2:]]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "Table 4 (CIFAR-10): error (%), each baseline and its SE counterpart -- budget: 1 epoch of 164"
    )
    assert "recipe preact_cifar" in out and "paper error (%)" in out and "top-5" not in out
    assert (
        re.search(r"SE-ResNet-110 .* 5\.21 .*spread unknown", out)
        and "one seed, so no spread is known" in out
    )
    config = json.loads((tmp_path / "SE-ResNet-110" / "seed-0" / "config.json").read_text())
    assert (config["recipe"], config["model"]["name"], config["data"]["dataset"]) == (
        "preact_cifar", "se_preact_resnet110_cifar", "digits"
    )  # fmt: skip


@pytest.fixture(scope="module")
def checkpoint(untrained_digits_run: Path) -> Path:
    """An untrained se_resnet20_cifar saved as a training checkpoint for the digits (3 classes seen)."""
    return untrained_digits_run


def test_analyze_writes_summary_and_plots(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "analysis"
    argv = [
        "analyze",
        "--checkpoint",
        str(checkpoint),
        "--out",
        str(out),
        "--set",
        "limit_val=60",
        "--threads",
        "1",
    ]
    assert main([*argv, "--classes", "0", "9"]) == 0
    printed = capsys.readouterr().out
    assert "SE_4_3" in printed and "60 images" in printed
    for name in ("summary.json", "class_means.png", "saturation.png", "specificity.png", "importance.png"):
        assert (out / name).stat().st_size > 1000, name
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["images"] == 60 and len(summary["blocks"]) == 9 and len(summary["classes"]) == 10
    last = summary["blocks"][-1]
    assert last["name"] == "layer3.2.se" and last["channels"] == 64
    assert len(last["class_means"]) == 10 and len(last["class_means"][0]) == 64
    assert set(last["importance"]) >= {"drop_mean_gate", "drop_ones"}
    assert 0 <= last["near_one"] <= 1 and last["specificity"] >= 0


def test_analyze_rejects_bad_arguments(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["analyze", "--checkpoint", str(checkpoint), "--out", str(tmp_path), "--no-importance",
            "--set", "limit_val=20", "--threads", "1"]  # fmt: skip
    assert main([*base, "--classes", "12"]) == 2
    assert "--classes [12]" in capsys.readouterr().err
    assert main([*base, "--blocks", "layer9.0.se"]) == 2
    assert "layer9.0.se" in capsys.readouterr().err
