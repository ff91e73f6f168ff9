"""``senet prune`` and the commands that read its model folder: eval, complexity, export, bench, train."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from senet.api import load_weights
from senet.bench.config import BenchConfig
from senet.bench.runner import _build, _groups, _image_size, _mode_steps
from senet.cli import main


@pytest.fixture(scope="module")
def checkpoint(untrained_digits_run: Path) -> Path:
    """An untrained se_resnet20_cifar saved as a training checkpoint for the digits at 8x8."""
    return untrained_digits_run


@pytest.fixture(scope="module")
def pruned(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pruned") / "se-0.4"
    argv = ["prune", "--weights", str(checkpoint), "--ratio", "0.4", "--criterion", "se", "--out", str(out),
            "--calibration-batches", "2", "--threads", "1", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    return out


def test_prune_writes_a_narrower_model_folder(pruned: Path, checkpoint: Path) -> None:
    report = json.loads((pruned / "prune.json").read_text())
    assert report["config"]["criterion"] == "se" and report["after"]["macs"] <= 0.6 * report["before"]["macs"]
    card = json.loads((pruned / "config.json").read_text())
    assert card["name"] == "se_resnet20_cifar" and card["in_chans"] == 1
    assert [s["out"] for s in card["config"]["stages"]] == [
        int(w[1]) for w in list(report["widths"].values())[1:]
    ]
    model = load_weights(None, pruned)
    assert model.layer3[0].conv2.out_channels < 64 and model.layer3[0].se.fc1.in_channels < 64


def test_ratio_zero_from_the_command_gives_the_same_logits(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "same"
    assert (
        main(["prune", "--weights", str(checkpoint), "--ratio", "0", "--criterion", "l1", "--out", str(out)])
        == 0
    )
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(
            load_weights(None, out)(x), load_weights(None, checkpoint / "checkpoints" / "epoch-0001")(x)
        )


def test_eval_and_complexity_read_the_pruned_folder(pruned: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert (
        main(["eval", "--weights", str(pruned), "--data", "digits", "--threads", "1", "--quiet", "--json"])
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "se_resnet20_cifar" and result["val_images"] > 0
    assert main(["complexity", str(pruned), "se_resnet20_cifar", "--input-size", "8", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["input_size"] == 8 and rows[0]["macs"] <= 0.6 * rows[1]["macs"]
    assert rows[0]["params"] < rows[1]["params"]


def test_export_torchscript_of_the_pruned_folder(pruned: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.pt"
    assert main(["export", "se_resnet20_cifar", "--weights", str(pruned), "--format", "torchscript",
                 "--out", str(out)]) == 0  # fmt: skip
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(out))(x), load_weights(None, pruned)(x))


def test_export_onnx_of_the_pruned_folder_checks(pruned: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    out = tmp_path / "p.onnx"
    assert main(["export", "se_resnet20_cifar", "--weights", str(pruned), "--out", str(out), "--check"]) == 0
    checks = [line for line in capsys.readouterr().out.splitlines() if line.startswith("check: ")]
    assert checks and all(line.endswith(" ok") for line in checks)


def test_bench_builds_the_pruned_folder_alone(pruned: Path) -> None:
    config = BenchConfig(models=(str(pruned),))
    assert _groups(config) == [[str(pruned)]] and _image_size(config, str(pruned)) == 8
    assert _build(str(pruned)).layer3[0].conv2.out_channels < 64
    config = BenchConfig(models=(str(pruned),), modes=("latency", "train"), dtypes=("fp32",))
    for mode in config.modes:  # each timed step runs once: a 1-channel input for a 1-channel network
        for _, _, step in _mode_steps(config, [str(pruned)], mode, torch.device("cpu")).values():
            step()


def test_train_fine_tunes_the_pruned_folder(pruned: Path, tmp_path: Path) -> None:
    run = tmp_path / "tuned"
    argv = ["train", "--recipe", "fast", "--weights", str(pruned), "--data.input-size", "8", "--epochs", "1",
            "--limit-train-batches", "2", "--limit-val-batches", "1", "--out-dir", str(run), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    result = json.loads((run / "result.json").read_text())
    assert result["params"] == sum(p.numel() for p in load_weights(None, pruned).parameters())
    tuned = load_weights(None, run / "checkpoints" / "epoch-0001")  # the checkpoint's card: the pruned widths
    assert tuned.config == load_weights(None, pruned).config


def test_a_run_tuned_from_a_pruned_folder_loads_and_resumes_without_it(pruned: Path, tmp_path: Path) -> None:
    import shutil

    from senet.train.models import load_trained

    source = tmp_path / "moved"
    shutil.copytree(pruned, source)
    run = tmp_path / "tuned"
    argv = ["train", "--recipe", "fast", "--weights", str(source), "--data.input-size", "8", "--epochs", "1",
            "--limit-train-batches", "2", "--limit-val-batches", "1", "--out-dir", str(run), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    widths = load_weights(None, pruned).config
    shutil.rmtree(source)  # the checkpoint carries its own network
    assert load_weights(None, run / "checkpoints" / "epoch-0001").config == widths
    model, _, _ = load_trained(str(run))
    assert model.config == widths
    assert main(["train", "--resume", str(run), "--epochs", "2", "--quiet"]) == 0  # without its source
    assert load_weights(None, run / "checkpoints" / "epoch-0002").config == widths
