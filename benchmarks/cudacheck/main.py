"""The command line of the device check: versions first, then each stage in a child process.

    python benchmarks/cuda_check.py --out DIR [--dry-run] [--budget-s 360]

Stages run as ``python benchmarks/cuda_check.py --stage NAME --out DIR`` children, each killed
at its own time limit (a hung CUDA call or a crash in one stage leaves the others' results). The
correctness stages (tests, train, detector) and ``warm`` (it fills Inductor's caches for the
timing stage's compiled rows) run at the same time; ``timing`` runs alone afterwards, so that
nothing else shares the card while it measures. Every stage writes ``DIR/stages/NAME.json``
(partial results too, as it goes); this process gathers them into ``DIR/results.json`` and copies
every child's output into ``DIR/check.log``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from cudacheck.common import environment, log, missing_required, write_json

SCRIPT = Path(__file__).resolve().parents[1] / "cuda_check.py"
REPO = SCRIPT.parents[1]

#: Stages run together first (name, time limit as a fraction of the budget), then ``timing``.
PARALLEL = (("tests", 0.42), ("train", 0.42), ("detector", 0.33), ("warm", 0.42))
STAGES = tuple(name for name, _ in PARALLEL) + ("timing",)
MODULES = {"tests": "stage_tests", "train": "stage_train", "detector": "detector",
           "warm": "stage_timing", "timing": "stage_timing"}  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="cuda_check.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--out", required=True, help="folder for results.json, check.log and the stages' files")
    p.add_argument("--dry-run", action="store_true", help="every stage at tiny sizes on the CPU (< 1 min)")
    p.add_argument("--budget-s", type=float, default=360.0, help="the whole check's wall-clock limit (s)")
    p.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}")
    p.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)  # a child process: one stage
    p.add_argument("--limit-s", type=float, default=0.0, help=argparse.SUPPRESS)  # the child's own limit
    return p.parse_args(argv)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(REPO), str(SCRIPT.parent), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _pump(stream: TextIO, name: str, sink: TextIO, lock: threading.Lock) -> None:
    for line in stream:
        with lock:
            sink.write(f"{name:>8} | {line}")
            sink.flush()
            sys.stdout.write(f"{name:>8} | {line}")
            sys.stdout.flush()


def _launch(name: str, args: argparse.Namespace, limit: float, sink: TextIO, lock: threading.Lock):
    cmd = [sys.executable, str(SCRIPT), "--stage", name, "--out", args.out, "--limit-s", f"{limit:.0f}"]
    cmd += ["--dry-run"] if args.dry_run else []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
                            env=_child_env(), start_new_session=True)  # fmt: skip
    pump = threading.Thread(target=_pump, args=(proc.stdout, name, sink, lock), daemon=True)
    pump.start()
    return proc, pump, time.monotonic() + limit


def _finish(name: str, proc: subprocess.Popen, pump: threading.Thread, deadline: float, out: Path,
            limit: float) -> dict[str, Any]:  # fmt: skip
    try:
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the stage and everything it started
        proc.wait()
        timed_out = True
    pump.join(timeout=5)
    path = out / "stages" / f"{name}.json"
    report = json.loads(path.read_text()) if path.exists() else {"stage": name, "checks": []}
    if timed_out:
        report.update(
            status="timeout", reason=f"stopped at its limit of {limit:.0f} s (partial results kept)"
        )
    elif proc.returncode != 0 or "status" not in report:
        report.update(status="failed", reason=f"the stage process exited with code {proc.returncode}")
    report["exit_code"] = proc.returncode
    return report


def senet_import_problem() -> str:
    """Why ``import senet`` fails here (e.g. a missing dependency), or ''."""
    sys.path.insert(0, str(REPO))
    try:
        import senet  # noqa: F401
    except Exception as err:  # noqa: BLE001 (any import-time failure stops the check)
        return f"{type(err).__name__}: {err}"
    return ""


def _skipped_without_a_process(args: argparse.Namespace, chosen: list[str]) -> dict[str, str]:
    """Stages that would only skip: no process is started for them (the dry run stays short)."""
    skipped = {}
    if args.dry_run and "warm" in chosen:
        skipped["warm"] = "dry run: no compiled rows to warm up"
    if "detector" in chosen and importlib.util.find_spec("torchvision") is None:
        skipped["detector"] = "torchvision is not installed"
    return skipped


def _header(env: dict[str, Any], sink: TextIO) -> None:
    """The environment and every package's version, first in the log and on the screen."""
    lines = [f"{k}: {v}" for k, v in env.items() if k != "packages"]
    lines += [f"package {k}: {v or 'MISSING'}" for k, v in env["packages"].items()]
    missing = missing_required(env["packages"])
    if missing:
        lines.append(f"missing packages senet depends on: {', '.join(missing)} (some stages will fail)")
    sink.write("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)


def _run_stages(args: argparse.Namespace, chosen: list[str], results: dict[str, Any], sink: TextIO,
                start: float) -> None:  # fmt: skip
    """The parallel stages, then ``timing`` alone with what is left of the budget."""
    out, lock, running = Path(args.out), threading.Lock(), []
    for name, reason in _skipped_without_a_process(args, chosen).items():
        results["stages"][name] = {"stage": name, "status": "skipped", "checks": [], "reason": reason}
    for name, share in PARALLEL:
        if name in chosen and name not in results["stages"]:
            limit = args.budget_s * share
            running.append((name, limit, *_launch(name, args, limit, sink, lock)))
    for name, limit, proc, pump, deadline in running:
        results["stages"][name] = _finish(name, proc, pump, deadline, out, limit)
        write_json(out / "results.json", results)
    if "timing" in chosen:
        limit = max(30.0, args.budget_s - (time.monotonic() - start) - 10.0)
        proc, pump, deadline = _launch("timing", args, limit, sink, lock)
        results["stages"]["timing"] = _finish("timing", proc, pump, deadline, out, limit)


def _print_summary(results: dict[str, Any], out: Path) -> None:
    for name, stage in results["stages"].items():
        print(f"{name:>8}: {stage['status']} {stage.get('reason', '')[:200]}")
    for target in results["stages"].get("timing", {}).get("targets", []):
        verdict = {True: "met", False: "MISSED", None: "not measured"}[target["met"]]
        print(f"  target {target['target']}: {target['value']} ({verdict})")
    print(f"results: {out / 'results.json'} ({results['seconds']} s)")


def orchestrate(args: argparse.Namespace) -> int:
    """The whole check: header, stages, results.json; exit code 0 when every stage is ok or skipped."""
    chosen = [s for s in args.stages.split(",") if s]
    unknown = sorted(set(chosen) - set(STAGES))
    if unknown:
        raise SystemExit(f"unknown stage(s) {unknown}; choose from {', '.join(STAGES)}")
    out, start = Path(args.out), time.monotonic()
    shutil.rmtree(out / "stages", ignore_errors=True)  # no stale stage file from an earlier run
    out.mkdir(parents=True, exist_ok=True)
    env = environment()
    results: dict[str, Any] = {"command": " ".join([Path(sys.executable).name, *sys.argv]),
                               "dry_run": args.dry_run, "budget_s": args.budget_s, "environment": env,
                               "stages": {}}  # fmt: skip
    with open(out / "check.log", "w") as sink:
        _header(env, sink)
        problem = senet_import_problem()
        if problem:
            results.update(status="failed", reason=f"senet does not import here: {problem}")
            print(results["reason"], file=sys.stderr)
            write_json(out / "results.json", results)
            return 2
        if not args.dry_run and not env.get("cuda_available"):
            results.update(
                status="failed", reason="no CUDA device here: run with --dry-run for the CPU version"
            )
            print(results["reason"], file=sys.stderr)
            write_json(out / "results.json", results)
            return 2
        _run_stages(args, chosen, results, sink, start)
    results["seconds"] = round(time.monotonic() - start, 1)
    statuses = {s["status"] for n, s in results["stages"].items() if n != "warm"}  # warming is best effort
    results["status"] = "failed" if statuses & {"failed", "timeout"} else "ok"
    write_json(out / "results.json", results)
    _print_summary(results, out)
    return 0 if results["status"] == "ok" else 1


def run_stage(args: argparse.Namespace) -> int:
    """In a child process: run one stage, write its JSON."""
    module = importlib.import_module(f"cudacheck.{MODULES[args.stage]}")
    runner = module.warm if args.stage == "warm" else module.run
    report = runner(Path(args.out), dry_run=args.dry_run, limit_s=args.limit_s)
    write_json(Path(args.out) / "stages" / f"{args.stage}.json", report)
    log(f"stage {args.stage}: {report['status']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    return run_stage(args) if args.stage else orchestrate(args)
