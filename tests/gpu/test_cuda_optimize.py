"""senet.optimize on each device: fp32 logits equal eager (up to rounding), bf16 agrees, the
optimised model runs under fp16 autocast, channels_last or not, and compiled on CUDA."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from cuda_fixtures import CUDA, DEVICES, autocast, on
from torch import nn

import senet

#: max |optimised - eager| / max |eager| in fp32: BN folding reorders sums (CPU); cuDNN picks
#: other algorithms for the folded convolutions (CUDA, TF32 off).
FP32_TOLERANCE = {"cpu": 1e-5, "cuda": 1e-3}


@pytest.fixture(autouse=True)
def no_tf32() -> Iterator[None]:
    """fp32 convolutions in full fp32 on CUDA (TF32 is cuDNN's default): the comparisons are of
    the model transformations, not of the tensor cores' rounding."""
    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32 = before


def _model(name: str, device: str) -> nn.Module:
    """``name`` in eval mode with random BN statistics (folding is exercised) and a wide classifier."""
    torch.manual_seed(0)
    model = senet.create_model(name)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=gen))
        model.fc.weight.normal_(0.0, 1.0 / model.fc.in_features**0.5, generator=gen)
    return model.to(device).eval()


def _relative_error(got: torch.Tensor, ref: torch.Tensor) -> float:
    return ((got.float() - ref.float()).abs().max() / ref.abs().max()).item()


@pytest.mark.parametrize("channels_last", [True, False], ids=["nhwc", "nchw"])
@pytest.mark.parametrize("device", DEVICES)
def test_fp32_optimized_equals_eager(device: str, channels_last: bool) -> None:
    model = _model("se_resnet50", device)
    x = torch.randn(2, 3, 64, 64, device=device)
    with torch.no_grad():
        ref = model(x)
        got = senet.optimize(model, channels_last=channels_last)(x)
    assert got.dtype == torch.float32 and got.device == ref.device
    assert _relative_error(got, ref) <= FP32_TOLERANCE[device]


@pytest.mark.parametrize("device", DEVICES)
def test_bf16_optimized_agrees_on_top1(device: str) -> None:
    model = _model("se_resnet50", device)
    x = torch.randn(16, 3, 64, 64, device=device)
    with torch.no_grad():
        ref = model(x)
        got = senet.optimize(model, dtype=torch.bfloat16)(x)
    assert got.dtype == torch.float32
    assert _relative_error(got, ref) <= 0.1
    assert (got.argmax(1) == ref.argmax(1)).float().mean().item() >= 0.75


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
@pytest.mark.parametrize("device", DEVICES)
def test_optimized_under_autocast_agrees_with_eager_under_autocast(device: str, precision: str) -> None:
    """``optimize`` takes float32 or bfloat16 weights; fp16 on a GPU is the fp32-optimised model
    run under fp16 autocast (its fused SE tail then runs in fp16 as well)."""
    on(device, precision)
    model = _model("se_resnet50", device)
    x = torch.randn(8, 3, 64, 64, device=device)
    fast = senet.optimize(model)
    with torch.no_grad(), autocast(device, precision):
        ref, got = model(x).float(), fast(x)
    assert _relative_error(got, ref) <= {"bf16": 0.1, "fp16": 0.02}[precision]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("device", [CUDA])
def test_compiled_optimized_agrees_with_eager(device: str, dtype: torch.dtype) -> None:
    """``optimize(compile=True)`` (Inductor with freezing) on a small CIFAR SE-ResNet; on a CPU it
    needs a C++ compiler and minutes, so it is a CUDA check."""
    model = _model("se_resnet20_cifar", device)
    x = torch.randn(8, 3, 32, 32, device=device)
    with torch.no_grad():
        ref = model(x)
        got = senet.optimize(model, dtype=dtype, compile=True)(x)
    limit = 1e-3 if dtype == torch.float32 else 0.1
    assert got.dtype == torch.float32 and _relative_error(got, ref) <= limit
