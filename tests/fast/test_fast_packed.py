"""Prepacked oneDNN convolutions (senet.fast.packed): equal to conv2d, with fused post-ops."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from senet.fast.packed import PackedConv, conv_add_relu_, conv_relu, pack_convolutions, packing_supported

pytestmark = pytest.mark.skipif(not packing_supported(torch.float32), reason="oneDNN prepacking unavailable")


@pytest.mark.parametrize(("kernel", "stride", "groups"), [(1, 1, 1), (3, 2, 1), (3, 1, 4), (1, 2, 1)])
def test_packed_conv_matches_conv2d(kernel: int, stride: int, groups: int) -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, kernel, stride, kernel // 2, groups=groups, bias=True).eval()
    packed = PackedConv(conv)
    for batch, size in ((1, 9), (3, 9), (2, 6)):  # a new input size packs again
        x = torch.randn(batch, 8, size, size).to(memory_format=torch.channels_last)
        with torch.no_grad():
            ref = conv(x)
            torch.testing.assert_close(packed(x), ref, atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(conv_relu(packed, x), ref.relu(), atol=1e-5, rtol=1e-5)
            other = torch.randn_like(ref)
            want = (ref + other).relu()
            got = conv_add_relu_(packed, x, other)
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
            assert got.data_ptr() == other.data_ptr()  # written in place
    assert len(packed._packed) == 2


def test_pack_convolutions_skips_listed_modules() -> None:
    class Keep(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Conv2d(4, 4, 1)

    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), Keep(), nn.Conv2d(4, 4, 1, padding="same"))
    assert pack_convolutions(model, skip=(Keep,)) == 1
    assert isinstance(model[0], PackedConv) and type(model[1].fc) is nn.Conv2d and type(model[2]) is nn.Conv2d


def test_unpacked_fallbacks_equal() -> None:
    conv = nn.Conv2d(4, 4, 3, padding=1)
    x, other = torch.randn(1, 4, 5, 5), torch.randn(1, 4, 5, 5)
    with torch.no_grad():
        torch.testing.assert_close(conv_relu(conv, x), F.relu(conv(x)))
        torch.testing.assert_close(conv_add_relu_(conv, x, other.clone()), F.relu(conv(x) + other))
