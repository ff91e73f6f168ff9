"""The ablation grids of Sec. 6-7 as data: axes, variants and the paper's tables as named presets.

A :class:`Variant` is one row of a paper table: a name and a fragment of the model's builder
overrides (merged into the recipe's ``model_overrides``). ``{"se": {...}}`` edits fields of the
model's own :class:`senet.SEConfig`; ``{"se": None}`` is the plain baseline (the same network
without SE blocks). The numbers in ``paper`` are the top-1 / top-5 errors (%) of SE-ResNet-50
on ImageNet under the ablation schedule (Tables 10-16; summarised in shared/reference/paper.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from senet.train.overrides import ConfigError


@dataclass(frozen=True)
class Variant:
    """One cell of a grid (before seeds): a table row.

    name: the row label (also the run folder's name, made filesystem-safe).
    overrides: builder overrides merged into the recipe's ``model_overrides``.
    paper: the paper's (top-1, top-5) error of this row, if it has one.
    """

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)
    paper: tuple[float, float] | None = None


@dataclass(frozen=True)
class Axis:
    """One ablation axis: a builder option and how a command-line value maps onto it.

    key: the option (``se.reduction`` is a field of SEConfig, ``placement`` a builder option).
    parse: string -> option value; table: the paper table that varies it.
    """

    name: str
    key: str
    parse: Callable[[str], Any]
    table: str
    label: Callable[[Any], str] = str

    def variant(self, text: str) -> Variant:
        value = self.parse(text)
        head, _, tail = self.key.partition(".")
        overrides = {head: {tail: value}} if tail else {head: value}
        return Variant(f"{self.name}={self.label(value)}", overrides)


def _stages(text: str) -> tuple[int, ...]:
    """``1+2`` -> (1, 2): ``layer`` indices 1-4 (the paper's stages 2-5, Table 13)."""
    try:
        stages = tuple(int(part) for part in text.split("+"))
    except ValueError:
        raise ConfigError(f"stages={text!r}: expected layer indices joined by '+', e.g. 1+2+3") from None
    if not stages or any(s < 1 for s in stages):
        raise ConfigError(f"stages={text!r}: layer indices start at 1")
    return stages


def _choice(name: str, choices: Sequence[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ConfigError(f"{name}={text!r}: choose from {', '.join(choices)}")
        return text

    return parse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"reduction={text!r}: expected an integer >= 1")
    return value


AXES: dict[str, Axis] = {
    "reduction": Axis("r", "se.reduction", _positive_int, "Table 10"),
    "squeeze": Axis("squeeze", "se.squeeze", _choice("squeeze", ("avg", "max", "none")), "Tables 11, 16"),
    "gate": Axis("gate", "se.gate", _choice("gate", ("sigmoid", "tanh", "relu")), "Table 12"),
    "stages": Axis("se_stages", "se_stages", _stages, "Table 13", label=lambda v: "+".join(map(str, v))),
    "placement": Axis(
        "placement",
        "placement",
        _choice("placement", ("standard", "pre", "post", "identity", "3x3")),
        "Tables 14, 15",
    ),
}

#: The ResNet-50 baseline of the ablation schedule (paper.md "Ablations": 23.30 / 6.55).
BASELINE = Variant("baseline", {"se": None}, (23.30, 6.55))
#: SE-ResNet-50 with the defaults (r = 16, avg squeeze, sigmoid, standard, all stages).
SE_DEFAULT = (22.28, 6.03)


@dataclass(frozen=True)
class Grid:
    """A named set of variants; ``model`` replaces the recipe's model when the axis needs it."""

    name: str
    table: str
    variants: tuple[Variant, ...]
    model: str | None = None
    note: str = ""

    def select(self, names: Sequence[str]) -> Grid:
        """Only the variants named (in the grid's order); an unknown name is an error listing them."""
        known = {v.name for v in self.variants}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(f"grid {self.name}: no variant {unknown}; choose from {sorted(known)}")
        return Grid(
            self.name, self.table, tuple(v for v in self.variants if v.name in names), self.model, self.note
        )


def _se(**fields: Any) -> dict[str, Any]:
    return {"se": fields}


# Each preset lists the rows of the paper's table, in the paper's order, with its numbers.
PRESETS: dict[str, Grid] = {
    "table10": Grid(
        "table10",
        "Table 10: reduction ratio r",
        (
            Variant("r=2", _se(reduction=2), (22.29, 6.00)),
            Variant("r=4", _se(reduction=4), (22.25, 6.09)),
            Variant("r=8", _se(reduction=8), (22.26, 5.99)),
            Variant("r=16", _se(reduction=16), SE_DEFAULT),
            Variant("r=32", _se(reduction=32), (22.72, 6.20)),
            BASELINE,
        ),
    ),
    "table11": Grid(
        "table11",
        "Table 11: squeeze operator",
        (Variant("max", _se(squeeze="max"), (22.57, 6.09)), Variant("avg", _se(squeeze="avg"), SE_DEFAULT)),
    ),
    "table12": Grid(
        "table12",
        "Table 12: excitation non-linearity",
        (
            Variant("ReLU", _se(gate="relu"), (23.47, 6.98)),
            Variant("Tanh", _se(gate="tanh"), (23.00, 6.38)),
            Variant("Sigmoid", _se(gate="sigmoid"), SE_DEFAULT),
        ),
    ),
    "table13": Grid(
        "table13",
        "Table 13: SE in one stage (stage 2 = layer1, ..., stage 5 = layer4)",
        (
            BASELINE,
            Variant("SE_Stage_2", {"se_stages": (1,)}, (23.03, 6.48)),
            Variant("SE_Stage_3", {"se_stages": (2,)}, (23.04, 6.32)),
            Variant("SE_Stage_4", {"se_stages": (3,)}, (22.68, 6.22)),
            Variant("SE_All", {"se_stages": (1, 2, 3, 4)}, SE_DEFAULT),
        ),
        model="se_resnet18",
        note="the CIFAR ResNets have no se_stages option; this grid uses se_resnet18 unless --model is given",
    ),
    "table14": Grid(
        "table14",
        "Table 14: SE integration (Fig. 5)",
        (
            Variant("SE", {"placement": "standard"}, SE_DEFAULT),
            Variant("SE-PRE", {"placement": "pre"}, (22.23, 6.00)),
            Variant("SE-POST", {"placement": "post"}, (22.78, 6.35)),
            Variant("SE-Identity", {"placement": "identity"}, (22.20, 6.15)),
        ),
    ),
    "table15": Grid(
        "table15",
        "Table 15: SE inside the residual unit",
        (
            Variant("SE", {"placement": "standard"}, SE_DEFAULT),
            Variant("SE_3x3", {"placement": "3x3"}, (22.48, 6.02)),
        ),
    ),
    "table16": Grid(
        "table16",
        "Table 16: global information embedding",
        (
            BASELINE,
            Variant("NoSqueeze", _se(squeeze="none"), (22.93, 6.39)),
            Variant("SE", _se(), SE_DEFAULT),
        ),
    ),
}


def preset(name: str) -> Grid:
    """The grid of paper table ``name`` (``table10`` ... ``table16``)."""
    if name not in PRESETS:
        raise ConfigError(f"unknown grid {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]


def axis_grid(axes: Sequence[str], *, baseline: bool = False) -> Grid:
    """A custom grid from ``NAME=V1,V2`` specs: the product over axes, plus the plain baseline.

    ``reduction=4,16`` gives ``r=4``, ``r=16``; ``reduction=4,16 gate=sigmoid,tanh`` four cells.
    """
    rows: list[list[Variant]] = []
    for spec in axes:
        name, sep, values = spec.partition("=")
        if not sep or not values or name not in AXES:
            raise ConfigError(f"--axis {spec!r}: expected NAME=V1,V2,... with NAME one of {', '.join(AXES)}")
        rows.append([AXES[name].variant(v.strip()) for v in values.split(",") if v.strip()])
    variants = [combine(combo) for combo in itertools.product(*rows)] if rows else []
    if baseline:
        variants.append(
            Variant(BASELINE.name, BASELINE.overrides)
        )  # the paper's numbers belong to its tables
    if not variants:
        raise ConfigError("an empty grid: give --grid NAME or at least one --axis NAME=V1,V2")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ConfigError(f"repeated variants in {names}")
    return Grid("custom", "custom grid: " + " x ".join(axes), tuple(variants))


def combine(variants: Sequence[Variant]) -> Variant:
    """One variant applying every override of ``variants`` (names joined by ', ')."""
    overrides: dict[str, Any] = {}
    for v in variants:
        overrides = merge_overrides(overrides, v.overrides)
    return Variant(", ".join(v.name for v in variants), overrides)


def merge_overrides(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``extra``; two ``se`` dicts merge field by field, ``se=None`` wins."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = out[key] | value
        else:
            out[key] = value
    return out
