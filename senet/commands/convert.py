"""``senet convert --from {timm,cadene,caffe} IN --to OUT``: foreign weights -> a senet model folder
(or, for ``OUT.safetensors``, one file with the configuration in its metadata)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Literal

from senet.models.resnet import ResNetConfig
from senet.options import add_options, build
from senet.runtime import prepare_output
from senet.weights.convert import convert_file
from senet.weights.model_dir import card_fields, save_pretrained

Source = Literal["timm", "cadene", "caffe"]  # senet.weights.convert.SOURCES


@dataclass(frozen=True)
class ConvertOptions:
    """The options of ``senet convert``."""

    input: str = field(metadata={"positional": True})
    """The checkpoint to convert (.pth / .safetensors / .caffemodel)."""
    source: Source
    """The layout of the input."""
    output: str
    """Where to write: a model folder (config.json + model.safetensors + README.md, the format every
    senet command reads), or a single .safetensors file with the config in its metadata."""
    model: str | None = None
    """The expected senet model name; an error if the input holds another network."""
    synsets: str | None = None
    """Caffe only: the devkit-ordered WNID list; the classifier rows become sorted-WNID order."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert",
        help="convert timm / Cadene / Caffe weights to a senet model folder",
        description="Map a foreign checkpoint onto the matching senet network (stride placement, "
        "SE width and head read from the file) and write a safetensors file whose metadata holds "
        "the configuration and preprocessing. See docs/weights.md.",
    )
    add_options(p, ConvertOptions, aliases={"source": ["--from"], "output": ["--to"]})
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    opts = build(args, ConvertOptions)
    prepare_output(opts.output, folder=not opts.output.endswith(".safetensors"))
    converted = convert_file(opts.input, source=opts.source, synsets=opts.synsets)
    if opts.model is not None and converted.model_name != opts.model:
        raise ValueError(
            f"{opts.input} holds a {converted.model_name or 'custom'} network, not {opts.model!r}"
        )
    if opts.output.endswith(".safetensors"):
        out = converted.save(opts.output)
    else:
        out = save_pretrained(converted.build(), opts.output, **card_fields(converted))
    cfg = converted.config
    name = converted.model_name or f"custom {type(cfg).__name__.removesuffix('Config')} (config in metadata)"
    line = f"{opts.input} ({opts.source}) -> {out}: {name}, {len(converted.state_dict)} tensors"
    if isinstance(cfg, ResNetConfig):
        line += (f", stride_in_1x1={cfg.stride_in_1x1}, stem_pool_ceil={cfg.stem_pool_ceil}, "
                 f"relu_before_se={cfg.relu_before_se}")  # fmt: skip
    print(line)
    return 0
