"""Training options of issue 14: EMA, gradient accumulation, clipping, no decay on norm/bias,
mixup / CutMix, summary.csv; each resumes a killed run bit-exactly."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
import torch
from safetensors.torch import load_file
from torch import nn
from train_fixtures import tiny_config

from senet.train import TrainConfig, fit, load_checkpoint
from senet.train.mix import mix_batch
from senet.train.optim import build_optimizer
from senet.train.step import Stepper


@pytest.mark.parametrize(
    "changes",
    [
        dict(ema_decay=0.9),
        dict(accumulate_steps=2),
        dict(clip_grad_norm=0.05),
        dict(mixup_alpha=0.4, cutmix_alpha=1.0),
    ],
    ids=["ema", "accumulate", "clip", "mix"],
)
def test_a_killed_run_resumes_bit_exactly(tmp_path, changes) -> None:
    full = fit(tiny_config(tmp_path / "full", **changes), quiet=True)
    fit(tiny_config(tmp_path / "part", **changes), quiet=True)
    part = tmp_path / "part"  # killed after epoch 1: its epoch-2 checkpoint and result never written
    shutil.rmtree(part / "checkpoints" / "epoch-0002")
    (part / "result.json").unlink()
    resumed = fit(tiny_config(part, **changes), resume=True, quiet=True)
    assert (resumed.top1, resumed.val_loss) == (full.top1, full.val_loss)
    a, b = (
        load_checkpoint(full.checkpoint, with_state=True),
        load_checkpoint(resumed.checkpoint, with_state=True),
    )
    assert all(torch.equal(a.weights[k], b.weights[k]) for k in a.weights)
    rows = [json.loads(line) for line in (part / "metrics.jsonl").read_text().splitlines()]
    reference = [json.loads(line) for line in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    keys = ("train_loss", "train_top1", "val_loss", "top1", "lr")
    assert [[r[k] for k in keys] for r in rows] == [[r[k] for k in keys] for r in reference]
    if "ema_decay" in changes:
        ea = load_file(a.path / "ema.safetensors")
        eb = load_file(b.path / "ema.safetensors")
        assert all(torch.equal(ea[k], eb[k]) for k in ea)
        assert int(b.state["ema"]["n_averaged"]) == 8  # 4 steps x 2 epochs
        assert not all(torch.equal(ea[k], a.weights[k]) for k in ea)  # an average, not the weights
        assert {"raw_top1", "raw_val_loss", "raw_top5"} <= set(rows[-1])


def test_accumulating_k_batches_equals_one_batch_k_times_larger() -> None:
    torch.manual_seed(0)
    images, labels = torch.randn(32, 3, 4, 4), torch.randint(0, 5, (32,))

    def trained(k: int) -> nn.Module:
        torch.manual_seed(1)
        model = nn.Sequential(nn.Flatten(), nn.Linear(48, 16), nn.ReLU(), nn.Linear(16, 5))  # no BN
        config = TrainConfig(batch_size=32 // k, accumulate_steps=k, clip_grad_norm=0.5, momentum=0.9)
        opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=1e-3)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: 1.0 / (it + 1))
        stepper = Stepper(model, opt, sched, config, batches=2 * k)
        for step in range(2 * k):  # two optimizer steps
            x, y = images.chunk(k)[step % k], labels.chunk(k)[step % k]
            with stepper.context(step):
                stepper.backward(step, nn.functional.cross_entropy(model(x), y))
        assert sched.last_epoch == 2
        return model

    one, four = trained(1), trained(4)
    for p, q in zip(one.parameters(), four.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_the_rate_scales_with_the_effective_batch() -> None:
    config = TrainConfig(batch_size=256, accumulate_steps=4, lr=0.6, lr_reference_batch=1024)
    assert config.effective_batch == 1024 and config.scaled_lr == pytest.approx(0.6)


def test_no_decay_on_norm_and_bias_parameters() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    plain = build_optimizer(TrainConfig(weight_decay=1e-4), model)
    assert [g["name"] for g in plain.param_groups] == ["weights", "norm"]
    assert all(g["weight_decay"] == 1e-4 for g in plain.param_groups)  # the default is unchanged
    split = build_optimizer(TrainConfig(weight_decay=1e-4, no_decay_norm_bias=True), model)
    decay = {g["name"]: g["weight_decay"] for g in split.param_groups}
    assert decay == {"weights": 1e-4, "norm": 0.0, "bias": 0.0}
    groups = {g["name"]: g["params"] for g in split.param_groups}
    assert [p.shape for p in groups["weights"]] == [model[0].weight.shape, model[3].weight.shape]
    assert [p.shape for p in groups["bias"]] == [model[0].bias.shape, model[3].bias.shape]


@pytest.mark.parametrize("kind", ["mixup", "cutmix"])
def test_mixup_and_cutmix_mix_images_and_labels_alike(kind) -> None:
    torch.manual_seed(0)
    images = torch.arange(4.0)[:, None, None, None].expand(4, 1, 8, 8).contiguous()  # image i is all i
    labels = torch.arange(4)
    config = TrainConfig(**{f"{kind}_alpha": 1.0})
    mixed = mix_batch(images, labels, config)
    assert mixed.images.shape == images.shape and 0 <= mixed.lam <= 1
    targets = mixed.targets(4)
    assert targets.shape == (4, 4) and torch.allclose(targets.sum(1), torch.ones(4))
    # each image's mean is lam * own + (1 - lam) * partner: the target's weights
    expected = mixed.lam * labels.float() + (1 - mixed.lam) * mixed.partner.float()
    torch.testing.assert_close(mixed.images.mean(dim=(1, 2, 3)), expected)
    for i in range(4):  # own label lam, partner's 1 - lam (summed when they are the same)
        want = torch.zeros(4)
        want[labels[i]] += mixed.lam
        want[mixed.partner[i]] += 1 - mixed.lam
        torch.testing.assert_close(targets[i], want)
    if kind == "cutmix":  # pasted pixels are the partner's exactly
        assert set(mixed.images.unique().tolist()) <= set(range(4))


def test_summary_csv_has_a_row_per_epoch(tmp_path) -> None:
    fit(tiny_config(tmp_path / "run"), quiet=True)
    with open(tmp_path / "run" / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert {"train_loss", "train_top1", "val_loss", "top1", "top5", "lr", "epoch_seconds"} <= set(rows[0])
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert float(rows[1]["top1"]) == metrics[1]["top1"]
