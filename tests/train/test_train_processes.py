"""Runs in other processes: resume after SIGKILL, checkpoints loadable at any kill moment, 2-process DDP."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from train_fixtures import PYTHON, ddp_worker, free_port, subprocess_env, tiny_config

from senet.train import fit, load_checkpoint
from senet.train.rundir import list_checkpoints

HERE = Path(__file__).resolve().parent

CHILD_FIT = """
import sys
sys.path.insert(0, {here!r})
from train_fixtures import tiny_config
from senet.train import fit
fit(tiny_config({out!r}, epochs={epochs}), quiet=True)
"""

CHILD_SAVE_LOOP = """
import torch
from senet.api import create_model
from senet.train.checkpoint import save_checkpoint
model = create_model("se_resnet20_cifar", num_classes=10, in_chans=1)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for epoch in range(1, 100000):
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01)
    save_checkpoint({out!r}, epoch=epoch, model=model, config={{"model": "x"}}, data_info={{}},
                    state={{"optimizer": opt.state_dict(), "marker": torch.full((1000,), float(epoch))}}, keep=2)
"""


def _wait_for(predicate, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("the child process did not get there in time")
        time.sleep(0.01)


@pytest.mark.slow
def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path) -> None:
    epochs = 6
    reference = fit(tiny_config(tmp_path / "reference", epochs=epochs), quiet=True)
    run = tmp_path / "killed"
    code = CHILD_FIT.format(here=str(HERE), out=str(run), epochs=epochs)
    child = subprocess.Popen([PYTHON, "-c", code], env=subprocess_env())
    try:
        _wait_for(lambda: list_checkpoints(run) or child.poll() is not None)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL, "the child ended before it could be killed"
    assert not (run / "result.json").exists()
    killed_at = load_checkpoint(run, with_state=True).epoch  # the newest complete checkpoint loads
    assert 1 <= killed_at < epochs
    resumed = fit(tiny_config(run, epochs=epochs), resume=True, quiet=True)
    assert (resumed.top1, resumed.top5, resumed.val_loss) == (
        reference.top1,
        reference.top5,
        reference.val_loss,
    )
    a, b = load_checkpoint(reference.checkpoint).weights, load_checkpoint(resumed.checkpoint).weights
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == list(range(1, epochs + 1))


@pytest.mark.slow
def test_the_newest_checkpoint_loads_whenever_the_writer_is_killed(tmp_path) -> None:
    rng = random.Random(0)
    for round_ in range(2):
        out = tmp_path / f"round{round_}"
        child = subprocess.Popen([PYTHON, "-c", CHILD_SAVE_LOOP.format(out=str(out))], env=subprocess_env())
        try:
            _wait_for(lambda out=out, child=child: list_checkpoints(out) or child.poll() is not None)
            time.sleep(rng.uniform(0.0, 0.5))
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait()
        found = load_checkpoint(out, with_state=True)
        assert torch.equal(found.state["marker"], torch.full((1000,), float(found.epoch)))
        assert len(found.weights) > 0 and found.state["optimizer"]["param_groups"]


@pytest.mark.slow
def test_two_process_ddp_on_cpu(tmp_path) -> None:
    out = tmp_path / "ddp"
    mp.start_processes(ddp_worker, args=(2, free_port(), str(out)), nprocs=2, join=True, start_method="spawn")
    result = json.loads((out / "result.json").read_text())
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[-1]["train_images"] == 128 and rows[-1]["val_images"] == 64  # shards summed over ranks
    assert result["top1"] == rows[-1]["top1"] and len(list_checkpoints(out)) == 2
