"""The fused SE ops (senet.layers.fused): gradcheck in float64 and equality with the plain form."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from senet.layers.fused import ScaleAddReLU, SEResidual, fusable, scale_add_relu, se_residual
from senet.layers.se import SEConfig, SqueezeExcite
from senet.models.blocks import BasicBlock


def _plain(se: SqueezeExcite, u: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
    return torch.relu(u * se.excitation(u) + shortcut)


def test_scale_add_relu_gradcheck() -> None:
    gen = torch.Generator().manual_seed(0)
    u = torch.randn(2, 3, 4, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    s = torch.rand(2, 3, 1, 1, dtype=torch.float64, generator=gen, requires_grad=True)
    shortcut = torch.randn(2, 3, 4, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(ScaleAddReLU.apply, (u, s, shortcut))
    s_full = torch.rand(2, 3, 4, 5, dtype=torch.float64, generator=gen, requires_grad=True)  # NoSqueeze
    assert torch.autograd.gradcheck(ScaleAddReLU.apply, (u, s_full, shortcut))


@pytest.mark.parametrize("gate", [torch.sigmoid, torch.tanh])
@pytest.mark.parametrize("bias", [True, False])
def test_se_residual_gradcheck(gate, bias: bool) -> None:
    gen = torch.Generator().manual_seed(1)

    def t(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, dtype=torch.float64, generator=gen, requires_grad=True)

    u, shortcut = t(2, 8, 3, 4), t(2, 8, 3, 4)
    w1, w2 = t(2, 8, 1, 1), t(8, 2, 1, 1)
    b1, b2 = (t(2), t(8)) if bias else (None, None)

    def fn(u, shortcut, w1, w2, *b):
        b1, b2 = b if b else (None, None)
        return SEResidual.apply(u, shortcut, gate, w1, b1, w2, b2)

    assert torch.autograd.gradcheck(fn, (u, shortcut, w1, w2, *((b1, b2) if bias else ())))


@pytest.mark.parametrize(
    "config",
    [SEConfig(reduction=4), SEConfig(reduction=4, gate="tanh", bias=False), SEConfig(reduction=4, squeeze="max"),
     SEConfig(reduction=4, squeeze="none"), SEConfig(reduction=4, gate="relu")],
    ids=["avg-sigmoid", "tanh-nobias", "max", "none", "relu-gate"],
)  # fmt: skip
def test_se_residual_matches_plain_forward_and_gradients(config: SEConfig) -> None:
    torch.manual_seed(0)
    se = SqueezeExcite(16, config).double()
    u0, sc0 = torch.randn(3, 16, 5, 5, dtype=torch.float64), torch.randn(3, 16, 5, 5, dtype=torch.float64)
    grad = torch.randn(3, 16, 5, 5, dtype=torch.float64)
    outs, grads = [], []
    for fn in (_plain, se_residual):
        u, sc = u0.clone().requires_grad_(), sc0.clone().requires_grad_()
        se.zero_grad()
        out = fn(se, u, sc)
        out.backward(grad)
        outs.append(out.detach())
        grads.append([u.grad, sc.grad, *(p.grad for p in se.parameters())])
    torch.testing.assert_close(outs[1], outs[0], atol=1e-12, rtol=1e-12)
    for got, want in zip(grads[1], grads[0], strict=True):
        torch.testing.assert_close(got, want, atol=1e-10, rtol=1e-10)


def test_fusable_and_no_grad_path() -> None:
    assert fusable(SqueezeExcite(8)) and not fusable(SqueezeExcite(8, SEConfig(squeeze="max")))
    se = SqueezeExcite(8, SEConfig(reduction=2))
    u, sc = torch.randn(2, 8, 3, 3), torch.randn(2, 8, 3, 3)
    with torch.no_grad():
        torch.testing.assert_close(se_residual(se, u, sc), _plain(se, u, sc))
        torch.testing.assert_close(scale_add_relu(u, se.excitation(u), sc), _plain(se, u, sc))


def test_gate_hook_sees_excitations_once() -> None:
    se = SqueezeExcite(8, SEConfig(reduction=2))
    seen: list[torch.Tensor] = []
    se.gate.register_forward_hook(lambda m, i, o: seen.append(o.detach()))
    u = torch.randn(2, 8, 3, 3, requires_grad=True)
    se_residual(se, u, torch.zeros(2, 8, 3, 3)).sum().backward()
    assert len(seen) == 1 and seen[0].shape == (2, 8)
    torch.testing.assert_close(seen[0], se.excitation(u.detach()).flatten(1))


def test_blocks_route_standard_placement_through_fused_op() -> None:
    torch.manual_seed(0)
    block = BasicBlock(8, 8, se=SEConfig(reduction=4)).train()
    x = torch.randn(2, 8, 6, 6, requires_grad=True)
    out = block(x)
    assert out.grad_fn is not None and "SEResidual" in type(out.grad_fn).__name__
    assert isinstance(block.se, nn.Module)


def _leaves(gen: torch.Generator, n: int, c: int, size: int, channels_last: bool, bias: bool) -> tuple:
    fmt = torch.channels_last if channels_last else torch.contiguous_format

    def t(*shape: int, fmt: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
        x = torch.randn(*shape, dtype=torch.float64, generator=gen).to(memory_format=fmt)
        return x.requires_grad_()

    u, shortcut = t(n, c, size, size, fmt=fmt), t(n, c, size, size, fmt=fmt)
    w1, w2 = t(2, c, 1, 1), t(c, 2, 1, 1)
    return (u, shortcut, w1, w2, *((t(2), t(c)) if bias else ()))


def _apply(gate):
    def fn(u, shortcut, w1, w2, *b):
        b1, b2 = b if b else (None, None)
        return SEResidual.apply(u, shortcut, gate, w1, b1, w2, b2)

    return fn


@pytest.mark.parametrize(
    ("gate", "size", "channels_last"),
    [
        (torch.relu, 3, False),  # hand-written ReLU-gate derivative
        (lambda a: torch.sigmoid(a) * 2.0, 3, False),  # no hand-written derivative: autograd
        (torch.sigmoid, 16, False),  # NCHW, 16 x 16: sum_hw(g u) as a batched dot product
        (torch.sigmoid, 16, True),  # channels_last: multiply and sum
    ],
    ids=["relu-gate", "unknown-gate", "nchw-dot", "channels-last"],
)
def test_se_residual_gradcheck_routes(gate, size: int, channels_last: bool) -> None:
    gen = torch.Generator().manual_seed(2)
    leaves = _leaves(gen, 2, 3, size, channels_last, bias=True)
    assert torch.autograd.gradcheck(_apply(gate), leaves)


@pytest.mark.parametrize("channels_last", [False, True])
def test_scale_add_relu_gradcheck_layouts(channels_last: bool) -> None:
    gen = torch.Generator().manual_seed(3)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    u = torch.randn(2, 3, 16, 16, dtype=torch.float64, generator=gen).to(memory_format=fmt).requires_grad_()
    s = torch.rand(2, 3, 1, 1, dtype=torch.float64, generator=gen, requires_grad=True)
    shortcut = torch.randn(2, 3, 16, 16, dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(ScaleAddReLU.apply, (u, s, shortcut))


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("gate", ["sigmoid", "tanh"])
def test_se_residual_under_bf16_autocast_as_close_as_autograd(gate: str, channels_last: bool) -> None:
    """Under bf16 autocast, the fused op's output and gradients are as close to the float32 ones
    as autograd of the eager form under the same autocast (bf16 rounding, including ReLU mask
    flips near 0, moves both); weight gradients stay float32."""
    torch.manual_seed(0)
    se = SqueezeExcite(32, SEConfig(reduction=4, gate=gate))
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    u0 = torch.randn(4, 32, 16, 16).to(memory_format=fmt)
    sc0 = torch.randn(4, 32, 16, 16).to(memory_format=fmt)
    grad = torch.randn(4, 32, 16, 16)
    results = []
    for fn, bf16 in ((_plain, False), (_plain, True), (se_residual, True)):
        u, sc = u0.clone().requires_grad_(), sc0.clone().requires_grad_()
        se.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = fn(se, u.bfloat16() if bf16 else u, sc.bfloat16() if bf16 else sc)
        out.float().backward(grad)
        results.append([out.float().detach(), u.grad, sc.grad, *(p.grad for p in se.parameters())])
        assert all(p.grad.dtype == torch.float32 for p in se.parameters())
    for want, eager, fused in zip(*results, strict=True):
        scale = want.abs().max()
        eager_err = ((eager.float() - want).abs().max() / scale).item()
        fused_err = ((fused.float() - want).abs().max() / scale).item()
        assert fused_err <= 2 * eager_err + 0.01, (fused_err, eager_err)


def test_weight_gradients_keep_the_weights_strides() -> None:
    """DDP buckets expect each gradient in its parameter's layout (channels_last SE weights too)."""
    from senet.layers.fused import se_residual
    from senet.layers.se import SEConfig, SqueezeExcite

    se = SqueezeExcite(64, SEConfig()).to(memory_format=torch.channels_last)
    u = torch.randn(2, 64, 4, 4).to(memory_format=torch.channels_last).requires_grad_()
    se_residual(se, u, torch.randn_like(u)).sum().backward()
    for w in (se.fc1.weight, se.fc2.weight):
        assert w.grad is not None and w.grad.stride() == w.stride()
