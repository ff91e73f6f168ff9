"""Stage ``tests``: the suite's CUDA-marked tests (``pytest -m cuda tests``), with a JUnit file.

On a GPU they are every registered model under fp32 / bf16 / fp16 autocast, the fused SE ops
against the plain form, ``senet.optimize`` (bf16, fp16 autocast, channels_last, compile), exact
resume and the NaN stop of CUDA runs (tests/gpu). Without a GPU they are collected and skip,
which the stage reports as skipped with that reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from cudacheck.common import Record, Skip, run_check, stage_report

REPO = Path(__file__).resolve().parents[2]


def junit_summary(path: Path) -> dict[str, Any]:
    """Counts and the failed tests (name, first lines of the message) of a JUnit XML file."""
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None, f"{path}: no testsuite element"
    counts = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    failed = []
    for case in suite.iter("testcase"):
        for kind in ("failure", "error"):
            found = case.find(kind)
            if found is not None:
                message = (found.get("message") or found.text or "")[:600]
                failed.append({"test": f"{case.get('classname')}::{case.get('name')}", "kind": kind,
                               "message": message})  # fmt: skip
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return {**counts, "time_s": float(suite.get("time", 0.0)), "failed": failed}


def run(out: Path, *, dry_run: bool, limit_s: float) -> dict[str, Any]:
    records: list[Record] = []
    folder = out / "tests"
    folder.mkdir(parents=True, exist_ok=True)
    junit = folder / "junit.xml"

    def pytest_cuda() -> dict[str, Any]:
        where = ["tests/gpu"] if dry_run else ["tests"]  # the dry run: collect the device tests only
        cmd = [sys.executable, "-m", "pytest", "-m", "cuda", *where, "-v", "-rfEs", "--durations=15", "-p", "no:cacheprovider",
               f"--junitxml={junit}"]  # fmt: skip
        timeout = max(10.0, limit_s - 15.0) if limit_s else None
        env = dict(os.environ, CUBLAS_WORKSPACE_CONFIG=":4096:8")  # before cuBLAS starts: deterministic runs
        try:
            done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as err:  # keep how far it got (-v: one line per test)
            partial = err.stdout.decode() if isinstance(err.stdout, bytes) else err.stdout or ""
            (folder / "pytest.log").write_text(partial)
            raise TimeoutError(f"pytest stopped after {timeout:.0f} s; see {folder / 'pytest.log'}") from None
        (folder / "pytest.log").write_text(done.stdout + done.stderr)
        print(done.stdout[-3000:], flush=True)
        if not junit.exists():
            raise RuntimeError(f"pytest wrote no JUnit file (exit {done.returncode}): {done.stderr[-500:]}")
        summary = junit_summary(junit)
        if summary["failures"] or summary["errors"]:
            names = ", ".join(f["test"].split("::")[-1] for f in summary["failed"][:8])
            raise AssertionError(f"{summary['failures']} failed, {summary['errors']} errors: {names}")
        if summary["tests"] and summary["skipped"] == summary["tests"]:
            raise Skip(
                f"no CUDA device here: all {summary['tests']} CUDA-marked tests were collected and skipped"
            )
        return summary

    record = run_check("pytest -m cuda", pytest_cuda, records)
    if record.status == "failed" and junit.exists():
        record.data.update(junit_summary(junit))  # which tests failed, beside the traceback
    return stage_report("tests", records, junit=str(junit))
