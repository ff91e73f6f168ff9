"""One typed model specification, from the command line and config files down to the SE block.

A :class:`ModelSpec` names a registered network and the options of the paper's ablations
(Sec. 6-7) that apply across families: the SE block itself (:class:`senet.SEConfig`, Tables
10-12 and 16), its placement (Tables 14-15), the stages that get it (Table 13), the stride
placement of bottleneck ResNets and the classifier dropout. A field left at None keeps the
registered model's own value, so a recipe written for an SE network also serves its plain twin:
a plain network (``se=None`` in its registry entry) has no SE blocks and stays plain.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from senet.config import ConfigError, from_dict
from senet.layers.se import SEConfig
from senet.models.blocks import Placement
from senet.zoo import MODELS


@dataclass(frozen=True)
class ModelSpec:
    """A registered network and its options; None keeps the registered model's own value."""

    name: str = "se_resnet20_cifar"
    """A registered model (``senet complexity`` lists them): SE networks start with ``se_`` (or are
    ``senet154``); their plain twins drop the prefix."""
    se: SEConfig | None = None
    """The SE block's options (reduction r, squeeze, gate, biases; Sec. 6, Tables 10-12, 16); none:
    the model's own (r = 16, average squeeze, sigmoid). A plain twin ignores them."""
    placement: Placement | None = None
    """Where the SE block sits in a residual unit (Sec. 6.5, Fig. 5, Tables 14-15); residual
    families only. none: 'standard'."""
    se_stages: tuple[int, ...] | None = None
    """The stages that get SE blocks, as layer indices 1-4 = the paper's stages 2-5 (Table 13);
    ImageNet ResNets only. none: all."""
    stride_in_1x1: bool | None = None
    """Bottleneck ResNets (ImageNet, and CIFAR's pre-activation bottlenecks): the stride on the
    first 1x1 convolution (the paper's released models, He et al. 2016b's code) or on the 3x3
    (torchvision, timm). none: the model's own."""
    drop_rate: float | None = None
    """Dropout before the classifier. none: the model's own (0.2 for SENet-154 and
    Inception-ResNet-v2, 0.5 inside VGG's classifier, else 0)."""

    def __post_init__(self) -> None:
        if self.drop_rate is not None and not 0 <= self.drop_rate < 1:
            raise ConfigError(f"model.drop_rate={self.drop_rate!r}: must be in [0, 1)")
        if self.se_stages is not None and any(s < 1 for s in self.se_stages):
            raise ConfigError(f"model.se_stages={self.se_stages!r}: layer indices start at 1")

    @property
    def default_se(self) -> SEConfig | None:
        """The registered model's own SEConfig (None for a plain network), read from its registry
        entry: no network is built."""
        return getattr(MODELS.get(self.name).config, "se", None)

    @property
    def is_plain(self) -> bool:
        """A network without SE blocks (a user-registered builder without a config is not known
        to be plain: its SE options are passed on)."""
        entry = MODELS.get(self.name)
        return entry.config is not None and getattr(entry.config, "se", None) is None

    def builder_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the registered builder: the fields that are set; ``se`` only for an
        SE network (a plain twin stays plain)."""
        kwargs = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "name"}
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        if self.is_plain:
            kwargs.pop("se", None)
        return kwargs

    def twin(self) -> ModelSpec:
        """The same options on the plain twin (or, for a plain network, on its SE network)."""
        twin = MODELS.get(self.name).twin
        if twin is None:
            raise ConfigError(f"model {self.name!r} has no registered twin; name the model to compare with")
        return dataclasses.replace(self, name=twin)

    def with_se(self, **changes: Any) -> ModelSpec:
        """A copy whose SE options are the current ones (or the model's own) with ``changes``."""
        if self.is_plain:
            raise ConfigError(f"{self.name} has no SE blocks, so SE options cannot vary; use an SE model")
        base = self.se or self.default_se or SEConfig()
        return dataclasses.replace(self, se=dataclasses.replace(base, **changes))


def from_legacy(name: str, overrides: dict[str, Any]) -> ModelSpec:
    """The spec of a ``config.json`` written before ModelSpec (``model`` + ``model_overrides``).

    ``{"se": {...}}`` edited fields of the model's own SEConfig; ``{"se": null}`` meant the same
    network without SE blocks, which is the plain twin; other keys are ModelSpec fields.
    """
    values = dict(overrides)
    se = values.pop("se", ...)
    spec = from_dict(ModelSpec, {"name": name, **values}, prefix="model_overrides.")
    if se is None:
        return spec.twin() if not spec.is_plain else spec
    if isinstance(se, dict):
        if spec.is_plain:
            return spec
        base = dataclasses.asdict(spec.default_se or SEConfig())
        return dataclasses.replace(spec, se=from_dict(SEConfig, base | se, prefix="model_overrides.se."))
    if se is not ...:
        raise ConfigError(f"model_overrides.se={se!r}: expected a mapping of SEConfig fields or null")
    return spec
