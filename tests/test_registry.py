"""The model registry: names, patterns, suggestions, refusal of duplicates."""

import pytest

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
