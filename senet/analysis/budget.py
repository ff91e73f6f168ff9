"""A reduced training budget for a quick run of a paper preset (``senet ablate --budget``).

A budget keeps the recipe's schedule shape and shrinks its length: multistep milestones are
fractions of the epochs already; the step schedule's ``step_size`` and the BN freeze at the end
(SENet-154) scale by ``epochs / recipe epochs``. The warm-up keeps its length, at most half the
budget: it is a fixed number of iterations for a stable start (the pre-activation recipe's 400 at
lr 0.01), not a fraction of training. An image budget trains on the first N
training images of each epoch (``data.limit_train``); the test set stays whole. The table's title
says which budget was used, so a quick run is never mistaken for the paper's setting.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from senet.config import ConfigError
from senet.train import TrainConfig

_PART = re.compile(r"^(\d+)(ep|img)?$")


@dataclass(frozen=True)
class Budget:
    """Fewer epochs and/or fewer training images than the recipe's; None keeps the recipe's."""

    epochs: int | None = None
    """Train this many epochs (at most the recipe's), the schedule scaled to them."""
    images: int | None = None
    """Train on the first N training images (``data.limit_train``)."""

    def __post_init__(self) -> None:
        if self.epochs is None and self.images is None:
            raise ConfigError("a budget needs epochs or images (e.g. 2ep, 2000img, 2ep,2000img)")
        for name in ("epochs", "images"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"budget {name}={value}: must be >= 1")

    @classmethod
    def parse(cls, text: str) -> Budget:
        """``2`` or ``2ep`` (epochs), ``2000img`` (training images), or both joined by a comma."""
        values: dict[str, int] = {}
        for part in text.replace(" ", "").lower().split(","):
            match = _PART.match(part)
            key = "images" if match and match[2] == "img" else "epochs"
            if not match or key in values:
                raise ConfigError(
                    f"--budget {text!r}: expected EPOCHS[ep] and/or IMAGESimg, e.g. 2ep,2000img"
                )
            values[key] = int(match[1])
        return cls(**values)

    def apply(self, config: TrainConfig) -> TrainConfig:
        """``config`` cut to this budget; an epoch budget above the recipe's epochs is an error."""
        if self.images is not None:
            limit = min(config.data.limit_train, self.images) if config.data.limit_train else self.images
            config = config.replace(data=dataclasses.replace(config.data, limit_train=limit))
        if self.epochs is None or self.epochs == config.epochs:
            return config
        if self.epochs > config.epochs:
            raise ConfigError(
                f"--budget {self.epochs} epochs: more than the recipe's {config.epochs} (a budget scales down)"
            )
        scale = self.epochs / config.epochs
        freeze = config.freeze_bn_last_epochs
        return config.replace(
            epochs=self.epochs,
            step_size=max(1, round(config.step_size * scale)),
            warmup_epochs=min(config.warmup_epochs, self.epochs / 2),
            freeze_bn_last_epochs=min(math.ceil(freeze * scale), self.epochs - 1) if freeze else 0,
        )

    def describe(self, full_epochs: Sequence[int]) -> str:
        """``2 epochs of 164``; ``2 epochs of 164/200`` when rows' recipes differ; the images too."""
        parts = []
        if self.epochs is not None:
            full = "/".join(str(e) for e in sorted(set(full_epochs)))
            unit = "epoch" if self.epochs == 1 else "epochs"
            parts.append(f"{self.epochs} {unit} of {full}" if full else f"{self.epochs} {unit}")
        if self.images is not None:
            parts.append(f"{self.images} training images")
        return ", ".join(parts)

    @property
    def slug(self) -> str:
        """``2ep``, ``2000img``, ``2ep-2000img``: a folder-name suffix."""
        parts = [f"{self.epochs}ep"] if self.epochs is not None else []
        return "-".join(parts + ([f"{self.images}img"] if self.images is not None else []))
