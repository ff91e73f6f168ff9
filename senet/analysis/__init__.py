"""Sections 6-7 of the paper as tools: ablation grids (Tables 10-16) and excitation analysis (Fig. 6).

- :func:`run_grid` trains a grid (:func:`preset` ``table4`` ... ``table16``, ``last_stage``, or
  :func:`axis_grid`) over several seeds, resumably, optionally cut to a :class:`Budget`;
  :func:`summarize`, :func:`compare` and ``format_*`` give the table (mean +- std, the spread rule).
- :func:`record_excitations` / :func:`replace_gate` hook the SE gates; :func:`analyze` reports
  class means and standard deviations (Figs. 6, 7), saturation, class specificity and block
  importance; :func:`plot_all` draws them; :data:`FIG6` is the paper's selection of images.
- :func:`read_curves` / :func:`write_curves`: Fig. 4, training and validation curves of run folders.
"""

from senet.analysis.ablation import Cell, CellResult, plan, run_grid
from senet.analysis.budget import Budget
from senet.analysis.curves import Curve, read_curves, write_curves
from senet.analysis.grids import AXES, Axis, Grid, Variant, axis_grid, baseline_of
from senet.analysis.hooks import record_excitations, replace_gate, se_blocks
from senet.analysis.plots import plot_all
from senet.analysis.presets import PRESETS, preset
from senet.analysis.report import (
    FIG6,
    Analysis,
    analyze,
    collect,
    default_blocks,
    format_report,
    last_stage_blocks,
    select_images,
)
from senet.analysis.stats import class_means, class_stds, importance, saturation, specificity
from senet.analysis.tables import (
    Comparison,
    Row,
    compare,
    format_csv,
    format_markdown,
    format_text,
    mean_std,
    summarize,
)

__all__ = [
    "AXES",
    "PRESETS",
    "Analysis",
    "Axis",
    "Budget",
    "FIG6",
    "Cell",
    "CellResult",
    "Comparison",
    "Curve",
    "Grid",
    "Row",
    "Variant",
    "analyze",
    "axis_grid",
    "baseline_of",
    "class_means",
    "class_stds",
    "collect",
    "compare",
    "default_blocks",
    "format_csv",
    "format_markdown",
    "format_report",
    "format_text",
    "importance",
    "last_stage_blocks",
    "mean_std",
    "plan",
    "plot_all",
    "preset",
    "read_curves",
    "record_excitations",
    "replace_gate",
    "run_grid",
    "saturation",
    "se_blocks",
    "select_images",
    "specificity",
    "summarize",
    "write_curves",
]
