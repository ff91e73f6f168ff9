"""Training on each device: a run stopped after its first epoch and resumed ends exactly where an
uninterrupted run ends (fp32, bf16, fp16 with the gradient scaler); a NaN loss stops the run and
keeps the last good checkpoint; the tensor-resident data stays on the device."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from cuda_fixtures import DEVICES, on

from senet.data import DataConfig
from senet.train import NonFiniteLossError, TrainConfig, engine, fit, load_checkpoint


def tiny(out_dir: Path, device: str, **changes: Any) -> TrainConfig:
    """se_resnet20_cifar on 128 digits at 8x8, batch 32, two epochs, deterministic, on ``device``."""
    data = DataConfig(dataset="digits", input_size=8, limit_train=128, limit_val=64, workers=0)
    config = TrainConfig(model="se_resnet20_cifar", data=data, recipe="test", epochs=2, batch_size=32,
                         lr=0.05, schedule="cosine", weight_decay=5e-4, deterministic=True, threads=1,
                         device=device, out_dir=str(out_dir))  # fmt: skip
    return config.replace(**changes)


@pytest.mark.parametrize("amp", ["none", "bf16", "fp16"])
@pytest.mark.parametrize("device", DEVICES)
def test_resume_matches_an_uninterrupted_run(tmp_path: Path, device: str, amp: str) -> None:
    on(device, "fp16" if amp == "fp16" else "fp32")
    full = fit(tiny(tmp_path / "full", device, amp=amp), quiet=True)
    part = tmp_path / "part"
    fit(tiny(part, device, amp=amp), quiet=True)
    shutil.rmtree(part / "checkpoints" / "epoch-0002")  # as if stopped after epoch 1
    (part / "result.json").unlink()
    resumed = fit(tiny(part, device, amp=amp), resume=True, quiet=True)
    assert (resumed.top1, resumed.val_loss) == (full.top1, full.val_loss)
    rows = [json.loads(line) for line in (part / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    state = load_checkpoint(part, with_state=True).state
    assert (state.get("scaler") is not None) == (amp == "fp16")  # the scaler's state is checkpointed


@pytest.mark.parametrize("device", DEVICES)
def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path, device: str, monkeypatch) -> None:
    real, calls = F.cross_entropy, {"n": 0}

    def poisoned(*args: Any, **kwargs: Any) -> torch.Tensor:  # NaN from the 2nd epoch's first step on
        out = real(*args, **kwargs)
        calls["n"] += 1
        return out * float("nan") if calls["n"] > 4 + 2 else out  # 4 train steps + 2 eval batches

    monkeypatch.setattr(F, "cross_entropy", poisoned)
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at epoch 2, step 1.*epoch-0001"):
        fit(tiny(tmp_path / "run", device, epochs=3), quiet=True)
    assert load_checkpoint(tmp_path / "run").epoch == 1
    assert not (tmp_path / "run" / "result.json").exists()


@pytest.mark.parametrize("device", DEVICES)
def test_data_and_model_live_on_the_device(tmp_path: Path, device: str) -> None:
    run = engine.setup(tiny(tmp_path / "run", device), quiet=True)
    with run.folder:
        images, labels = next(iter(run.train_loader))
    assert images.device.type == labels.device.type == device
    assert next(run.model.parameters()).device.type == device
