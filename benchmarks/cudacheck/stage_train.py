"""Stage ``train``: ``senet train`` of a CIFAR-size SE-ResNet-20 with the data resident on the GPU.

Runs, at the same time (each a child process of the real command line): bf16 autocast; fp16 with
the gradient scaler; each again with ``--compile``; ``torchrun --nproc-per-node 1`` with
``--sync-bn``; and a direct nccl + DDP + SyncBatchNorm job (:mod:`cudacheck.ddp_worker`). The
data is scikit-learn's digits, upsampled to 32x32 (a tensor dataset, kept on the device): 1,408
training images (11 full batches of 128, so a compiled model sees one shape) for 28 epochs, 308
optimizer steps, and 256 validation images. A run passes when it finishes with finite losses
and learns (top-1 >= 80% on the GPU; the dry run only checks that it finishes).

With one process senet trains without a process group (``senet/train/distributed.py``: a world of
one needs none), and torch's SyncBatchNorm does not synchronise a world of one; the torchrun run
checks the launcher path, the ``ddp`` job the nccl group and the DDP / SyncBatchNorm wrappers.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cudacheck.common import Record, log, stage_report

REPO = Path(__file__).resolve().parents[2]

#: Top-1 (%) a GPU run must reach on the digits to count as having learned.
MIN_TOP1 = 80.0


@dataclass(frozen=True)
class TrainRun:
    """One training run of the stage."""

    name: str
    flags: tuple[str, ...]
    """``senet train`` options beside the common ones."""
    torchrun: bool = False
    """Launch with ``python -m torch.distributed.run --standalone --nproc-per-node 1``."""
    cuda_only: bool = False
    """Skipped without a GPU (fp16 needs the gradient scaler's CUDA kernels)."""
    compiled: bool = False
    """Skipped in the dry run: torch.compile on a CPU takes minutes."""
    in_dry_run: bool = True
    """Run in the dry run too (the torchrun launcher there is exercised by the ``ddp`` job)."""


RUNS = (
    TrainRun("bf16", ("--amp", "bf16")),
    TrainRun("fp16-scaler", ("--amp", "fp16"), cuda_only=True),
    TrainRun("bf16-compile", ("--amp", "bf16", "--compile"), compiled=True),
    TrainRun("fp16-scaler-compile", ("--amp", "fp16", "--compile"), cuda_only=True, compiled=True),
    TrainRun("torchrun-syncbn", ("--amp", "bf16", "--sync-bn"), torchrun=True, in_dry_run=False),
)


def common_flags(dry_run: bool) -> list[str]:
    """The options every run shares: the GPU run's size, or a few tiny CPU steps."""
    flags = ["--model", "se_resnet20_cifar", "--data.dataset", "digits", "--channels-last", "--quiet", "--json",
             "--checkpoint-every", "1000", "--schedule", "cosine", "--warmup-epochs", "1", "--seed", "0"]  # fmt: skip
    if dry_run:
        return flags + ["--device", "cpu", "--threads", "1", "--data.input-size", "8", "--batch-size", "16",
                        "--epochs", "1", "--limit-train-batches", "2", "--limit-val-batches", "1",
                        "--data.limit-val", "16", "--log-every-steps", "0"]  # fmt: skip
    return flags + ["--device", "cuda", "--data.input-size", "32", "--batch-size", "128", "--epochs", "28", "--data.limit-train", "1408", "--data.limit-val", "256",
                    "--lr", "0.1", "--log-every-steps", "50"]  # fmt: skip


def command(run: TrainRun, out: Path, dry_run: bool) -> list[str]:
    launcher = [sys.executable]
    if run.torchrun:
        launcher += ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1"]
    return [
        *launcher,
        "-m",
        "senet",
        "train",
        *common_flags(dry_run),
        *run.flags,
        "--out",
        str(out / run.name),
    ]


def skip_reason(run: TrainRun, *, dry_run: bool, cuda: bool) -> str:
    if run.cuda_only and not cuda:
        return "needs a CUDA device (amp=fp16 uses the gradient scaler)"
    if run.compiled and dry_run:
        return "dry run: torch.compile on the CPU takes minutes (runs on the GPU)"
    if dry_run and not run.in_dry_run:
        return "dry run: the torchrun launcher is exercised by the ddp job (runs on the GPU)"
    return ""


def summarize(run_dir: Path, stdout: str) -> dict[str, Any]:
    """The run's result (--json) and its per-epoch speed: the first epoch (compilation, warm-up)
    apart from the median of the others."""
    start = stdout.find("[\n")
    if start < 0:
        raise RuntimeError(f"no JSON result on stdout: {stdout[-500:]!r}")
    result = json.loads(stdout[start:])[0]
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    speeds = [row["train_images_per_second"] for row in rows]
    keep = ("top1", "top5", "val_loss", "epochs", "seconds", "params", "input_size")
    return {**{k: result[k] for k in keep}, "train_loss_last": rows[-1].get("train_loss"),
            "first_epoch_s": round(rows[0].get("epoch_seconds", 0.0), 2),
            "images_per_s_after_first": round(statistics.median(speeds[1:]), 1) if len(speeds) > 1 else None}  # fmt: skip


def _ddp_command(out: Path, dry_run: bool) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1",
            "-m", "cudacheck.ddp_worker", str(out / "ddp.json"),
            *(["--steps", "2", "--batch", "4", "--size", "16"] if dry_run else ["--steps", "30"])]  # fmt: skip


def _start(name: str, cmd: list[str], folder: Path) -> tuple[subprocess.Popen, float]:
    """Start ``cmd`` in its own process group, its output into ``folder/name.out`` / ``.err``
    (files, not pipes: a chatty run never blocks on a full pipe while another is waited for)."""
    log(f"{name}: {' '.join(cmd[1:])}")
    with open(folder / f"{name}.out", "w") as out, open(folder / f"{name}.err", "w") as err:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err, start_new_session=True)
    return proc, time.perf_counter()


def run(out: Path, *, dry_run: bool, limit_s: float) -> dict[str, Any]:
    import torch

    cuda = torch.cuda.is_available() and not dry_run
    folder = out / "train"
    folder.mkdir(parents=True, exist_ok=True)
    records: list[Record] = []
    jobs: dict[str, tuple[list[str], subprocess.Popen, float]] = {}
    for run_ in RUNS:
        reason = skip_reason(run_, dry_run=dry_run, cuda=cuda)
        if reason:
            records.append(Record(run_.name, "skipped", reason))
        else:
            cmd = command(run_, folder, dry_run)
            jobs[run_.name] = (cmd, *_start(run_.name, cmd, folder))
    cmd = _ddp_command(folder, dry_run)
    jobs["ddp-nccl-syncbn"] = (cmd, *_start("ddp-nccl-syncbn", cmd, folder))
    deadline = time.perf_counter() + max(10.0, limit_s - 10.0 if limit_s else 3600.0)
    ended: dict[str, float] = {}
    while len(ended) < len(jobs) and time.perf_counter() < deadline:
        for name, (_, proc, started) in jobs.items():
            if name not in ended and proc.poll() is not None:
                ended[name] = time.perf_counter() - started
        time.sleep(0.5)
    for name, (cmd, proc, _) in jobs.items():
        if name not in ended:  # past the stage's limit: the run and whatever it started
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        records.append(_collect(name, proc, cmd, ended.get(name), folder, cuda=cuda))
    order = [r.name for r in RUNS] + ["ddp-nccl-syncbn"]
    records.sort(key=lambda r: order.index(r.name))
    return stage_report("train", records, device="cuda" if cuda else "cpu")


def _collect(name: str, proc: subprocess.Popen, cmd: list[str], seconds: float | None, folder: Path, *,
             cuda: bool) -> Record:  # fmt: skip
    record = Record(name, data={"command": " ".join(cmd[1:])})
    stdout, stderr = (folder / f"{name}.out").read_text(), (folder / f"{name}.err").read_text()
    if seconds is None:
        record.status, record.reason = "timeout", "stopped at the stage's limit"
        return record
    record.seconds = seconds
    try:
        if proc.returncode != 0:
            raise RuntimeError(f"exit code {proc.returncode}: {stderr.strip()[-1500:]}")
        if name.startswith("ddp"):
            record.data.update(json.loads((folder / "ddp.json").read_text()))
        else:
            record.data.update(summarize(folder / name, stdout))
            if cuda and record.data["top1"] < MIN_TOP1:
                raise AssertionError(f"top-1 {record.data['top1']:.1f}% < {MIN_TOP1}%: the run did not learn")
    except Exception as err:  # noqa: BLE001 (recorded; the other runs still count)
        record.status, record.reason = "failed", f"{type(err).__name__}: {err}"[:2000]
    log(f"{name}: {record.status} in {record.seconds:.1f} s {record.reason[:300]}")
    return record
