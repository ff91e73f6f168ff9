"""Ablation results in the paper's table form (Tables 10-16): one row per variant.

Columns: top-1 / top-5 error (%) as mean +- std over seeds, params, GFLOPs (multiply-adds of one
forward pass at the data's input size, Sec. 4) and, where the paper has the row, its SE-ResNet-50
ImageNet numbers beside ours for orientation (a different network, data and schedule).
The std is the sample standard deviation (n - 1 in the denominator); with one seed it is not
defined and is printed as ``-`` (empty in the CSV).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from senet.analysis.ablation import CellResult
from senet.analysis.grids import Variant


@dataclass(frozen=True)
class Row:
    """One variant summarised over its seeds."""

    variant: str
    seeds: int
    top1_mean: float
    top1_std: float | None
    top5_mean: float
    top5_std: float | None
    params: int
    macs: int
    paper: tuple[float, float] | None = None


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (n - 1); the std is None for a single value."""
    if not values:
        raise ValueError("mean_std of no values")
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def summarize(results: Sequence[CellResult]) -> list[Row]:
    """One :class:`Row` per variant, in the order the variants first appear."""
    groups: dict[str, list[CellResult]] = {}
    variants: dict[str, Variant] = {}
    for r in results:
        groups.setdefault(r.cell.variant.name, []).append(r)
        variants[r.cell.variant.name] = r.cell.variant
    rows = []
    for name, group in groups.items():
        top1 = mean_std([g.result.top1_error for g in group])
        top5 = mean_std([g.result.top5_error for g in group])
        first = group[0].result
        rows.append(Row(name, len(group), *top1, *top5, first.params, first.macs, variants[name].paper))
    return rows


def pm(mean: float, std: float | None, digits: int = 2) -> str:
    """``12.34 ± 0.56`` (or ``12.34 ± -`` without a std)."""
    return f"{mean:.{digits}f} ± {'-' if std is None else f'{std:.{digits}f}'}"


def _table(rows: Sequence[Row]) -> list[list[str]]:
    """Header and cells; the paper column only when some row has the paper's numbers."""
    with_paper = any(r.paper is not None for r in rows)
    header = HEADER if with_paper else HEADER[:-1]
    table = [header]
    for r in rows:
        cells = [
            r.variant,
            pm(r.top1_mean, r.top1_std),
            pm(r.top5_mean, r.top5_std),
            f"{r.params / 1e6:.4f}",
            f"{r.macs / 1e9:.4f}",
            str(r.seeds),
        ]
        if with_paper:
            cells.append("" if r.paper is None else f"{r.paper[0]:.2f} / {r.paper[1]:.2f}")
        table.append(cells)
    return table


HEADER = ["variant", "top-1 err (%)", "top-5 err (%)", "params (M)", "GFLOPs", "seeds", "paper top-1 / top-5"]


def format_text(rows: Sequence[Row], *, title: str = "") -> str:
    """A fixed-width table for the terminal."""
    table = _table(rows)
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [title] if title else []
    for line in table:
        cells = (
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def format_markdown(rows: Sequence[Row], *, title: str = "") -> str:
    """A GitHub Markdown table (errors as mean ± std over seeds)."""
    header, *body = _table(rows)
    lines = [f"**{title}**", ""] if title else []
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    lines.extend("| " + " | ".join(cells) + " |" for cells in body)
    return "\n".join(lines) + "\n"


def format_csv(rows: Sequence[Row]) -> str:
    """Exact numbers, one row per variant; empty std / paper cells where undefined."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["variant", "seeds", "top1_err_mean", "top1_err_std", "top5_err_mean", "top5_err_std",
         "params", "macs", "paper_top1_err", "paper_top5_err"]
    )  # fmt: skip
    for r in rows:
        paper = ["", ""] if r.paper is None else list(r.paper)
        writer.writerow(
            [r.variant, r.seeds, f"{r.top1_mean:.4f}", "" if r.top1_std is None else f"{r.top1_std:.4f}",
             f"{r.top5_mean:.4f}", "" if r.top5_std is None else f"{r.top5_std:.4f}", r.params, r.macs, *paper]
        )  # fmt: skip
    return out.getvalue()
