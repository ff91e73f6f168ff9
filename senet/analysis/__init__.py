"""Sections 6-7 of the paper as tools: ablation grids (Tables 10-16) and excitation analysis (Fig. 6).

- :func:`run_grid` trains a grid (:func:`preset` ``table10`` ... ``table16``, or :func:`axis_grid`)
  with one recipe over several seeds, resumably; :func:`summarize` and ``format_*`` give the table.
- :func:`record_excitations` / :func:`replace_gate` hook the SE gates; :func:`analyze` reports
  class means and standard deviations (Figs. 6, 7), saturation, class specificity and block
  importance; :func:`plot_all` draws them; :data:`FIG6` is the paper's selection of images.
- :func:`read_curves` / :func:`write_curves`: Fig. 4, training and validation curves of run folders.
"""

from senet.analysis.ablation import Cell, CellResult, plan, run_grid
from senet.analysis.curves import Curve, read_curves, write_curves
from senet.analysis.grids import AXES, PRESETS, Axis, Grid, Variant, axis_grid, preset
from senet.analysis.hooks import record_excitations, replace_gate, se_blocks
from senet.analysis.plots import plot_all
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
from senet.analysis.tables import Row, format_csv, format_markdown, format_text, mean_std, summarize

__all__ = [
    "AXES",
    "PRESETS",
    "Analysis",
    "Axis",
    "FIG6",
    "Cell",
    "CellResult",
    "Curve",
    "Grid",
    "Row",
    "Variant",
    "analyze",
    "axis_grid",
    "class_means",
    "class_stds",
    "collect",
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
