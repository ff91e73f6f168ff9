"""At most one device-to-host synchronisation per log interval in the training loop (issue 14)."""

from __future__ import annotations

import math

import pytest
from train_fixtures import count_host_reads, tiny_config

from senet.data import DataConfig
from senet.train import engine, meter
from senet.train.loop import train_one_epoch


@pytest.mark.parametrize("every", [1, 2, 3, 0])
def test_one_host_read_per_log_interval(tmp_path, monkeypatch, every: int) -> None:
    data = DataConfig(dataset="digits", input_size=8, limit_train=192, limit_val=32, workers=0)  # 6 steps
    config = tiny_config(tmp_path / "run", log_every_steps=every, data=data)
    run = engine.setup(config, quiet=True)
    calls = count_host_reads(monkeypatch)
    before = meter.host_reads()
    with run.folder:
        stats = train_one_epoch(
            run.train_model, run.train_loader, optimizer=run.optimizer, scheduler=run.scheduler,
            epoch=0, config=config, env=run.env, show=False,
        )  # fmt: skip
    monkeypatch.undo()
    reads = math.ceil(6 / every) if every else 1  # every N steps, and the end of the epoch once
    assert meter.host_reads() - before == reads
    assert calls == ["tolist"] * reads, calls  # nothing else reads a tensor: no per-step stall
    assert stats["train_images"] == 192 and math.isfinite(stats["train_loss"])


def test_a_nan_loss_is_named_with_its_step_and_the_interval_read(tmp_path, monkeypatch) -> None:
    import torch.nn.functional as F

    from senet.train import NonFiniteLossError, fit

    real, calls = F.cross_entropy, {"n": 0}

    def poisoned(*args, **kwargs):  # NaN from the 3rd training step of epoch 1 on
        calls["n"] += 1
        out = real(*args, **kwargs)
        return out * float("nan") if calls["n"] >= 3 else out

    monkeypatch.setattr(F, "cross_entropy", poisoned)
    with pytest.raises(
        NonFiniteLossError, match=r"became nan at epoch 1, step 3 \(steps 3-4 were read together\)"
    ):
        fit(tiny_config(tmp_path / "run", epochs=1, log_every_steps=2), quiet=True)


def test_evaluation_reads_its_sums_once(tmp_path, monkeypatch) -> None:
    from senet.train.loop import evaluate

    run = engine.setup(tiny_config(tmp_path / "run"), quiet=True)
    calls = count_host_reads(monkeypatch)
    with run.folder:
        val = evaluate(run.model, run.val_loader, env=run.env)
    monkeypatch.undo()
    assert calls == ["tolist"] and val["val_images"] == 64
