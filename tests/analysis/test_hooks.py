"""Forward hooks on the SE gates: recorded shapes on every code path, and no hook left behind."""

from __future__ import annotations

import pytest
import torch

import senet
from senet.analysis.hooks import paper_name, record_excitations, replace_gate, se_blocks, stage_of
from senet.layers.se import SEConfig


def _hook_count(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return senet.create_model("se_resnet20_cifar", num_classes=3, in_chans=1).eval()


def test_records_every_block_with_its_shape(model: torch.nn.Module) -> None:
    x = torch.randn(2, 1, 16, 16)  # (N, C, H, W)
    with record_excitations(model) as rec:
        model(x)
        model(x[:1])
    blocks = se_blocks(model)
    assert len(blocks) == 9 and rec.names == list(blocks)
    stacked = rec.stacked()
    for name, se in blocks.items():
        assert stacked[name].shape == (3, se.channels)  # two batches: 2 + 1 images
        assert ((stacked[name] > 0) & (stacked[name] < 1)).all()  # sigmoid gates
    assert _hook_count(model) == 0


def test_train_mode_fused_path_is_recorded_too(model: torch.nn.Module) -> None:
    model.train()
    try:
        with record_excitations(model, blocks=["layer3.2.se"]) as rec:
            model(torch.randn(2, 1, 16, 16)).sum().backward()  # the fused SEResidual path
    finally:
        model.eval()
        model.zero_grad(set_to_none=True)
    assert list(rec.stacked()) == ["layer3.2.se"] and rec.stacked()["layer3.2.se"].shape == (2, 64)
    assert _hook_count(model) == 0


def test_no_hook_left_after_an_exception(model: torch.nn.Module) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with record_excitations(model):
            model(torch.randn(1, 1, 16, 16))
            raise RuntimeError("boom")
    assert _hook_count(model) == 0
    with pytest.raises(RuntimeError, match="boom"):
        with replace_gate(model, "layer1.0.se", 1.0):
            raise RuntimeError("boom")
    assert _hook_count(model) == 0


def test_no_squeeze_excitations_are_averaged_over_positions() -> None:
    model = senet.create_model("se_resnet20_cifar", num_classes=3, in_chans=1, se=SEConfig(squeeze="none"))
    with torch.no_grad(), record_excitations(model.eval(), blocks=["layer2.0.se"]) as rec:
        model(torch.randn(2, 1, 16, 16))
    assert rec.stacked()["layer2.0.se"].shape == (2, 32)


def test_replace_gate_with_ones_equals_the_block_without_recalibration(model: torch.nn.Module) -> None:
    x = torch.randn(2, 1, 16, 16)
    block = se_blocks(model)["layer2.1.se"]
    with torch.no_grad():
        before = model(x)
        with (
            replace_gate(model, "layer2.1.se", 1.0),
            record_excitations(model, blocks=["layer2.1.se"]) as rec,
        ):
            replaced = model(x)
        saved = block.gate
        block.gate = torch.nn.Identity()  # s = W2 delta(W1 z): wrong on purpose, then a true all-ones gate
        block.gate.forward = lambda t: torch.ones_like(t)  # type: ignore[method-assign]
        try:
            manual = model(x)
        finally:
            block.gate = saved
    assert torch.allclose(
        rec.stacked()["layer2.1.se"], torch.ones(2, 32)
    )  # the recorder sees the replacement
    assert torch.allclose(replaced, manual, atol=1e-6) and not torch.allclose(replaced, before)


def test_replace_gate_checks_its_arguments(model: torch.nn.Module) -> None:
    with pytest.raises(ValueError, match="no SE block named"):
        with replace_gate(model, "layer9.0.se", 1.0):
            pass
    with pytest.raises(ValueError, match="3 channels for a block of 16"):
        with replace_gate(model, "layer1.0.se", torch.ones(3)):
            pass
    with pytest.raises(ValueError, match="has no SE blocks"):
        with record_excitations(senet.create_model("resnet20_cifar")):
            pass
    assert _hook_count(model) == 0


def test_block_names() -> None:
    assert paper_name("layer4.1.se") == "SE_5_2" and paper_name("features.3.se") == "features.3.se"
    assert stage_of("layer3.1.se") == "layer3" and stage_of("se") == "se"
