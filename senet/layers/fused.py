"""SE operations that cost fewer memory passes than the plain formulation (Sec. 3, Eq. 4).

The SE block itself is cheap in FLOPs; what it costs on a CPU is memory traffic: global pooling
F_sq, the scale F_scale (x~_c = s_c * u_c) and, in the standard placement, the residual sum and
ReLU as separate passes over a (N, C, H, W) tensor, each keeping a full-size intermediate for
backward. The released Caffe models fused the scale with the residual sum ("Axpy") for this
reason. Here the same fusion is a ``torch.autograd.Function``:

- :class:`ScaleAddReLU`: ``relu(u * s + shortcut)`` in two passes (``addcmul`` then an in-place
  ``relu``) instead of three, with one full-size temporary instead of three; it saves u, s and
  the output, and the ReLU mask is recomputed from the output.
- :class:`SEResidual`: the whole standard-placement tail ``relu(u * F_ex(F_sq(u)) + shortcut)``
  with average squeeze. Forward keeps u, the pooled z (N, C) and the output (the same full-size
  tensors as the plain graph, none of the small ones); backward recomputes
  s = sigma(W2 delta(W1 z)) from z (a few hundred numbers per sample) and writes the gradient
  of u in one ``addcmul`` pass that also carries the pooling gradient (the plain graph needs a
  multiply, then an accumulation of the pooling gradient).

:func:`se_residual` picks the cheapest correct path for a :class:`SqueezeExcite` module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import FunctionCtx

from senet.layers.se import SqueezeExcite

# The gate sigma as a plain function, for the recomputation in backward (no module hooks).
_GATE_FUNCTIONS: dict[type[nn.Module], Callable[[torch.Tensor], torch.Tensor]] = {
    nn.Sigmoid: torch.sigmoid,
    nn.Tanh: torch.tanh,
    nn.ReLU: torch.relu,
}


def _relu_grad(grad_out: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """d relu / d input given the relu's output: ``grad_out`` where ``out > 0``, else 0."""
    return torch.ops.aten.threshold_backward(grad_out, out, 0)


def _spatial_dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """sum_{h,w} a * b per (sample, channel): (N, C, H, W) x2 -> (N, C, 1, 1)."""
    return torch.einsum("nchw,nchw->nc", a, b)[:, :, None, None]


class ScaleAddReLU(torch.autograd.Function):
    """``relu(u * s + shortcut)``: F_scale of Eq. 4, the residual sum and the ReLU in one op.

    Shapes: u and shortcut (N, C, H, W); s (N, C, 1, 1) (or (N, C, H, W) without a squeeze).
    """

    @staticmethod
    def forward(ctx: FunctionCtx, u: torch.Tensor, s: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        out = torch.addcmul(shortcut, u, s).relu_()  # (N, C, H, W)
        ctx.save_for_backward(u, s, out)
        return out

    @staticmethod
    def backward(ctx: FunctionCtx, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        u, s, out = ctx.saved_tensors
        g = _relu_grad(grad_out, out)  # d loss / d (u * s + shortcut)
        grad_u = g * s if ctx.needs_input_grad[0] else None
        grad_s = None
        if ctx.needs_input_grad[1]:
            if s.shape[2:] != (1, 1):
                grad_s = (g * u).sum_to_size(s.shape)
            else:
                grad_s = _spatial_dot(g, u) if _dot_by_matmul(u) else (g * u).sum((2, 3), keepdim=True)
        return grad_u, grad_s, g if ctx.needs_input_grad[2] else None


def scale_add_relu(u: torch.Tensor, s: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
    """``relu(u * s + shortcut)`` with the fused backward of :class:`ScaleAddReLU` when needed."""
    if torch.is_grad_enabled() and (u.requires_grad or s.requires_grad or shortcut.requires_grad):
        return ScaleAddReLU.apply(u, s, shortcut)
    return torch.addcmul(shortcut, u, s).relu_()


def excite(
    z: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor | None,
    w2: torch.Tensor,
    b2: torch.Tensor | None,
    gate: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """F_ex of Eq. 3 on pooled descriptors: s = sigma(W2 delta(W1 z)), (N, C) -> (N, C).

    ``w1`` (C', C, 1, 1) and ``w2`` (C, C', 1, 1) are the 1x1-convolution weights of
    :class:`SqueezeExcite`; on a (N, C) vector they are fully-connected layers.
    """
    hidden = F.relu(F.linear(z, w1.flatten(1), b1))  # (N, C'), delta
    return gate(F.linear(hidden, w2.flatten(1), b2))  # (N, C), sigma


class SEResidual(torch.autograd.Function):
    """``relu(u * sigma(W2 delta(W1 mean_hw(u))) + shortcut)``: the standard placement's tail.

    Saves u, the pooled z (N, C) and the output; s is recomputed from z in backward.
    """

    @staticmethod
    def forward(
        ctx: FunctionCtx,
        u: torch.Tensor,
        shortcut: torch.Tensor,
        gate: Callable[[torch.Tensor], torch.Tensor],
        w1: torch.Tensor,
        b1: torch.Tensor | None,
        w2: torch.Tensor,
        b2: torch.Tensor | None,
    ) -> torch.Tensor:
        z = u.mean((2, 3))  # (N, C), F_sq, Eq. 2
        s = excite(z, w1, b1, w2, b2, gate)  # (N, C), F_ex, Eq. 3
        out = torch.addcmul(shortcut, u, s[:, :, None, None]).relu_()  # (N, C, H, W)
        ctx.save_for_backward(u, z, out, w1, b1, w2, b2)
        ctx.gate = _GATE_FUNCTIONS.get(type(gate), gate)  # a function of _GATE_BACKWARD where known
        device = u.device.type  # the recomputation in backward runs under forward's autocast
        ctx.autocast = (device, torch.get_autocast_dtype(device), torch.is_autocast_enabled(device))
        return out

    @staticmethod
    def backward(ctx: FunctionCtx, grad_out: torch.Tensor) -> tuple[Any, ...]:
        u, z, out, w1, b1, w2, b2 = ctx.saved_tensors
        g = _relu_grad(grad_out, out)  # (N, C, H, W)
        scratch = torch.mul(g, u)  # (N, C, H, W), reused below as the buffer of grad u
        grad_s = scratch.sum((2, 3))  # (N, C)
        device, dtype, enabled = ctx.autocast
        with torch.autocast(device, dtype=dtype, enabled=enabled):  # forward's precision
            if ctx.gate in _GATE_BACKWARD:
                s, grad_z, param_grads = _excite_backward(z, w1, b1, w2, b2, ctx.gate, grad_s)
            else:
                s, grad_z, param_grads = _excite_backward_autograd(z, w1, b1, w2, b2, ctx.gate, grad_s)
        pool_grad = (grad_z / (u.shape[2] * u.shape[3]))[:, :, None, None]  # (N, C, 1, 1)
        if torch.compiler.is_compiling():  # Dynamo refuses out= here; Inductor plans the buffers itself
            grad_u = torch.addcmul(pool_grad, g, s[:, :, None, None])
        else:
            grad_u = torch.addcmul(pool_grad, g, s[:, :, None, None], out=scratch)  # one pass
        return grad_u, g, None, *param_grads


# d sigma / d a from sigma's output s: one op each (a: the gate's input).
_GATE_BACKWARD: dict[Callable[[torch.Tensor], torch.Tensor], Callable[..., torch.Tensor]] = {
    torch.sigmoid: torch.ops.aten.sigmoid_backward,
    torch.tanh: torch.ops.aten.tanh_backward,
    torch.relu: _relu_grad,
}


def _dot_by_matmul(u: torch.Tensor) -> bool:
    """Whether :class:`ScaleAddReLU` takes sum_hw(g * u) as a batched dot product (no full-size
    temporary) rather than as a multiply and a sum: for NCHW-contiguous maps of 16 x 16 or more.
    In channels_last the dot product copies and was 4-10x slower here (1 thread, fp32).
    :class:`SEResidual` always multiplies into a buffer it reuses for grad u: with the dot
    product, grad u would need a new full-size tensor, and the allocation cost more than the
    pass it saved (measured on (128, 16, 32, 32))."""
    return u.dtype in (torch.float32, torch.float64) and u.is_contiguous() and u.shape[2] * u.shape[3] >= 256


def _excite_backward(
    z: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor | None,
    w2: torch.Tensor,
    b2: torch.Tensor | None,
    gate: Callable[[torch.Tensor], torch.Tensor],
    grad_s: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor | None]]:
    """Recompute s = sigma(W2 delta(W1 z)) from z (N, C) and back-propagate ``grad_s`` (N, C) by hand.

    Returns s, dL/dz and the gradients of (W1, b1, W2, b2). The products run in the dtype the
    forward's linears ran in (bf16 under bf16 autocast), as autograd's would; weight gradients are
    returned in the weights' dtypes and bias gradients are summed in float32 at least.
    """
    w1f, w2f = w1.flatten(1), w2.flatten(1)  # (C', C), (C, C')
    hidden = F.linear(z, w1f, b1).relu_()  # (N, C'), delta
    s = gate(F.linear(hidden, w2f, b2))  # (N, C), sigma
    cd = s.dtype  # the compute dtype of the linears
    grad_a = _GATE_BACKWARD[gate](_as(grad_s, cd), s)  # (N, C), d L / d (W2 h + b2)
    grad_h = _relu_grad(torch.mm(grad_a, _as(w2f, cd)), hidden)  # (N, C'), through delta
    grads = [
        _like(_as(torch.mm(grad_h.t(), _as(z, cd)), w1.dtype), w1),
        _bias_grad(grad_h, b1),
        _like(_as(torch.mm(grad_a.t(), hidden), w2.dtype), w2),
        _bias_grad(grad_a, b2),
    ]
    grad_z = _as(torch.mm(grad_h, _as(w1f, cd)), z.dtype)  # (N, C)
    return s, grad_z, grads


def _as(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``t`` in ``dtype``, without a dispatch when it already is."""
    return t if t.dtype == dtype else t.to(dtype)


def _like(grad: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``grad`` (K, C) in the shape and strides of ``weight`` (K, C, 1, 1): a channels_last weight
    gets a channels_last gradient, as DistributedDataParallel's buckets expect."""
    grad = grad.view_as(weight)
    return grad if grad.stride() == weight.stride() else torch.empty_like(weight).copy_(grad)


def _bias_grad(grad: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor | None:
    """sum_n grad (N, K) -> (K,), accumulated in float32 at least, in the bias's dtype."""
    if bias is None:
        return None
    if grad.dtype in (torch.float32, torch.float64):
        return _as(grad.sum(0), bias.dtype)
    return _as(grad.sum(0, dtype=torch.float32), bias.dtype)


def _excite_backward_autograd(
    z: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor | None,
    w2: torch.Tensor,
    b2: torch.Tensor | None,
    gate: Callable[[torch.Tensor], torch.Tensor],
    grad_s: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor | None]]:
    """:func:`_excite_backward` by autograd, for a gate with no hand-written derivative."""
    with torch.enable_grad():
        leaves = [t.detach().requires_grad_() if t is not None else None for t in (z, w1, b1, w2, b2)]
        s = excite(*leaves, gate)
        wanted = [t for t in leaves if t is not None]
        found = iter(torch.autograd.grad(s, wanted, grad_s))
    grads = [next(found) if t is not None else None for t in leaves]
    return s.detach(), grads[0], grads[1:]


def fusable(se: SqueezeExcite) -> bool:
    """Whether :class:`SEResidual` computes exactly ``se``: average squeeze and a known gate."""
    return se.squeeze == "avg" and type(se.gate) in _GATE_FUNCTIONS


def se_residual(se: SqueezeExcite, u: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
    """``relu(se(u) + shortcut)`` for the standard placement (Fig. 3), fused where possible.

    Equal to the plain formulation up to float rounding. With autograd and an average squeeze
    this runs :class:`SEResidual`; the gate module still runs once in forward, so forward hooks
    on ``se.gate`` see the excitations s (hooks on ``fc1`` and ``fc2`` do not run on this path).
    The residual blocks call this function for their fused tail (:mod:`senet.models.placement`).
    """
    if not fusable(se):
        return scale_add_relu(u, se.excitation(u), shortcut)
    needs_grad = (
        torch.is_grad_enabled()
        and not u.is_meta  # shape-only runs (senet.complexity, tracing on "meta") take the plain path
        and (u.requires_grad or shortcut.requires_grad or any(p.requires_grad for p in se.parameters()))
    )
    if needs_grad:
        return SEResidual.apply(u, shortcut, se.gate, se.fc1.weight, se.fc1.bias, se.fc2.weight, se.fc2.bias)
    return torch.addcmul(shortcut, u, se.excitation(u)).relu_()
