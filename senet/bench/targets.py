"""Targets a benchmark run is judged against: an SE overhead at most a limit, a speed-up (over eager,
or over a peer's network) at least one.

The targets themselves are data, not library code: a project keeps its own in a JSON file
(this project's are ``docs/bench/targets.json``, next to ``docs/speed.md`` which reports them)
and passes it to ``senet bench --targets FILE``. The file holds ``{"targets": [...]}``, each
entry the fields of :class:`Target`; other top-level keys (e.g. ``"about"``) are ignored.

A target is judged only when the run measured what it needs. An overhead target is judged on the
paired median (:func:`senet.bench.report.overheads`) when the run has one and is "not
conclusive" when its 95% interval spans the limit; a missed target states by how much.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from senet.bench.config import DTYPE_NAMES, MODES, PEERS, DType, Mode, Peer, Variant

Kind = Literal["overhead", "speedup", "peer"]


@dataclass(frozen=True)
class Target:
    """One target on one model in one setting."""

    name: str
    """What the target says, as printed (e.g. "SE-ResNet-50 vs ResNet-50, optimized fp32, batch 1")."""

    model: str
    """The SE model (an overhead compares it with its plain twin)."""

    kind: Kind
    """overhead: SE time / plain time - 1 at most ``limit``; speedup: eager fp32 time / this
    setting's time at least ``limit``; peer: ``peer``'s time / senet's for ``model`` at least
    ``limit`` (``senet bench --peers``)."""

    mode: Mode
    """The benchmark mode whose rows are compared."""

    dtype: DType
    """The precision of the judged setting."""

    limit: float
    """The bound: a fraction for overheads (0.03 = 3%), a factor for speed-ups (1.3 = 1.3x)."""

    variant: Variant | Literal["best"] = "optimized"
    """The judged variant; a target on optimized also judges compiled rows when they were timed.
    ``best`` (peer targets only): the fastest row of each side in the mode, any variant and dtype
    (``dtype`` is then not used)."""

    peer: Peer | None = None
    """The peer a ``peer`` target compares with: reference or timm."""

    def __post_init__(self) -> None:
        variants = (*get_args(Variant), "best") if self.kind == "peer" else get_args(Variant)
        for key, value, allowed in (
            ("kind", self.kind, get_args(Kind)),
            ("mode", self.mode, MODES),
            ("dtype", self.dtype, DTYPE_NAMES),
            ("variant", self.variant, variants),
            ("peer", self.peer, PEERS if self.kind == "peer" else (None,)),
        ):
            if value not in allowed:
                raise ValueError(
                    f"target {self.name!r}: {key}={value!r}; choose from {', '.join(map(str, allowed))}"
                )


def load_targets(path: str | Path) -> tuple[Target, ...]:
    """The targets of a JSON file ``{"targets": [{"name": ..., "model": ..., ...}, ...]}``."""
    try:
        entries = json.loads(Path(path).read_text())["targets"]
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a targets file ({type(err).__name__}: {err})") from err
    names = [f.name for f in fields(Target)]
    targets = []
    for i, entry in enumerate(entries):
        unknown = sorted(set(entry) - set(names))
        if unknown:
            raise ValueError(f"{path}: target {i}: unknown key(s) {unknown}; known: {', '.join(names)}")
        try:
            targets.append(Target(**entry))
        except TypeError as err:
            raise ValueError(f"{path}: target {i}: {err}") from err
    return tuple(targets)


def _with_compiled(targets: tuple[Target, ...]) -> list[Target]:
    """Each target on ``optimized`` also stands for the ``compiled`` variant (optimize(compile=True))."""
    out: list[Target] = []
    for t in targets:
        out.append(t)
        if t.variant == "optimized":
            out.append(replace(t, name=t.name.replace("optimized", "compiled"), variant="compiled"))
    return out


def _judge_overhead(t: Target, found: dict[str, Any]) -> tuple[float, bool, str, str]:
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
    return value, met, miss, shown


def _judge_speedup(t: Target, found: dict[str, Any]) -> tuple[float, bool, str, str]:
    value = found["speedup"]
    met = value >= t.limit
    miss = "" if met else f"short by {100 * (1 - value / t.limit):.0f}% ({value:.2f}x of {t.limit:.1f}x)"
    return value, met, miss, f"{value:.2f}x (needs {t.limit:.1f}x)"


def _fields(t: Target) -> dict[str, Any]:
    """The target's fields as a verdict row shows them (``peer`` only on peer targets, so that rows
    saved before it existed compare equal)."""
    return {k: v for k, v in asdict(t).items() if not (k == "peer" and v is None)}


def _judge_peer(t: Target, found: dict[str, Any]) -> tuple[float, bool, str, str]:
    value, met, miss, _ = _judge_speedup(t, found)  # found["speedup"]: the peer's time / senet's
    shown = f"senet {value:.2f}x {found['peer']} (needs {t.limit:.1f}x)"
    if t.variant == "best":
        shown += f" [senet {found['senet_setting']} vs peer {found['peer_setting']}]"
    return value, met, miss, shown


def judge(
    over_rows: list[dict[str, Any]],
    speed_rows: list[dict[str, Any]],
    targets: tuple[Target, ...],
    peer_rows: Sequence[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Each target whose figures are among the overhead / speed-up / peer rows
    (:mod:`senet.bench.report`): value, met, miss, shown."""
    over = {(o["model"], o["mode"], o["variant"], o["dtype"]): o for o in over_rows}
    speed = {(s["model"], s["mode"], s["variant"], s["dtype"]): s for s in speed_rows}
    peers = {(c["model"], c["peer"], c["mode"], c["variant"], c["dtype"]): c for c in peer_rows}
    rows = []
    for t in _with_compiled(targets):
        if t.kind == "peer":
            dtype = "best" if t.variant == "best" else t.dtype
            found, judge_one = (
                peers.get((t.model, f"{t.peer}:{t.model}", t.mode, t.variant, dtype)),
                _judge_peer,
            )
        else:
            table, judge_one = (over, _judge_overhead) if t.kind == "overhead" else (speed, _judge_speedup)
            found = table.get((t.model, t.mode, t.variant, t.dtype))
        if found is None:
            continue
        value, met, miss, shown = judge_one(t, found)
        rows.append(
            {**_fields(t), "batch": found["batch"], "value": value, "shown": shown, "met": met, "miss": miss}
        )
    return rows
