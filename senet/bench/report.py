"""What ``senet bench`` concludes from its timings: SE overheads, speed-ups, peers, targets, the table.

All functions take the ``results`` rows of a report (:func:`senet.bench.runner.run_bench`, or a
saved ``--json`` file): ``model``, ``mode``, ``variant``, ``dtype``, ``batch``, ``median_ms`` and,
when the run recorded them, ``samples_ms``. The targets to judge are given by the caller
(:mod:`senet.bench.targets`); none are built in.
"""

from __future__ import annotations

import json
import random
import statistics
from operator import itemgetter
from pathlib import Path
from typing import Any

from senet.bench.peers import split_peer
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


def peer_comparisons(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """How senet's rows compare with its peers' (``senet bench --peers``; peer rows ``PEER:MODEL``).

    For every peer row and senet's row of the same model and setting: ``speedup`` = peer time /
    senet time (above 1: senet is faster). Then, per model, peer, mode and batch, the best of
    each side (the fastest variant and dtype of each, as the issue's "best mode" figures), with
    variant and dtype ``"best"`` and the winning settings in ``senet_setting`` / ``peer_setting``.
    """
    index, rows = _index(results), []
    best: dict[tuple[str, str, str, int], tuple[dict[str, Any], dict[str, Any]]] = {}
    for (model, mode, variant, dtype), r in index.items():
        peer, base = split_peer(model)
        ours = index.get((base, mode, variant, dtype))
        if peer is None or ours is None:
            continue
        rows.append({"model": base, "peer": model, "mode": mode, "variant": variant, "dtype": dtype,
                     "batch": r["batch"], "senet_ms": ours["median_ms"], "peer_ms": r["median_ms"],
                     "speedup": round(r["median_ms"] / ours["median_ms"], 3)})  # fmt: skip
        key = (base, model, mode, r["batch"])
        mine, theirs = best.get(key, (ours, r))
        best[key] = (
            min(mine, ours, key=itemgetter("median_ms")),
            min(theirs, r, key=itemgetter("median_ms")),
        )
    for (base, model, mode, batch), (ours, theirs) in best.items():
        rows.append({"model": base, "peer": model, "mode": mode, "variant": "best", "dtype": "best",
                     "batch": batch, "senet_ms": ours["median_ms"], "peer_ms": theirs["median_ms"],
                     "speedup": round(theirs["median_ms"] / ours["median_ms"], 3),
                     "senet_setting": f"{ours['variant']} {ours['dtype']}",
                     "peer_setting": f"{theirs['variant']} {theirs['dtype']}"})  # fmt: skip
    return rows


def check_targets(results: list[dict[str, Any]], targets: tuple[Target, ...]) -> list[dict[str, Any]]:
    """Each target whose figures were measured, with its value, whether it is met and the miss."""
    return judge(overheads(results), speedups(results), targets, peer_comparisons(results))


def summarize_timings(report: dict[str, Any], targets: tuple[Target, ...] = ()) -> dict[str, Any]:
    """``report`` with its overheads, speed-ups and the verdicts on ``targets`` added."""
    over_rows, speed_rows = overheads(report["results"]), speedups(report["results"])  # bootstraps once
    peer_rows = peer_comparisons(report["results"])
    return {
        **report,
        "overheads": over_rows,
        "speedups": speed_rows,
        "peers": peer_rows,
        "targets": judge(over_rows, speed_rows, targets, peer_rows),
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
    width = max([22, *(len(r["model"]) for r in report["results"])])  # peer rows: "reference:se_resnet50"
    head = f"{'model':<{width}} {'setting':<30} {'median ms':>10} {'img/s':>9} {'vs twin':>8} {'paired':>8} {'vs eager':>8}"
    if report.get("peers"):
        head += f" {'senet x':>8}"  # a peer row: its time / senet's in the same setting
    lines = [head]
    versus = {(c["peer"], c["mode"], c["variant"], c["dtype"]): c["speedup"] for c in report.get("peers", [])}
    over = {(o["model"], o["mode"], o["variant"], o["dtype"]): o for o in report["overheads"]}
    speed = {(s["model"], s["mode"], s["variant"], s["dtype"]): s["speedup"] for s in report["speedups"]}
    for r in report["results"]:
        key = (r["model"], r["mode"], r["variant"], r["dtype"])
        o = over.get(key, {})
        s = speed.get(key)
        setting = f"{r['mode']} {r['variant']} {r['dtype']} b{r['batch']} {r['image_size']}px"
        v = versus.get(key)
        lines.append(
            f"{r['model']:<{width}} {setting:<30} {r['median_ms']:>10.2f} {r['images_per_s']:>9.1f} "
            f"{_pct(o.get('overhead')):>8} {_pct(o.get('overhead_paired')):>8} {'' if s is None else f'{s:.2f}x':>8}"
            + ("" if v is None else f" {v:>7.2f}x")
        )
    for c in report.get("peers", []):
        if c["variant"] == "best":
            lines.append(
                f"{c['model']} vs {c['peer']}, {c['mode']} b{c['batch']}, best of each: senet "
                f"{c['senet_setting']} {c['senet_ms']:.2f} ms, peer {c['peer_setting']} {c['peer_ms']:.2f} ms: "
                f"senet {c['speedup']:.2f}x"
            )
    for t in report["targets"]:
        verdict = ("MET" if t["met"] else "MISSED") + (f" ({t['miss']})" if t["miss"] else "")
        lines.append(f"target: {t['name']} (b{t['batch']}): {t['shown']}: {verdict}")
    return "\n".join(lines)
