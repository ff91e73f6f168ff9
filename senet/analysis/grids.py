"""The ablation grids of Sec. 6-7 as data: axes, variants and the paper's tables as named presets.

A :class:`Variant` is one row of a paper table: a name and the typed options it changes in the
recipe's :class:`senet.spec.ModelSpec` (an SE field such as the reduction ratio, the placement,
the SE stages, or the plain twin for the baseline). The numbers in ``paper`` are the top-1 / top-5
errors (%) of SE-ResNet-50 on ImageNet under the ablation schedule (Tables 10-16; summarised in
shared/reference/paper.md).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from senet.config import ConfigError, coerce, fields
from senet.layers.se import Gate, Squeeze
from senet.models.blocks import Placement
from senet.spec import ModelSpec

#: The SE-block fields a variant may change (fields of :class:`senet.SEConfig`).
SE_FIELDS = ("reduction", "squeeze", "gate")


@dataclass(frozen=True)
class Variant:
    """One cell of a grid (before seeds): a table row. A field left at None keeps the recipe's."""

    name: str
    """The row label (also the run folder's name, made filesystem-safe)."""
    reduction: int | None = None
    """The SE reduction ratio r (Table 10)."""
    squeeze: Squeeze | None = None
    """The squeeze operator F_sq (Tables 11, 16)."""
    gate: Gate | None = None
    """The excitation non-linearity sigma (Table 12)."""
    se_stages: tuple[int, ...] | None = None
    """The stages with SE blocks, as layer indices 1-4 (Table 13)."""
    placement: Placement | None = None
    """Where the SE block sits (Tables 14, 15)."""
    plain: bool = False
    """The baseline: the recipe's network without SE blocks (its plain twin)."""
    paper: tuple[float, float] | None = None
    """The paper's (top-1, top-5) error of this row, if it has one."""

    def changes(self) -> dict[str, Any]:
        """The model options this row sets (the fields that are not None, ``plain`` if true)."""
        keep = [f.name for f in dataclasses.fields(self) if f.name not in ("name", "paper")]
        return {k: getattr(self, k) for k in keep if getattr(self, k) not in (None, False)}

    def apply(self, spec: ModelSpec) -> ModelSpec:
        """``spec`` with this row's options: SE fields edit its SEConfig, ``plain`` takes the twin."""
        if self.plain:
            return spec if spec.is_plain else spec.twin()
        se = {k: getattr(self, k) for k in SE_FIELDS if getattr(self, k) is not None}
        spec = spec.with_se(**se) if se else spec
        other = {k: getattr(self, k) for k in ("se_stages", "placement") if getattr(self, k) is not None}
        return dataclasses.replace(spec, **other)


@dataclass(frozen=True)
class Axis:
    """One ablation axis: a :class:`Variant` field and the paper table that varies it.

    Values given on the command line are checked against the field's type (the choices of
    squeeze, gate and placement come from their ``Literal`` types).
    """

    name: str
    field: str
    table: str
    parse: Callable[[str], Any] | None = None
    label: Callable[[Any], str] = str

    @property
    def choices(self) -> tuple[Any, ...]:
        """The allowed values where the field's type enumerates them."""
        hint = fields(Variant)[self.field]
        literal = [a for a in get_args(hint) if get_args(a)]
        return get_args(literal[0]) if literal else ()

    def variant(self, text: str) -> Variant:
        value = self.parse(text) if self.parse else coerce(text, fields(Variant)[self.field], self.field)
        return Variant(f"{self.name}={self.label(value)}", **{self.field: value})


def _stages(text: str) -> tuple[int, ...]:
    """``1+2`` -> (1, 2): ``layer`` indices 1-4 (the paper's stages 2-5, Table 13)."""
    try:
        stages = tuple(int(part) for part in text.split("+"))
    except ValueError:
        raise ConfigError(f"stages={text!r}: expected layer indices joined by '+', e.g. 1+2+3") from None
    if not stages or any(s < 1 for s in stages):
        raise ConfigError(f"stages={text!r}: layer indices start at 1")
    return stages


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"reduction={text!r}: expected an integer >= 1")
    return value


AXES: dict[str, Axis] = {
    "reduction": Axis("r", "reduction", "Table 10", parse=_positive_int),
    "squeeze": Axis("squeeze", "squeeze", "Tables 11, 16"),
    "gate": Axis("gate", "gate", "Table 12"),
    "stages": Axis(
        "se_stages", "se_stages", "Table 13", parse=_stages, label=lambda v: "+".join(map(str, v))
    ),
    "placement": Axis("placement", "placement", "Tables 14, 15"),
}

#: The ResNet-50 baseline of the ablation schedule (paper.md "Ablations": 23.30 / 6.55).
BASELINE = Variant("baseline", plain=True, paper=(23.30, 6.55))
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


# Each preset lists the rows of the paper's table, in the paper's order, with its numbers.
PRESETS: dict[str, Grid] = {
    "table10": Grid(
        "table10",
        "Table 10: reduction ratio r",
        (
            Variant("r=2", reduction=2, paper=(22.29, 6.00)),
            Variant("r=4", reduction=4, paper=(22.25, 6.09)),
            Variant("r=8", reduction=8, paper=(22.26, 5.99)),
            Variant("r=16", reduction=16, paper=SE_DEFAULT),
            Variant("r=32", reduction=32, paper=(22.72, 6.20)),
            BASELINE,
        ),
    ),
    "table11": Grid(
        "table11",
        "Table 11: squeeze operator",
        (Variant("max", squeeze="max", paper=(22.57, 6.09)), Variant("avg", squeeze="avg", paper=SE_DEFAULT)),
    ),
    "table12": Grid(
        "table12",
        "Table 12: excitation non-linearity",
        (
            Variant("ReLU", gate="relu", paper=(23.47, 6.98)),
            Variant("Tanh", gate="tanh", paper=(23.00, 6.38)),
            Variant("Sigmoid", gate="sigmoid", paper=SE_DEFAULT),
        ),
    ),
    "table13": Grid(
        "table13",
        "Table 13: SE in one stage (stage 2 = layer1, ..., stage 5 = layer4)",
        (
            BASELINE,
            Variant("SE_Stage_2", se_stages=(1,), paper=(23.03, 6.48)),
            Variant("SE_Stage_3", se_stages=(2,), paper=(23.04, 6.32)),
            Variant("SE_Stage_4", se_stages=(3,), paper=(22.68, 6.22)),
            Variant("SE_All", se_stages=(1, 2, 3, 4), paper=SE_DEFAULT),
        ),
        model="se_resnet18",
        note="the CIFAR ResNets have no se_stages option; this grid uses se_resnet18 unless --model is given",
    ),
    "table14": Grid(
        "table14",
        "Table 14: SE integration (Fig. 5)",
        (
            Variant("SE", placement="standard", paper=SE_DEFAULT),
            Variant("SE-PRE", placement="pre", paper=(22.23, 6.00)),
            Variant("SE-POST", placement="post", paper=(22.78, 6.35)),
            Variant("SE-Identity", placement="identity", paper=(22.20, 6.15)),
        ),
    ),
    "table15": Grid(
        "table15",
        "Table 15: SE inside the residual unit",
        (
            Variant("SE", placement="standard", paper=SE_DEFAULT),
            Variant("SE_3x3", placement="3x3", paper=(22.48, 6.02)),
        ),
    ),
    "table16": Grid(
        "table16",
        "Table 16: global information embedding",
        (
            BASELINE,
            Variant("NoSqueeze", squeeze="none", paper=(22.93, 6.39)),
            Variant("SE", paper=SE_DEFAULT),
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
        variants.append(Variant(BASELINE.name, plain=True))  # the paper's numbers belong to its tables
    if not variants:
        raise ConfigError("an empty grid: give --grid NAME or at least one --axis NAME=V1,V2")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ConfigError(f"repeated variants in {names}")
    return Grid("custom", "custom grid: " + " x ".join(axes), tuple(variants))


def combine(variants: Sequence[Variant]) -> Variant:
    """One variant applying the options of every one of ``variants`` (names joined by ', ')."""
    changes: dict[str, Any] = {}
    for v in variants:
        changes |= v.changes()
    return Variant(", ".join(v.name for v in variants), **changes)
