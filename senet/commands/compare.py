"""The comparison table of ``senet train`` over several seeds: each network's top-1 / top-5 as mean
and spread, and whether the SE network's difference to its twin stands out of the noise.

The test is the paired one: each seed trains both networks on the same data order, so the
per-seed differences d_i (SE minus twin, top-1 points) are compared with their own spread: the
difference is called real only when |mean(d)| exceeds the 95% half-width
t(n-1) * sd(d) / sqrt(n) (Student's t). With one seed there is no spread and nothing is claimed.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from statistics import mean, stdev

from senet.train.engine import FitResult
from senet.train.rundir import read_metrics

T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}
"""Two-sided 95% quantiles of Student's t by degrees of freedom (1.96 beyond the table)."""


def _spread(values: list[float]) -> str:
    """``mean ± sd`` (sample standard deviation), or the one value."""
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{mean(values):.2f} ± {stdev(values):.2f}"


def verdict(differences: list[float], image_points: float) -> str:
    """A sentence on the paired top-1 differences (SE minus twin, one per seed)."""
    n = len(differences)
    shown = ", ".join(f"{d:+.2f}" for d in differences)
    if n < 2:
        return f"difference {differences[0]:+.2f} points from one seed: no spread, so no claim either way"
    half = T95.get(n - 1, 1.96) * stdev(differences) / math.sqrt(n)
    where = f"difference {mean(differences):+.2f} points (per seed: {shown}; 95% interval ± {half:.2f})"
    if abs(mean(differences)) <= half:
        return f"{where}: within the seed-to-seed noise, not a result (1 image = {image_points:.2f} points)"
    return f"{where}: larger than the seed-to-seed noise (1 image = {image_points:.2f} points)"


def seeds_table(results: list[FitResult]) -> str:
    """Per model (in order of appearance): runs, top-1 and top-5 (mean ± sd over the runs), params,
    GFLOPs, mean time; then the verdict on the first two models' paired top-1 differences."""
    models = list(dict.fromkeys(r.model for r in results))
    runs = {m: [r for r in results if r.model == m] for m in models}
    width = max(len(m) for m in models)
    lines = [
        f"{'model':<{width}}  {'seeds':>5}  {'top-1 acc (%)':>14}  {'top-5 acc (%)':>14}  {'params (M)':>10}  "
        f"{'GFLOPs':>8}  {'time (s)':>8}"
    ]
    for m in models:
        rs = runs[m]
        lines.append(
            f"{m:<{width}}  {len(rs):>5}  {_spread([r.top1 for r in rs]):>14}  {_spread([r.top5 for r in rs]):>14}  "
            f"{rs[0].params / 1e6:>10.4f}  {rs[0].macs / 1e9:>8.4f}  {mean(r.seconds for r in rs):>8.1f}"
        )
    first = results[0]
    if len(models) == 2 and len(runs[models[0]]) == len(runs[models[1]]):
        pairs = zip(runs[models[0]], runs[models[1]], strict=True)
        val = _val_images(first)
        image_points = 100 / val if val else float("nan")
        lines.append(
            f"top-1 {models[0]} - {models[1]}: " + verdict([a.top1 - b.top1 for a, b in pairs], image_points)
        )
    lines.append(
        f"data: {first.dataset} at {first.input_size}x{first.input_size}, {first.epochs} epochs per run; "
        "mean ± sample standard deviation over the seeds; GFLOPs = multiply-adds of one forward pass (Sec. 4)"
    )
    lines.append(f"run folders: {os.path.commonpath([r.run_dir for r in results])}/<model>/seed-<k>")
    return "\n".join(lines)


def _val_images(result: FitResult) -> int:
    """Validation images of a run (its last validated metrics row), 0 when unknown."""
    rows = read_metrics(Path(result.run_dir))
    return next((int(row["val_images"]) for row in reversed(rows) if "val_images" in row), 0)
