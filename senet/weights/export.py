"""Export a network to ONNX, TorchScript or a ``torch.export`` ExportedProgram.

All three take a batch of (N, 3, H, W) images with N, H and W free (dynamic axes) and return
(N, num_classes) logits. The example input has batch 2 so that no exporter specialises N to 1.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Literal

import torch
from torch import nn

Format = Literal["onnx", "torchscript", "exported-program"]
FORMATS: tuple[str, ...] = ("onnx", "torchscript", "exported-program")


def example_input(model: nn.Module, input_size: int) -> torch.Tensor:
    in_chans = getattr(getattr(model, "config", None), "in_chans", 3)
    return torch.randn(2, in_chans, input_size, input_size)  # (N, C, H, W)


def export_onnx(
    model: nn.Module, out: Path, x: torch.Tensor, *, opset: int = 17, dynamo: bool = False
) -> None:
    """ONNX with dynamic ``batch``, ``height`` and ``width`` on ``input`` (``batch`` on ``logits``).

    ``dynamo=False`` uses the TorchScript-based exporter (a second per model); ``True`` the
    torch.export-based one (slower, needs onnxscript).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if dynamo:
            dim = torch.export.Dim.DYNAMIC
            torch.onnx.export(model, (x,), str(out), input_names=["input"], output_names=["logits"],
                              dynamic_shapes={"x": {0: dim, 2: dim, 3: dim}}, dynamo=True)  # fmt: skip
        else:
            axes = {"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}}
            torch.onnx.export(model, (x,), str(out), input_names=["input"], output_names=["logits"],
                              dynamic_axes=axes, opset_version=opset, dynamo=False)  # fmt: skip


def export_torchscript(model: nn.Module, out: Path, x: torch.Tensor) -> None:
    """A traced TorchScript module (the ResNet's control flow is static, so tracing is exact)."""
    torch.jit.trace(model, (x,), check_trace=False).save(str(out))


def export_program(model: nn.Module, out: Path, x: torch.Tensor) -> None:
    """A ``torch.export`` ExportedProgram (``.pt2``) with symbolic N, H and W."""
    dim = torch.export.Dim.DYNAMIC
    program = torch.export.export(model, (x,), dynamic_shapes={"x": {0: dim, 2: dim, 3: dim}})
    torch.export.save(program, str(out))


def export_model(model: nn.Module, fmt: Format, out: str | Path, *, input_size: int = 224) -> Path:
    """Write ``model`` (set to eval mode) in format ``fmt`` to ``out``; returns the path."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {FORMATS}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    x = example_input(model, input_size)
    exporter = {"onnx": export_onnx, "torchscript": export_torchscript, "exported-program": export_program}[
        fmt
    ]
    # An inference graph: without autograd the SE block's fused tail runs as plain tensor ops
    # rather than a custom autograd.Function, which the tracing exporters cannot record.
    with torch.no_grad():
        exporter(model, out, x)
    return out
