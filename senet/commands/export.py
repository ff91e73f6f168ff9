"""``senet export MODEL --format onnx|torchscript|exported-program --out PATH [--check]``.

ONNX goes through torch's current exporter (``torch.onnx.export(..., dynamo=True)``) unless
``--legacy-onnx``; the model name, input size and preprocessing go into its ``metadata_props``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Literal

import torch

from senet.api import create_model
from senet.config import ConfigError
from senet.options import add_options, build
from senet.runtime import prepare_output
from senet.train.rundir import weights_source
from senet.weights.export import export_model, input_channels
from senet.weights.onnx_export import CHECK_RTOL, OnnxCheck, check_onnx, check_shapes, preprocessing_metadata
from senet.weights.preprocessing import Preprocessing
from senet.zoo import MODELS

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
    """Weights to load first: a model folder, a training run or checkpoint, a converted file, a
    recognised foreign checkpoint (else random initialisation); their card's preprocessing and
    label names go into the ONNX metadata, their input size is the default."""
    pretrained: bool = False
    """Load the registered pretrained weights."""
    input_size: int | None = None
    """Side of the example input used for tracing (default: the model's own, 32 for CIFAR nets)."""
    num_classes: int | None = None
    """Classifier size (random-init models only)."""
    legacy_onnx: bool = False
    """ONNX through torch's deprecated TorchScript-based exporter instead of torch.export (dynamo)."""
    external_data: bool = False
    """ONNX weights in a file beside the model (OUT.data) instead of inside the one .onnx file."""
    check: bool = False
    """After writing the ONNX file, compare onnxruntime with eager PyTorch at two input sizes."""
    check_tolerance: float = CHECK_RTOL
    """--check fails above this max |onnxruntime - eager| relative to max(1, max |eager logit|)."""

    def __post_init__(self) -> None:
        onnx_only = [name for name in ("legacy_onnx", "external_data", "check") if getattr(self, name)]
        if self.format != "onnx" and onnx_only:
            flags = ", ".join("--" + name.replace("_", "-") for name in onnx_only)
            raise ConfigError(f"{flags}: ONNX only, not --format {self.format}")
        if self.input_size is not None and self.input_size < 1:
            raise ConfigError(f"--input-size must be >= 1, got {self.input_size}")
        if self.check_tolerance <= 0:
            raise ConfigError(f"--check-tolerance must be > 0, got {self.check_tolerance}")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a model to ONNX, TorchScript or a torch.export program",
        description="Export MODEL with dynamic batch size and spatial size. See docs/weights.md.",
    )
    add_options(p, ExportOptions)
    p.set_defaults(run=run)


def onnx_metadata(model: torch.nn.Module, name: str, input_size: int) -> dict[str, str]:
    """``metadata_props`` of the export: model name, input size, and the preprocessing and label
    names of the weights' card where the model was loaded with weights (else the ImageNet
    defaults; ``senet.preprocessing`` says which)."""
    card = getattr(model, "card", None)
    prep = card.preprocessing if card is not None else None
    props = preprocessing_metadata(prep or Preprocessing())
    if prep is None:
        del props["senet.label_order"]  # an ImageNet label order says nothing about these weights
    if card is not None and card.labels is not None:
        props["senet.labels"] = json.dumps(list(card.labels))
    return {
        "senet.model": name,
        "senet.input_size": str(input_size),
        "senet.preprocessing": "ImageNet defaults" if prep is None else "weights",
        **props,
    }


def run(args: argparse.Namespace) -> int:
    opts = build(args, ExportOptions)
    if not opts.out:
        raise ValueError("--out: give the output path (.onnx / .pt / .pt2)")
    prepare_output(opts.out, folder=False)
    overrides = {} if opts.num_classes is None else {"num_classes": opts.num_classes}
    weights = None if opts.weights is None else weights_source(opts.weights)  # a run: its newest checkpoint
    model = create_model(opts.model, pretrained=opts.pretrained, weights=weights, **overrides)
    card = getattr(model, "card", None)
    size = opts.input_size or (card.preprocessing.input_size if card is not None else None)
    size = size or MODELS.get(opts.model).input_size
    onnx = opts.format == "onnx"
    how = opts.format
    if onnx:
        how = f"onnx via {'the TorchScript exporter' if opts.legacy_onnx else 'torch.export'}"
    try:
        out = export_model(model, opts.format, opts.out, input_size=size, legacy_onnx=opts.legacy_onnx,
                           external_data=opts.external_data,
                           metadata=onnx_metadata(model, opts.model, size) if onnx else None)  # fmt: skip
        print(f"{opts.model} -> {out} ({how}, input size {size}, dynamic batch / height / width)")
        if not opts.check:
            return 0
        results = check_onnx(out, model, check_shapes(size, input_channels(model)), rtol=opts.check_tolerance)
    except ModuleNotFoundError as err:  # onnx, onnxscript or onnxruntime not installed
        print(f"senet export: error: {err}", file=sys.stderr)
        return 2
    return report_check(results)


def report_check(results: list[OnnxCheck]) -> int:
    """Print one line per checked input; 1 (and the worst excess on stderr) when one fails."""
    for result in results:
        print(f"check: {result}")
    failed = [r for r in results if not r.ok]
    if not failed:
        return 0
    worst = max(failed, key=lambda r: r.max_abs_diff / r.scale)
    print(f"senet export: error: ONNX check failed: onnxruntime differs from eager PyTorch by "
          f"{worst.max_abs_diff:.3g} > {worst.rtol:g} x {worst.scale:.3g}", file=sys.stderr)  # fmt: skip
    return 1
