"""The model format every command reads and writes: a folder with ``config.json``,
``model.safetensors`` and a short ``README.md`` (the layout of a Hugging Face hub repository, so a
folder can be published or fetched as it is).

``config.json`` is a :class:`ModelCard`: the network (its family and the family's full
configuration: architecture, every model option, ``num_classes``, ``in_chans``, the SE block's
options), the registered name it derives from, the input convention of its weights
(:class:`senet.weights.preprocessing.Preprocessing`), its label names, and where it came from
(source, license, paper). Building the card's network needs nothing but the card.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from torch import nn

from senet.config import ConfigError, from_dict, to_dict
from senet.models.common import replace_config
from senet.weights.preprocessing import Preprocessing
from senet.zoo import MODELS

FORMAT = "senet-model-1"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
PAPER = "Hu, Shen, Albanie, Sun, Wu: Squeeze-and-Excitation Networks, TPAMI 2019 (arXiv:1709.01507)"


def families() -> dict[str, tuple[type[nn.Module], type]]:
    """Every registered network class by name, with the type of its configuration."""
    found: dict[str, tuple[type[nn.Module], type]] = {}
    for name in MODELS.names():
        entry = MODELS.get(name)
        if entry.family is not None and entry.config is not None:
            found.setdefault(entry.family.__name__, (entry.family, type(entry.config)))
    return found


@dataclass(frozen=True)
class ModelCard:
    """What a model folder's ``config.json`` holds; :meth:`build` makes its (untrained) network."""

    family: str
    """The network class (``ResNet``, ``CifarResNet``, ``MobileNetV1`` ...)."""
    config: Any
    """The family's configuration (a frozen dataclass): architecture, num_classes, in_chans, SE options."""
    name: str | None = None
    """The registered model the network derives from (``se_resnet50``), if any."""
    preprocessing: Preprocessing = dataclasses.field(default_factory=Preprocessing)
    """How the weights want their input images."""
    labels: tuple[str, ...] | None = None
    """One id per output class (index = label), if known: the names of the training data's class
    folders, or ImageNet's sorted WNIDs for published weights. A data set's classes are matched to
    the model's by these."""
    label_names: tuple[str, ...] | None = None
    """A readable name per output class where it differs from ``labels`` (ImageNet: ``goldfish``)."""
    source: str = ""
    """Where the weights come from (a training run, a converted file, a download)."""
    license: str = ""
    """The weights' license, if known."""
    reported_top1: float | None = None
    """The top-1 accuracy (%) the weights' source reports (ImageNet validation for published weights)."""
    paper: str = PAPER
    """The paper to cite."""

    @property
    def num_classes(self) -> int:
        return int(self.config.num_classes)

    @property
    def in_chans(self) -> int:
        return int(self.config.in_chans)

    def build(self, **overrides: Any) -> nn.Module:
        """The card's network (He-initialised), ``overrides`` replacing configuration fields."""
        family, _ = _family(self.family)
        return family(replace_config(self.config, overrides, family.__name__) if overrides else self.config)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "family": self.family,
            "num_classes": self.num_classes,
            "in_chans": self.in_chans,
            "config": to_dict(self.config),
            "preprocessing": self.preprocessing.to_dict(),
            "labels": list(self.labels) if self.labels is not None else None,
            "label_names": list(self.label_names) if self.label_names is not None else None,
            "source": self.source,
            "license": self.license,
            "reported_top1": self.reported_top1,
            "paper": self.paper,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str = "config.json") -> ModelCard:
        """The card of a ``config.json``; a missing or unknown field is an error naming the file."""
        if raw.get("format") != FORMAT:
            raise ConfigError(
                f"{where}: not a senet model folder (format {raw.get('format')!r}, expected {FORMAT!r})"
            )
        family, config_type = _family(str(raw.get("family")), where)
        try:
            config = from_dict(config_type, raw["config"], prefix="config.")
            prep = from_dict(Preprocessing, raw.get("preprocessing") or {}, prefix="preprocessing.")
        except KeyError as err:
            raise ConfigError(f"{where}: missing field {err}") from None
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from None
        labels, names = raw.get("labels"), raw.get("label_names")
        for field, values in (("labels", labels), ("label_names", names)):
            if values is not None and len(values) != config.num_classes:
                raise ConfigError(f"{where}: {len(values)} {field} for {config.num_classes} classes")
        return cls(
            family=family.__name__,
            config=config,
            name=raw.get("name"),
            preprocessing=prep,
            labels=tuple(labels) if labels is not None else None,
            label_names=tuple(names) if names is not None else None,
            source=raw.get("source", ""),
            license=raw.get("license", ""),
            reported_top1=raw.get("reported_top1"),
            paper=raw.get("paper", PAPER),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def readme(self) -> str:
        """A short model card in Markdown."""
        prep = self.preprocessing
        lines = [
            f"# {self.name or self.family}",
            "",
            f"A {self.family} from senet (Squeeze-and-Excitation networks): {self.num_classes} classes, "
            f"{self.in_chans} input channels.",
            "",
            f"- input: {prep.input_size} px centre crop (crop fraction {prep.crop_fraction}, "
            f"{prep.interpolation}), {prep.channel_order} in [0, {prep.value_scale:g}], "
            f"mean {list(prep.mean)}, std {list(prep.std)}",
            f"- source: {self.source or 'unknown'}",
            f"- license: {self.license or 'unknown'}",
            f"- paper: {self.paper}",
            "",
            "Load with `senet.create_model(NAME, weights=FOLDER)` or any `senet` command's `--weights FOLDER`.",
        ]
        return "\n".join(lines) + "\n"


def _family(name: str, where: str = "config.json") -> tuple[type[nn.Module], type]:
    known = families()
    if name not in known:
        raise ConfigError(f"{where}: unknown network family {name!r}; known: {', '.join(sorted(known))}")
    return known[name]


def card_of(model: nn.Module, **fields: Any) -> ModelCard:
    """The card of a senet network (one with a ``config`` dataclass), with ``fields`` set."""
    config = getattr(model, "config", None)
    if config is None or not dataclasses.is_dataclass(config):
        raise TypeError(f"{type(model).__name__} has no configuration dataclass: not a senet network")
    return ModelCard(family=type(model).__name__, config=config, **fields)
