"""What ``senet bench`` concludes from its timings: SE overheads, speed-ups, and the targets.

The targets are those of issue 7 for this project (medians of interleaved runs): the SE block
should cost at most 3% (fp32) / 5% (bf16) time over the plain twin once both are optimised,
the fast path should be at least 1.3x (fp32, batch 1) / 2x (bf16, batch N vs eager fp32)
faster than eager, and SE-ResNet-20 should train at most 8% slower than ResNet-20. A target
is evaluated only when the run measured what it needs; a missed one states by how much.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from senet.fast.bench import plain_twin


@dataclass(frozen=True)
class Target:
    """One target: ``overhead`` (SE vs twin, at most ``limit``) or ``speedup`` (at least ``limit``)."""

    name: str
    model: str
    kind: Literal["overhead", "speedup"]
    mode: str
    dtype: str
    limit: float
    variant: str = "optimized"


TARGETS: tuple[Target, ...] = (
    Target(
        "SE-ResNet-50 vs ResNet-50, optimized fp32, batch 1",
        "se_resnet50",
        "overhead",
        "latency",
        "fp32",
        0.03,
    ),
    Target(
        "SE-ResNet-50 vs ResNet-50, optimized fp32, batch N",
        "se_resnet50",
        "overhead",
        "throughput",
        "fp32",
        0.03,
    ),
    Target(
        "SE-ResNet-50 vs ResNet-50, optimized bf16, batch 1",
        "se_resnet50",
        "overhead",
        "latency",
        "bf16",
        0.05,
    ),
    Target(
        "SE-ResNet-50 vs ResNet-50, optimized bf16, batch N",
        "se_resnet50",
        "overhead",
        "throughput",
        "bf16",
        0.05,
    ),
    Target(
        "SE-ResNet-50 optimized fp32 vs eager fp32, batch 1", "se_resnet50", "speedup", "latency", "fp32", 1.3
    ),
    Target(
        "SE-ResNet-50 optimized bf16 vs eager fp32, batch N",
        "se_resnet50",
        "speedup",
        "throughput",
        "bf16",
        2.0,
    ),
    Target(
        "SE-ResNet-20 vs ResNet-20 training step",
        "se_resnet20_cifar",
        "overhead",
        "train",
        "fp32",
        0.08,
        "eager",
    ),
)


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


def _with_compiled(targets: tuple[Target, ...]) -> list[Target]:
    """Each target on ``optimized`` also stands for the ``compiled`` variant (optimize(compile=True))."""
    out: list[Target] = []
    for t in targets:
        out.append(t)
        if t.variant == "optimized":
            out.append(replace(t, name=t.name.replace("optimized", "compiled"), variant="compiled"))
    return out


def evaluate(results: list[dict[str, Any]], targets: tuple[Target, ...] = TARGETS) -> list[dict[str, Any]]:
    """Each target whose figures were measured, with its value, whether it is met and the miss."""
    return _judge(overheads(results), speedups(results), targets)


def _judge(
    over_rows: list[dict[str, Any]], speed_rows: list[dict[str, Any]], targets: tuple[Target, ...]
) -> list[dict[str, Any]]:
    over = {(o["model"], o["mode"], o["variant"], o["dtype"]): o for o in over_rows}
    speed = {(s["model"], s["mode"], s["variant"], s["dtype"]): s for s in speed_rows}
    rows = []
    for t in _with_compiled(targets):
        if t.kind == "overhead":
            found = over.get((t.model, t.mode, t.variant, t.dtype))
            if found is None:
                continue
            paired, interval = found.get("overhead_paired"), found.get("overhead_interval")
            value = found["overhead"] if paired is None else paired  # the paired median when timed so
            met = value <= t.limit
            miss = "" if met else f"over by {100 * (value - t.limit):.2f} percentage points"
            shown = f"{100 * value:+.1f}% (limit +{100 * t.limit:.0f}%)"
            if interval:
                low, high = interval
                shown += f" [95% interval {100 * low:+.1f}..{100 * high:+.1f}%; ratio of medians {100 * found['overhead']:+.1f}%]"
                if low <= t.limit < high:
                    miss += ("; " if miss else "") + "not conclusive: the interval spans the limit"
        else:
            found = speed.get((t.model, t.mode, t.variant, t.dtype))
            if found is None:
                continue
            value = found["speedup"]
            met = value >= t.limit
            miss = (
                "" if met else f"short by {100 * (1 - value / t.limit):.0f}% ({value:.2f}x of {t.limit:.1f}x)"
            )
            shown = f"{value:.2f}x (needs {t.limit:.1f}x)"
        rows.append(
            {**asdict(t), "batch": found["batch"], "value": value, "shown": shown, "met": met, "miss": miss}
        )
    return rows


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """``report`` with its overheads, speed-ups and target evaluations added."""
    over_rows, speed_rows = overheads(report["results"]), speedups(report["results"])  # bootstraps once
    return {
        **report,
        "overheads": over_rows,
        "speedups": speed_rows,
        "targets": _judge(over_rows, speed_rows, TARGETS),
    }


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:+.1f}%"


def format_table(report: dict[str, Any]) -> str:
    """A fixed-width table of medians, SE overheads and targets."""
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


def main(argv: list[str] | None = None) -> int:
    """``python -m senet.fast.report RUN.json``: the table and target verdicts of a saved run."""
    import argparse
    import json
    from pathlib import Path

    p = argparse.ArgumentParser(prog="python -m senet.fast.report", description=main.__doc__)
    p.add_argument("report", type=Path, help="a JSON file written by senet bench --json")
    args = p.parse_args(argv)
    try:
        saved = json.loads(args.report.read_text())
        table = format_table(summarize({"meta": saved.get("meta", {}), "results": saved["results"]}))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise SystemExit(f"{args.report}: not a senet bench report ({type(err).__name__}: {err})") from err
    print(table)
    command = saved.get("meta", {}).get("command")
    if command:
        print(f"measured by: {command}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
