"""``senet convert --from {timm,cadene,caffe} IN --to OUT.safetensors``: foreign weights -> senet."""

from __future__ import annotations

import argparse

from senet.weights.convert import SOURCES, convert_file


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert",
        help="convert timm / Cadene / Caffe weights to a senet safetensors file",
        description="Map a foreign checkpoint onto the matching senet network (stride placement, "
        "SE width and head read from the file) and write a safetensors file whose metadata holds "
        "the configuration and preprocessing. See docs/weights.md.",
    )
    p.add_argument("input", metavar="IN", help="the checkpoint (.pth / .safetensors / .caffemodel)")
    p.add_argument("--from", dest="source", required=True, choices=SOURCES, help="layout of IN")
    p.add_argument("--to", dest="output", required=True, metavar="OUT", help="the .safetensors file to write")
    p.add_argument("--model", default=None, help="expected senet model name; an error if IN holds another")
    p.add_argument(
        "--synsets", default=None, help="Caffe only: devkit-ordered WNID list; rows become sorted-WNID"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    converted = convert_file(args.input, source=args.source, synsets=args.synsets)
    if args.model is not None and converted.model_name != args.model:
        raise ValueError(
            f"{args.input} holds a {converted.model_name or 'custom'} network, not {args.model!r}"
        )
    out = converted.save(args.output)
    name = converted.model_name or "custom ResNet (config in metadata)"
    print(f"{args.input} ({args.source}) -> {out}: {name}, {len(converted.state_dict)} tensors, "
          f"stride_in_1x1={converted.config.stride_in_1x1}, stem_pool_ceil={converted.config.stem_pool_ceil}")  # fmt: skip
    return 0
