"""What ``senet bench`` concludes from its timings: SE overheads, speed-ups, targets, the table.

All functions take the ``results`` rows of a report (:func:`senet.bench.runner.run_bench`, or a
saved ``--json`` file): ``model``, ``mode``, ``variant``, ``dtype``, ``batch``, ``median_ms`` and,
when the run recorded them, ``samples_ms``. The targets to judge are given by the caller
(:mod:`senet.bench.targets`); none are built in.
"""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path
from typing import Any

from senet.bench.runner import plain_twin
from senet.bench.targets import Target, judge


def _index(results: list[dict[str, Any]]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    return {(r["model"], r["mode"], r["variant"], r["dtype"]): r for r in results}


def median_interval(
    values: list[float], *, level: float = 0.95, resamples: int = 2000
) -> tuple[float, float]:
    """A bootstrap ``level`` interval of the median of ``values`` (fixed seed: reproducible).

    On a noisy machine this says how far one run's figure can be trusted: the SE overhead of a
    run is a median of paired ratios, and this is the range such medians take when the same
    repetitions are resampled.
    """
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    tail = (1.0 - level) / 2.0
    return medians[int(tail * (resamples - 1))], medians[int((1.0 - tail) * (resamples - 1))]


def overheads(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For every SE model timed with its twin: SE time / plain time - 1 per setting.

    ``overhead`` is the ratio of the medians; ``overhead_paired`` the median over repetitions of
    the ratio of the two samples taken next to each other (what the targets use: it is less
    sensitive to the load of a shared machine drifting during the run), and
    ``overhead_interval`` its 95% bootstrap interval (:func:`median_interval`).
    """
    index, rows = _index(results), []
    for (model, mode, variant, dtype), r in index.items():
        twin = plain_twin(model)
        t = index.get((twin or "", mode, variant, dtype))
        if t is not None:
            ratio = r["median_ms"] / t["median_ms"] - 1.0
            pairs = zip(r.get("samples_ms", []), t.get("samples_ms", []), strict=False)
            paired = [a / b - 1.0 for a, b in pairs]  # repetition k of each: adjacent in time
            rows.append({"model": model, "twin": twin, "mode": mode, "variant": variant, "dtype": dtype,
                         "batch": r["batch"], "model_ms": r["median_ms"], "twin_ms": t["median_ms"],
                         "overhead": round(ratio, 4),
                         "overhead_paired": round(statistics.median(paired), 4) if paired else None,
                         "overhead_interval": [round(v, 4) for v in median_interval(paired)] if paired else None})  # fmt: skip
    return rows


def speedups(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For every model and optimised setting: eager fp32 time / optimised time, same mode."""
    index, rows = _index(results), []
    for (model, mode, variant, dtype), r in index.items():
        base = index.get((model, mode, "eager", "fp32"))
        if variant != "eager" and base is not None:
            rows.append({"model": model, "mode": mode, "variant": variant, "dtype": dtype, "batch": r["batch"],
                         "speedup": round(base["median_ms"] / r["median_ms"], 3)})  # fmt: skip
    return rows


def check_targets(results: list[dict[str, Any]], targets: tuple[Target, ...]) -> list[dict[str, Any]]:
    """Each target whose figures were measured, with its value, whether it is met and the miss."""
    return judge(overheads(results), speedups(results), targets)


def summarize_timings(report: dict[str, Any], targets: tuple[Target, ...] = ()) -> dict[str, Any]:
    """``report`` with its overheads, speed-ups and the verdicts on ``targets`` added."""
    over_rows, speed_rows = overheads(report["results"]), speedups(report["results"])  # bootstraps once
    return {
        **report,
        "overheads": over_rows,
        "speedups": speed_rows,
        "targets": judge(over_rows, speed_rows, targets),
    }


#: The keys every row of a saved report holds (in every version of ``senet bench --json``).
ROW_KEYS = ("model", "mode", "variant", "dtype", "batch", "image_size", "median_ms", "images_per_s")


def read_report(path: str | Path) -> dict[str, Any]:
    """The ``meta`` and ``results`` of a report saved by ``senet bench --json``; a ValueError
    naming the file when it is not one."""
    try:
        saved = json.loads(Path(path).read_text())
        report = {"meta": dict(saved.get("meta", {})), "results": list(saved["results"])}
        for row in report["results"]:
            missing = [key for key in ROW_KEYS if key not in row]
            if missing:
                raise KeyError(f"a result row lacks {missing}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"{path}: not a senet bench report ({type(err).__name__}: {err})") from err
    return report


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:+.1f}%"


def format_table(report: dict[str, Any]) -> str:
    """A fixed-width table of medians, SE overheads and target verdicts (of :func:`summarize_timings`)."""
    head = f"{'model':<22} {'setting':<30} {'median ms':>10} {'img/s':>9} {'vs twin':>8} {'paired':>8} {'vs eager':>8}"
    lines = [head]
    over = {(o["model"], o["mode"], o["variant"], o["dtype"]): o for o in report["overheads"]}
    speed = {(s["model"], s["mode"], s["variant"], s["dtype"]): s["speedup"] for s in report["speedups"]}
    for r in report["results"]:
        key = (r["model"], r["mode"], r["variant"], r["dtype"])
        o = over.get(key, {})
        s = speed.get(key)
        setting = f"{r['mode']} {r['variant']} {r['dtype']} b{r['batch']} {r['image_size']}px"
        lines.append(
            f"{r['model']:<22} {setting:<30} {r['median_ms']:>10.2f} {r['images_per_s']:>9.1f} "
            f"{_pct(o.get('overhead')):>8} {_pct(o.get('overhead_paired')):>8} {'' if s is None else f'{s:.2f}x':>8}"
        )
    for t in report["targets"]:
        verdict = ("MET" if t["met"] else "MISSED") + (f" ({t['miss']})" if t["miss"] else "")
        lines.append(f"target: {t['name']} (b{t['batch']}): {t['shown']}: {verdict}")
    return "\n".join(lines)
