"""Inference-only residual blocks: BN folded, ReLUs in place, the SE tail fused (Sec. 3, Fig. 3).

:class:`FastBlock` replaces a :class:`senet.models.blocks.ResidualBlock` whose batch norms were
folded (:mod:`senet.fast.fold`). Plain blocks fuse the residual sum and ReLU into the last
convolution when it is a :class:`senet.fast.packed.PackedConv`. For the standard SE placement,
when the last convolution of the residual branch is a 1x1 (the Bottleneck), the squeeze F_sq is
taken *before* it, and W1 is folded into it:

    z = mean_hw(W3 y + b3) = W3 mean_hw(y) + b3          (y: the input of the last 1x1 conv)
    W1 z + b1 = (W1 W3) mean_hw(y) + (W1 b3 + b1)

which pools a tensor with C/4 channels instead of C and reads a C/r x C/4 matrix instead of W3
and W1 (a 1x1 stride-1 convolution is linear per position, so averaging commutes with it). With
s known before the last convolution, relu(s * u + shortcut) = s * relu(u + shortcut / s) for
s > 0 lets that convolution keep its fused sum and ReLU (see :meth:`FastBlock._se_tail`).
The block is eval-only: it writes in place into its own intermediates and its input, and needs
parameters that do not require grad.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from senet.fast.packed import PackedConv, conv_add_relu_, conv_relu
from senet.layers.fused import excite
from senet.layers.se import SqueezeExcite
from senet.models.blocks import BasicBlock, Bottleneck, ResidualBlock
from senet.models.placement import place_se

# The gate sigma applied in place on the excitation's pre-activation (N, C): no module call (its
# hook checks) and no new tensor; other gate modules are called as modules.
_INPLACE_GATES: dict[type[nn.Module], Callable[[torch.Tensor], torch.Tensor]] = {
    nn.Sigmoid: torch.Tensor.sigmoid_,
    nn.Tanh: torch.Tensor.tanh_,
    nn.ReLU: torch.Tensor.relu_,
}


def is_post_activation_block(module: nn.Module) -> bool:
    """Whether ``module`` runs the forward of :class:`ResidualBlock` with the residual branch of
    :class:`BasicBlock` or :class:`Bottleneck` (conv-BN-ReLU order; subclasses that only change
    the shortcut qualify, pre-activation blocks with their own forward do not)."""
    cls = type(module)
    return (
        isinstance(module, ResidualBlock)
        and cls.forward is ResidualBlock.forward
        and cls.residual in (BasicBlock.residual, Bottleneck.residual)
    )


def _as_conv(module: nn.Module | None) -> nn.Module | None:
    """A folded ``Sequential(conv, Identity)`` as its conv (one module call less)."""
    if isinstance(module, nn.Sequential):
        layers = [m for m in module if not isinstance(m, nn.Identity)]
        return layers[0] if len(layers) == 1 else nn.Sequential(*layers)
    return module


def _is_pointwise(conv: nn.Module) -> bool:
    """A 1x1, stride-1, unpadded, ungrouped convolution: linear per position."""
    return (
        isinstance(conv, nn.Conv2d)
        and conv.kernel_size == (1, 1)
        and conv.stride == (1, 1)
        and conv.padding in ((0, 0), "valid")
        and conv.groups == 1
        and conv.dilation == (1, 1)
    )


class FastBlock(nn.Module):
    """The eval-mode forward of a BN-folded residual block, for every SE placement (Sec. 6.5)."""

    per_sample_min = 1 << 18  # values per sample above which the divide route runs per sample

    def __init__(self, block: ResidualBlock) -> None:
        super().__init__()
        if not is_post_activation_block(block):
            raise TypeError(
                f"FastBlock cannot run {type(block).__name__}: it has its own forward or residual"
            )
        names = (
            ("conv1", "conv2", "conv3") if type(block).residual is Bottleneck.residual else ("conv1", "conv2")
        )
        for name in names:
            bn = getattr(block, "bn" + name[4:])
            if not isinstance(bn, nn.Identity):
                raise ValueError(
                    f"FastBlock needs folded batch norms; {type(block).__name__}.{name} is followed by {bn}"
                )
        self.convs = nn.ModuleList(getattr(block, name) for name in names)
        self.downsample = _as_conv(block.downsample)
        self.se: SqueezeExcite | None = block.se
        self.placement = block.placement
        last = self.convs[-1]
        self.pool_before_last = (
            self.se is not None
            and self.placement == "standard"
            and self.se.squeeze == "avg"
            and _is_pointwise(last)
        )
        self.divide = self.se is not None and isinstance(self.se.gate, nn.Sigmoid)  # s > 0
        if self.pool_before_last:  # W1 (W3 z + b3) + b1 = (W1 W3) z + (W1 b3 + b1), in float64
            w1, w3 = self.se.fc1.weight.double().flatten(1), last.weight.double().flatten(1)
            b1 = self.se.fc1.bias.double() if self.se.fc1.bias is not None else 0.0
            b3 = (
                last.bias.double() if last.bias is not None else torch.zeros(w3.shape[0], dtype=torch.float64)
            )
            dtype = last.weight.dtype
            # Stored transposed and contiguous: the (N, K) @ (K, M) products below read them as is.
            self.w13t = nn.Parameter((w1 @ w3).t().contiguous().to(dtype), requires_grad=False)  # (C'', C')
            self.b13 = nn.Parameter((w1 @ b3 + b1).to(dtype), requires_grad=False)  # (C',)
            fc2 = self.se.fc2
            self.w2t = nn.Parameter(fc2.weight.detach().flatten(1).t().contiguous(), requires_grad=False)
            self.b2 = nn.Parameter(
                fc2.bias.detach() if fc2.bias is not None else fc2.weight.new_zeros(fc2.out_channels),
                requires_grad=False,
            )  # (C,)

    def _branch(self, x: torch.Tensor) -> torch.Tensor:
        """The residual branch F up to the input y of its last convolution."""
        *head, _ = self.convs
        y = x
        for conv in head:
            y = conv_relu(conv, y)
        if self.se is not None and self.placement == "3x3":
            y = self.se(y)  # SE_3x3 (Table 15), before the last convolution
        return y

    def _excite(self, z: torch.Tensor) -> torch.Tensor:
        """s (N, C, 1, 1) from the pooled z (N, C): W1, W2 as matrix products, not 1x1 convs."""
        se = self.se
        return excite(z, se.fc1.weight, se.fc1.bias, se.fc2.weight, se.fc2.bias, se.gate)[:, :, None, None]

    def _excitation_from_input(self, y: torch.Tensor) -> torch.Tensor:
        """s (N, C) from the input y (N, C'', H, W) of the last 1x1 conv W3 (C'' = C/4).

        F_sq(u) = W3 mean_hw(y) + b3, and W1 F_sq(u) + b1 = W13 mean_hw(y) + b13 with the product
        W13 = W1 W3 (C/r x C'') formed once: a far smaller matrix than W3 (C x C''). The mean's
        1 / (H W) rides on the matrix product (``alpha``), and ReLU and a known gate sigma run in
        place on the products' outputs: five small ops from y to s, two new (N, *) tensors.
        Forward hooks on ``se.gate`` do not run here for a known gate (sigmoid, tanh, ReLU).
        """
        z = y.sum((2, 3))  # (N, C''), H W mean_hw(y)
        hidden = torch.addmm(self.b13, z, self.w13t, alpha=1.0 / (y.shape[2] * y.shape[3])).relu_()  # delta
        a = torch.addmm(self.b2, hidden, self.w2t)  # (N, C), sigma's input
        gate = _INPLACE_GATES.get(type(self.se.gate))
        return gate(a) if gate is not None else self.se.gate(a)  # (N, C), sigma

    def _excitation(self, u: torch.Tensor) -> torch.Tensor:
        """s from u itself: (N, C, 1, 1), or (N, C, H, W) without a squeeze (Table 16)."""
        return self._excite(u.mean((2, 3))) if self.se.squeeze == "avg" else self.se.excitation(u)

    def _se_tail(self, y: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        """relu(s * W3(y) + shortcut) for the standard placement, by the cheapest exact route.

        With a 1x1 last conv W3 (Bottleneck), s comes from y (C/4 channels pooled, W13 = W1 W3
        instead of W1 and W3: less to read than pooling u in every case), and then:

        - divide (sigmoid gate, packed W3): s * relu(W3 y + shortcut * (1 / s)), the sum and
          ReLU fused into the convolution; two in-place read-write passes, both multiplies (the
          reciprocal is taken on the (N, C) vector). Exact for s > 0 up to rounding, with s
          clamped at 1e-12 so that 1 / s stays finite.
          With several samples whose maps hold at least ``per_sample_min`` values each, the three
          steps run sample by sample, so that each sample's map is still in cache for the second
          pass (the whole batch's output is larger than the cache at SE-ResNet-50's first stages).
        - otherwise: addcmul (three reads, one write) and an in-place ReLU.

        Other blocks pool u itself and use addcmul + ReLU.
        """
        last = self.convs[-1]
        if self.pool_before_last:
            s = self._excitation_from_input(y)  # (N, C)
            n, c = s.shape
            if self.divide and isinstance(last, PackedConv):
                s = s.clamp_min_(1e-12).view(n, c, 1, 1)
                inv = s.reciprocal()  # a multiply pass is cheaper than a divide
                if n == 1 or shortcut[0].numel() < self.per_sample_min:
                    return last.add_relu_(y, shortcut.mul_(inv)).mul_(s)  # s relu(u + x / s)
                for i in range(n):  # (1, C, H, W) views of the channels-last batch
                    last.add_relu_(y[i : i + 1], shortcut[i : i + 1].mul_(inv[i])).mul_(s[i])
                return shortcut
            u = last(y)
            return shortcut.addcmul_(u, s.view(n, c, 1, 1)).relu_()  # in place: no out= (torch.compile)
        u = last(y)  # (N, C, H, W)
        return shortcut.addcmul_(u, self._excitation(u)).relu_()  # Axpy + ReLU, into the shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        add = partial(conv_add_relu_, self.convs[-1])  # (y, s): relu(W_last y + s), one fused conv
        return place_se(self.se, self.placement, self._branch, x, shortcut, add=add, standard=self._se_tail)

    def extra_repr(self) -> str:
        return f"placement={self.placement}, pool_before_last={self.pool_before_last}"
