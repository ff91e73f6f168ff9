"""Search per-element costs that would reproduce the paper's printed GFLOPs (docs/complexity.md).

    .venv/bin/python benchmarks/complexity_convention_search.py

Convolutions and FC layers are always counted; on top, each candidate convention charges a cost
per element to residual additions, SE squeeze, SE scale and batch norm. For every combination on
the grid it counts how many of the 15 printed figures (Table 2's ResNet family, Tables 13, 15, 16)
round to the printed value, and prints the best conventions.
"""

from __future__ import annotations

import itertools
from collections import Counter

import torch
from torch import nn

import senet
from senet import SEConfig
from senet.layers.se import SqueezeExcite
from senet.models.blocks import ResidualBlock

PRINTED: list[tuple[str, dict, float]] = [
    ("resnet50", {}, 3.86),
    ("se_resnet50", {}, 3.87),
    ("resnet101", {}, 7.58),
    ("se_resnet101", {}, 7.60),
    ("resnet152", {}, 11.30),
    ("se_resnet152", {}, 11.32),
    ("resnext50_32x4d", {}, 4.24),
    ("se_resnext50_32x4d", {}, 4.25),
    ("resnext101_32x4d", {}, 7.99),
    ("se_resnext101_32x4d", {}, 8.00),
    ("se_resnet50", {"se_stages": (1,)}, 3.86),
    ("se_resnet50", {"se_stages": (2,)}, 3.86),
    ("se_resnet50", {"se_stages": (3,)}, 3.86),
    ("se_resnet50", {"placement": "3x3"}, 3.86),
    ("se_resnet50", {"se": SEConfig(squeeze="none")}, 4.27),
]


def components(name: str, overrides: dict) -> Counter:
    """Convolution/FC multiply-adds and element counts of the candidate extra operations."""
    with torch.device("meta"):
        model = senet.create_model(name, **overrides).eval()
    counts: Counter = Counter()

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            k = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            counts["base"] += output[0].numel() * k
        elif isinstance(module, nn.Linear):
            counts["base"] += output[0].numel() * module.in_features
        elif isinstance(module, SqueezeExcite):
            counts["scale"] += inputs[0][0].numel()
            counts["squeeze"] += inputs[0][0].numel() if module.squeeze != "none" else 0
        elif isinstance(module, nn.BatchNorm2d):
            counts["bn"] += output[0].numel()
        elif isinstance(module, ResidualBlock):
            counts["add"] += output[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224, device="meta"))
    for h in handles:
        h.remove()
    return counts


def main() -> None:
    rows = [(components(name, kw), printed) for name, kw, printed in PRINTED]
    steps = [0.0, 0.5, 1.0, 1.5, 2.0]
    results = []
    for add, squeeze, scale, bn in itertools.product(steps, steps, steps, [0.0, 0.5, 1.0]):
        hits = sum(
            round(
                (c["base"] + add * c["add"] + squeeze * c["squeeze"] + scale * c["scale"] + bn * c["bn"])
                / 1e9,
                2,
            )
            == printed
            for c, printed in rows
        )
        results.append((hits, add, squeeze, scale, bn))
    results.sort(key=lambda r: -r[0])
    print(f"grid: {len(results)} conventions over {len(rows)} printed figures")
    print("hits  add  squeeze  scale  bn")
    for hits, add, squeeze, scale, bn in results[:8]:
        print(f"{hits:4d}  {add:3.1f}  {squeeze:7.1f}  {scale:5.1f}  {bn:3.1f}")
    ours = next(r for r in results if r[1:] == (0.0, 1.0, 1.0, 0.0))
    print(f"senet's convention (add 0, squeeze 1, scale 1, bn 0): {ours[0]} hits")


if __name__ == "__main__":
    main()
