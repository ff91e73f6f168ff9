"""The ResNet family: structure, options and the paper's numbers (Tables 1-2, Appendix)."""

import pytest
import torch

import senet
from senet import SEConfig
from senet.models.resnet import ResNet


def _blocks(model: ResNet):
    return [b for i in range(1, 5) for b in getattr(model, f"layer{i}")]


def test_torchvision_module_names() -> None:
    with torch.device("meta"):
        model = senet.create_model("se_resnet50")
    keys = list(model.state_dict())
    assert keys[0] == "conv1.weight" and keys[-1] == "fc.bias"
    assert "layer1.0.downsample.0.weight" in keys
    assert "layer4.2.se.fc1.weight" in keys and "layer4.2.se.fc2.bias" in keys
    assert len(keys) == 384  # layouts.md: SE-ResNet-50 has 384 state-dict entries


@pytest.mark.parametrize(
    ("name", "params"),
    [  # exact counts of the released models (layouts.md)
        ("resnet50", 25_557_032),
        ("se_resnet50", 28_088_024),
        ("se_resnext50_32x4d", 27_559_896),
        ("senet154", 115_088_984),
    ],
)
def test_parameter_counts_match_released_models(name: str, params: int) -> None:
    assert senet.complexity(name).params == params


def test_plain_twin_shares_every_non_se_tensor() -> None:
    with torch.device("meta"):
        se, plain = senet.create_model("se_resnet50"), senet.create_model("resnet50")
    se_shapes = {k: v.shape for k, v in se.state_dict().items() if ".se." not in k}
    assert se_shapes == {k: v.shape for k, v in plain.state_dict().items()}


def test_se_stages_switch() -> None:
    with torch.device("meta"):
        model = senet.create_model("se_resnet50", se_stages=(4,))
    with_se = [i for i in range(1, 5) if any(b.se is not None for b in getattr(model, f"layer{i}"))]
    assert with_se == [4]


def test_se_options_reach_every_block() -> None:
    cfg = SEConfig(reduction=8, gate="tanh", bias=False)
    with torch.device("meta"):
        model = senet.create_model("se_resnet18", se=cfg, placement="pre")
    for block in _blocks(model):
        assert block.placement == "pre" and isinstance(block.se.gate, torch.nn.Tanh)
        assert block.se.fc1.bias is None


@pytest.mark.parametrize(
    ("name", "in_1x1"), [("se_resnet50", True), ("se_resnext50_32x4d", False), ("senet154", False)]
)
def test_default_stride_placement(name: str, in_1x1: bool) -> None:
    with torch.device("meta"):
        block = senet.create_model(name).layer2[0]
    assert (block.conv1.stride == (2, 2)) is in_1x1
    assert (block.conv2.stride == (2, 2)) is not in_1x1


def test_stride_on_3x3_costs_more() -> None:
    on_1x1 = senet.complexity("se_resnet50").macs
    on_3x3 = senet.complexity("se_resnet50", stride_in_1x1=False).macs
    assert round(on_1x1 / 1e9, 2) == 3.87 and round(on_3x3 / 1e9, 2) == 4.10


def test_senet154_structure() -> None:
    with torch.device("meta"):
        model = senet.create_model("senet154")
    assert [type(m).__name__ for m in model.conv1] == ["Conv2d", "BatchNorm2d", "ReLU"] * 2 + ["Conv2d"]
    assert model.conv1[6].out_channels == 128
    first = model.layer2[0]
    assert first.conv1.out_channels * 2 == first.conv2.out_channels == 512  # first 1x1 halved
    assert first.conv2.groups == 64
    assert first.downsample[0].kernel_size == (3, 3)  # 3x3 stride-2 projection
    assert model.layer1[0].downsample[0].kernel_size == (1, 1)  # stride 1 keeps the 1x1
    assert model.dropout.p == 0.2
    assert [len(getattr(model, f"layer{i}")) for i in range(1, 5)] == [3, 8, 36, 3]


@pytest.mark.parametrize("size", [32, 57, 224])
def test_any_input_size_from_32(size: int) -> None:
    model = senet.create_model("se_resnet18", num_classes=4).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, size, size + 8)).shape == (1, 4)


def test_drop_rate_is_applied_in_training_only() -> None:
    model = senet.create_model("se_resnet18", num_classes=4, drop_rate=0.9)
    x = torch.randn(2, 3, 32, 32)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x))
    model.train()
    assert not torch.allclose(model(x), model(x))


def test_he_initialisation() -> None:
    torch.manual_seed(0)
    conv = senet.create_model("resnet50").layer3[0].conv2  # 3x3, fan_out = 256 * 9
    expected_std = (2.0 / (conv.out_channels * 9)) ** 0.5
    assert conv.weight.std().item() == pytest.approx(expected_std, rel=0.05)


def test_unknown_option_lists_valid_ones() -> None:
    with pytest.raises(TypeError, match="num_class.*valid.*num_classes"):
        senet.create_model("se_resnet50", num_class=10)
