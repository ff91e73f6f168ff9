"""The refactor changed no numbers: the same seed trains to the pre-refactor metrics; a run folder
written by the previous version evaluates and resumes; ``--config RUN/config.json`` reproduces a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from senet.cli import main
from senet.train import TrainConfig, fit

FIXTURES = Path(__file__).parents[1] / "fixtures"
KEYS = ("epoch", "train_loss", "train_top1", "val_loss", "top1", "top5", "lr")


def _metrics(run: Path) -> list[dict[str, float]]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: row[k] for k in KEYS} for row in rows]


@pytest.fixture(scope="module")
def legacy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run of tests/fixtures/legacy_run_config.json (written by the pre-refactor code), trained
    now, with that old-format config.json put back into its folder."""
    legacy = json.loads((FIXTURES / "legacy_run_config.json").read_text())
    run = tmp_path_factory.mktemp("legacy") / "run"
    fit(TrainConfig.from_dict(legacy | {"out_dir": str(run)}), quiet=True)
    (run / "config.json").write_text(json.dumps(legacy | {"out_dir": str(run)}, indent=2))
    return run


def test_same_seed_same_metrics_as_before_the_refactor(legacy_run: Path) -> None:
    before = json.loads((FIXTURES / "reference_v0.json").read_text())["train"]
    after = _metrics(legacy_run)
    assert len(after) == len(before) == 2
    for old, new in zip(before, after, strict=True):
        assert new == pytest.approx(old, rel=1e-5, abs=1e-6)


def test_a_run_folder_of_the_previous_version_evaluates_and_resumes(
    legacy_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--checkpoint", str(legacy_run), "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    last = _metrics(legacy_run)[-1]
    assert scored["top1"] == pytest.approx(last["top1"]) and scored["model"] == "se_resnet20_cifar"
    assert main(["train", "--resume", str(legacy_run), "--epochs", "3", "--quiet", "--json"]) == 0
    assert [row["epoch"] for row in _metrics(legacy_run)] == [1, 2, 3]
    saved = json.loads((legacy_run / "config.json").read_text())
    assert saved["model"]["name"] == "se_resnet20_cifar" and saved["model"]["se"]["bias"] is False


def test_config_json_reproduces_a_run(legacy_run: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    argv = ["--model", "se_resnet20_cifar", "--data.input-size", "8", "--data.limit-train", "64",
            "--data.limit-val", "32", "--epochs", "2", "--batch-size", "32", "--deterministic", "--quiet"]  # fmt: skip
    assert main(["train", *argv, "--out", str(first)]) == 0
    again = tmp_path / "again"
    assert main(["train", "--config", str(first / "config.json"), "--out", str(again), "--quiet"]) == 0
    assert _metrics(again) == _metrics(first)
    old, new = (json.loads((p / "config.json").read_text()) for p in (first, again))
    assert old | {"out_dir": ""} == new | {"out_dir": ""}
