"""``senet models [PATTERN...]``: registered models with parameters, GFLOPs and pretrained tags.

GFLOPs are multiply-adds at the model's own input size (the registry's: 224, 299 or 32), counted
on the meta device as ``senet complexity`` does. Each pretrained tag is listed with the top-1 its
source reports (not measured here) and how its file is checked (full sha256, or only the hash
prefix in its file name). ``--pretrained`` keeps the models that have registered weights.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from senet.api import expand_models
from senet.complexity import Complexity, complexity
from senet.options import add_options, build
from senet.weights.hub import PretrainedUnavailableError
from senet.weights.imagenet import imagenet_classes
from senet.weights.pretrained import PRETRAINED, TAGS, PretrainedEntry, pretrained_tags


@dataclass(frozen=True)
class ModelsOptions:
    """The options of ``senet models``."""

    models: tuple[str, ...] = field(default=(), metadata={"positional": True})
    """Model names or shell patterns such as 'se_resnext*' (none: every model)."""
    pretrained: bool = False
    """List only the models that have registered pretrained weights."""
    json: bool = False
    """Print JSON instead of a table."""
    imagenet_classes: bool = False
    """Print the ImageNet-1k classes of the published weights instead (index, WNID, name),
    downloading the class list into the cache if no local copy is found."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="registered models: parameters, GFLOPs, pretrained tags and their reported top-1",
        description="List the registered models with parameters and multiply-adds (GFLOPs) at each "
        "model's own input size, and the pretrained weights registered for them (tag, reported "
        "ImageNet top-1, hash check); `senet.create_model(TAG)` loads one.",
    )
    add_options(p, ModelsOptions)
    p.set_defaults(run=run)


def select(patterns: tuple[str, ...], pretrained: bool) -> list[str]:
    """Model names matching any pattern (all when none), in order; with ``pretrained`` only those with weights."""
    names = expand_models(patterns)
    return [n for n in names if n in PRETRAINED] if pretrained else names


def _weights(model: str) -> list[PretrainedEntry]:
    return [TAGS[tag] for tag in pretrained_tags(model) if TAGS[tag].model == model]


def weights_row(entry: PretrainedEntry) -> dict[str, Any]:
    """One pretrained entry as JSON-ready data."""
    return {
        "tag": entry.tag,
        "default": PRETRAINED.get(entry.model) is entry,
        "top1": entry.top1,
        "top1_source": entry.top1_source,
        "hash": entry.sha256 or entry.hash_prefix,
        "verification": entry.verification,
        "layout": entry.layout,
        "source": entry.source,
        "license": entry.license,
        "urls": list(entry.urls),
        "preprocessing": asdict(entry.preprocessing),
    }


def format_table(rows: list[tuple[Complexity, list[PretrainedEntry]]]) -> str:
    """Model, input, params (M), GFLOPs, then one line per pretrained tag (default marked '*')."""
    width = max([len(c.model) for c, _ in rows] + [5])
    head = f"{'model':<{width}}  {'input':>5}  {'params (M)':>10}  {'GFLOPs':>7}"
    lines = [f"{head}  pretrained (reported top-1, hash check)"]
    for c, entries in rows:
        left = f"{c.model:<{width}}  {c.input_size:>5}  {c.params / 1e6:>10.1f}  {c.macs / 1e9:>7.2f}"
        if not entries:
            lines.append(f"{left}  -")
        for i, e in enumerate(entries):
            mark = "*" if PRETRAINED.get(e.model) is e else " "
            top1 = "   -  " if e.top1 is None else f"{e.top1:6.2f}"
            check = "sha256" if e.sha256 else f"prefix {e.hash_prefix} only"
            lines.append(f"{left if i == 0 else ' ' * len(left)}  {mark}{e.tag:<32} {top1}  {check}")
    lines.append(
        "* the default weights of pretrained=True; top-1 as reported by the source, not measured here"
    )
    return "\n".join(lines)


def model_row(c: Complexity, entries: list[PretrainedEntry]) -> dict[str, Any]:
    """One model as JSON-ready data: name, input size, params, GMACs and its pretrained entries."""
    return {
        "model": c.model,
        "input_size": c.input_size,
        "params": c.params,
        "gmacs": c.gmacs,
        "pretrained": [weights_row(e) for e in entries],
    }


def print_classes(as_json: bool) -> int:
    """The ImageNet-1k class list (downloaded once into the cache), one class a line or JSON."""
    classes = imagenet_classes(download=True)
    if classes is None:
        raise PretrainedUnavailableError("no ImageNet class list (see the note above)")
    rows = list(zip(classes.wnids, classes.names, strict=True))
    if as_json:
        print(json.dumps({"source": classes.source, "classes": [list(r) for r in rows]}, indent=2))
    else:
        print("\n".join(f"{k:>4}  {wnid}  {name}" for k, (wnid, name) in enumerate(rows)))
        print(f"({len(rows)} classes, sorted-WNID order; from {classes.source})")
    return 0


def run(args: argparse.Namespace) -> int:
    opts = build(args, ModelsOptions)
    if opts.imagenet_classes:
        return print_classes(opts.json)
    rows = [(complexity(name), _weights(name)) for name in select(opts.models, opts.pretrained)]
    if opts.json:
        print(json.dumps([model_row(c, entries) for c, entries in rows], indent=2))
    else:
        print(format_table(rows))
    return 0
