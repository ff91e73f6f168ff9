"""benchmarks/cuda_check.py: its CPU dry run writes results.json with every stage ok or skipped
(with a reason), and its pieces (JUnit summary, COCO-format targets, timing rows, targets) work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))  # the cudacheck package

from cudacheck import detector, stage_tests, stage_timing, stage_train  # noqa: E402
from cudacheck.common import Record, Skip, run_check, stage_report  # noqa: E402
from cudacheck.main import STAGES  # noqa: E402


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("cuda-check")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "cuda_check.py"), "--out", str(out),
                           "--dry-run"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)  # fmt: skip
    return out, done


def test_dry_run_reports_every_stage(dry_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, done = dry_run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["dry_run"] is True and results["status"] == "ok"
    env = results["environment"]
    assert env["date_utc"] and env["packages"]["torch"] == torch.__version__ and "cuda_available" in env
    assert set(results["stages"]) == set(STAGES)
    for name, stage in results["stages"].items():
        assert stage["status"] in ("ok", "skipped"), (name, stage)
        assert stage["status"] == "ok" or stage["reason"], f"{name}: skipped without a reason"
        for check in stage["checks"]:
            assert check["status"] in ("ok", "skipped") and (check["status"] == "ok" or check["reason"]), (
                check
            )
    log = (out / "check.log").read_text()
    assert f"package torch: {torch.__version__}" in log and "stage timing: ok" in log


def test_dry_run_trains_and_times(dry_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = dry_run
    stages = json.loads((out / "results.json").read_text())["stages"]
    train = {c["name"]: c for c in stages["train"]["checks"]}
    assert train["bf16"]["status"] == "ok" and 0 <= train["bf16"]["data"]["top1"] <= 100
    ddp = train["ddp-nccl-syncbn"]["data"]
    assert ddp["backend"] == "gloo" and ddp["world_size"] == 1 and ddp["all_reduce_sum"] == 1.0
    assert "CUDA" in train["fp16-scaler"]["reason"]
    timing = stages["timing"]["groups"]
    rows = {(r["impl"], r["variant"], r["model"]) for r in timing["infer_b256"]["rows"]}
    assert {("senet", "eager", "se_resnet50"), ("senet", "optimized", "resnet50")} <= rows
    assert all(r["median_ms"] > 0 and r["images_per_s"] > 0 for g in timing.values() for r in g["rows"])
    assert ("senet", "eager") in {(o["impl"], o["variant"]) for o in timing["train_b128"]["overheads"]}
    assert any("compile" in reason for reason in timing["train_b128"]["left_out"])


def _fail() -> None:
    raise ZeroDivisionError("boom")


def _skip() -> None:
    raise Skip("no GPU")


def test_a_failing_check_is_recorded_and_the_next_runs() -> None:
    records: list[Record] = []
    run_check("boom", _fail, records)
    run_check("skip", _skip, records)
    run_check("fine", lambda: {"x": 1}, records)
    assert [(r.status, r.reason) for r in records] == [
        ("failed", "ZeroDivisionError: boom"), ("skipped", "no GPU"), ("ok", "")]  # fmt: skip
    assert "Traceback" in records[0].data["traceback"] and records[2].data == {"x": 1}
    assert stage_report("s", records)["status"] == "failed"
    only_skipped = stage_report("s", records[1:2])
    assert only_skipped["status"] == "skipped" and only_skipped["reason"] == "skip: no GPU"


def test_junit_summary_names_the_failed_tests(tmp_path: Path) -> None:
    xml = """<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="3" failures="1" errors="0"
    skipped="1" time="1.5"><testcase classname="tests.cuda.test_a" name="test_x[cuda]"><failure
    message="assert 1 == 2">trace</failure></testcase><testcase classname="t" name="ok"/><testcase
    classname="t" name="s"><skipped message="needs a CUDA device"/></testcase></testsuite></testsuites>"""
    (tmp_path / "j.xml").write_text(xml)
    summary = stage_tests.junit_summary(tmp_path / "j.xml")
    assert (summary["passed"], summary["failures"], summary["skipped"]) == (1, 1, 1)
    assert summary["failed"] == [{"test": "tests.cuda.test_a::test_x[cuda]", "kind": "failure",
                                  "message": "assert 1 == 2"}]  # fmt: skip


def test_coco_targets_are_xyxy_boxes_painted_into_the_images() -> None:
    coco = detector.synthetic_coco(3, 64, categories=4)
    assert {a["image_id"] for a in coco["annotations"]} == {1, 2, 3}
    assert all(
        1 <= a["category_id"] <= 4 and a["area"] == a["bbox"][2] * a["bbox"][3] for a in coco["annotations"]
    )
    images, targets = detector.to_tensors(coco, torch.device("cpu"))
    first = [a for a in coco["annotations"] if a["image_id"] == 1]
    x, y, w, h = first[-1]["bbox"]  # painted last: on top
    assert (
        targets[0]["boxes"][-1].tolist() == [x, y, x + w, y + h] and targets[0]["labels"].dtype == torch.int64
    )
    patch = images[0][:, y : y + h, x : x + w]  # (3, h, w): one colour
    assert images[0].shape == (3, 64, 64) and torch.equal(patch.amin((1, 2)), patch.amax((1, 2)))


def test_timing_rows_leave_out_what_is_missing_with_the_reason() -> None:
    sizes = stage_timing.Sizes()
    rows, left_out = stage_timing.rows_of("train_b128", "train", sizes, timm_ok=False, compiled_ok=True)
    assert {(r.impl, r.variant) for r in rows} == {("senet", "eager"), ("senet", "compiled")}
    assert left_out == ["timm eager: timm is not installed", "timm compiled: timm is not installed"]
    rows, left_out = stage_timing.rows_of("infer_b1", "infer", sizes, timm_ok=True, compiled_ok=True)
    assert len(rows) == 6 and all(r.variant != "compiled" for r in rows) and len(left_out) == 2


def _row(impl: str, variant: str, se: bool, ms: list[float], batch: int = 128) -> dict[str, Any]:
    median = sorted(ms)[len(ms) // 2]
    return {"impl": impl, "variant": variant, "se": se, "median_ms": median, "samples_ms": ms,
            "images_per_s": 1000 * batch / median}  # fmt: skip


def test_overheads_ratios_and_targets() -> None:
    table = [_row("senet", "eager", True, [104, 104, 104]), _row("senet", "eager", False, [100, 100, 100]),
             _row("timm", "eager", True, [120, 120, 120]), _row("timm", "eager", False, [100, 100, 100])]  # fmt: skip
    over = {o["impl"]: o for o in stage_timing.overheads(table)}
    assert over["senet"]["overhead_paired"] == pytest.approx(0.04) and over["timm"][
        "overhead"
    ] == pytest.approx(0.2)
    ratios = stage_timing.ratios(table)
    assert ratios == [{"senet": "eager", "timm": "eager", "ratio": round(120 / 104, 3)}]
    groups = {"train_b128": {"overheads": list(over.values()), "ratios": ratios}}
    targets = {t["target"]: t for t in stage_timing.judge(groups)}
    assert targets["train b128: senet eager >= timm eager"]["met"] is True
    assert targets["train b128: senet eager SE overhead <= 5%"]["met"] is True
    assert targets["train b128: senet compiled >= timm compiled"]["met"] is None  # not measured


def test_training_commands() -> None:
    gpu = stage_train.command(stage_train.RUNS[-1], Path("/out"), dry_run=False)
    assert gpu[1:3] == ["-m", "torch.distributed.run"] and "--sync-bn" in gpu and "cuda" in gpu
    assert gpu[gpu.index("--epochs") + 1] == "28" and gpu[-2:] == ["--out", "/out/torchrun-syncbn"]
    assert stage_train.skip_reason(stage_train.RUNS[1], dry_run=False, cuda=False).startswith("needs a CUDA")
    assert stage_train.skip_reason(stage_train.RUNS[2], dry_run=True, cuda=False).startswith("dry run")


def test_a_stage_past_its_limit_is_stopped_and_reported(tmp_path: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "cuda_check.py"), "--out", str(tmp_path),
                           "--dry-run", "--stages", "tests", "--budget-s", "2"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    results = json.loads((tmp_path / "results.json").read_text())
    assert done.returncode == 1 and results["status"] == "failed"
    assert (
        results["stages"]["tests"]["status"] == "timeout" and "limit" in results["stages"]["tests"]["reason"]
    )
    assert "package torch:" in (tmp_path / "check.log").read_text()


def test_a_row_that_fails_is_left_out_and_the_others_are_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = stage_timing.Sizes.dry()
    Row = stage_timing.Row
    rows = [Row("senet", "eager", "se_resnet18", True), Row("senet", "eager", "resnet18", False),
            Row("timm", "eager", "no_such_model", True)]  # fmt: skip
    real = stage_timing.build

    def build(impl: str, name: str, device: torch.device) -> torch.nn.Module:
        if impl == "timm":
            raise RuntimeError("unknown model no_such_model")
        return real(impl, name, device)

    monkeypatch.setattr(stage_timing, "build", build)
    found = stage_timing.time_group("infer_b1", "infer", 1, rows, sizes, torch.device("cpu"))
    assert [r["model"] for r in found["rows"]] == ["se_resnet18", "resnet18"]
    assert found["failed_rows"] == {"timm eager no_such_model": "RuntimeError: unknown model no_such_model"}
    assert [o["impl"] for o in found["overheads"]] == ["senet"] and found["ratios"] == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without CUDA")
def test_without_cuda_the_full_check_points_to_the_dry_run(tmp_path: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "cuda_check.py"), "--out", str(tmp_path)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 2 and "--dry-run" in done.stderr
    assert json.loads((tmp_path / "results.json").read_text())["stages"] == {}
