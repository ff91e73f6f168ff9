"""``senet complexity MODEL...``: parameters and multiply-adds, as a table or JSON."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field

import torch

from senet.api import expand_models
from senet.complexity import Complexity, complexity, count
from senet.config import ConfigError
from senet.options import add_options, build
from senet.weights.model_dir import is_model_folder, read_card


@dataclass(frozen=True)
class ComplexityOptions:
    """The options of ``senet complexity``."""

    models: tuple[str, ...] = field(default=(), metadata={"positional": True})
    """Model names, shell patterns such as 'se_*' (none: every model), or model folders (a pruned
    network's widths are in its config.json)."""
    input_size: int | None = None
    """Image side; none: the model's own (224, 299 or 32; a folder's: its weights' input size)."""
    json: bool = False
    """Print JSON instead of a table."""
    stages: bool = False
    """Also print the multiply-adds of each top-level module."""

    def __post_init__(self) -> None:
        if self.input_size is not None and self.input_size < 1:
            raise ConfigError(f"--input-size must be >= 1, got {self.input_size}")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "complexity",
        help="parameter counts and multiply-adds (the paper's GFLOPs)",
        description="Parameters and multiply-adds of one forward pass (the paper's 'GFLOPs', "
        "Sec. 4), counted on the meta device. Patterns such as 'se_*' are expanded.",
    )
    add_options(p, ComplexityOptions)
    p.set_defaults(run=run)


def format_table(rows: list[Complexity], stages: bool = False) -> str:
    """A fixed-width table: model, input size, exact params, params (M), GFLOPs (multiply-adds).

    Params (M) are rounded to 0.1M and GFLOPs to 0.01, the precision the paper prints.
    """
    width = max([len(r.model) for r in rows] + [5])
    lines = [f"{'model':<{width}}  {'input':>5}  {'params':>12}  {'params (M)':>10}  {'GFLOPs':>7}"]
    for r in rows:
        lines.append(
            f"{r.model:<{width}}  {r.input_size:>5}  {r.params:>12,}  {r.params / 1e6:>10.1f}  {r.macs / 1e9:>7.2f}"
        )
        if stages:
            for group in dict.fromkeys([*r.stage_params, *r.stage_macs]):
                params, macs = r.stage_params.get(group, 0), r.stage_macs.get(group, 0)
                lines.append(f"{'  ' + group:<{width}}  {'':>5}  {params:>12,}  {'':>10}  {macs / 1e9:>7.3f}")
    return "\n".join(lines)


def _count(name: str, input_size: int | None) -> Complexity:
    """The counts of a registered model, or of the network a model folder's card describes."""
    if not is_model_folder(name):
        return complexity(name, input_size)
    card = read_card(name)
    with torch.device("meta"):
        network = card.build()
    return count(network, input_size or card.preprocessing.input_size, name)


def run(args: argparse.Namespace) -> int:
    opts = build(args, ComplexityOptions)
    rows = [_count(name, opts.input_size) for name in expand_models(opts.models)]
    if opts.json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
    else:
        print(format_table(rows, opts.stages))
    return 0
