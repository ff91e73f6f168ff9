"""The one conv -> BN (-> ReLU) helper: keys, padding, groups and the optional activation."""

import pytest
import torch
from torch import nn

from senet.layers.conv import conv_norm_act


@pytest.mark.parametrize("act", [True, False])
def test_keys_and_layers(act: bool) -> None:
    block = conv_norm_act(4, 8, 3, 2, act=act)
    kinds = [type(m) for m in block]
    assert kinds == [nn.Conv2d, nn.BatchNorm2d] + ([nn.ReLU] if act else [])
    assert list(block.state_dict())[:2] == ["0.weight", "1.weight"]
    conv = block[0]
    assert conv.bias is None and conv.padding == (1, 1) and conv.stride == (2, 2)
    assert block(torch.randn(2, 4, 8, 8)).shape == (2, 8, 4, 4)


def test_rectangular_kernels_valid_padding_and_groups() -> None:
    assert conv_norm_act(4, 8, (1, 7))[0].padding == (0, 3)
    assert conv_norm_act(4, 8, 3, padding=(0, 0))[0].padding == (0, 0)
    depthwise = conv_norm_act(4, 4, 3, groups=4)[0]
    assert depthwise.groups == 4 and depthwise.weight.shape == (4, 1, 3, 3)
