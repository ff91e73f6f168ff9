"""Every registered model, forward and backward under fp32 / bf16 / fp16 autocast on CUDA, at
its smallest input; autocast logits agree with fp32 ones (CPU cases: bf16 on two small models)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from cuda_fixtures import CUDA, DEVICES, NEEDS_CUDA, PRECISIONS, autocast, on
from torch import nn

import senet


def _in_chans(model: nn.Module) -> int:
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d)).in_channels


def forward_backward(name: str, device: str, precision: str, batch: int = 4) -> None:
    """Train-mode forward of random images under autocast, cross-entropy, backward: finite logits
    of the right shape, and a finite float32 gradient for every parameter (weights stay fp32)."""
    torch.manual_seed(0)
    model = senet.create_model(name, num_classes=5).to(device).train()
    size = getattr(model, "min_input_size", 32)
    x = torch.randn(batch, _in_chans(model), size, size, device=device)  # (N, C_in, H, W)
    y = torch.arange(batch, device=device) % 5
    with autocast(device, precision):
        logits = model(x)  # (N, 5)
        loss = F.cross_entropy(logits.float(), y)
    loss.backward()
    assert logits.shape == (batch, 5) and torch.isfinite(logits).all(), f"{name}: {logits}"
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"{name}: parameters without a gradient: {missing[:5]}"
    bad = [
        n for n, p in model.named_parameters() if p.grad.dtype != torch.float32 or not p.grad.isfinite().all()
    ]
    assert not bad, f"{name} {precision}: non-finite or non-fp32 gradients: {bad[:5]}"


@pytest.mark.cuda
@NEEDS_CUDA
@pytest.mark.parametrize("precision", list(PRECISIONS))
@pytest.mark.parametrize("name", senet.list_models())
def test_every_model_forward_backward_on_cuda(name: str, precision: str) -> None:
    forward_backward(name, "cuda", precision)


@pytest.mark.parametrize("name", ["se_resnet20_cifar", "se_mobilenet_v1"])
def test_forward_backward_under_bf16_autocast_on_cpu(name: str) -> None:
    forward_backward(name, "cpu", "bf16")


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
@pytest.mark.parametrize("device", DEVICES)
def test_autocast_logits_agree_with_fp32(device: str, precision: str) -> None:
    """SE-ResNet-50 (train-mode BN, so activations stay O(1)): the autocast logits are within a
    few per cent of the logits' scale of the fp32 ones (bf16 keeps 8 bits of mantissa, fp16 11)."""
    on(device, precision)
    torch.manual_seed(0)
    model = senet.create_model("se_resnet50", num_classes=10).to(device).train()
    x = torch.randn(4, 3, 64, 64, device=device)
    with torch.no_grad():
        ref = model(x)  # (4, 10)
        with autocast(device, precision):
            got = model(x).float()
    scale = ref.abs().max().item()
    limit = {"bf16": 0.1, "fp16": 0.02}[precision] * scale
    assert scale > 0 and (got - ref).abs().max().item() <= limit, (
        f"{(got - ref).abs().max().item()} > {limit}"
    )


@pytest.mark.parametrize("device", [CUDA])
def test_channels_last_training_step_keeps_the_layout(device: str) -> None:
    """A channels_last SE-ResNet trains under bf16 autocast, and its conv gradients stay NHWC."""
    torch.manual_seed(0)
    model = senet.create_model("se_resnet18", num_classes=5).to(device).to(memory_format=torch.channels_last)
    x = torch.randn(8, 3, 64, 64, device=device).to(memory_format=torch.channels_last)
    with autocast(device, "bf16"):
        loss = F.cross_entropy(model(x).float(), torch.arange(8, device=device) % 5)
    loss.backward()
    assert model.conv1.weight.grad.is_contiguous(memory_format=torch.channels_last)
    assert torch.isfinite(loss)
