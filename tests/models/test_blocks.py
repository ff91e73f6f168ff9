"""Residual blocks: each SE placement computes what Fig. 5 / Tables 14-15 describe."""

import pytest
import torch
from torch import nn

from senet.layers.se import SEConfig
from senet.models.blocks import PLACEMENTS, BasicBlock, Bottleneck

GATE = 0.3  # the constant excitation the tests force: sigmoid(GATE_LOGIT)
GATE_LOGIT = torch.logit(torch.tensor(GATE)).item()


def _block(kind: str, placement: str, se: bool = True) -> nn.Module:
    torch.manual_seed(0)
    cfg = SEConfig(reduction=4) if se else None
    if kind == "basic":
        block = BasicBlock(8, 16, stride=2, se=cfg, placement=placement)
    else:
        block = Bottleneck(8, 16, mid=8, stride=2, se=cfg, placement=placement)
    for m in block.modules():  # non-trivial BN statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    if se:
        nn.init.zeros_(block.se.fc2.weight)
        nn.init.constant_(block.se.fc2.bias, GATE_LOGIT)
    return block.eval()


@pytest.mark.parametrize("kind", ["basic", "bottleneck"])
@pytest.mark.parametrize("placement", PLACEMENTS)
def test_placement_computes_its_figure(kind: str, placement: str) -> None:
    block = _block(kind, placement)
    plain = _block(kind, placement, se=False)
    plain.load_state_dict({k: v for k, v in block.state_dict().items() if not k.startswith("se.")})
    x = torch.randn(2, 8, 8, 8)
    shortcut = plain.downsample(x)
    with torch.no_grad():
        expected = {
            "standard": torch.relu(GATE * plain.residual(x) + shortcut),
            "pre": torch.relu(plain.residual(GATE * x) + shortcut),
            "post": GATE * torch.relu(plain.residual(x) + shortcut),
            "identity": torch.relu(plain.residual(x) + GATE * shortcut),
        }.get(placement)
        if placement == "3x3":  # scale the 3x3 conv's output, before the last conv
            out = x
            if kind == "basic":
                out = GATE * plain.relu(plain.bn1(plain.conv1(out)))
                expected = torch.relu(plain.bn2(plain.conv2(out)) + shortcut)
            else:
                out = plain.relu(plain.bn1(plain.conv1(out)))
                out = GATE * plain.relu(plain.bn2(plain.conv2(out)))
                expected = torch.relu(plain.bn3(plain.conv3(out)) + shortcut)
        torch.testing.assert_close(block(x), expected)


@pytest.mark.parametrize(
    ("placement", "channels"), [("standard", 16), ("pre", 8), ("post", 16), ("identity", 16)]
)
def test_se_width_follows_its_placement(placement: str, channels: int) -> None:
    assert _block("bottleneck", placement).se.channels == channels


def test_se_3x3_sees_the_3x3_width() -> None:
    block = Bottleneck(64, 256, mid=32, se=SEConfig(), placement="3x3")
    assert block.se.channels == 32


def test_unknown_placement_is_refused() -> None:
    with pytest.raises(ValueError, match="placement 'after'"):
        Bottleneck(8, 16, mid=8, se=SEConfig(), placement="after")


@pytest.mark.parametrize(("stride_in_1x1", "strides"), [(True, ((2, 2), (1, 1))), (False, ((1, 1), (2, 2)))])
def test_stride_placement(stride_in_1x1: bool, strides: tuple) -> None:
    block = Bottleneck(64, 256, mid=64, stride=2, stride_in_1x1=stride_in_1x1)
    assert (block.conv1.stride, block.conv2.stride) == strides
    assert block(torch.randn(1, 64, 8, 8)).shape == (1, 256, 4, 4)


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_every_placement_trains(placement: str) -> None:
    torch.manual_seed(0)
    block = Bottleneck(8, 16, mid=8, stride=2, se=SEConfig(reduction=4), placement=placement).train()
    x = torch.randn(2, 8, 8, 8, requires_grad=True)
    block(x).square().mean().backward()
    assert x.grad is not None and all(p.grad is not None for p in block.parameters())
