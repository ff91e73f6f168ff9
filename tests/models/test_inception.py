"""BN-Inception and SE-BN-Inception (Fig. 2, Table 2)."""

import pytest
import torch
from model_checks import forward_backward, names_in, single_thread  # noqa: F401

import senet
from senet.complexity import complexity
from senet.layers.se import SqueezeExcite
from senet.models.inception import BN_INCEPTION_MODULES, CeilMaxPool, InceptionModule

# exact counts at 224 (params, multiply-adds) and Table 2's GFLOPs
COUNTS = {
    "bn_inception": (11_285_224, 2_032_600_064, 2.03),
    "se_bn_inception": (11_931_622, 2_035_600_832, 2.04),
}


def test_registered_names() -> None:
    assert names_in("senet.models.inception") == ["bn_inception", "se_bn_inception"]


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_complexity_reproduces_table_2(name: str) -> None:
    params, macs, printed = COUNTS[name]
    c = complexity(name)
    assert (c.input_size, c.params, c.macs) == (224, params, macs)
    assert round(c.macs / 1e9, 2) == printed


def test_module_widths_follow_the_table_and_se_scales_each_module_output() -> None:
    model = senet.create_model("se_bn_inception")
    widths = [m.out_channels for m in model.blocks]
    assert widths == [256, 320, 576, 576, 576, 608, 608, 1056, 1024, 1024]
    assert [m.se.channels for m in model.blocks] == widths
    assert sum(isinstance(m, SqueezeExcite) for m in model.modules()) == len(BN_INCEPTION_MODULES)
    assert model.num_features == 1024


def test_se_scales_the_concatenation() -> None:
    torch.manual_seed(0)
    module = InceptionModule(32, BN_INCEPTION_MODULES[0], senet.layers.se.SEConfig()).eval()
    torch.nn.init.zeros_(module.se.fc2.weight)
    torch.nn.init.constant_(module.se.fc2.bias, torch.logit(torch.tensor(0.25)).item())
    x = torch.randn(2, 32, 8, 8)
    with torch.no_grad():
        se, module.se = module.se, None
        plain = module(x)
        module.se = se
        torch.testing.assert_close(module(x), 0.25 * plain)


def test_other_sizes_and_options() -> None:
    model = senet.create_model("bn_inception", num_classes=10, in_chans=1, drop_rate=0.2).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, 32, 32)).shape == (1, 10)
        assert model.forward_features(torch.randn(1, 1, 96, 96)).shape == (1, 1024, 3, 3)
    with pytest.raises(TypeError, match="unknown option.*valid"):
        senet.create_model("bn_inception", width=2)


def test_pools_follow_the_caffe_model() -> None:
    """SE-BN-Inception.prototxt: every pool rounds up; stride-1 pools pad 1 (AVE counting the
    padding, 5b MAX), the stride-2 pools of 3c and 4e are MAX, unpadded."""
    model = senet.create_model("bn_inception")
    stem_pools = [m for m in model.stem if isinstance(m, torch.nn.MaxPool2d)]
    assert [(p.kernel_size, p.stride, p.padding, p.ceil_mode) for p in stem_pools] == [(3, 2, 0, True)] * 2
    pools = {
        row.name: block.branch_pool[0] for row, block in zip(BN_INCEPTION_MODULES, model.blocks, strict=True)
    }
    assert isinstance(pools["3c"], CeilMaxPool) and isinstance(pools["4e"], CeilMaxPool)
    assert isinstance(pools["5b"], torch.nn.MaxPool2d) and pools["5b"].padding == 1
    averages = [p for p in pools.values() if isinstance(p, torch.nn.AvgPool2d)]
    assert len(averages) == 7 and all(p.padding == 1 and p.count_include_pad for p in averages)
    x = torch.rand(1, 1, 4, 4)
    assert pools["3a"](x)[0, 0, 0, 0] == pytest.approx(float(x[0, 0, :2, :2].sum() / 9))  # Caffe's divisor


@pytest.mark.parametrize("side", [6, 7, 14, 28])
def test_stride_2_pool_is_caffes_at_even_sides_and_the_convs_size_at_odd(side: int) -> None:
    x = torch.randn(2, 3, side, side)
    got = CeilMaxPool()(x)
    conv_side = (side + 2 - 3) // 2 + 1  # the padded 3x3 stride-2 convolutions beside it
    assert got.shape[-2:] == (conv_side, conv_side)
    if side % 2 == 0:  # Caffe: ceil((H - 3) / 2) + 1 windows from 0, the last one clipped
        caffe = torch.stack(
            [torch.stack([x[..., 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].amax((-2, -1)) for j in range(conv_side)], -1)
             for i in range(conv_side)], -2
        )  # fmt: skip
        assert torch.equal(got, caffe)
