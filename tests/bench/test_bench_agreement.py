"""The bf16 agreement script (benchmarks/agreement.py) on a few real images; skipped without data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from bench_scripts import load_script

script = load_script("agreement")
agreement, load_images, main = script.agreement, script.load_images, script.main

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "imagenette-mini"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data/imagenette-mini is absent")


@needs_data
def test_load_images_spreads_over_classes() -> None:
    images = load_images(DATA / "val", size=32, limit=20)
    assert images.shape == (20, 3, 32, 32) and images.dtype == torch.float32
    assert -3.0 < float(images.mean()) < 3.0 and float(images.std()) > 0.1  # normalised, not blank


def test_load_images_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_images(tmp_path / "nope", size=32, limit=None)
    (tmp_path / "a").mkdir()
    with pytest.raises(FileNotFoundError, match="no .jpeg"):
        load_images(tmp_path, size=32, limit=None)


def test_agreement_counts() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 5)).eval()
    result = agreement(model, torch.randn(6, 3, 4, 4), batch=4)
    assert result["images"] == 6 and 0.0 <= result["top1_agreement"] <= 1.0
    assert result["max_abs_logit_diff"] < 0.1  # bf16 rounding of a single linear layer


@needs_data
def test_main_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--model", "se_resnet20_cifar", "--data", str(DATA), "--size", "32", "--limit", "10"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == 10 and result["weights"] == "random init"
