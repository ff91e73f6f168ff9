"""senet bench: pairs, settings, target evaluation, and one tiny end-to-end run writing JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from senet.bench.config import BenchConfig
from senet.bench.report import check_targets, format_table, summarize_timings
from senet.bench.runner import plain_twin, settings
from senet.bench.targets import Target
from senet.cli import main

TARGETS = Path(__file__).resolve().parents[2] / "docs" / "bench" / "targets.json"  # this project's


def test_plain_twin() -> None:
    assert plain_twin("se_resnet50") == "resnet50"
    assert plain_twin("senet154") == "senet154_plain"
    assert plain_twin("se_resnet20_cifar") == "resnet20_cifar"
    assert plain_twin("resnet50") is None


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="dtype 'fp16'"):
        BenchConfig(models=("resnet18",), dtypes=("fp16",))
    with pytest.raises(ValueError, match="reps"):
        BenchConfig(models=("resnet18",), reps=0)
    with pytest.raises(ValueError, match="mode 'infer'"):
        BenchConfig(models=("resnet18",), modes=("infer",))


def test_settings_order() -> None:
    rows = settings(BenchConfig(models=("x",), batch=4, dtypes=("fp32", "bf16")))
    assert [r.label for r in rows[:3]] == [
        "latency eager fp32 b1",
        "latency optimized fp32 b1",
        "latency optimized bf16 b1",
    ]
    assert {r.mode for r in rows} == {"latency", "throughput", "train"} and rows[-1].batch == 4


def test_settings_with_compile_add_compiled_inference_rows() -> None:
    rows = settings(BenchConfig(models=("x",), dtypes=("fp32",), compile=True))
    assert [r.label for r in rows if r.mode == "latency"] == [
        "latency eager fp32 b1",
        "latency optimized fp32 b1",
        "latency compiled fp32 b1",
    ]
    assert [r.variant for r in rows if r.mode == "train"] == ["eager", "optimized"]


def _row(model: str, mode: str, variant: str, dtype: str, ms: float) -> dict:
    return {"model": model, "mode": mode, "variant": variant, "dtype": dtype, "batch": 1, "median_ms": ms}


def test_targets_met_and_missed_say_by_how_much() -> None:
    results = [
        _row("se_resnet50", "latency", "optimized", "fp32", 105.0),
        _row("resnet50", "latency", "optimized", "fp32", 100.0),
        _row("se_resnet50", "latency", "eager", "fp32", 210.0),
    ]
    targets = (
        Target("overhead", "se_resnet50", "overhead", "latency", "fp32", 0.03),
        Target("speedup", "se_resnet50", "speedup", "latency", "fp32", 1.3),
        Target("absent", "se_resnet50", "overhead", "train", "fp32", 0.08),
    )
    rows = check_targets(results, targets)
    assert [r["name"] for r in rows] == ["overhead", "speedup"]
    over, speed = rows
    assert not over["met"] and "2.00 percentage points" in over["miss"]
    assert speed["met"] and speed["value"] == pytest.approx(2.0)


def test_compiled_rows_are_judged_by_the_same_targets() -> None:
    results = [
        _row("se_resnet50", "latency", "compiled", "fp32", 102.0),
        _row("resnet50", "latency", "compiled", "fp32", 100.0),
        _row("se_resnet50", "latency", "eager", "fp32", 120.0),
    ]
    targets = (
        Target("SE vs twin, optimized", "se_resnet50", "overhead", "latency", "fp32", 0.03),
        Target("optimized vs eager", "se_resnet50", "speedup", "latency", "fp32", 1.3),
    )
    rows = {r["name"]: r for r in check_targets(results, targets)}
    assert set(rows) == {"SE vs twin, compiled", "compiled vs eager"}  # no optimized rows were timed
    assert rows["SE vs twin, compiled"]["met"] and rows["SE vs twin, compiled"]["variant"] == "compiled"
    assert not rows["compiled vs eager"]["met"] and "short by" in rows["compiled vs eager"]["miss"]


def test_bench_end_to_end_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    argv = [
        "bench",
        "se_resnet20_cifar",
        "--batch",
        "2",
        "--reps",
        "1",
        "--warmup",
        "1",
        "--image-size",
        "16",
    ]
    argv += [
        "--dtypes",
        "fp32",
        "--min-sample-ms",
        "0",
        "--json",
        str(out),
        "--device",
        "cpu",
        "--threads",
        "1",
    ]
    argv += ["--modes", "latency,train", "--targets", str(TARGETS)]
    assert main(argv) == 0
    report = json.loads(out.read_text())
    models = {r["model"] for r in report["results"]}
    assert models == {"se_resnet20_cifar", "resnet20_cifar"}
    assert len(report["results"]) == 2 * 4  # 2 modes x (eager, optimized fp32) x 2 models
    assert all(r["median_ms"] > 0 and len(r["samples_ms"]) == 1 for r in report["results"])
    assert report["meta"]["command"].startswith("senet bench se_resnet20_cifar --batch 2 --reps 1")
    assert any(t["mode"] == "train" for t in report["targets"])
    assert "se_resnet20_cifar" in capsys.readouterr().out
    assert format_table(summarize_timings({"meta": {}, "results": report["results"]})).count("\n") >= 8


def test_bench_unknown_model_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "no_such_net", "--reps", "1", "--modes", "latency", "--dtype", "fp32"]) == 2
    assert "no_such_net" in capsys.readouterr().err


def test_median_interval_brackets_the_median_and_shrinks_with_agreement() -> None:
    from senet.bench.report import median_interval

    assert median_interval([0.02] * 9) == (0.02, 0.02)
    noisy = [0.01, 0.05, -0.02, 0.03, 0.08, 0.00, 0.04, 0.02, 0.06]
    low, high = median_interval(noisy)
    assert min(noisy) <= low < 0.03 < high <= max(noisy)  # 0.03 is the median
    assert median_interval(noisy) == (low, high)  # a fixed seed: reproducible


def test_report_reprints_a_saved_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = {"image_size": 224, "images_per_s": 10.0}
    results = [
        {
            **_row("se_resnet50", "latency", "optimized", "fp32", 104.0),
            **extra,
            "samples_ms": [104.0, 106.0, 103.0],
        },
        {
            **_row("resnet50", "latency", "optimized", "fp32", 100.0),
            **extra,
            "samples_ms": [100.0, 100.0, 100.0],
        },
    ]
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps({"meta": {"command": "senet bench se_resnet50"}, "results": results}))
    assert main(["bench", "--report", str(saved), "--targets", str(TARGETS)]) == 0
    out = capsys.readouterr().out
    assert "+4.0% (limit +3%)" in out and "MISSED" in out and "measured by: senet bench se_resnet50" in out
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(SystemExit, match="bad.json: not a senet bench report"):
        main(["bench", "--report", str(tmp_path / "bad.json")])


def test_bench_compile_without_a_compiler_is_refused_before_timing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import senet.bench.runner as bench

    monkeypatch.setattr(bench, "has_cxx_compiler", lambda: False)
    argv = [
        "bench",
        "se_resnet20_cifar",
        "--compile",
        "--device",
        "cpu",
        "--modes",
        "latency",
        "--dtype",
        "fp32",
    ]
    assert main(argv) == 2
    assert "--compile needs a C++ compiler" in capsys.readouterr().err
