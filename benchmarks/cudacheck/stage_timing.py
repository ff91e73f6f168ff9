"""Stages ``timing`` and ``warm``: senet against timm on one card, interleaved in one process.

Models: senet's ``se_resnet50`` / ``resnet50`` and timm's ``seresnet50`` / ``resnet50``, random
weights, 224x224 random images resident on the GPU, bf16 autocast ("AMP") and channels_last.
Groups, each timed with :func:`senet.bench.timing.time_interleaved` (ABBA turns, medians), so
that every row of a group sees the same state of the card:

- ``infer_b1`` and ``infer_b256``: senet eager (autocast), senet optimized
  (``senet.optimize(dtype=bfloat16)``), senet compiled (``optimize(..., compile=True)``), timm
  eager (autocast), timm compiled (``torch.compile`` under autocast); compiled rows at batch 256
  only (each new shape compiles anew).
- ``train_b128``: one SGD step (forward, cross-entropy, backward, momentum update) in senet
  eager, senet compiled (``torch.compile(model)``, what ``senet train --compile`` does), timm
  eager, timm compiled.

Reported: img/s medians, each implementation's SE overhead (SE time / plain time - 1, with the
median of paired ratios and its 95% interval), senet/timm ratios, and the targets of issue 17.
``warm`` builds the same compiled rows once in a separate process, earlier, so that Inductor's
on-disk caches make the timing process's compilations short. Rows whose package is missing,
and compiled rows in the dry run, are skipped with the reason.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

import senet
from cudacheck.common import Record, Skip, log, run_check, stage_report, write_json
from senet.bench.report import median_interval
from senet.bench.timing import sync, time_interleaved

Impl = Literal["senet", "timm"]
Variant = Literal["eager", "optimized", "compiled"]
#: (implementation, SE model, plain model) names.
MODELS: dict[Impl, tuple[str, str]] = {
    "senet": ("se_resnet50", "resnet50"),
    "timm": ("seresnet50", "resnet50"),
}


@dataclass(frozen=True)
class Sizes:
    """How big and how long: the GPU run's, or the dry run's tiny CPU version."""

    image: int = 224
    batches: tuple[tuple[str, str, int], ...] = (("train_b128", "train", 128), ("infer_b256", "infer", 256),
                                                 ("infer_b1", "infer", 1))  # most wanted first  # fmt: skip
    reps: int = 7
    warmup: int = 2
    min_sample_ms: float = 150.0
    compiled_in: tuple[str, ...] = ("infer_b256", "train_b128")
    amp: torch.dtype = torch.bfloat16
    """Autocast dtype of the eager and compiled rows, and optimize's dtype (float32 in the dry
    run: bf16 on a CPU without native support is slow, and only the code paths matter there)."""

    @staticmethod
    def dry() -> Sizes:
        return Sizes(image=32, batches=(("infer_b1", "infer", 1), ("infer_b256", "infer", 2),
                                        ("train_b128", "train", 2)), reps=1, warmup=0, min_sample_ms=1.0,
                     amp=torch.float32)  # fmt: skip


@dataclass(frozen=True)
class Row:
    impl: Impl
    variant: Variant
    model: str
    se: bool

    @property
    def key(self) -> str:
        return f"{self.impl} {self.variant} {self.model}"


def build(impl: Impl, name: str, device: torch.device) -> nn.Module:
    """A randomly initialised classifier (1000 classes) of ``impl``, on ``device``, channels_last."""
    torch.manual_seed(0)
    if impl == "timm":
        import timm

        model = timm.create_model(name, pretrained=False)
    else:
        model = senet.create_model(name)
    return model.to(device, memory_format=torch.channels_last)


def infer_step(
    model: nn.Module, row: Row, batch: int, sizes: Sizes, device: torch.device
) -> Callable[[], None]:
    model.eval()
    amp, size = sizes.amp, sizes.image
    if row.impl == "senet" and row.variant != "eager":
        runner = senet.optimize(model, dtype=amp, compile=row.variant == "compiled")
        autocast = False  # optimize's bf16 weights and activations
    else:
        runner = torch.compile(model, dynamic=False) if row.variant == "compiled" else model
        autocast = True
    x = torch.randn(batch, 3, size, size, device=device).to(memory_format=torch.channels_last)

    def step() -> None:
        with (
            torch.inference_mode(),
            torch.autocast(device.type, dtype=amp, enabled=autocast and amp != torch.float32),
        ):
            runner(x)

    return step


def train_step(
    model: nn.Module, row: Row, batch: int, sizes: Sizes, device: torch.device
) -> Callable[[], None]:
    model.train()
    amp, size = sizes.amp, sizes.image
    runner = torch.compile(model, dynamic=False) if row.variant == "compiled" else model
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(batch, 3, size, size, device=device).to(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device=device)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=amp, enabled=amp != torch.float32):
            loss = F.cross_entropy(runner(x).float(), y)
        loss.backward()
        optimizer.step()

    return step


def rows_of(
    group: str, mode: str, sizes: Sizes, *, timm_ok: bool, compiled_ok: bool
) -> tuple[list[Row], list[str]]:
    """The rows of a group, and the reasons for those left out."""
    variants: list[tuple[Impl, Variant]] = [("senet", "eager")]
    variants += [("senet", "optimized")] if mode == "infer" else []
    variants += [("senet", "compiled")]
    variants += [("timm", "eager"), ("timm", "compiled")]
    rows, left_out = [], []
    for impl, variant in variants:
        if impl == "timm" and not timm_ok:
            left_out.append(f"{impl} {variant}: timm is not installed")
            continue
        if variant == "compiled" and (group not in sizes.compiled_in or not compiled_ok):
            why = (
                "dry run: no torch.compile on the CPU"
                if not compiled_ok
                else "compiled rows only at " + ", ".join(sizes.compiled_in)
            )
            left_out.append(f"{impl} {variant}: {why}")
            continue
        se, plain = MODELS[impl]
        rows += [Row(impl, variant, se, True), Row(impl, variant, plain, False)]
    return rows, left_out


def graph_breaks() -> dict[str, int]:
    """Dynamo's graph-break reasons so far (a compiled row that falls back shows up here)."""
    from torch._dynamo.utils import counters

    return {reason[:200]: count for reason, count in counters["graph_break"].items()}


def time_group(
    group: str, mode: str, batch: int, rows: list[Row], sizes: Sizes, device: torch.device
) -> dict[str, Any]:
    """Build every row's step, call each once (compiling; timed apart), then time them interleaved.
    A row that fails to build or run is left out with its error; the others are still timed."""
    steps, first_s, failed = {}, {}, {}
    for row in rows:
        try:
            first_s[row.key], steps[row.key] = _first_call(row, mode, batch, sizes, device)
        except Exception as err:  # noqa: BLE001 (e.g. a compiler error: recorded, the rest timed)
            failed[row.key] = f"{type(err).__name__}: {err}"[:1000]
            log(f"{group}: {row.key}: FAILED {failed[row.key][:300]}")
            continue
        log(f"{group}: {row.key}: first call {first_s[row.key]} s")
    samples = time_interleaved(steps, reps=sizes.reps, warmup=sizes.warmup, min_sample_ms=sizes.min_sample_ms,
                               device=device)  # fmt: skip
    table = []
    for row in (r for r in rows if r.key in steps):
        ms = statistics.median(samples[row.key])
        table.append({"impl": row.impl, "variant": row.variant, "model": row.model, "se": row.se, "batch": batch,
                      "median_ms": round(ms, 3), "images_per_s": round(1000.0 * batch / ms, 1),
                      "first_call_s": first_s[row.key], "samples_ms": [round(s, 3) for s in samples[row.key]]})  # fmt: skip
        log(f"{group}: {row.key:<34} {ms:9.3f} ms  {1000.0 * batch / ms:10.1f} img/s")
    del steps
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return {"rows": table, "failed_rows": failed, "overheads": overheads(table), "ratios": ratios(table)}


def _first_call(
    row: Row, mode: str, batch: int, sizes: Sizes, device: torch.device
) -> tuple[float, Callable[[], None]]:
    """The row's step, built and called once (a compiled row compiles here): (seconds, step)."""
    make = train_step if mode == "train" else infer_step
    step = make(build(row.impl, row.model, device), row, batch, sizes, device)
    tic = time.perf_counter()
    step()
    sync(device)
    return round(time.perf_counter() - tic, 2), step


def overheads(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SE time / plain time - 1 for each implementation and variant (ratio of medians, paired median, interval)."""
    out = []
    for se in (r for r in table if r["se"]):
        plain = next(
            (r for r in table if not r["se"] and (r["impl"], r["variant"]) == (se["impl"], se["variant"])),
            None,
        )
        if plain is None:
            continue
        paired = [a / b - 1.0 for a, b in zip(se["samples_ms"], plain["samples_ms"], strict=False)]
        out.append({"impl": se["impl"], "variant": se["variant"], "overhead": round(se["median_ms"] / plain["median_ms"] - 1, 4),
                    "overhead_paired": round(statistics.median(paired), 4),
                    "overhead_interval": [round(v, 4) for v in median_interval(paired)]})  # fmt: skip
    return out


def ratios(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """senet img/s / timm img/s of the SE models, for every pair of variants timed."""
    se = [r for r in table if r["se"]]
    return [{"senet": a["variant"], "timm": b["variant"], "ratio": round(a["images_per_s"] / b["images_per_s"], 3)}
            for a in se if a["impl"] == "senet" for b in se if b["impl"] == "timm"]  # fmt: skip


def judge(groups: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 17's targets, for the figures that were measured."""
    out = []

    def ratio(group: str, senet_variant: str, timm_variant: str) -> float | None:
        found = [
            r["ratio"]
            for r in groups.get(group, {}).get("ratios", [])
            if (r["senet"], r["timm"]) == (senet_variant, timm_variant)
        ]
        return found[0] if found else None

    def overhead(group: str, variant: str) -> float | None:
        found = [
            o["overhead_paired"]
            for o in groups.get(group, {}).get("overheads", [])
            if (o["impl"], o["variant"]) == ("senet", variant)
        ]
        return found[0] if found else None

    checks = [("train b128: senet eager >= timm eager", ratio("train_b128", "eager", "eager"), ">=", 1.0),
              ("train b128: senet compiled >= timm compiled", ratio("train_b128", "compiled", "compiled"), ">=", 1.0),
              ("train b128: senet eager SE overhead <= 5%", overhead("train_b128", "eager"), "<=", 0.05),
              ("train b128: senet compiled SE overhead <= 5%", overhead("train_b128", "compiled"), "<=", 0.05),
              ("infer b256: senet optimized >= 1.2x timm eager", ratio("infer_b256", "optimized", "eager"), ">=", 1.2),
              ("infer b256: senet compiled >= timm compiled", ratio("infer_b256", "compiled", "compiled"), ">=", 1.0)]  # fmt: skip
    for name, value, op, limit in checks:
        met = None if value is None else (value >= limit if op == ">=" else value <= limit)
        out.append({"target": name, "value": value, "limit": limit, "met": met})
    return out


def _environment(dry_run: bool) -> tuple[torch.device, Sizes, bool]:
    cuda = torch.cuda.is_available() and not dry_run
    device = torch.device("cuda" if cuda else "cpu")
    if not cuda:
        torch.set_num_threads(1)
    try:
        import timm  # noqa: F401

        timm_ok = True
    except Exception:  # noqa: BLE001 (a broken binary dependency raises more than ImportError)
        timm_ok = False
    return device, (Sizes() if cuda else Sizes.dry()), timm_ok


def run(out: Path, *, dry_run: bool, limit_s: float) -> dict[str, Any]:
    device, sizes, timm_ok = _environment(dry_run)
    torch.backends.cudnn.benchmark = True
    deadline = time.monotonic() + (limit_s or 3600.0)
    records: list[Record] = []
    groups: dict[str, dict[str, Any]] = {}
    for group, mode, batch in sizes.batches:
        rows, left_out = rows_of(group, mode, sizes, timm_ok=timm_ok, compiled_ok=device.type == "cuda")

        def measure(group=group, mode=mode, batch=batch, rows=rows, left_out=left_out) -> dict[str, Any]:
            if time.monotonic() > deadline - 20:
                raise Skip("out of time (the stage's limit)")
            groups[group] = {**time_group(group, mode, batch, rows, sizes, device), "left_out": left_out}
            return groups[group]

        run_check(group, measure, records)
        write_json(out / "stages" / "timing.json", _report(records, groups, device, sizes, partial=True))
    run_check("graph breaks", lambda: {"graph_breaks": graph_breaks()}, records)
    return _report(records, groups, device, sizes, partial=False)


def _report(
    records: list[Record], groups: dict[str, Any], device: torch.device, sizes: Sizes, *, partial: bool
) -> dict[str, Any]:
    report = stage_report("timing", records, device=str(device), amp=str(sizes.amp), image_size=sizes.image,
                          reps=sizes.reps, groups=groups, targets=judge(groups))  # fmt: skip
    if partial:
        report["status"], report["reason"] = "failed", "partial: the stage did not finish"
    return report


def warm(out: Path, *, dry_run: bool, limit_s: float) -> dict[str, Any]:
    """Compile every compiled row of the timing stage once (fills Inductor's on-disk caches)."""
    device, sizes, timm_ok = _environment(dry_run)
    records: list[Record] = []
    for group, mode, batch in sizes.batches:
        rows, _ = rows_of(group, mode, sizes, timm_ok=timm_ok, compiled_ok=device.type == "cuda")
        for row in (r for r in rows if r.variant == "compiled"):
            first = lambda r=row, m=mode, b=batch: {"first_call_s": _first_call(r, m, b, sizes, device)[0]}  # noqa: E731
            run_check(f"{group} {row.key}", first, records)
    if not records:
        where = "dry run on the CPU" if device.type == "cpu" else "no compiled rows"
        records.append(Record("compile", "skipped", f"nothing to compile: {where}"))
    return stage_report("warm", records)
