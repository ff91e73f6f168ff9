"""timm and Cadene checkpoints load with identical logits; the key lists match layouts.md."""

from __future__ import annotations

import pytest
import torch
from weight_fixtures import randomize, small_config, to_cadene

from senet.api import create_model
from senet.layers.se import SEConfig
from senet.models.resnet import ResNet
from senet.weights.convert import convert_state_dict, load_strict
from senet.weights.detect import detect_layout, infer_config, match_model_name

TIMM_SE = SEConfig(divisor=8)  # timm: C / 16 rounded to a multiple of 8, at least 8


def _timm_reference(kind: str) -> ResNet:
    se = None if kind == "resnet" else TIMM_SE
    return randomize(ResNet(small_config(kind, stride_in_1x1=False, se=se)))


@pytest.mark.parametrize("kind", ["seresnet", "seresnext", "senet154", "resnet"])
def test_timm_layout_gives_equal_logits(kind: str) -> None:
    ref = _timm_reference(kind)
    converted = convert_state_dict(ref.state_dict())
    assert converted.source == "timm"
    assert converted.config.stride_in_1x1 is False and converted.config.stem_pool_ceil is False
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(converted.build()(x), ref(x), rtol=1e-5, atol=1e-5)


def test_timm_se_width_rounded_to_eight_is_read_from_checkpoint() -> None:
    sd = _timm_reference("seresnet").state_dict()
    assert sd["layer1.0.se.fc1.weight"].shape[0] == 8  # C = 32: C / 16 = 2, timm keeps 8
    cfg = infer_config(sd, stride_in_1x1=False)
    assert [cfg.se.hidden_channels(s.out) for s in cfg.stages] == [8, 8, 8, 16]


def test_stride_placement_matters() -> None:
    """The control for the tests above: the same tensors with the stride on the 1x1 differ."""
    ref = _timm_reference("seresnet")
    wrong = ResNet(ref.config.replace(stride_in_1x1=True)).eval()
    load_strict(wrong, ref.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert (wrong(x) - ref(x)).abs().max() > 1e-3


@pytest.mark.parametrize(
    ("kind", "stride_in_1x1"), [("seresnet", True), ("seresnext", False), ("senet154", False)]
)
def test_cadene_layout_gives_equal_logits(kind: str, stride_in_1x1: bool) -> None:
    cfg = small_config(kind, stride_in_1x1=stride_in_1x1, stem_pool_ceil=True)
    ref = randomize(ResNet(cfg))
    foreign = to_cadene(ref.state_dict(), deep_stem=kind == "senet154")
    assert "last_linear.weight" in foreign and "layer0.conv1.weight" in foreign
    assert detect_layout(foreign) == "cadene"
    converted = convert_state_dict(foreign)
    assert converted.config.stride_in_1x1 is stride_in_1x1
    assert converted.config.stem_pool_ceil is True
    x = torch.randn(2, 3, 57, 57)  # odd size: ceil-mode pooling gives 14 x 14 after the stem, floor 15
    with torch.no_grad():
        torch.testing.assert_close(converted.build()(x), ref(x), rtol=1e-5, atol=1e-5)


def test_unknown_layout_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unrecognised checkpoint layout"):
        detect_layout({"backbone.stem.weight": torch.zeros(1)})


def _timm_seresnet50_keys() -> set[str]:
    """The timm seresnet50 state-dict keys, written from the rules in layouts.md."""
    bn = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    keys = {"conv1.weight", "fc.weight", "fc.bias"} | {f"bn1.{b}" for b in bn}
    for s, n in enumerate((3, 4, 6, 3), start=1):
        for i in range(n):
            p = f"layer{s}.{i}."
            keys |= {f"{p}conv{j}.weight" for j in (1, 2, 3)} | {
                f"{p}bn{j}.{b}" for j in (1, 2, 3) for b in bn
            }
            keys |= {f"{p}se.fc{j}.{t}" for j in (1, 2) for t in ("weight", "bias")}
            if i == 0:
                keys |= {f"{p}downsample.0.weight"} | {f"{p}downsample.1.{b}" for b in bn}
    return keys


def _meta(name: str, **overrides: object) -> ResNet:
    with torch.device("meta"):
        return create_model(name, **overrides)


def test_seresnet50_keys_and_shapes_match_layouts_md() -> None:
    model = _meta("se_resnet50", se=TIMM_SE, stride_in_1x1=False)
    sd = model.state_dict()
    assert len(sd) == 384 and set(sd) == _timm_seresnet50_keys()
    assert tuple(sd["layer1.0.se.fc1.weight"].shape) == (16, 256, 1, 1)  # [C/r, C, 1, 1]
    assert sum(p.numel() for p in model.parameters()) == 28_088_024
    assert match_model_name(infer_config(sd, stride_in_1x1=False)) == "se_resnet50"


@pytest.mark.parametrize(
    ("name", "entries", "params"),
    [
        ("resnet50", None, 25_557_032),
        ("se_resnext50_32x4d", None, 27_559_896),
        ("senet154", 1144, 115_088_984),
    ],
)
def test_timm_parameter_counts(name: str, entries: int | None, params: int) -> None:
    model = _meta(name, se=TIMM_SE) if name.startswith("se") else _meta(name)
    assert sum(p.numel() for p in model.parameters()) == params
    if entries is not None:
        sd = model.state_dict()
        assert len(sd) == entries
        assert {
            "conv1.0.weight",
            "conv1.1.weight",
            "conv1.3.weight",
            "conv1.4.weight",
            "conv1.6.weight",
        } <= set(sd)
        assert sd["layer2.0.downsample.0.weight"].shape[-1] == 3  # 3x3 stride-2 projection
