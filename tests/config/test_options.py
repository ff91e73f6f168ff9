"""The one option mechanism: flags generated from dataclass fields, --config files, --print-config."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest

from senet.cli import build_parser, main
from senet.config import ConfigError, apply, field_docs, fields, read_file
from senet.data import DataConfig
from senet.layers.se import SEConfig
from senet.options import flag_name
from senet.spec import ModelSpec
from senet.train import TrainConfig
from senet.train.cli import config_from_args


def _leaf_keys(cls: type, prefix: str = "") -> list[str]:
    keys = []
    for name, hint in fields(cls).items():
        nested = next(
            (a for a in (hint, *getattr(hint, "__args__", ())) if dataclasses.is_dataclass(a)), None
        )
        keys += _leaf_keys(nested, f"{prefix}{name}.") if nested else [prefix + name]
    return keys


def test_train_help_lists_every_configuration_key(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = capsys.readouterr().out
    keys = _leaf_keys(TrainConfig)
    assert {"lr", "data.root", "model.se.reduction", "model.placement"} <= set(keys)
    missing = [k for k in keys if k != "recipe" and f"[{k}:" not in text]  # recipe: the --recipe flag
    assert not missing, missing
    assert "--model.se.reduction" in text and "--data.input-size" in text


def test_every_field_is_documented_once() -> None:
    for cls in (TrainConfig, DataConfig, ModelSpec, SEConfig):
        docs = field_docs(cls)
        undocumented = [name for name in fields(cls) if not docs.get(name)]
        assert not undocumented, (cls.__name__, undocumented)


def _config(*argv: str) -> TrainConfig:
    return config_from_args(build_parser().parse_args(["train", *argv]))


def test_generated_flags_aliases_and_set_share_one_check() -> None:
    config = _config("--lr", "0.2", "--model.se.reduction", "8", "--data-root", "/d", "--data", "mnist")
    assert config.lr == 0.2 and config.model.se == SEConfig(reduction=8)
    assert (config.data.root, config.data.dataset) == ("/d", "mnist")
    assert _config("--model", "se_resnet18", "--channels-last").model.name == "se_resnet18"
    assert _config("--channels-last").channels_last is True
    assert _config("--channels-last", "false").channels_last is False
    with pytest.raises(ConfigError, match="model.se.gate='soft'"):
        _config("--model.se.gate", "soft")
    with pytest.raises(ConfigError, match="did you mean model.se"):
        _config("--set", "model.see.reduction=8")


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".toml"])
def test_config_files_in_three_formats(tmp_path: Path, suffix: str) -> None:
    text = {
        ".json": '{"lr": 0.05, "model": {"name": "se_resnet18", "se": {"reduction": 4}}, "data": {"cutout": 2}}',
        ".yaml": "lr: 0.05\nmodel:\n  name: se_resnet18\n  se:\n    reduction: 4\ndata:\n  cutout: 2\n",
        ".toml": 'lr = 0.05\n[model]\nname = "se_resnet18"\n[model.se]\nreduction = 4\n[data]\ncutout = 2\n',
    }[suffix]
    path = tmp_path / f"run{suffix}"
    path.write_text(text)
    config = _config("--config", str(path), "--epochs", "3")  # flags override the file
    assert (config.lr, config.epochs, config.data.cutout) == (0.05, 3, 2)
    assert config.model == ModelSpec("se_resnet18", se=SEConfig(reduction=4))


def test_bad_config_files_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"lr": 0.1,')
    with pytest.raises(ConfigError, match="bad.json: not valid JSON"):
        read_file(bad)
    with pytest.raises(ConfigError, match="unknown configuration format '.ini'"):
        read_file(tmp_path / "x.ini")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("model:\n  se:\n    reductio: 4\n")
    with pytest.raises(ConfigError, match="did you mean model.se.reduction"):
        _config("--config", str(wrong))


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_print_config_reads_back_to_the_same_configuration(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--recipe", "ablation", "--model.se.gate", "tanh", "--data-root", "/x"]
    assert main([*argv, "--print-config", fmt]) == 0
    path = tmp_path / f"printed.{fmt}"
    path.write_text(capsys.readouterr().out)
    expected = config_from_args(build_parser().parse_args(argv))
    assert _config("--config", str(path)) == expected  # from the default recipe, the file wins
    assert expected.model.se == SEConfig(bias=False, gate="tanh")


def test_legacy_config_json_is_translated() -> None:
    """A config.json written before ModelSpec (model + model_overrides) reads as the same network."""
    legacy = json.loads((Path(__file__).parents[1] / "fixtures" / "legacy_run_config.json").read_text())
    assert legacy["model"] == "se_resnet20_cifar" and legacy["model_overrides"] == {"se": {"bias": False}}
    config = TrainConfig.from_dict(legacy)
    assert config.model == ModelSpec("se_resnet20_cifar", se=SEConfig(bias=False))
    plain = TrainConfig.from_dict(legacy | {"model_overrides": {"se": None, "drop_rate": 0.1}})
    assert plain.model == ModelSpec("resnet20_cifar", drop_rate=0.1)  # se=None meant the plain twin
    with pytest.raises(ConfigError, match="model_overrides.dropout"):
        TrainConfig.from_dict(legacy | {"model_overrides": {"dropout": 0.1}})


def test_apply_groups_nested_keys_and_rejects_bad_paths() -> None:
    config = apply(TrainConfig(), ["data.dataset=mnist", "data.root=/m", "model.se.bias=false"])
    assert (config.data.dataset, config.data.root, config.model.se.bias) == ("mnist", "/m", False)
    with pytest.raises(ConfigError, match="lr has no sub-options"):
        apply(TrainConfig(), ["lr.x=1"])
    assert flag_name("data.input_size") == "--data.input-size"
    assert isinstance(build_parser(), argparse.ArgumentParser)
