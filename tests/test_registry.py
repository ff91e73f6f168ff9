"""The model registry: names, patterns, suggestions, refusal of duplicates."""

import dataclasses

import pytest
import torch
from torch import nn

import senet
from senet.registry import Registry, UnknownNameError


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownNameError, match="'se_resnet50'") as info:
        senet.create_model("se_resnet05")
    assert "did you mean" in str(info.value)
    assert isinstance(info.value, KeyError)


def test_unknown_name_without_close_match() -> None:
    with pytest.raises(UnknownNameError, match="unknown model 'xyzzy'"):
        senet.create_model("xyzzy")


def test_duplicate_registration_is_refused() -> None:
    registry: Registry = Registry("model")

    def net() -> None: ...

    registry.register(net)
    with pytest.raises(ValueError, match="'net' is already registered"):
        registry.register(net)
    with pytest.raises(ValueError, match="already registered"):
        senet.register_model(lambda: None, name="se_resnet50")


def test_list_models_patterns() -> None:
    every = senet.list_models()
    assert every == sorted(every) and len(every) == len(set(every))
    se = senet.list_models("se_*")
    assert se and all(n.startswith("se_") for n in se)
    assert senet.list_models("se_resnext*") == ["se_resnext101_32x4d", "se_resnext50_32x4d"]
    assert senet.list_models("nothing*") == []


def test_entries_answer_se_twin_and_input_size_without_building(monkeypatch: pytest.MonkeyPatch) -> None:
    from senet.models.resnet import ResNet

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a network was built")

    monkeypatch.setattr(ResNet, "__init__", refuse)
    se, plain = senet.MODELS.get("se_resnet50"), senet.MODELS.get("resnet50")
    assert se.config.se == senet.SEConfig() and plain.config.se is None
    assert (se.twin, plain.twin) == ("resnet50", "se_resnet50")
    assert (senet.MODELS.get("senet154").twin, senet.MODELS.get("senet154_plain").twin) == (
        "senet154_plain",
        "senet154",
    )
    assert se.input_size == 224 and "3.87 GFLOPs" in se.doc
    assert senet.MODELS.get("se_inception_resnet_v2").input_size == 299
    assert senet.MODELS.get("resnet20_cifar").input_size == 32


def test_every_entry_has_a_registered_twin_and_its_paper_line() -> None:
    for name in senet.list_models():
        entry = senet.MODELS.get(name)
        assert entry.name == name and entry.doc, name
        assert senet.MODELS.get(entry.twin).twin == name
        assert (entry.config.se is None) == (entry.twin.startswith("se_") or entry.twin == "senet154")


def test_create_model_builds_the_entry_with_its_overrides() -> None:
    model = senet.create_model("se_resnet20_cifar", num_classes=7, se=senet.SEConfig(reduction=4))
    assert model.config == dataclasses.replace(senet.MODELS.get("se_resnet20_cifar").config, num_classes=7,
                                               se=senet.SEConfig(reduction=4))  # fmt: skip
    with pytest.raises(
        TypeError, match=r"unknown option\(s\) \['num_class'\] for a ResNet; valid: .*num_classes"
    ):
        senet.create_model("resnet18", num_class=3)


def test_a_user_registered_callable_builds_through_create_model() -> None:
    def my_tiny_net(num_classes: int = 2) -> nn.Module:
        """A user's network."""
        return nn.Sequential(nn.Flatten(), nn.LazyLinear(num_classes))

    try:
        assert senet.register_model(my_tiny_net) is my_tiny_net
        assert "my_tiny_net" in senet.list_models("my_*")
        entry = senet.MODELS.get("my_tiny_net")
        assert (entry.config, entry.twin, entry.input_size, entry.doc) == (
            None,
            None,
            224,
            "A user's network.",
        )
        model = senet.create_model("my_tiny_net", num_classes=5)
        assert model(torch.zeros(1, 3, 4, 4)).shape == (1, 5)
    finally:
        senet.MODELS._entries.pop("my_tiny_net", None)
