"""benchmarks/conv_kernels.py: the alternative convolution kernels it times compute aten's results."""

from __future__ import annotations

import torch
from bench_scripts import load_script
from torch import nn


def test_alternative_kernels_match_aten() -> None:
    script = load_script("conv_kernels")
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3, padding=1, bias=False)
    x = torch.randn(2, 4, 5, 7).contiguous(memory_format=torch.channels_last)
    steps = script.kernels(conv, x)
    assert set(steps) == set(script.NAMES)
    torch.testing.assert_close(steps["fwd"](), conv(x).detach())
    for name in ("wgrad_gemm", "wgrad_conv"):
        torch.testing.assert_close(steps[name](), steps["wgrad"](), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(steps["dgrad_conv"](), steps["dgrad"](), rtol=1e-4, atol=1e-5)


def test_conv_inputs_finds_every_3x3_convolution() -> None:
    script = load_script("conv_kernels")
    model = nn.Sequential(nn.Conv2d(3, 4, 2), nn.Conv2d(4, 5, 3, padding=1), nn.Conv2d(5, 5, 3, padding=1))
    found = script.conv_inputs(model, torch.randn(1, 3, 9, 9))
    assert [c for c, _ in found] == [model[1], model[2]]
    assert [tuple(x.shape) for _, x in found] == [(1, 4, 8, 8), (1, 5, 8, 8)]
