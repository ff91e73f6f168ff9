"""Export a network to ONNX, TorchScript or a ``torch.export`` ExportedProgram.

All three take a batch of (N, C, H, W) images with N, H and W free (dynamic axes) and return
(N, num_classes) logits. The example input has batch 2 so that no exporter specialises N to 1.
ONNX details (the dynamo exporter, metadata, the onnxruntime check) are in
:mod:`senet.weights.onnx_export`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from senet.weights.onnx_export import export_onnx

Format = Literal["onnx", "torchscript", "exported-program"]
FORMATS: tuple[str, ...] = ("onnx", "torchscript", "exported-program")


def input_channels(model: nn.Module) -> int:
    """C of the (N, C, H, W) input: the configuration's ``in_chans`` (3 without one)."""
    return int(getattr(getattr(model, "config", None), "in_chans", 3))


def example_input(model: nn.Module, input_size: int) -> torch.Tensor:
    return torch.randn(2, input_channels(model), input_size, input_size)  # (N, C, H, W)


def export_torchscript(model: nn.Module, out: Path, x: torch.Tensor) -> None:
    """A traced TorchScript module (the ResNet's control flow is static, so tracing is exact)."""
    torch.jit.trace(model, (x,), check_trace=False).save(str(out))


def export_program(model: nn.Module, out: Path, x: torch.Tensor) -> None:
    """A ``torch.export`` ExportedProgram (``.pt2``) with symbolic N, H and W."""
    dim = torch.export.Dim.DYNAMIC
    program = torch.export.export(model, (x,), dynamic_shapes={"x": {0: dim, 2: dim, 3: dim}})
    torch.export.save(program, str(out))


def export_model(
    model: nn.Module,
    fmt: Format,
    out: str | Path,
    *,
    input_size: int = 224,
    legacy_onnx: bool = False,
    external_data: bool = False,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write ``model`` (set to eval mode) in format ``fmt`` to ``out``; returns the path.

    ONNX only: ``legacy_onnx`` selects torch's TorchScript-based exporter instead of the dynamo
    one, ``external_data`` puts the weights beside the file, ``metadata`` (str -> str) goes into
    the model's ``metadata_props``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {FORMATS}")
    if fmt != "onnx" and (legacy_onnx or external_data or metadata):
        raise ValueError(f"legacy_onnx, external_data and metadata apply to ONNX only, not {fmt!r}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    x = example_input(model, input_size)
    # An inference graph: without autograd the SE block's fused tail runs as plain tensor ops
    # rather than a custom autograd.Function, which the tracing exporters cannot record.
    with torch.no_grad():
        if fmt == "onnx":
            export_onnx(model, out, x, dynamo=not legacy_onnx, external_data=external_data, metadata=metadata)
        elif fmt == "torchscript":
            export_torchscript(model, out, x)
        else:
            export_program(model, out, x)
    return out
