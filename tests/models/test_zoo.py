"""Every registered model builds, runs forward and backward, and takes the common options."""

import pytest
import torch
from model_checks import forward_backward, single_thread  # noqa: F401

import senet


def _input_size(model: torch.nn.Module) -> int:
    return getattr(model, "min_input_size", 32)


@pytest.mark.parametrize("name", senet.list_models())
def test_forward_backward_every_parameter_gets_a_gradient(name: str) -> None:
    """Each registered network at its real size, once, at its smallest input (batch 4: batch
    norm over a 1x1 final map needs more than two samples for every gradient to be non-zero)."""
    model = senet.create_model(name, num_classes=5)
    logits = forward_backward(model, _input_size(model), batch=4, num_classes=5)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", senet.list_models())
def test_in_chans_and_num_classes(name: str) -> None:
    with torch.device("meta"), torch.no_grad():  # shapes only: no memory, no compute
        model = senet.create_model(name, num_classes=3, in_chans=1).eval()
        size = _input_size(model)
        out = model(torch.empty(1, 1, size, size + 16))
    assert out.shape == (1, 3)


def test_se_twins_are_listed() -> None:
    expected = {
        "se_resnet18",
        "se_resnet34",
        "se_resnet50",
        "se_resnet101",
        "se_resnet152",
        "se_resnext50_32x4d",
        "se_resnext101_32x4d",
    }
    assert expected <= set(senet.list_models("se_*"))
    for name in senet.list_models("se_*"):
        assert name.removeprefix("se_") in senet.list_models(), f"{name} has no plain twin"
    assert {"senet154", "senet154_plain"} <= set(senet.list_models("senet*"))


def test_meta_forward_with_autograd_enabled() -> None:
    with torch.device("meta"):
        model = senet.create_model("se_resnet18", num_classes=3)
        assert model(torch.empty(2, 3, 64, 64)).shape == (2, 3)
