"""``senet export MODEL --format onnx|torchscript|exported-program --out PATH``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Literal

from senet.api import create_model
from senet.options import add_options, build
from senet.weights.export import export_model

Format = Literal["onnx", "torchscript", "exported-program"]  # senet.weights.export.FORMATS


@dataclass(frozen=True)
class ExportOptions:
    """The options of ``senet export``."""

    model: str = field(metadata={"positional": True})
    """A registered model name (e.g. se_resnet50)."""
    format: Format = "onnx"
    """The output format."""
    out: str = ""
    """The output path (.onnx / .pt / .pt2)."""
    weights: str | None = None
    """A weights file to load first (else random initialisation)."""
    pretrained: bool = False
    """Load the registered pretrained weights."""
    input_size: int = 224
    """Side of the example input used for tracing."""
    num_classes: int | None = None
    """Classifier size (random-init models only)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a model to ONNX, TorchScript or a torch.export program",
        description="Export MODEL with dynamic batch size and spatial size. See docs/weights.md.",
    )
    add_options(p, ExportOptions)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    opts = build(args, ExportOptions)
    if not opts.out:
        raise ValueError("--out: give the output path (.onnx / .pt / .pt2)")
    overrides = {} if opts.num_classes is None else {"num_classes": opts.num_classes}
    model = create_model(opts.model, pretrained=opts.pretrained, weights=opts.weights, **overrides)
    out = export_model(model, opts.format, opts.out, input_size=opts.input_size)
    print(f"{opts.model} -> {out} ({opts.format}, dynamic batch / height / width)")
    return 0
