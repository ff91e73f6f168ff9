"""Recipes and typed overrides: valid ones change the field, invalid ones name field and value."""

from __future__ import annotations

import json

import pytest

from senet.layers.se import SEConfig
from senet.spec import ModelSpec, from_legacy
from senet.train import RECIPES, ConfigError, TrainConfig, recipe
from senet.train.cli import config_from_args
from senet.train.models import plain_twin


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_builds_and_cites_the_paper(name: str) -> None:
    config = recipe(name)
    assert isinstance(config, TrainConfig) and config.recipe == name
    doc = RECIPES[name].__doc__ or ""
    assert name == "fast" or any(s in doc for s in ("Sec.", "Table", "Appendix")), doc
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config  # JSON round trip


def test_paper_numbers() -> None:
    imagenet = recipe("imagenet")
    assert (imagenet.batch_size, imagenet.lr, imagenet.epochs, imagenet.step_size) == (1024, 0.6, 100, 30)
    assert imagenet.with_overrides(["batch_size=256"]).scaled_lr == pytest.approx(0.15)  # linear scaling
    assert recipe("mobile").weight_decay == 4e-5 and recipe("mobile").batch_size == 256
    ablation = recipe("ablation")
    assert ablation.label_smoothing > 0 and ablation.model == ModelSpec(
        "se_resnet50", se=SEConfig(bias=False)
    )
    assert [round(m * 270) for m in ablation.milestones] == [125, 200, 250]
    s154 = recipe("imagenet_large")  # the SENet-154 recipe (renamed: senet154 is the model)
    assert s154.freeze_bn_last_epochs > 0 and s154.model.drop_rate == 0.2 and s154.model.name == "senet154"
    assert recipe("cifar").milestones == (0.5, 0.75) and recipe("cifar").batch_size == 128


def test_valid_overrides() -> None:
    config = recipe("fast").with_overrides(
        [
            "lr=0.05",
            "epochs=3",
            "nesterov=false",
            "milestones=0.3,0.6",
            "amp=bf16",
            "eval_batch_size=none",
            "data.root=/x",
            "data.dataset=mnist",  # applied together with data.root, in any order
            "data.scale=[0.2, 1.0]",
            "model.se.bias=false",
            "model.drop_rate=0.1",
        ]
    )
    assert config.lr == 0.05 and config.epochs == 3 and config.nesterov is False
    assert config.milestones == (0.3, 0.6) and config.amp == "bf16" and config.eval_batch_size is None
    assert config.data.dataset == "mnist" and config.data.root == "/x" and config.data.scale == (0.2, 1.0)
    assert config.model == ModelSpec("se_resnet20_cifar", se=SEConfig(bias=False), drop_rate=0.1)


@pytest.mark.parametrize(
    ("assignment", "needle"),
    [
        ("lr=fast", "lr='fast'"),
        ("epochs=2.5", "epochs='2.5'"),
        ("amp=fp8", "amp='fp8'"),
        ("nesterov=maybe", "nesterov='maybe'"),
        ("learning_rate=0.1", "'learning_rate'"),
        ("data.sizee=3", "'data.sizee'"),
        ("epochs=0", "epochs=0"),
        ("milestones=0.8,0.2", "milestones"),
        ("data.dataset=nope", "nope"),
        ("lr", "KEY=VALUE"),
    ],
)
def test_invalid_overrides_name_field_and_value(assignment: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        recipe("fast").with_overrides([assignment])
    assert needle in str(info.value), str(info.value)


def test_unknown_field_suggests_the_close_one() -> None:
    with pytest.raises(ConfigError, match="did you mean weight_decay"):
        recipe("fast").with_overrides(["weight_decy=0.1"])
    with pytest.raises(ConfigError, match="unknown recipe 'imagnet'"):
        recipe("imagnet")


def test_se_override_edits_the_models_own_se_and_keeps_the_twin_plain() -> None:
    se = from_legacy("se_resnet20_cifar", {"se": {"bias": False}}).builder_kwargs()["se"]
    assert se == SEConfig(bias=False)
    assert "se" not in from_legacy("resnet20_cifar", {"se": {"bias": False}}).builder_kwargs()
    assert "se" not in ModelSpec("resnet20_cifar", se=SEConfig(bias=False)).builder_kwargs()
    with pytest.raises(ConfigError, match="model_overrides.se.gates"):
        from_legacy("se_resnet20_cifar", {"se": {"gates": "tanh"}})
    with pytest.raises(ConfigError, match="model.se.gates"):
        recipe("fast").with_overrides(["model.se.gates=tanh"])


def test_plain_twin_names() -> None:
    assert plain_twin("se_resnet20_cifar") == "resnet20_cifar"
    assert plain_twin("se_resnext50_32x4d") == "resnext50_32x4d"
    assert plain_twin("senet154") == "senet154_plain"
    with pytest.raises(ConfigError, match="no plain twin"):
        plain_twin("resnet50")


def test_cli_flags_then_sets() -> None:
    from senet.cli import build_parser

    args = build_parser().parse_args(
        ["train", "--epochs", "4", "--lr", "0.2", "--set", "lr=0.3", "--deterministic"]
    )
    config = config_from_args(args)
    assert (config.epochs, config.lr, config.deterministic, config.recipe) == (4, 0.3, True, "fast")
    bad = build_parser().parse_args(["train", "--set", "momentum=high"])
    with pytest.raises(ConfigError, match="momentum='high'"):
        config_from_args(bad)
