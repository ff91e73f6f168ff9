"""The ablation grids of Sec. 6-7 and the paper's comparison tables as data: rows, axes, grids.

A :class:`Variant` is one row of a paper table: a name, the typed options it changes in the
recipe's :class:`senet.spec.ModelSpec` (an SE field such as the reduction ratio, the placement,
the SE stages, or the plain twin for the baseline) and, where the table compares networks trained
each with its own recipe (Tables 4-6, 8), the row's own network, recipe and data setting. A
:class:`Grid` is a table's rows; the paper's tables are the presets of
:mod:`senet.analysis.presets`.
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
#: The fields of a row that set how it is trained rather than the network's options.
SETTING_FIELDS = ("model", "recipe", "cifar100", "input_size")


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
    """The baseline: the row's network without SE blocks (its plain twin)."""
    model: str | None = None
    """The row's own registered SE network (Tables 4-6, 8); a ``plain`` row trains its twin.
    None: the recipe's network (or ``--model``)."""
    recipe: str | None = None
    """The row's own training recipe (a name of ``senet.train.recipes.RECIPES``), as each CIFAR
    baseline is trained "as in its original paper" (Tables 4-5). None: the command's recipe."""
    cifar100: bool = False
    """Train on CIFAR-100 (Table 5): the recipe with ``senet.train.recipes.cifar100``'s changes."""
    input_size: int | None = None
    """Train and test at this input size (Table 8's SENet-154 at 320 px). None: the recipe's."""
    paper: tuple[float, ...] | None = None
    """The paper's error (%) of this row: (top-1, top-5) on ImageNet and Places365, (error,) on
    CIFAR (Tables 4-5)."""
    paper_params: float | None = None
    """The paper's parameter count of this row in millions, where it gives one."""

    def changes(self) -> dict[str, Any]:
        """The options this row sets (the fields that are not None, booleans if true)."""
        keep = [f.name for f in dataclasses.fields(self) if f.name not in ("name", "paper", "paper_params")]
        return {k: getattr(self, k) for k in keep if getattr(self, k) not in (None, False)}

    @property
    def setting(self) -> tuple[Any, ...]:
        """The row's network, recipe and data setting: rows that share it are compared."""
        return tuple(getattr(self, k) for k in SETTING_FIELDS)

    @property
    def own_setting(self) -> bool:
        """Whether the row trains with its own recipe or data setting (not only the command's)."""
        return self.recipe is not None or self.cifar100 or self.input_size is not None

    def apply(self, spec: ModelSpec) -> ModelSpec:
        """``spec`` with this row's options: its own network (if any) first, then the SE fields edit
        its SEConfig, ``plain`` takes the twin."""
        if self.model is not None and spec.name != self.model:
            spec = dataclasses.replace(spec, name=self.model)
        if self.plain:
            return spec if spec.is_plain else spec.twin()
        se = {k: getattr(self, k) for k in SE_FIELDS if getattr(self, k) is not None}
        spec = spec.with_se(**se) if se else spec
        other = {k: getattr(self, k) for k in ("se_stages", "placement") if getattr(self, k) is not None}
        return dataclasses.replace(spec, **other)


def baseline_of(variant: Variant, variants: Sequence[Variant]) -> Variant | None:
    """The row ``variant`` is compared with: the plain row (``plain=True``) of the same setting
    (network, recipe, data); None for a plain row, or when the grid has no such row."""
    if variant.plain:
        return None
    return next((v for v in variants if v.plain and v.setting == variant.setting), None)


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


@dataclass(frozen=True)
class Grid:
    """A table: a named set of rows, trained with one recipe unless a row names its own."""

    name: str
    """The preset's name (``table10``, ``last_stage``, ``custom``)."""
    table: str
    """The title: the paper's table or section and what it varies."""
    variants: tuple[Variant, ...]
    """The rows, in the paper's order."""
    fallback: str | None = None
    """The network used when the recipe's cannot take the rows' options (the CIFAR ResNets have no
    ``se_stages``) and no ``--model`` is given; the recipe's network otherwise."""
    top5: bool = True
    """Whether the paper reports top-5 error too (ImageNet, Places365) or one error (CIFAR)."""
    note: str = ""
    """What the grid needs or how it differs from the paper (printed with the table)."""

    def select(self, names: Sequence[str]) -> Grid:
        """Only the variants named (in the grid's order); an unknown name is an error listing them."""
        known = {v.name for v in self.variants}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(f"grid {self.name}: no variant {unknown}; choose from {sorted(known)}")
        return dataclasses.replace(self, variants=tuple(v for v in self.variants if v.name in names))


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
        variants.append(Variant("baseline", plain=True))  # the paper's numbers belong to its tables
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
