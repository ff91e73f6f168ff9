"""BN folding (senet.fast.fold): exact in eval mode, refuses what it cannot fold."""

from __future__ import annotations

import pytest
import torch
from fast_fixtures import randomize_bn
from torch import nn

from senet.fast.fold import fold_batch_norms, fold_conv_bn


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("groups", [1, 4])
def test_fold_conv_bn_equals_conv_then_bn(bias: bool, groups: int) -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, 2, 1, groups=groups, bias=bias)
    bn = randomize_bn(nn.Sequential(nn.BatchNorm2d(16)))[0].eval()
    x = torch.randn(2, 8, 9, 9)
    folded = fold_conv_bn(conv, bn)
    assert folded.bias is not None and folded.stride == (2, 2) and folded.groups == groups
    torch.testing.assert_close(folded(x), bn(conv(x)), atol=1e-5, rtol=1e-5)


def test_fold_conv_bn_rejects_mismatch_and_missing_stats() -> None:
    with pytest.raises(ValueError, match="8 features"):
        fold_conv_bn(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(8))
    with pytest.raises(ValueError, match="running statistics"):
        fold_conv_bn(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4, track_running_stats=False))


class _Pairs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 1))
        self.bn1 = nn.BatchNorm2d(6)
        self.body = nn.Sequential(nn.Conv2d(6, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.bn1(self.conv1(x)))


def test_fold_batch_norms_sequential_and_named_pairs() -> None:
    torch.manual_seed(0)
    model = randomize_bn(_Pairs()).eval()
    x = torch.randn(2, 3, 8, 8)
    ref = model(x)
    assert fold_batch_norms(model, pairs_in=lambda m: isinstance(m, _Pairs)) == 2
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    torch.testing.assert_close(model(x), ref, atol=1e-5, rtol=1e-5)


def test_fold_batch_norms_leaves_named_pairs_outside_pairs_in() -> None:
    model = _Pairs().eval()
    assert fold_batch_norms(model, pairs_in=lambda m: False) == 1  # only the Sequential pair
    assert isinstance(model.bn1, nn.BatchNorm2d)
