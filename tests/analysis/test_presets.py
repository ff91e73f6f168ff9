"""The paper's tables as presets: each row's network, recipe and data as planned (meta device only)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from senet.analysis import ablation
from senet.analysis.presets import PRESETS, preset
from senet.api import create_model
from senet.config import ConfigError
from senet.train.config import TrainConfig
from senet.train.recipes import recipe


def _plan(name: str, base: TrainConfig, tmp_path: Path, **kwargs: object) -> dict[str, TrainConfig]:
    cells = ablation.plan(preset(name), base, seeds=[0], out_dir=tmp_path, **kwargs)  # type: ignore[arg-type]
    return {c.variant.name: c.config for c in cells}


def test_table13_under_the_ablation_recipe_is_se_resnet50(tmp_path: Path) -> None:
    planned = _plan("table13", recipe("ablation"), tmp_path)
    assert {k: c.model.name for k, c in planned.items()} == {
        "baseline": "resnet50", "SE_Stage_2": "se_resnet50", "SE_Stage_3": "se_resnet50",
        "SE_Stage_4": "se_resnet50", "SE_All": "se_resnet50",
    }  # fmt: skip
    assert planned["SE_Stage_4"].model.se_stages == (3,) and planned["SE_Stage_4"].model.se.bias is False
    assert all(c.recipe == "ablation" and c.epochs == 270 for c in planned.values())
    assert ablation.grid_model(preset("table13"), recipe("ablation")) == "se_resnet50"
    # the smaller network only where the recipe's cannot take se_stages, or when asked for
    assert ablation.grid_model(preset("table13"), recipe("fast")) == "se_resnet18"
    assert _plan("table13", recipe("ablation"), tmp_path, model="se_resnet34")["SE_All"].model.name == (
        "se_resnet34"
    )


def test_the_last_stage_experiment_measures_the_extra_parameters(tmp_path: Path) -> None:
    planned = _plan("last_stage", recipe("ablation"), tmp_path)
    assert [c.model.name for c in planned.values()] == ["resnet50", "se_resnet50", "se_resnet50"]
    assert planned["SE_Stage_2-4"].model.se_stages == (1, 2, 3)
    counts = {}
    for name, config in planned.items():
        with torch.device("meta"):
            model = create_model(config.model.name, **config.model.builder_kwargs())
        counts[name] = sum(p.numel() for p in model.parameters())
    extra_all = counts["SE_All"] / counts["baseline"] - 1
    extra_cut = counts["SE_Stage_2-4"] / counts["baseline"] - 1
    assert 0.09 < extra_all < 0.11 and 0.03 < extra_cut < 0.045  # Sec. 4: ~10% -> ~4% (no FC biases)
    assert preset("last_stage").variants[1].paper_params == 28.1


def test_tables_4_and_5_pair_each_cifar_baseline_with_its_recipe(tmp_path: Path) -> None:
    ten = _plan("table4", recipe("fast"), tmp_path)  # rows with a recipe ignore the command's
    assert {k: (c.model.name, c.recipe, c.data.dataset, c.data.cutout) for k, c in ten.items()} == {
        "ResNet-110": ("preact_resnet110_cifar", "preact_cifar", "cifar10", 0),
        "SE-ResNet-110": ("se_preact_resnet110_cifar", "preact_cifar", "cifar10", 0),
        "ResNet-164": ("preact_resnet164_cifar", "preact_cifar", "cifar10", 0),
        "SE-ResNet-164": ("se_preact_resnet164_cifar", "preact_cifar", "cifar10", 0),
        "WRN-16-8": ("wrn16_8_cifar", "wrn_cifar", "cifar10", 0),
        "SE-WRN-16-8": ("se_wrn16_8_cifar", "wrn_cifar", "cifar10", 0),
        "Shake-Shake-26-2x96d-Cutout": ("shake_shake26_2x96d_cifar", "shake_cifar", "cifar10", 16),
        "SE-Shake-Shake-26-2x96d-Cutout": ("se_shake_shake26_2x96d_cifar", "shake_cifar", "cifar10", 16),
    }
    assert [ten[k].epochs for k in ("ResNet-110", "WRN-16-8", "Shake-Shake-26-2x96d-Cutout")] == [
        164,
        200,
        1800,
    ]
    hundred = _plan("table5", recipe("fast"), tmp_path)
    assert {c.data.dataset for c in hundred.values()} == {"cifar100"}
    shake = hundred["SE-Shake-Even-29-2x4x64d-Cutout"]
    assert (shake.model.name, shake.data.cutout) == ("se_shake_even29_2x4x64d_cifar", 8)
    assert hundred["Shake-Even-29-2x4x64d-Cutout"].model.name == "shake_even29_2x4x64d_cifar"
    assert hundred["SE-WRN-16-8"].model.name == "se_wrn16_8_cifar"
    assert [v.paper for v in preset("table5").variants[:2]] == [(26.88,), (23.85,)]
    assert not preset("table4").top5


def test_the_command_options_apply_over_each_rows_recipe(tmp_path: Path) -> None:
    def options(config: TrainConfig) -> TrainConfig:
        return config.with_overrides(["data.dataset=digits", "threads=1"])

    planned = _plan("table5", recipe("fast"), tmp_path, options=options)
    assert {(c.data.dataset, c.threads) for c in planned.values()} == {("digits", 1)}  # the user's last
    assert planned["SE-ResNet-110"].recipe == "preact_cifar"
    forced = _plan("table4", recipe("cifar"), tmp_path, row_recipes=False)  # as `--recipe cifar`
    assert {c.recipe for c in forced.values()} == {"cifar"}
    assert forced["SE-WRN-16-8"].model.name == "se_wrn16_8_cifar"  # the row's network stays
    with pytest.raises(ConfigError, match="name their own networks"):
        _plan("table4", recipe("fast"), tmp_path, model="se_resnet20_cifar")


def test_places365_and_senet154_at_320(tmp_path: Path) -> None:
    places = _plan("table6", recipe("fast"), tmp_path)
    assert [(c.model.name, c.recipe, c.data.dataset) for c in places.values()] == [
        ("resnet152", "imagenet", "folder"),
        ("se_resnet152", "imagenet", "folder"),
    ]
    assert preset("table6").variants[1].paper == (40.37, 11.01)
    big = _plan("table8", recipe("fast"), tmp_path)
    assert [(c.model.name, c.recipe, c.data.resolved_input_size()) for c in big.values()] == [
        ("senet154", "imagenet_large", 224),
        ("senet154", "imagenet_large", 320),
    ]
    assert [v.paper for v in preset("table8").variants] == [(18.68, 4.47), (16.88, 3.58)]


def test_every_table_the_issue_names_is_a_preset() -> None:
    wanted = {"table4", "table5", "table6", "table8", "last_stage"} | {f"table{n}" for n in range(10, 17)}
    assert set(PRESETS) == wanted
