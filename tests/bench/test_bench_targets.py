"""Targets as data (docs/bench/targets.json), saved runs reprinted, and the command <-> BenchConfig mapping."""

from __future__ import annotations

import argparse
import json
import shlex
from dataclasses import fields
from pathlib import Path

import pytest

from senet.bench.config import BenchConfig
from senet.bench.report import check_targets, read_report
from senet.bench.targets import Target, load_targets
from senet.cli import build_parser, main
from senet.commands.bench import add_parser, command_line, config_from_args

DOCS = Path(__file__).resolve().parents[2] / "docs" / "bench"
TARGETS = DOCS / "targets.json"
SAVED_RUNS = sorted(p for p in DOCS.glob("*.json") if p != TARGETS)


def test_project_targets_file_loads() -> None:
    targets = load_targets(TARGETS)
    assert len(targets) == 7 and all(isinstance(t, Target) for t in targets)
    train = [t for t in targets if t.mode == "train"]
    assert [(t.model, t.kind, t.limit, t.variant) for t in train] == [
        ("se_resnet20_cifar", "overhead", 0.08, "eager")
    ]
    assert {t.kind for t in targets} == {"overhead", "speedup"}


def test_targets_file_errors_name_the_key(tmp_path: Path) -> None:
    entry = {
        "name": "t",
        "model": "se_resnet50",
        "kind": "overhead",
        "mode": "latency",
        "dtype": "fp32",
        "limit": 0.03,
    }
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"targets": [{**entry, "limt": 0.1}]}))
    with pytest.raises(ValueError, match=r"target 0: unknown key\(s\) \['limt'\]"):
        load_targets(bad)
    bad.write_text(json.dumps({"targets": [{**entry, "kind": "slowdown"}]}))
    with pytest.raises(ValueError, match="kind='slowdown'; choose from overhead, speedup"):
        load_targets(bad)
    bad.write_text(json.dumps([entry]))
    with pytest.raises(ValueError, match="not a targets file"):
        load_targets(bad)


def test_overhead_interval_spanning_the_limit_is_not_conclusive() -> None:
    row = {"batch": 1, "image_size": 224, "images_per_s": 1.0}
    results = [
        {**row, "model": "se_resnet50", "mode": "latency", "variant": "optimized", "dtype": "fp32",
         "median_ms": 102.0, "samples_ms": [101.0, 102.0, 106.0, 102.0, 100.0]},
        {**row, "model": "resnet50", "mode": "latency", "variant": "optimized", "dtype": "fp32",
         "median_ms": 100.0, "samples_ms": [100.0] * 5},
    ]  # fmt: skip
    (verdict,) = check_targets(results, (Target("t", "se_resnet50", "overhead", "latency", "fp32", 0.03),))
    assert verdict["met"] and verdict["value"] == pytest.approx(0.02)
    assert "not conclusive" in verdict["miss"] and "95% interval" in verdict["shown"]


def test_without_targets_no_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--report", str(DOCS / "se_resnet20_cifar_train.json")]) == 0
    assert "target:" not in capsys.readouterr().out


@pytest.mark.parametrize("saved", SAVED_RUNS, ids=lambda p: p.name)
def test_committed_runs_reprint(saved: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--report", str(saved), "--targets", str(TARGETS)]) == 0
    out = capsys.readouterr().out
    assert out.count("target: ") >= 1 and "measured by: senet bench " in out
    assert len(out.splitlines()) >= len(read_report(saved)["results"]) + 2


def test_committed_train_run_gets_the_verdict_it_was_saved_with() -> None:
    saved = DOCS / "se_resnet20_cifar_train.json"
    verdicts = check_targets(read_report(saved)["results"], load_targets(TARGETS))
    assert verdicts == json.loads(saved.read_text())["targets"]


def _parse(argv: list[str]) -> BenchConfig:
    return config_from_args(build_parser().parse_args(argv))


def test_every_config_field_is_an_option_of_the_same_name() -> None:
    sub = argparse.ArgumentParser().add_subparsers()
    add_parser(sub)
    dests = {action.dest for action in sub.choices["bench"]._actions}
    assert {f.name for f in fields(BenchConfig)} <= dests
    assert _parse(["bench", "x"]) == BenchConfig(models=("x",))  # the defaults are the dataclass's


def test_command_line_round_trips_the_config() -> None:
    config = BenchConfig(
        models=("se_resnet50", "senet154"), batch=4, reps=3, warmup=0, dtypes=("bf16",), compile=True,
        modes=("throughput", "train"), image_size=64, threads=2, device="cpu", min_sample_ms=12.5,
        clock="process",
    )  # fmt: skip
    line = command_line(config)
    assert line.startswith("senet bench se_resnet50 senet154 --batch 4 --reps 3")
    assert _parse(shlex.split(line)[1:]) == config
    default = BenchConfig(models=("m",))
    assert _parse(shlex.split(command_line(default))[1:]) == default


def test_commands_recorded_before_the_rename_still_parse() -> None:
    for saved in SAVED_RUNS:  # they say --dtype (now --dtypes) and --min-sample-ms 50
        command = read_report(saved)["meta"]["command"]
        config = _parse(shlex.split(command)[1:])
        assert config.models and config.min_sample_ms == 50.0 and config.dtypes
    assert _parse(["bench", "m", "--dtype", "bf16"]).dtypes == ("bf16",)
