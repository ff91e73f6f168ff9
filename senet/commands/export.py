"""``senet export MODEL --format onnx|torchscript|exported-program --out PATH``."""

from __future__ import annotations

import argparse

from senet.weights.export import FORMATS, export_model


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a model to ONNX, TorchScript or a torch.export program",
        description="Export MODEL with dynamic batch size and spatial size. See docs/weights.md.",
    )
    p.add_argument("model", help="registered model name (e.g. se_resnet50)")
    p.add_argument("--format", required=True, choices=FORMATS, help="output format")
    p.add_argument("--weights", default=None, help="weights file to load first (else random init)")
    p.add_argument("--pretrained", action="store_true", help="load the registered pretrained weights")
    p.add_argument("--out", required=True, help="output path (.onnx / .pt / .pt2)")
    p.add_argument("--input-size", type=int, default=224, help="side of the example input used for tracing")
    p.add_argument("--num-classes", type=int, default=None, help="classifier size (random-init models only)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from senet.api import create_model

    overrides = {} if args.num_classes is None else {"num_classes": args.num_classes}
    model = create_model(args.model, pretrained=args.pretrained, weights=args.weights, **overrides)
    out = export_model(model, args.format, args.out, input_size=args.input_size)
    print(f"{args.model} -> {out} ({args.format}, dynamic batch / height / width)")
    return 0
