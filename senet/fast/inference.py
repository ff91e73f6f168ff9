"""``senet.optimize``: an inference-optimised copy of a model (the fast path of docs/speed.md).

Steps, each exact in float32 up to rounding: fold eval-mode BN into the convolutions
(:mod:`senet.fast.fold`); replace every residual block by :class:`senet.fast.blocks.FastBlock`
(in-place ReLUs, the SE scale fused with the residual sum and ReLU, squeeze before the last
1x1 conv); oneDNN-prepacked convolutions with fused ReLU / sum post-ops; optionally channels_last memory format, bfloat16 weights and activations, and
``torch.compile``. The input model is never modified.
"""

from __future__ import annotations

import copy
import os
import shutil

import torch
from torch import nn

from senet.fast.blocks import FastBlock, is_post_activation_block
from senet.fast.fold import fold_batch_norms
from senet.fast.packed import pack_convolutions, packing_supported
from senet.layers.se import SqueezeExcite
from senet.models.cifar import CifarResNet
from senet.models.resnet import ResNet

DTYPES: dict[str, torch.dtype] = {"fp32": torch.float32, "bf16": torch.bfloat16}


class Optimized(nn.Module):
    """Runs ``model`` on inputs cast to its dtype and memory format; returns float32 outputs."""

    def __init__(self, model: nn.Module, *, dtype: torch.dtype, memory_format: torch.memory_format) -> None:
        super().__init__()
        self.model = model
        self.dtype = dtype
        self.memory_format = memory_format

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(dtype=self.dtype, memory_format=self.memory_format)  # (N, 3, H, W)
        return self.model(x).float()  # (N, num_classes)

    def extra_repr(self) -> str:
        return f"dtype={self.dtype}, memory_format={self.memory_format}"


def has_cxx_compiler() -> bool:
    """Whether Inductor can build its CPU kernels here: ``$CXX``, or c++ / g++ / clang++ on PATH."""
    names = [os.environ.get("CXX", ""), "c++", "g++", "clang++"]
    return any(name and shutil.which(name) for name in names)


class Frozen(nn.Module):
    """``torch.compile(module)`` called with Inductor's *freezing* switched on.

    With freezing, Dynamo keeps the weights as graph constants and Inductor folds them and
    prepacks the convolutions for oneDNN (with fused ReLU / sum post-ops). PyTorch reads the
    switch from its global Inductor config when it traces (``torch.compile(options=...)`` does not
    reach Dynamo), so it is set only around each call here, and restored after it.

    Dynamo keeps its compiled graphs per code object and gives up after ``recompile_limit`` (8)
    of them, falling back to eager with only a warning. Compiling ``module.forward`` would share
    that budget among every optimised model of a class (the ninth model of a benchmark ran
    uncompiled), so each instance compiles a function with a code object of its own.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

        def run(x: torch.Tensor) -> torch.Tensor:
            return module(x)

        run.__code__ = run.__code__.replace()  # a fresh code object: this instance's own cache
        self._compiled = torch.compile(run, dynamic=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import torch._inductor.config as inductor_config  # deferred: Inductor takes seconds to import

        with inductor_config.patch(freezing=True):
            return self._compiled(x)


def _bn_follows_conv(module: nn.Module) -> bool:
    """Modules whose forward applies ``bnK`` right after ``convK`` (safe to fold by name)."""
    return isinstance(module, (ResNet, CifarResNet)) or is_post_activation_block(module)


def _replace_blocks(module: nn.Module) -> int:
    count = 0
    for name, child in module.named_children():
        if is_post_activation_block(child):
            setattr(module, name, FastBlock(child))
            count += 1
        else:
            count += _replace_blocks(child)
    return count


def optimize(
    model: nn.Module,
    *,
    dtype: torch.dtype = torch.float32,
    channels_last: bool = True,
    compile: bool = False,
    prepack: bool = True,
) -> nn.Module:
    """An inference-only copy of ``model``: BN folded, SE fused, optionally bf16 / compiled.

    Args:
        model: any module; residual blocks of :mod:`senet.models.blocks` get the fused path,
            BN directly after a conv is folded everywhere it can be proven to follow one.
        dtype: ``torch.float32`` (logits equal the eager model's within 1e-4) or
            ``torch.bfloat16`` (weights and activations in bf16; top-1 agreement, not equality).
        channels_last: store activations and weights as NHWC, the layout oneDNN prefers.
        compile: wrap the result in ``torch.compile`` with Inductor's freezing (weights become
            constants, convolutions prepacked by the compiler) and static shapes: each new input
            size compiles anew. Needs a C++ compiler on CPU; the first call compiles (seconds to
            minutes).
        prepack: on CPU, reorder convolution weights once for oneDNN and fuse ReLU / residual
            sum + ReLU into the convolutions (:mod:`senet.fast.packed`); skipped where
            unsupported (bf16 without native CPU support) and with ``compile``.

    Returns:
        An ``nn.Module`` in eval mode whose parameters do not require grad; it accepts float32
        NCHW input and returns float32 output. The input ``model`` is left unchanged.
    """
    if dtype not in DTYPES.values():
        raise ValueError(f"optimize: dtype must be torch.float32 or torch.bfloat16, got {dtype}")
    on_cpu = all(p.device.type == "cpu" for p in model.parameters())
    if compile and on_cpu and not has_cxx_compiler():
        raise RuntimeError(
            "optimize(compile=True): torch.compile on CPU needs a C++ compiler (set CXX, or install "
            "g++ or clang++); optimize() without compile needs none"
        )
    fast = copy.deepcopy(model).eval()
    fold_batch_norms(fast, pairs_in=_bn_follows_conv)
    _replace_blocks(fast)
    for p in fast.parameters():
        p.requires_grad_(False)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    fast = fast.to(dtype=dtype, memory_format=memory_format)
    if prepack and not compile and on_cpu and packing_supported(dtype):
        pack_convolutions(fast, skip=(SqueezeExcite,))  # SE's W1, W2 run as F.linear
    wrapped: nn.Module = Optimized(fast, dtype=dtype, memory_format=memory_format).eval()
    return Frozen(wrapped).eval() if compile else wrapped
