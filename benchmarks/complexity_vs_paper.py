"""Print our parameter and multiply-add counts beside the paper's printed figures (Markdown).

    .venv/bin/python benchmarks/complexity_vs_paper.py

Rows: Table 2 (ResNet family), Table 10 (r), Table 13 (SE stages), Table 15 (SE_3x3) and
Table 16 (NoSqueeze) of Hu et al., TPAMI 2019. The paper prints parameters rounded up to 0.1M
and GFLOPs (multiply-adds) to 0.01; "match" compares at that precision.
"""

from __future__ import annotations

import math
from typing import Any

import senet
from senet import SEConfig

# (label, model, overrides, printed params in M or None, printed GFLOPs or None)
ROWS: list[tuple[str, str, dict[str, Any], float | None, float | None]] = [
    ("Table 2 ResNet-50", "resnet50", {}, 25.6, 3.86),
    ("Table 2 SE-ResNet-50", "se_resnet50", {}, 28.1, 3.87),
    ("Table 2 ResNet-101", "resnet101", {}, None, 7.58),
    ("Table 2 SE-ResNet-101", "se_resnet101", {}, None, 7.60),
    ("Table 2 ResNet-152", "resnet152", {}, None, 11.30),
    ("Table 2 SE-ResNet-152", "se_resnet152", {}, None, 11.32),
    ("Table 2 ResNeXt-50", "resnext50_32x4d", {}, None, 4.24),
    ("Table 2 SE-ResNeXt-50", "se_resnext50_32x4d", {}, None, 4.25),
    ("Table 2 ResNeXt-101", "resnext101_32x4d", {}, None, 7.99),
    ("Table 2 SE-ResNeXt-101", "se_resnext101_32x4d", {}, None, 8.00),
    *[
        (f"Table 10 r = {r}", "se_resnet50", {"se": SEConfig(reduction=r)}, p, 3.87 if r == 16 else None)
        for r, p in ((2, 45.7), (4, 35.7), (8, 30.7), (16, 28.1), (32, 26.9))
    ],
    ("Table 13 SE stage 2 only", "se_resnet50", {"se_stages": (1,)}, 25.6, 3.86),
    ("Table 13 SE stage 3 only", "se_resnet50", {"se_stages": (2,)}, 25.7, 3.86),
    ("Table 13 SE stage 4 only", "se_resnet50", {"se_stages": (3,)}, 26.4, 3.86),
    ("Table 13 SE all stages", "se_resnet50", {}, 28.1, 3.87),
    ("Table 15 SE_3x3", "se_resnet50", {"placement": "3x3"}, 25.8, 3.86),
    ("Table 16 NoSqueeze", "se_resnet50", {"se": SEConfig(squeeze="none")}, 28.1, 4.27),
]


def _cell(ours: float, printed: float | None, fmt: str) -> str:
    if printed is None:
        return f"{ours:{fmt}} | - | "
    return f"{ours:{fmt}} | {printed:{fmt}} | {'yes' if f'{ours:{fmt}}' == f'{printed:{fmt}}' else 'no'}"


def main() -> None:
    print("| row | model | params | params (M, rounded up) | paper | match | GFLOPs | paper | match |")
    print("|---|---|---:|---:|---:|---|---:|---:|---|")
    for label, name, overrides, params_m, gflops in ROWS:
        c = senet.complexity(name, **overrides)
        ours_m = math.ceil(c.params / 1e5) / 10
        print(
            f"| {label} | `{name}` | {c.params:,} | {_cell(ours_m, params_m, '.1f')} | "
            f"{_cell(round(c.macs / 1e9, 2), gflops, '.2f')} |"
        )


if __name__ == "__main__":
    main()
