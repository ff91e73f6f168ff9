"""Results in the paper's table form (Tables 4-6, 8, 10-16): one row per variant.

Columns: top-1 / top-5 error (%) as mean +- std over seeds (one error on CIFAR, as Tables 4-5),
params, GFLOPs (multiply-adds of one forward pass at the data's input size, Sec. 4), seeds, the
paper's numbers for the row where it has them (its error; its parameter count in millions), and,
for a row that has a baseline in the grid (its plain twin, :func:`senet.analysis.grids.baseline_of`),
the difference of top-1 error to it and the extra parameters over it.

The std is the sample standard deviation (n - 1 in the denominator); with one seed it is not
defined and is printed as ``-`` (empty in the CSV).

**Within the seeds' spread.** A row's difference to its baseline, d = mean(row) - mean(baseline)
of top-1 error, is *within the seeds' spread* when |d| <= max(s_row, s_baseline), the larger of the
two sample stds; otherwise it is *beyond* it. With one seed in either row no spread is known and
the table says so. This is a rule of thumb for a few seeds, not a significance test: a difference
beyond the spread of 3 seeds is suggestive, one within it is not shown by these runs.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from senet.analysis.ablation import CellResult
from senet.analysis.budget import Budget
from senet.analysis.grids import Variant, baseline_of


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
    paper: tuple[float, ...] | None = None
    """The paper's errors of the row (see :attr:`senet.analysis.grids.Variant.paper`)."""
    paper_params: float | None = None
    """The paper's parameter count of the row, in millions."""
    baseline: str | None = None
    """The row this one is compared with (its plain twin), when the grid has it."""


@dataclass(frozen=True)
class Comparison:
    """A row's top-1 error and parameters against its baseline row's."""

    row: str
    baseline: str
    diff: float
    """mean(row) - mean(baseline) of top-1 error, in points (negative: the row errs less)."""
    spread: float | None
    """max of the two rows' sample stds; None when either has one seed."""
    extra_params: float
    """(params(row) - params(baseline)) / params(baseline)."""
    seeds: tuple[int, int]
    """The number of seeds of the row and of its baseline."""

    @property
    def within(self) -> bool | None:
        """|diff| <= spread; None when no spread is known."""
        return None if self.spread is None else abs(self.diff) <= self.spread

    def verdict(self) -> str:
        """``within spread``, ``beyond spread`` or ``spread unknown``."""
        return {None: "spread unknown", True: "within spread", False: "beyond spread"}[self.within]

    def note(self) -> str:
        """One sentence for under the table."""
        head = f"{self.row} vs {self.baseline}: {self.diff:+.2f} points of top-1 error"
        if self.spread is None:
            return f"{head}; one seed, so no spread is known (give --seeds 0 1 2)."
        seeds = f"{self.seeds[0]} / {self.seeds[1]} seeds"
        if self.within:
            return f"{head}, within the seeds' spread (largest std {self.spread:.2f}, {seeds}): not shown by these runs."
        return f"{head}, beyond the seeds' spread (largest std {self.spread:.2f}, {seeds})."


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
        first, variant = group[0].result, variants[name]
        base = baseline_of(variant, list(variants.values()))
        rows.append(
            Row(name, len(group), *top1, *top5, first.params, first.macs, variant.paper,
                variant.paper_params, base.name if base else None)
        )  # fmt: skip
    return rows


def compare(rows: Sequence[Row]) -> list[Comparison]:
    """Each row that has a baseline against it (see the module docstring for the spread rule)."""
    by_name = {r.variant: r for r in rows}
    out = []
    for r in rows:
        base = by_name.get(r.baseline) if r.baseline else None
        if base is None:
            continue
        stds = (r.top1_std, base.top1_std)
        spread = None if None in stds else max(s for s in stds if s is not None)
        extra = (r.params - base.params) / base.params if base.params else math.nan
        out.append(Comparison(r.variant, base.variant, r.top1_mean - base.top1_mean, spread, extra,
                              (r.seeds, base.seeds)))  # fmt: skip
    return out


def _distinct(values: Sequence[object]) -> str:
    """The distinct values in first-seen order, joined by '/'."""
    return "/".join(dict.fromkeys(str(v) for v in values))


def title(table: str, results: Sequence[CellResult], *, budget: Budget | None, seeds: Sequence[int]) -> str:
    """``TABLE -- budget: 2 epochs of 164 -- MODEL on DATA at SIZEpx, recipe R, E epochs, seeds S``.

    The budget part appears only for a ``--budget`` run; several networks read ``models``.
    """
    done = [r.result for r in results]
    cells = [r.cell for r in results]
    models = done[0].model if len({r.model for r in done}) == 1 else "models"
    head = table
    if budget is not None:
        head += f" -- budget: {budget.describe([c.full_epochs for c in cells if c.full_epochs])}"
    epochs = _distinct([c.config.epochs for c in cells])
    return (
        f"{head} -- {models} on {_distinct([r.dataset for r in done])} at "
        f"{_distinct([r.input_size for r in done])}px, recipe {_distinct([c.config.recipe for c in cells])}, "
        f"{epochs} epoch{'' if epochs == '1' else 's'}, seeds {' '.join(map(str, seeds))}"
    )


def pm(mean: float, std: float | None, digits: int = 2) -> str:
    """``12.34 ± 0.56`` (or ``12.34 ± -`` without a std)."""
    return f"{mean:.{digits}f} ± {'-' if std is None else f'{std:.{digits}f}'}"


def _paper(values: tuple[float, ...] | None) -> str:
    return "" if values is None else " / ".join(f"{v:.2f}" for v in values)


def _table(rows: Sequence[Row], top5: bool = True) -> list[list[str]]:
    """Header and cells; the paper and baseline columns only when some row has them."""
    with_paper = any(r.paper is not None for r in rows)
    with_params = any(r.paper_params is not None for r in rows)
    versus = {c.row: c for c in compare(rows)}
    header = ["variant", "top-1 err (%)", "top-5 err (%)"] if top5 else ["variant", "error (%)"]
    header += ["params (M)", "GFLOPs", "seeds"]
    header += ["paper top-1 / top-5" if top5 else "paper error (%)"] if with_paper else []
    header += ["paper params (M)"] if with_params else []
    header += ["Δ top-1 vs baseline", "extra params"] if versus else []
    table = [header]
    for r in rows:
        cells = [r.variant, pm(r.top1_mean, r.top1_std)]
        cells += [pm(r.top5_mean, r.top5_std)] if top5 else []
        cells += [f"{r.params / 1e6:.4f}", f"{r.macs / 1e9:.4f}", str(r.seeds)]
        cells += [_paper(r.paper)] if with_paper else []
        cells += ["" if r.paper_params is None else f"{r.paper_params:.1f}"] if with_params else []
        if versus:
            c = versus.get(r.variant)
            cells += [f"{c.diff:+.2f} {c.verdict()}", f"{100 * c.extra_params:+.1f}%"] if c else ["", ""]
        table.append(cells)
    return table


def notes(rows: Sequence[Row]) -> list[str]:
    """One sentence per row compared with its baseline, and the rule used."""
    found = compare(rows)
    if not found:
        return []
    rule = "spread: a difference is within the seeds' spread when |Δ| <= the larger of the two sample stds"
    return [c.note() for c in found] + [rule]


def format_text(rows: Sequence[Row], *, title: str = "", top5: bool = True) -> str:
    """A fixed-width table for the terminal (print :func:`notes` under it)."""
    table = _table(rows, top5)
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [title] if title else []
    for line in table:
        cells = (
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def format_markdown(rows: Sequence[Row], *, title: str = "", top5: bool = True) -> str:
    """A GitHub Markdown table (errors as mean ± std over seeds), the comparison notes under it."""
    header, *body = _table(rows, top5)
    lines = [f"**{title}**", ""] if title else []
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    lines.extend("| " + " | ".join(cells) + " |" for cells in body)
    found = notes(rows)
    lines += [""] + [f"- {n}" for n in found] if found else []
    return "\n".join(lines) + "\n"


def format_csv(rows: Sequence[Row]) -> str:
    """Exact numbers, one row per variant; empty std / paper / baseline cells where undefined.

    ``paper_top5_err`` is empty for the CIFAR tables (one error); ``top1_diff`` is mean(row) -
    mean(baseline) of top-1 error and ``within_spread`` 1 / 0 (empty: one seed, see the rule above).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["variant", "seeds", "top1_err_mean", "top1_err_std", "top5_err_mean", "top5_err_std",
         "params", "macs", "paper_top1_err", "paper_top5_err", "paper_params_m", "baseline",
         "top1_diff", "spread", "within_spread", "extra_params"]
    )  # fmt: skip
    versus = {c.row: c for c in compare(rows)}
    for r in rows:
        paper = (list(r.paper) + ["", ""])[:2] if r.paper else ["", ""]
        c = versus.get(r.variant)
        within = "" if c is None or c.within is None else int(c.within)
        vs = ["", "", "", "", ""] if c is None else [
            c.baseline, f"{c.diff:.4f}", "" if c.spread is None else f"{c.spread:.4f}", within,
            f"{c.extra_params:.6f}"]  # fmt: skip
        writer.writerow(
            [r.variant, r.seeds, f"{r.top1_mean:.4f}", "" if r.top1_std is None else f"{r.top1_std:.4f}",
             f"{r.top5_mean:.4f}", "" if r.top5_std is None else f"{r.top5_std:.4f}", r.params, r.macs, *paper,
             "" if r.paper_params is None else r.paper_params, *vs]
        )  # fmt: skip
    return out.getvalue()
