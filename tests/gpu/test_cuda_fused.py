"""The fused SE ops of senet.layers.fused on each device, forward and backward, against the plain
formulation ``relu(u * F_ex(F_sq(u)) + shortcut)`` (Eq. 4 and the residual sum), in fp32 and
under bf16 / fp16 autocast, with contiguous and channels_last activations."""

from __future__ import annotations

import pytest
import torch
from cuda_fixtures import DEVICES, autocast, on

from senet.layers.fused import scale_add_relu, se_residual
from senet.layers.se import SEConfig, SqueezeExcite

#: (rtol, atol) of outputs and gradients: fp32 up to float rounding, autocast up to its dtype.
TOLERANCES = {"fp32": (1e-5, 1e-5), "bf16": (3e-2, 3e-2), "fp16": (3e-3, 3e-3)}


def _inputs(device: str, channels_last: bool, c: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    u = torch.randn(4, c, 7, 7, generator=gen).to(device, memory_format=fmt)  # (N, C, H, W)
    shortcut = torch.randn(4, c, 7, 7, generator=gen).to(device, memory_format=fmt)
    return u.requires_grad_(), shortcut.requires_grad_()


def _grads(out: torch.Tensor, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    weight = torch.linspace(-1, 1, out.numel(), device=out.device).view_as(out)  # a non-uniform upstream grad
    return list(torch.autograd.grad((out.float() * weight).sum(), tensors))


def _close(got: torch.Tensor, ref: torch.Tensor, precision: str, what: str) -> None:
    rtol, atol = TOLERANCES[precision]
    scale = ref.abs().max().item() or 1.0
    err = (got.float() - ref.float()).abs().max().item()
    assert err <= atol * scale + rtol * scale, (
        f"{what} ({precision}): max |diff| {err:.3e}, scale {scale:.3e}"
    )


@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "nhwc"])
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bias", [True, False])
def test_se_residual_matches_the_plain_form(
    device: str, precision: str, channels_last: bool, bias: bool
) -> None:
    on(device, precision)
    torch.manual_seed(0)
    se = SqueezeExcite(32, SEConfig(reduction=4, bias=bias)).to(device)
    u, shortcut = _inputs(device, channels_last)
    leaves = [u, shortcut, *se.parameters()]
    with autocast(device, precision):
        fused = se_residual(se, u, shortcut)  # (N, C, H, W)
        plain = torch.relu(u * se.excitation(u) + shortcut)
    _close(fused, plain, precision, "output")
    for i, (g_fused, g_plain) in enumerate(zip(_grads(fused, leaves), _grads(plain, leaves), strict=True)):
        _close(g_fused, g_plain, precision, f"gradient {i}")


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
@pytest.mark.parametrize("device", DEVICES)
def test_scale_add_relu_matches_the_plain_form(device: str, precision: str) -> None:
    on(device, precision)
    u, shortcut = _inputs(device, channels_last=False)
    s = torch.rand(4, 32, 1, 1, device=device, requires_grad=True)  # (N, C, 1, 1), gate values
    with autocast(device, precision):
        fused = scale_add_relu(u, s, shortcut)
        plain = torch.relu(u * s + shortcut)
    _close(fused, plain, precision, "output")
    for g_fused, g_plain in zip(
        _grads(fused, [u, s, shortcut]), _grads(plain, [u, s, shortcut]), strict=True
    ):
        _close(g_fused, g_plain, precision, "gradient")
