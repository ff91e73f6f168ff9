"""CIFAR residual networks (Tables 4-5): shapes, gradients, the original papers' parameter counts."""

import pytest
import torch
from model_checks import forward_backward, names_in, single_thread  # noqa: F401

import senet
from senet.complexity import complexity
from senet.layers.se import SEConfig, SqueezeExcite
from senet.models.blocks import PLACEMENTS
from senet.models.cifar import PreActBlock, ZeroPadShortcut

NAMES = names_in("senet.models.cifar")
# the exact counts we produce; the papers print them rounded to 0.1M (or 0.01M)
PARAMS = {
    "resnet20_cifar": 269_722,  # He et al. 2016a, Table 6: 0.27M
    "resnet32_cifar": 464_154,  # 0.46M
    "resnet56_cifar": 853_018,  # 0.85M
    "resnet110_cifar": 1_727_962,  # 1.7M
    "resnet164_cifar": 1_703_258,  # "Identity mappings", Table 3: 1.7M
    "wrn16_8_cifar": 10_961_370,  # Zagoruyko & Komodakis, Table 4: 11.0M
    "se_resnet20_cifar": 272_095,
    "se_resnet110_cifar": 1_742_200,
    "se_resnet164_cifar": 1_905_362,
    "se_wrn16_8_cifar": 11_049_290,
    # He et al. 2016b ("Identity mappings"), Table 3: 1.7M each, the baselines of Tables 4-5
    "preact_resnet110_cifar": 1_730_522,
    "preact_resnet164_cifar": 1_703_258,
    "se_preact_resnet110_cifar": 1_744_760,
    "se_preact_resnet164_cifar": 1_905_362,
}
PRINTED_M = {"resnet20_cifar": 0.27, "resnet32_cifar": 0.46, "resnet56_cifar": 0.85}
PRINTED_M |= {"resnet110_cifar": 1.7, "resnet164_cifar": 1.7, "wrn16_8_cifar": 11.0}
PRINTED_M |= {"preact_resnet110_cifar": 1.7, "preact_resnet164_cifar": 1.7}


def test_every_name_has_its_twin() -> None:
    plain = {n for n in NAMES if not n.startswith("se_")}
    assert plain == {
        f"{n}_cifar"
        for n in ("resnet20", "resnet32", "resnet56", "resnet110", "resnet164", "wrn16_8")
        + ("preact_resnet110", "preact_resnet164")
    }
    assert {f"se_{n}" for n in plain} == set(NAMES) - plain


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_param_counts(name: str) -> None:
    assert complexity(name, 32).params == PARAMS[name]


@pytest.mark.parametrize("name", sorted(PRINTED_M))
def test_papers_printed_params_are_rounded_counts(name: str) -> None:
    digits = 2 if PRINTED_M[name] < 1 else 1
    assert round(PARAMS[name] / 1e6, digits) == PRINTED_M[name]


def test_se_twin_differs_only_by_se_blocks() -> None:
    se, plain = senet.create_model("se_resnet56_cifar"), senet.create_model("resnet56_cifar")
    se_keys = {k for k in se.state_dict() if ".se." not in k}
    assert se_keys == set(plain.state_dict())
    assert sum(isinstance(m, SqueezeExcite) for m in se.modules()) == 27


def test_16_channel_stage_keeps_the_papers_hidden_width_of_one() -> None:
    model = senet.create_model("se_resnet20_cifar")
    widths = [
        (b.se.channels, b.se.fc1.out_channels)
        for layer in (model.layer1, model.layer2, model.layer3)
        for b in layer
    ]
    assert widths == [(16, 1)] * 3 + [(32, 2)] * 3 + [(64, 4)] * 3
    forward_backward(model, 8)  # the one hidden unit still passes gradients to W1 and W2
    floored = senet.create_model("se_resnet20_cifar", se=SEConfig(divisor=8))
    assert floored.layer1[0].se.fc1.out_channels == 8


def test_option_a_shortcut_is_parameter_free_zero_padding() -> None:
    model = senet.create_model("resnet20_cifar")
    shortcut = model.layer2[0].downsample
    assert isinstance(shortcut, ZeroPadShortcut) and not list(shortcut.parameters())
    x = torch.randn(1, 16, 8, 8)
    y = shortcut(x)
    assert y.shape == (1, 32, 4, 4)
    torch.testing.assert_close(y[:, :16], x[:, :, ::2, ::2])
    assert not y[:, 16:].any()
    assert complexity("resnet110_cifar", 32, shortcut="B").params == 1_730_714  # option B: 1.7M too


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("bottleneck", [False, True])
def test_preact_block_placements(placement: str, bottleneck: bool) -> None:
    block = PreActBlock(
        8, 16, mid=4, stride=2, bottleneck=bottleneck, se=SEConfig(reduction=4), placement=placement
    )
    assert block(torch.randn(2, 8, 8, 8)).shape == (2, 16, 4, 4)
    expected = {"pre": 8, "3x3": 4 if bottleneck else 16}.get(placement, 16)
    assert block.se.channels == expected


def test_preact_standard_placement_scales_the_branch_before_the_sum() -> None:
    torch.manual_seed(0)
    block = PreActBlock(16, 16, mid=4, bottleneck=True, se=SEConfig(reduction=4)).eval()
    torch.nn.init.zeros_(block.se.fc2.weight)
    torch.nn.init.constant_(block.se.fc2.bias, torch.logit(torch.tensor(0.25)).item())
    x = torch.randn(2, 16, 8, 8)
    with torch.no_grad():
        expected = x + 0.25 * block.residual(torch.relu(block.bn1(x)))
        torch.testing.assert_close(block(x), expected)


def test_other_input_sizes_and_options() -> None:
    model = senet.create_model("se_resnet20_cifar", num_classes=100, in_chans=1, drop_rate=0.5).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1, 40, 40)).shape == (2, 100)
    assert model.num_features == 64 and model.forward_features(torch.randn(1, 1, 32, 32)).shape == (
        1,
        64,
        8,
        8,
    )
    assert senet.create_model("wrn16_8_cifar", block_drop_rate=0.3).layer1[0].drop.p == 0.3


def test_unknown_option_names_the_valid_ones() -> None:
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['widht'\].*valid: .*'shortcut'"):
        senet.create_model("resnet20_cifar", widht=2)


# He et al. 2016b, Table 3 prints "1.7M" for both: 0.1M steps, so the count lies within 0.05M of it.
PUBLISHED_PREACT_M = {"preact_resnet110_cifar": 1.7, "preact_resnet164_cifar": 1.7}


@pytest.mark.parametrize("name", sorted(PUBLISHED_PREACT_M))
def test_preact_params_match_the_published_figure_to_its_rounding(name: str) -> None:
    assert abs(complexity(name, 32).params - PUBLISHED_PREACT_M[name] * 1e6) <= 0.05e6


def test_preact_resnet110_is_basic_preactivation_with_a_final_bn_relu() -> None:
    model = senet.create_model("se_preact_resnet110_cifar")
    blocks = [b for layer in (model.layer1, model.layer2, model.layer3) for b in layer]
    assert len(blocks) == 54 and all(isinstance(b, PreActBlock) and b.depth == 2 for b in blocks)
    assert [b.conv1.out_channels for b in blocks[::18]] == [16, 32, 64]
    assert isinstance(model.bn1, torch.nn.Identity) and model.bn_final.num_features == 64
    assert all(b.se is not None and b.se.channels == b.conv2.out_channels for b in blocks)  # on F
    assert isinstance(blocks[18].downsample, torch.nn.Conv2d)  # 1x1 projection where the shape changes
    assert [b.first for b in blocks].count(True) == 1 and blocks[0].first


def test_preact_first_unit_shares_its_activation_with_the_identity_shortcut() -> None:
    torch.manual_seed(0)
    model = senet.create_model("preact_resnet110_cifar").eval()
    first, second = model.layer1[0], model.layer1[1]
    x = torch.randn(2, 16, 8, 8)
    with torch.no_grad():
        pre = torch.relu(first.bn1(x))
        torch.testing.assert_close(first(x), first.residual(pre) + pre)  # He et al. 2016b, Sec. 4
        torch.testing.assert_close(second(x), second.residual(torch.relu(second.bn1(x))) + x)


def test_preact_resnet164_takes_the_stride_on_the_first_1x1() -> None:
    ours, older = senet.create_model("preact_resnet164_cifar"), senet.create_model("resnet164_cifar")
    assert (ours.layer2[0].conv1.stride, ours.layer2[0].conv2.stride) == ((2, 2), (1, 1))
    assert (older.layer2[0].conv1.stride, older.layer2[0].conv2.stride) == ((1, 1), (2, 2))
    assert [b.conv3.out_channels for b in (ours.layer1[0], ours.layer2[0], ours.layer3[0])] == [64, 128, 256]
    assert [b.conv2.out_channels for b in (ours.layer1[0], ours.layer2[0], ours.layer3[0])] == [16, 32, 64]
    assert sum(len(layer) for layer in (ours.layer1, ours.layer2, ours.layer3)) == 54
    assert set(ours.state_dict()) == set(older.state_dict())  # the same parameters, other strides
    assert complexity("preact_resnet164_cifar", 32).macs < complexity("resnet164_cifar", 32).macs


@pytest.mark.parametrize("name", ["se_preact_resnet110_cifar", "se_preact_resnet164_cifar"])
def test_preact_pairs_train(name: str) -> None:
    forward_backward(senet.create_model(name, num_classes=100), 32, num_classes=100)
