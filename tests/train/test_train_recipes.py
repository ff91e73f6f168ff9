"""The CIFAR recipes of Tables 4-5 (each baseline's own paper) and their CIFAR-100 versions:
every one builds its network, and its values are the documented ones."""

from __future__ import annotations

import json

import pytest

from senet.data import DataInfo
from senet.registry import MODELS
from senet.train import RECIPES, ConfigError, TrainConfig, cifar100, recipe
from senet.train.models import model_complexity
from senet.train.optim import lr_factor

CIFAR_RECIPES = ("cifar", "preact_cifar", "wrn_cifar", "shake_cifar")


def _info(config: TrainConfig) -> DataInfo:
    classes = 100 if config.data.dataset == "cifar100" else 10
    size = config.data.resolved_input_size()
    return DataInfo(classes, 3, [str(i) for i in range(classes)], size, (0.5,) * 3, (0.25,) * 3)


def _configs() -> list[tuple[str, TrainConfig]]:
    configs = [(name, recipe(name)) for name in RECIPES]
    return configs + [(f"cifar100({name})", cifar100(recipe(name))) for name in CIFAR_RECIPES]


@pytest.mark.parametrize(("label", "config"), _configs(), ids=[label for label, _ in _configs()])
def test_every_recipe_builds_its_network_and_its_twin(label: str, config: TrainConfig) -> None:
    info = _info(config)
    se = model_complexity(config, info)  # built on the meta device
    plain = model_complexity(config.replace(model=config.model.twin()), info)
    assert se.macs > plain.macs > 0 and se.params > plain.params > 0, label  # SE blocks on top


def test_preact_recipe_is_he_et_al_2016b() -> None:
    config = recipe("preact_cifar")
    assert config.model.name == "se_preact_resnet164_cifar" and config.data.dataset == "cifar10"
    assert (config.batch_size, config.lr, config.momentum, config.nesterov) == (128, 0.1, 0.9, False)
    assert (config.weight_decay, config.schedule, config.gamma) == (1e-4, "multistep", 0.1)
    assert [m * 64_000 for m in config.milestones] == [32_000, 48_000]  # of 64k iterations
    assert round(config.epochs * 50_000 / 128) == 64_062  # 164 epochs of 391 batches ~ 64k iterations
    assert config.warmup_lr == 0.01 and config.warmup_epochs * 50_000 / 128 == pytest.approx(400)
    assert (config.data.augment, config.data.resolved_pad(), config.data.cutout) == ("cifar", 4, 0)


def test_wrn_recipe_is_zagoruyko_and_komodakis() -> None:
    config = recipe("wrn_cifar")
    assert config.model.name == "se_wrn16_8_cifar" and config.model.drop_rate is None
    assert MODELS.get("se_wrn16_8_cifar").config.block_drop_rate == 0  # no dropout in the blocks
    assert (config.batch_size, config.lr, config.momentum, config.nesterov) == (128, 0.1, 0.9, True)
    assert (config.weight_decay, config.epochs, config.gamma, config.warmup_epochs) == (5e-4, 200, 0.2, 0.0)
    assert [round(m * config.epochs) for m in config.milestones] == [60, 120, 160]


def test_shake_recipe_is_gastaldi_with_cutout() -> None:
    config = recipe("shake_cifar")
    assert config.model.name == "se_shake_shake26_2x96d_cifar"
    assert (config.batch_size, config.lr, config.momentum, config.nesterov) == (128, 0.2, 0.9, True)
    assert (config.weight_decay, config.epochs, config.schedule, config.warmup_epochs) == (
        1e-4, 1800, "cosine", 0.0,
    )  # fmt: skip
    data = config.data
    assert (data.dataset, data.cutout, data.resolved_augment(), data.resolved_pad()) == (
        "cifar10",
        16,
        "cifar",
        4,
    )
    factor = lr_factor(config, iters_per_epoch=10)
    assert factor(0) == 1.0 and factor(9000) == pytest.approx(0.5) and factor(17_999) < 1e-6  # no restart


def test_cifar100_versions() -> None:
    for name in ("cifar", "preact_cifar", "wrn_cifar"):
        base, hundred = recipe(name), cifar100(recipe(name))
        assert hundred.data.dataset == "cifar100"
        assert hundred.replace(data=base.data) == base  # nothing else changes
    shake = cifar100(recipe("shake_cifar"))
    assert shake.model.name == "se_shake_even29_2x4x64d_cifar" and shake.data.dataset == "cifar100"
    assert (shake.data.cutout, shake.batch_size, shake.lr, shake.weight_decay) == (8, 32, 0.025, 5e-4)
    assert (shake.epochs, shake.schedule, shake.recipe) == (1800, "cosine", "shake_cifar")
    plain = cifar100(recipe("shake_cifar").with_overrides(["model.name=shake_shake26_2x96d_cifar"]))
    assert plain.model.name == "shake_even29_2x4x64d_cifar"  # the twin maps to the twin
    assert TrainConfig.from_dict(json.loads(json.dumps(shake.to_dict()))) == shake
    with pytest.raises(ConfigError, match="no CIFAR-100 version of recipe 'imagenet'"):
        cifar100(recipe("imagenet"))


def test_constant_warmup_rate() -> None:
    config = recipe("preact_cifar")
    factor = lr_factor(config, iters_per_epoch=391)
    assert [factor(it) for it in (0, 399)] == [pytest.approx(0.1)] * 2  # 0.01 of the base rate 0.1
    assert factor(401) == 1.0 and factor(391 * 83) == pytest.approx(0.1)  # back to 0.1, then /10
    assert lr_factor(config.replace(warmup_lr=None), iters_per_epoch=391)(0) < 0.01  # the linear ramp
    with pytest.raises(ConfigError, match="warmup_lr"):
        config.replace(warmup_lr=0.0)


def test_cifar_budget_recipe_is_airbench94_in_mean_loss_terms() -> None:
    config = recipe("cifar_budget")
    assert config.model.name == "se_fastnet_cifar" and config.epochs == 13
    # airbench94 (batch 1024, summed loss): lr 11.5 and decay 0.0153 "per 1024 examples" over
    # 1024 (1 + 1 / (1 - momentum)); in mean-loss terms at batch 256, the linear rule's quarter
    kilostep = 1024 * (1 + 1 / (1 - 0.85))
    assert config.lr == pytest.approx(11.5 / kilostep * 1024 / 4, rel=2e-3) and config.momentum == 0.85
    assert config.lr * config.weight_decay == pytest.approx(0.0153 * 1024 / kilostep / 4, rel=2e-3)
    assert (config.label_smoothing, config.norm_lr_scale, config.lookahead_every) == (0.2, 64.0, 5)
    assert config.warmup_epochs / config.epochs == pytest.approx(0.23, abs=0.01)  # its 23% warm-up
    steps = round(40_000 / 256)  # the CIFAR-10 development split's 40,000 training images
    factor = lr_factor(config, iters_per_epoch=steps)
    assert factor(0) == pytest.approx(0.2, abs=0.01) and factor(13 * steps) == pytest.approx(0.07)
    assert config.freeze_stem_after == 3  # its whiten_bias_epochs
    data = config.data
    assert (data.resolved_pad(), data.pad_mode, data.flip, data.eval_flip, data.eval_shift) == (
        2, "reflect", "alternate", True, 1,
    )  # fmt: skip
