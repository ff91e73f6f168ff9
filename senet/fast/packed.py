"""Convolutions with weights reordered once for oneDNN, with the ReLU / residual sum fused in.

PyTorch's eager ``conv2d`` on CPU reorders the weight into oneDNN's blocked layout on every call
(for ResNet-50 that is its 25M weights per forward) and writes the output before a separate
ReLU or residual-sum pass reads it back. :class:`PackedConv` keeps the reordered weight and
calls ``torch.ops.mkldnn._convolution_pointwise`` (the op ``torch.compile`` uses on CPU) with a
fused ``relu`` or ``add`` + ``relu`` post-op. These ops are internal to PyTorch: when they are
missing, or for bf16 on a CPU without native bf16 (:func:`packing_supported`), the fast path
keeps plain convolutions.
"""

from __future__ import annotations

import torch
from torch import nn


def packing_supported(dtype: torch.dtype) -> bool:
    """Whether oneDNN prepacked convolutions can run here in ``dtype`` (CPU only)."""
    ops = torch.ops.mkldnn
    if not (torch.backends.mkldnn.is_available() and hasattr(ops, "_convolution_pointwise")):
        return False
    return dtype == torch.float32 or (dtype == torch.bfloat16 and ops._is_mkldnn_bf16_supported())


class PackedConv(nn.Module):
    """``conv`` with its weight pre-reordered for oneDNN; ``forward(x, relu=...)`` and
    :meth:`add_relu` fuse the activation and the residual sum into the convolution.

    ``weight`` and ``bias`` keep the dense tensors (the SE squeeze-before-conv trick reads them).
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ValueError(f"PackedConv needs numeric zero padding, got {conv}")
        self.weight = conv.weight
        self.bias = conv.bias
        self.padding, self.stride = list(conv.padding), list(conv.stride)
        self.dilation, self.groups = list(conv.dilation), conv.groups
        self._packed: dict[tuple[int, ...], torch.Tensor] = {}  # per input (C, H, W)

    def _args(self, x: torch.Tensor) -> tuple:
        """The op's weight arguments; the weight is reordered once per input size (oneDNN picks
        its layout for the shape: packing without one gave 10x slower kernels here)."""
        key = tuple(x.shape[1:])
        packed = self._packed.get(key)
        if packed is None:
            with torch.no_grad():
                dense = self.weight.detach().contiguous().to_mkldnn()
                packed = torch._C._nn.mkldnn_reorder_conv2d_weight(
                    dense, self.padding, self.stride, self.dilation, self.groups, [1, *key]
                )
            self._packed[key] = packed
        return (packed, self.bias, self.padding, self.stride, self.dilation, self.groups)

    def forward(self, x: torch.Tensor, relu: bool = False) -> torch.Tensor:
        return torch.ops.mkldnn._convolution_pointwise(x, *self._args(x), "relu" if relu else "none", [], "")

    def add_relu_(self, x: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        """``relu(conv(x) + other)`` in one oneDNN call (sum and ReLU post-ops), written into
        ``other`` (which is returned)."""
        args = self._args(x)
        return torch.ops.mkldnn._convolution_pointwise_.binary(other, x, *args, "add", 1.0, "relu", [], "")

    def extra_repr(self) -> str:
        c_out, c_in = self.weight.shape[:2]
        return f"{c_in * self.groups}, {c_out}, kernel_size={tuple(self.weight.shape[2:])}, stride={tuple(self.stride)}"


def conv_relu(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``relu(conv(x))``, fused when ``conv`` is packed."""
    return conv(x, relu=True) if isinstance(conv, PackedConv) else conv(x).relu_()


def conv_add_relu_(conv: nn.Module, x: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """``relu(conv(x) + other)``, fused and written into ``other`` when ``conv`` is packed."""
    return conv.add_relu_(x, other) if isinstance(conv, PackedConv) else conv(x).add_(other).relu_()


def pack_convolutions(module: nn.Module, *, skip: tuple[type[nn.Module], ...] = ()) -> int:
    """Replace, in place, every ``nn.Conv2d`` outside modules of types ``skip`` by a PackedConv."""
    count = 0
    for name, child in module.named_children():
        if isinstance(child, skip):
            continue
        if type(child) is nn.Conv2d and child.padding_mode == "zeros" and not isinstance(child.padding, str):
            setattr(module, name, PackedConv(child))
            count += 1
        else:
            count += pack_convolutions(child, skip=skip)
    return count
