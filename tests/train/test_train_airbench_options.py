"""airbench94's remaining schedule and stem options (Jordan 2024), used by the cifar_budget recipe: a warm-up
from a fraction of the rate, a decay that ends above zero (TrainConfig.warmup_start_factor / final_lr_factor)
and a stem frozen after a few epochs (TrainConfig.freeze_stem_after)."""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import pytest
import torch
from train_fixtures import tiny_config

from senet.config import ConfigError
from senet.data import DataConfig
from senet.train import fit, load_checkpoint
from senet.train.optim import lr_factor

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from data_fixtures import write_cifar  # noqa: E402


def _airbench_lr(step: int, total: int, warmup: int) -> float:
    """airbench94's get_lr (its 23% warm-up from 0.2, decay to 0.07), written from its description."""
    if step < warmup:
        return 0.2 + 0.8 * step / warmup
    return 1.0 - 0.93 * (step - warmup) / (total - warmup)


def test_a_warm_up_from_a_fraction_and_a_decay_to_a_floor_follow_airbench() -> None:
    config = tiny_config("unused", epochs=10, schedule="linear", warmup_epochs=2.0,
                         warmup_start_factor=0.2, final_lr_factor=0.07)  # fmt: skip
    factor = lr_factor(config, iters_per_epoch=50)  # 500 steps, warm-up 100
    # ours counts the step being taken as done in the warm-up: airbench's factor one step later
    assert [factor(i) for i in range(99)] == pytest.approx([_airbench_lr(i + 1, 500, 100) for i in range(99)])
    assert [factor(i) for i in range(100, 500)] == pytest.approx(
        [_airbench_lr(i, 500, 100) for i in range(100, 500)]
    )
    assert factor(500) == pytest.approx(0.07) and factor(10_000) == pytest.approx(0.07)
    cos = lr_factor(config.replace(schedule="cosine"), iters_per_epoch=50)
    assert (
        cos(100) == pytest.approx(1.0)
        and cos(300) == pytest.approx(0.535)
        and cos(500) == pytest.approx(0.07)
    )
    plain = lr_factor(config.replace(warmup_start_factor=0.0, final_lr_factor=0.0), iters_per_epoch=50)
    assert plain(0) == pytest.approx(1 / 100) and plain(500) == 0.0  # the defaults: from and to zero


@pytest.mark.parametrize(("changes", "needle"), [
    (dict(warmup_start_factor=1.5), "warmup_start_factor=1.5: must be a fraction of lr in"),
    (dict(final_lr_factor=-0.1), "final_lr_factor=-0.1: must be a fraction"),
    (dict(final_lr_factor=math.nan), "final_lr_factor=nan"),
    (dict(warmup_lr=0.01, warmup_start_factor=0.2), "warmup_lr .* and warmup_start_factor .* exclude"),
    (dict(freeze_stem_after=-1), "freeze_stem_after=-1: must be >= 0"),
])  # fmt: skip
def test_invalid_settings_name_the_field(changes: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        tiny_config("unused", **changes)


def _fastnet(tmp_path: Path, **changes: object):
    write_cifar(tmp_path / "data" / "cifar-10-batches-py", per_batch=16)  # 80 training images
    data = DataConfig(dataset="cifar10", root=str(tmp_path / "data"), limit_val=32)
    return tiny_config(tmp_path / "run", model="fastnet_cifar", data=data, epochs=3, batch_size=16,
                       keep_checkpoints=3, **changes)  # fmt: skip


def test_the_stem_learns_for_n_epochs_then_stays(tmp_path: Path) -> None:
    fit(_fastnet(tmp_path, freeze_stem_after=2, weight_decay=0.0), quiet=True)
    epochs = [load_checkpoint(tmp_path / "run" / "checkpoints" / f"epoch-000{e}") for e in (1, 2, 3)]
    bias = [c.weights["stem.bias"] for c in epochs]
    assert not torch.equal(bias[0], bias[1])  # epoch 2 still trains it
    assert torch.equal(bias[1], bias[2])  # epoch 3 does not (momentum and decay included)
    assert not torch.equal(epochs[1].weights["fc.weight"], epochs[2].weights["fc.weight"])  # the rest does
    assert torch.equal(epochs[0].weights["stem.weight"], epochs[2].weights["stem.weight"])  # whitening: fixed


def test_resuming_after_the_freeze_gives_the_same_run(tmp_path: Path) -> None:
    full = fit(_fastnet(tmp_path / "a", freeze_stem_after=1), quiet=True)
    config = _fastnet(tmp_path / "b", freeze_stem_after=1)
    fit(config, quiet=True)
    run = tmp_path / "b" / "run"
    shutil.rmtree(run / "checkpoints" / "epoch-0003")  # killed after epoch 2: the stem is built trainable
    (run / "result.json").unlink()
    resumed = fit(config, resume=True, quiet=True)
    a, b = load_checkpoint(full.checkpoint), load_checkpoint(resumed.checkpoint)
    assert all(torch.equal(a.weights[name], b.weights[name]) for name in a.weights)


def test_a_model_without_a_stem_is_refused_before_training(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="freeze_stem_after=1: model 'se_resnet20_cifar' has no 'stem'"):
        fit(tiny_config(tmp_path / "run", freeze_stem_after=1), quiet=True)
    assert not list((tmp_path / "run").glob("checkpoints/*"))
