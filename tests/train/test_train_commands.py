"""The commands: `senet train` (comparison, single run, resume, NaN exit), `senet eval`, `senet predict`."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from senet.cli import build_parser, main
from senet.train.cli import config_from_args, model_given
from senet.train.models import plain_twin

TINY = ["--set", "data.input_size=8", "--set", "data.limit_train=64", "--set", "data.limit_val=32"]
TINY += ["--batch-size", "32", "--epochs", "1", "--quiet", "--deterministic"]


def test_no_arguments_is_the_digits_comparison() -> None:
    args = build_parser().parse_args(["train"])
    config = config_from_args(args)
    assert model_given(args) is None and args.resume is None  # -> comparison mode
    assert (config.recipe, config.model.name, config.data.dataset) == ("fast", "se_resnet20_cifar", "digits")
    assert plain_twin(config.model.name) == "resnet20_cifar"


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("compare")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["train", *TINY, "--out", str(out), "--jobs", "1", "--seeds", "0"])
    assert code == 0
    return {"out": out, "table": printed.getvalue()}


def test_comparison_trains_both_networks(compared, capsys) -> None:
    out = compared["out"]
    results = {
        json.loads((out / m / "result.json").read_text())["model"]
        for m in ("se_resnet20_cifar", "resnet20_cifar")
    }
    assert results == {"se_resnet20_cifar", "resnet20_cifar"}
    se = json.loads((out / "se_resnet20_cifar" / "result.json").read_text())
    plain = json.loads((out / "resnet20_cifar" / "result.json").read_text())
    assert se["params"] > plain["params"] and se["macs"] > plain["macs"]  # the SE blocks cost a little


def test_table_prints_both_accuracies(compared) -> None:
    table = compared["table"]
    for name in ("se_resnet20_cifar", "resnet20_cifar", "top-1 acc", "params (M)", "GFLOPs", "time (s)"):
        assert name in table
    assert table.count("%") >= 4


def test_eval_reproduces_the_run_metrics(compared, capsys) -> None:
    run = compared["out"] / "se_resnet20_cifar"
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(run), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    expected = json.loads((run / "result.json").read_text())
    assert got["top1"] == pytest.approx(expected["top1"]) and got["val_images"] == 32
    assert got["top5_error"] == pytest.approx(expected["top5_error"])


def test_predict_lists_top5_class_names(compared, tmp_path, capsys) -> None:
    from sklearn.datasets import load_digits

    image = load_digits().images[0] * (255 / 16)  # a "0", 8x8
    path = tmp_path / "digit.png"
    Image.fromarray(image.astype(np.uint8), "L").convert("RGB").save(path)  # RGB on disk: converted to grey
    capsys.readouterr()
    checkpoint = compared["out"] / "se_resnet20_cifar" / "checkpoints" / "epoch-0001" / "model.safetensors"
    assert main(["predict", str(path), "--checkpoint", str(checkpoint), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    probs = [t["probability"] for t in row["top"]]
    assert len(probs) == 5 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
    assert {t["class"] for t in row["top"]} <= {str(i) for i in range(10)}
    assert main(["predict", str(path), "--checkpoint", str(checkpoint)]) == 0
    assert capsys.readouterr().out.startswith(str(path))


def test_resume_extends_a_finished_run(compared, capsys) -> None:
    run = compared["out"] / "resnet20_cifar"
    assert main(["train", "--resume", str(run), "--set", "epochs=2", "--quiet", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    rows = (run / "metrics.jsonl").read_text().splitlines()
    assert result["epochs"] == 2 and len(rows) == 2


def test_errors_are_clear(tmp_path, capsys) -> None:
    assert main(["eval", "--checkpoint", str(tmp_path / "nope")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["train", "--model", "se_resnet20_cifar", "--set", "lr=fast"]) == 2
    assert "lr='fast'" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "config.json" in capsys.readouterr().err
    code = main(["train", "--model", "se_resnet20_cifar", *TINY, "--lr", "1e38", "--set", "schedule=constant",
                 "--set", "momentum=0", "--set", "nesterov=false", "--out", str(tmp_path / "nan")])  # fmt: skip
    assert code == 3 and "loss became" in capsys.readouterr().err


@pytest.mark.slow
def test_comparison_in_two_processes(tmp_path, capsys) -> None:
    assert (
        main(["train", *TINY, "--out", str(tmp_path), "--jobs", "2", "--json", "--seeds", "0"]) == 0
    )  # the main job's path
    results = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in results] == ["se_resnet20_cifar", "resnet20_cifar"]
    assert all((tmp_path / r["model"] / "result.json").is_file() for r in results)


def test_eval_and_analyze_show_progress_unless_quiet(compared, monkeypatch, capsys) -> None:
    from senet.train import progress

    monkeypatch.setattr(progress, "LOG_INTERVAL", 0.0)  # a line every batch (stderr is not a terminal here)
    run = compared["out"] / "se_resnet20_cifar"
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(run), "--batch-size", "8"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("  ")[1] for line in lines] == ["step 1/4 (25%)", "step 2/4 (50%)", "step 3/4 (75%)"]
    assert all(line.startswith("se_resnet20_cifar on digits") and "img/s" in line for line in lines)
    assert main(["eval", "--checkpoint", str(run), "--batch-size", "8", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    args = ["analyze", "--checkpoint", str(run), "--batch-size", "16", "--out", str(compared["out"] / "an")]
    assert main([*args, "--no-importance"]) == 0
    assert "se_resnet20_cifar on digits  step 1/2 (50%)" in capsys.readouterr().err
