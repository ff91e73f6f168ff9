"""Cadene / timm-legacy weights give the outputs of an independent functional reference of the
legacy blocks (tests/weights/legacy_reference.py), through every path that loads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from legacy_reference import legacy_forward, legacy_state_dict
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from senet.api import create_model
from senet.cli import main
from senet.fast.inference import optimize
from senet.models.resnet import ResNet
from senet.weights.convert import convert_file, convert_state_dict, load_strict

NETS = {  # name: (blocks per stage, bottleneck, 3x3 width of layer1, groups)
    "se_resnet18": ((2, 2, 2, 2), False, 64, 1),
    "se_resnet34": ((3, 4, 6, 3), False, 64, 1),
    "se_resnet50": ((3, 4, 6, 3), True, 64, 1),
    "se_resnext50_32x4d": ((3, 4, 6, 3), True, 128, 32),
}
TOL = 1e-4  # max |logit difference| (issue 12)


def _legacy(name: str) -> dict[str, torch.Tensor]:
    blocks, bottleneck, width, groups = NETS[name]
    return legacy_state_dict(blocks, bottleneck=bottleneck, width=width, groups=groups)


def _x() -> torch.Tensor:
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))


def _max_diff(model: torch.nn.Module, sd: dict[str, torch.Tensor]) -> float:
    with torch.no_grad():
        return float((model.eval()(_x()) - legacy_forward(sd, _x())).abs().max())


@pytest.mark.parametrize("name", list(NETS))
def test_legacy_file_gives_reference_logits(tmp_path: Path, name: str) -> None:
    sd = _legacy(name)
    torch.save(sd, tmp_path / "legacy.pth")
    model = create_model(name, weights=tmp_path / "legacy.pth")
    assert model.config.relu_before_se is (model.config.block == "basic")
    assert _max_diff(model, sd) <= TOL


@pytest.mark.parametrize("name", ["se_resnet18", "se_resnet34"])
def test_converted_file_gives_reference_logits(tmp_path: Path, name: str) -> None:
    sd = _legacy(name)
    torch.save(sd, tmp_path / "legacy.pth")
    out = tmp_path / f"{name}.safetensors"
    assert main(f"convert --from cadene {tmp_path / 'legacy.pth'} --to {out} --model {name}".split()) == 0
    assert json.loads(_metadata(out)["senet.config"])["relu_before_se"] is True
    assert _max_diff(create_model(name, weights=out), sd) <= TOL


@pytest.mark.parametrize("name", ["se_resnet18", "se_resnet34"])
def test_the_relu_before_se_is_what_makes_them_match(name: str) -> None:
    """The control: the same tensors in the torchvision-style block (no ReLU) are far off."""
    converted = convert_state_dict(_legacy(name), "cadene")
    plain = ResNet(converted.config.replace(relu_before_se=False))
    load_strict(plain, converted.state_dict)
    assert _max_diff(plain, _legacy(name)) > 0.1


def _metadata(path: Path) -> dict[str, str]:
    with safe_open(str(path), framework="pt") as fh:
        return dict(fh.metadata())


def _as_previous_version(path: Path) -> None:
    """Rewrite a converted file as the previous version wrote it: no relu_before_se field."""
    meta = _metadata(path)
    config = json.loads(meta["senet.config"])
    del config["relu_before_se"]
    save_file(load_file(str(path)), str(path), metadata={**meta, "senet.config": json.dumps(config)})


@pytest.mark.parametrize(("name", "relu"), [("se_resnet18", True), ("se_resnet50", False)])
def test_file_of_previous_version_loads_right(tmp_path: Path, name: str, relu: bool) -> None:
    sd = _legacy(name)
    out = convert_state_dict(sd, "cadene").save(tmp_path / "old.safetensors")
    _as_previous_version(out)
    assert "relu_before_se" not in _metadata(out)["senet.config"]
    loaded = convert_file(out)
    assert loaded.config.relu_before_se is relu
    assert _max_diff(create_model(name, weights=out), sd) <= TOL


def test_previous_version_file_from_other_sources_keeps_no_relu(tmp_path: Path) -> None:
    """Only the Cadene basic blocks have the ReLU: a timm-converted basic network does not."""
    ref = create_model("se_resnet18", num_classes=10).eval()
    out = convert_state_dict(ref.state_dict(), "timm").save(tmp_path / "timm.safetensors")
    _as_previous_version(out)
    assert convert_file(out).config.relu_before_se is False


def test_relu_before_se_is_refused_for_bottlenecks() -> None:
    with pytest.raises(ValueError, match="basic blocks only"):
        create_model("se_resnet50", relu_before_se=True)


def test_inference_optimiser_keeps_the_relu() -> None:
    """senet.fast rewrites BasicBlock by class; the legacy block must keep its ReLU there too."""
    sd = _legacy("se_resnet18")
    assert _max_diff(optimize(convert_state_dict(sd, "cadene").build()), sd) <= TOL
